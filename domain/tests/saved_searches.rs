//! Saved searches and console settings, on SQLite and (with `KVM_TEST_POSTGRES_URL`) PostgreSQL:
//! kept per user; searches replaced by name, checked (name, parameters, size), at most 100 per
//! user; settings checked, each with its default until set.

mod common;

use common::{Fixture, assert_err_status};
use domain::catalog::MAX_SAVED_SEARCHES;
use domain::{Actor, Role, Source};

both!(saved_searches_are_each_users_own_replaced_by_name_and_checked, settings_are_each_users_own_with_defaults);

fn user(name: &str, role: Role) -> Actor {
    Actor::new(name, Source::Console, role)
}

async fn saved_searches_are_each_users_own_replaced_by_name_and_checked(f: &Fixture) {
    let (ada, bob) = (user("ada@example.com", Role::User), user("bob@example.com", Role::ReadOnly));
    let first = f.kv.save_search(&ada, "  Pro users ", "q=user%3A&tags=pro").await.unwrap();
    assert_eq!((first.name.as_str(), first.query.as_str()), ("Pro users", "q=user%3A&tags=pro"));
    f.kv.save_search(&ada, "Expiring", "expiring=yes").await.unwrap();
    // A reader keeps searches too: they change no data.
    f.kv.save_search(&bob, "Pro users", "tags=pro").await.unwrap();

    let names =
        |list: Vec<domain::catalog::SavedSearch>| list.into_iter().map(|s| (s.name, s.query)).collect::<Vec<_>>();
    assert_eq!(
        names(f.kv.saved_searches(&ada).await.unwrap()),
        [("Expiring".to_owned(), "expiring=yes".to_owned()), ("Pro users".to_owned(), "q=user%3A&tags=pro".to_owned())]
    );
    assert_eq!(names(f.kv.saved_searches(&bob).await.unwrap()), [("Pro users".to_owned(), "tags=pro".to_owned())]);

    // Saving under a name kept replaces it.
    f.kv.save_search(&ada, "Pro users", "tags=pro&ns=abc").await.unwrap();
    let list = f.kv.saved_searches(&ada).await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].query, "tags=pro&ns=abc");

    // Each deletes only their own.
    let theirs = list[1].id.clone();
    assert_err_status(f.kv.delete_saved_search(&bob, &theirs).await, "not_found", 404, "id");
    f.kv.delete_saved_search(&ada, &theirs).await.unwrap();
    assert_eq!(f.kv.saved_searches(&ada).await.unwrap().len(), 1);
    assert_err_status(f.kv.delete_saved_search(&ada, &theirs).await, "not_found", 404, "id");

    for (name, query, field) in [
        ("", "q=a", "name"),
        ("   ", "q=a", "name"),
        (&"n".repeat(101) as &str, "q=a", "name"),
        ("tab\there", "q=a", "name"),
        ("empty", "", "query"),
        ("unknown", "q=a&evil=1", "query"),
        ("twice", "q=a&q=b", "query"),
        ("spaces", "q=a b", "query"),
        ("long", &format!("q={}", "a".repeat(5000)), "query"),
    ] {
        assert_err_status(f.kv.save_search(&ada, name, query).await, "invalid_input", 400, field);
    }

    let many = user("many@example.com", Role::User);
    for i in 0..MAX_SAVED_SEARCHES {
        f.kv.save_search(&many, &format!("search {i:03}"), &format!("q=k{i}")).await.unwrap();
    }
    assert_err_status(f.kv.save_search(&many, "one more", "q=x").await, "conflict", 409, "name");
    // Replacing one of the hundred is no new one.
    f.kv.save_search(&many, "search 007", "q=seven").await.unwrap();
    assert_eq!(f.kv.saved_searches(&many).await.unwrap().len() as u64, MAX_SAVED_SEARCHES);
}

async fn settings_are_each_users_own_with_defaults(f: &Fixture) {
    let (ada, bob) = (user("ada@example.com", Role::User), user("bob@example.com", Role::ReadOnly));
    let view = |list: Vec<(String, String)>| list.into_iter().find(|(n, _)| n == "namespace_view").map(|(_, v)| v);
    assert_eq!(view(f.kv.settings(&ada).await.unwrap()).as_deref(), Some("list"), "the default");
    f.kv.set_setting(&ada, "namespace_view", "grid").await.unwrap();
    f.kv.set_setting(&bob, "namespace_view", "list").await.unwrap();
    assert_eq!(view(f.kv.settings(&ada).await.unwrap()).as_deref(), Some("grid"));
    assert_eq!(view(f.kv.settings(&bob).await.unwrap()).as_deref(), Some("list"));
    f.kv.set_setting(&ada, "namespace_view", "list").await.unwrap();
    assert_eq!(view(f.kv.settings(&ada).await.unwrap()).as_deref(), Some("list"), "set again: replaced");
    assert_err_status(f.kv.set_setting(&ada, "namespace_view", "table").await, "invalid_input", 400, "value");
    assert_err_status(f.kv.set_setting(&ada, "theme", "dark").await, "invalid_input", 400, "name");
}
