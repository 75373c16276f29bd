//! Tags and custom metadata, search, and version history, on SQLite and (with
//! `KVM_TEST_POSTGRES_URL`) PostgreSQL.

mod common;

use std::collections::BTreeSet;

use common::{Fixture, assert_err, exec, me, namespace, put};
use domain::{Actor, Precondition, PutKey, Rename, SearchQuery, Source, VersionRetention};
use serde_json::json;

both!(
    details_belong_to_their_key,
    tags_are_trimmed_deduplicated_and_limited,
    tags_are_listed_with_counts,
    search_finds_substrings_case_insensitively_and_literally,
    search_filters_by_tags_namespaces_and_the_advanced_fields,
    search_pages_through_2500_matches_in_order,
    tag_searches_page_in_order,
    concurrent_writers_wait_for_each_other,
    the_index_follows_every_write,
    versions_keep_what_overwrites_and_deletes_replaced,
    versions_are_pruned_by_count_and_age,
    a_rename_keeps_the_key_whole_and_refuses_a_taken_name,
);

fn alice() -> Actor {
    Actor::new("alice@example.com", Source::Console, domain::Role::User)
}

async fn search(f: &Fixture, query: SearchQuery) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut cursor = None;
    loop {
        let page = f.kv.search_keys(&me(), SearchQuery { cursor: cursor.clone(), ..query.clone() }).await.unwrap();
        found.extend(page.results.into_iter().map(|hit| (hit.namespace_title, hit.key)));
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return found,
        }
    }
}

fn text(query: &str) -> SearchQuery {
    SearchQuery { query: Some(query.to_owned()), ..Default::default() }
}

fn keys(found: &[(String, String)]) -> Vec<&str> {
    found.iter().map(|(_, k)| k.as_str()).collect()
}

async fn details_belong_to_their_key(f: &Fixture) {
    let ns = namespace(f, "details").await;
    f.kv.put_key(&me(), &ns, put("k", "v")).await.unwrap();
    let empty = f.kv.get_key_details(&me(), &ns, "k").await.unwrap();
    assert_eq!((empty.tags.len(), empty.custom_metadata.clone(), empty.created_at), (0, json!({}), None));

    let set =
        f.kv.put_key_details(&me(), &ns, "k", Some(vec!["Blue".into()]), Some(json!({"owner": "ops"}))).await.unwrap();
    assert_eq!((set.tags, set.custom_metadata), (vec!["Blue".to_owned()], json!({"owner": "ops"})));
    assert!(set.created_at.is_some() && set.updated_at.is_some());
    // An omitted field is left as it is.
    let tags_only = f.kv.put_key_details(&me(), &ns, "k", Some(vec!["red".into()]), None).await.unwrap();
    assert_eq!((tags_only.tags, tags_only.custom_metadata), (vec!["red".to_owned()], json!({"owner": "ops"})));
    let custom_only = f.kv.put_key_details(&me(), &ns, "k", None, Some(json!({"n": 1}))).await.unwrap();
    assert_eq!((custom_only.tags, custom_only.custom_metadata), (vec!["red".to_owned()], json!({"n": 1})));

    // Writing the key again keeps its details; deleting it drops them.
    f.kv.put_key(&me(), &ns, put("k", "v2")).await.unwrap();
    assert_eq!(f.kv.get_key_details(&me(), &ns, "k").await.unwrap().tags, ["red"]);
    f.kv.delete_key(&me(), &ns, "k").await.unwrap();
    assert_err(f.kv.get_key_details(&me(), &ns, "k").await, "not_found", "key");
    f.kv.put_key(&me(), &ns, put("k", "v3")).await.unwrap();
    assert!(f.kv.get_key_details(&me(), &ns, "k").await.unwrap().tags.is_empty());

    assert_err(f.kv.put_key_details(&me(), &ns, "missing", Some(vec!["x".into()]), None).await, "not_found", "key");
    assert_err(f.kv.put_key_details(&me(), &ns, "k", None, Some(json!([1]))).await, "invalid_input", "custom_metadata");
    assert_err(f.kv.get_key_details(&me(), &"0".repeat(32), "k").await, "not_found", "namespace_id");

    // A namespace's deletion takes its details along.
    f.kv.put_key_details(&me(), &ns, "k", Some(vec!["gone".into()]), None).await.unwrap();
    f.kv.delete_namespace(&me(), &ns).await.unwrap();
    assert!(f.kv.list_tags(&me(), None).await.unwrap().iter().all(|t| t.tag != "gone"));
}

async fn tags_are_trimmed_deduplicated_and_limited(f: &Fixture) {
    let ns = namespace(f, "tags").await;
    f.kv.put_key(&me(), &ns, put("k", "v")).await.unwrap();
    let tags = vec!["  Prod ".into(), "prod".into(), "PROD".into(), "eu-west".into(), "t".repeat(64)];
    let set = f.kv.put_key_details(&me(), &ns, "k", Some(tags), None).await.unwrap();
    assert_eq!(set.tags, vec!["Prod".to_owned(), "eu-west".to_owned(), "t".repeat(64)]);
    assert_err(f.kv.put_key_details(&me(), &ns, "k", Some(vec!["t".repeat(65)]), None).await, "invalid_input", "tags");
    assert_err(f.kv.put_key_details(&me(), &ns, "k", Some(vec!["   ".into()]), None).await, "invalid_input", "tags");
    assert_eq!(f.kv.get_key_details(&me(), &ns, "k").await.unwrap().tags.len(), 3, "a refused write changes nothing");
}

async fn tags_are_listed_with_counts(f: &Fixture) {
    let a = namespace(f, "tags-a").await;
    let b = namespace(f, "tags-b").await;
    for (ns, key, tags) in
        [(&a, "1", vec!["blue", "green"]), (&a, "2", vec!["Blue"]), (&b, "3", vec!["blue"]), (&b, "4", vec!["red"])]
    {
        f.kv.put_key(&me(), ns, PutKey { expiration_ttl: Some(3600), ..put(key, "v") }).await.unwrap();
        f.kv.put_key_details(&me(), ns, key, Some(tags.into_iter().map(String::from).collect()), None).await.unwrap();
    }
    let all: Vec<(String, u64)> =
        f.kv.list_tags(&me(), None).await.unwrap().into_iter().map(|t| (t.tag.to_lowercase(), t.count)).collect();
    assert_eq!(all, [("blue".to_owned(), 3), ("green".to_owned(), 1), ("red".to_owned(), 1)]);
    let in_b: Vec<(String, u64)> =
        f.kv.list_tags(&me(), Some(&b)).await.unwrap().into_iter().map(|t| (t.tag, t.count)).collect();
    assert_eq!(in_b, [("blue".to_owned(), 1), ("red".to_owned(), 1)]);
    // An expired key's tags no longer count.
    exec(&f.db, &format!("UPDATE kv_entries SET expiration = 1 WHERE namespace_id = '{b}' AND name = '4'")).await;
    assert_eq!(f.kv.list_tags(&me(), Some(&b)).await.unwrap().len(), 1);
    // A search by one tag counts from the tag index, less the expired keys.
    let by_tag = |tag: &str, namespace_ids: Vec<String>| SearchQuery {
        tags: vec![tag.to_owned()],
        namespace_ids,
        ..Default::default()
    };
    assert_eq!(f.kv.search_keys(&me(), by_tag("red", vec![])).await.unwrap().total, Some(0));
    assert_eq!(f.kv.search_keys(&me(), by_tag("BLUE", vec![])).await.unwrap().total, Some(3));
    let in_a = f.kv.search_keys(&me(), by_tag("blue", vec![a.clone()])).await.unwrap();
    assert_eq!((in_a.total, in_a.results.len()), (Some(2), 2));
}

async fn search_finds_substrings_case_insensitively_and_literally(f: &Fixture) {
    let ns = namespace(f, "substrings").await;
    let names = [
        "user:1001:profile",
        "USER:2002:Profile",
        "order:1001",
        "100%_done",
        "100x_done",
        "a_b",
        "axb",
        "back\\slash",
        "日本語キー",
    ];
    f.kv.put_many(&me(), &ns, names.iter().map(|n| put(n, "v")).collect()).await.unwrap();
    assert_eq!(keys(&search(f, text("PROFILE")).await), ["USER:2002:Profile", "user:1001:profile"]);
    assert_eq!(keys(&search(f, text(":1001")).await), ["order:1001", "user:1001:profile"]);
    assert_eq!(keys(&search(f, text("0%_")).await), ["100%_done"]);
    assert_eq!(keys(&search(f, text("%")).await), ["100%_done"]);
    assert_eq!(keys(&search(f, text("_")).await), ["100%_done", "100x_done", "a_b"]);
    assert_eq!(keys(&search(f, text("a_b")).await), ["a_b"]);
    assert_eq!(keys(&search(f, text("\\s")).await), ["back\\slash"]);
    assert_eq!(keys(&search(f, text("語キ")).await), ["日本語キー"]);
    assert_eq!(keys(&search(f, text("\"quoted\"")).await), Vec::<&str>::new());
    let first = f.kv.search_keys(&me(), text("o")).await.unwrap();
    assert_eq!(first.total, Some(5));
}

async fn search_filters_by_tags_namespaces_and_the_advanced_fields(f: &Fixture) {
    let a = namespace(f, "filters-a").await;
    let b = namespace(f, "filters-b").await;
    let now = domain::now_unix();
    f.kv.put_many(
        &me(),
        &a,
        vec![
            PutKey { expiration: Some(now + 1000), ..put("small", "x") },
            PutKey { expiration: Some(now + 100_000), ..put("big", &"x".repeat(500)) },
            put("plain", "xxxxxxxxxx"),
        ],
    )
    .await
    .unwrap();
    f.kv.put_key(&me(), &b, put("plain", "xx")).await.unwrap();
    for (ns, key, tags) in
        [(&a, "small", vec!["hot", "eu"]), (&a, "big", vec!["hot"]), (&b, "plain", vec!["HOT", "eu"])]
    {
        f.kv.put_key_details(&me(), ns, key, Some(tags.into_iter().map(String::from).collect()), None).await.unwrap();
    }
    let q = |query: SearchQuery| async move { search(f, query).await };
    let all_of = SearchQuery { tags: vec!["hot".into(), "EU".into()], ..Default::default() };
    assert_eq!(q(all_of).await, [("filters-a".into(), "small".into()), ("filters-b".into(), "plain".into())]);
    let in_b = SearchQuery { tags: vec!["hot".into()], namespace_ids: vec![b.clone()], ..Default::default() };
    assert_eq!(keys(&q(in_b).await), ["plain"]);
    let only_a = SearchQuery { namespace_ids: vec![a.clone()], ..Default::default() };
    assert_eq!(keys(&q(only_a.clone()).await), ["big", "plain", "small"]);
    assert_eq!(keys(&q(SearchQuery { has_expiration: Some(true), ..only_a.clone() }).await), ["big", "small"]);
    assert_eq!(keys(&q(SearchQuery { has_expiration: Some(false), ..only_a.clone() }).await), ["plain"]);
    assert_eq!(keys(&q(SearchQuery { expires_before: Some(now + 5000), ..only_a.clone() }).await), ["small"]);
    assert_eq!(keys(&q(SearchQuery { min_size: Some(10), ..only_a.clone() }).await), ["big", "plain"]);
    assert_eq!(keys(&q(SearchQuery { max_size: Some(10), ..only_a.clone() }).await), ["plain", "small"]);
    assert_eq!(keys(&q(SearchQuery { min_size: Some(2), max_size: Some(10), ..only_a.clone() }).await), ["plain"]);
    exec(
        &f.db,
        &format!("UPDATE kv_entries SET updated_at = {} WHERE namespace_id = '{a}' AND name <> 'big'", now - 3600),
    )
    .await;
    assert_eq!(keys(&q(SearchQuery { updated_after: Some(now - 60), ..only_a.clone() }).await), ["big"]);
    // Each result carries its tags, namespace and size.
    let hit =
        f.kv.search_keys(&me(), SearchQuery { query: Some("smal".into()), ..Default::default() })
            .await
            .unwrap()
            .results;
    assert_eq!(
        (hit[0].tags.clone(), hit[0].namespace_id.clone(), hit[0].size),
        (vec!["hot".to_owned(), "eu".to_owned()], a.clone(), 1)
    );

    assert_err(
        f.kv.search_keys(&me(), SearchQuery { limit: Some(0), ..Default::default() }).await,
        "invalid_input",
        "limit",
    );
    assert_err(
        f.kv.search_keys(&me(), SearchQuery { limit: Some(1001), ..Default::default() }).await,
        "invalid_input",
        "limit",
    );
    assert_err(
        f.kv.search_keys(&me(), SearchQuery { cursor: Some("junk".into()), ..Default::default() }).await,
        "invalid_input",
        "cursor",
    );
    assert_err(
        f.kv.search_keys(&me(), SearchQuery { min_size: Some(5), max_size: Some(4), ..Default::default() }).await,
        "invalid_input",
        "max_size",
    );
    assert_err(
        f.kv.search_keys(&me(), SearchQuery { query: Some("a\0b".into()), ..Default::default() }).await,
        "invalid_input",
        "query",
    );
    assert_err(
        f.kv.search_keys(&me(), SearchQuery { tags: vec!["a\0".into()], ..Default::default() }).await,
        "invalid_input",
        "tags",
    );
    assert_err(
        f.kv.search_keys(&me(), SearchQuery { namespace_ids: vec!["nope".into()], ..Default::default() }).await,
        "not_found",
        "namespace_id",
    );
}

async fn search_pages_through_2500_matches_in_order(f: &Fixture) {
    let a = namespace(f, "paging-b").await;
    let b = namespace(f, "paging-a").await;
    for ns in [&a, &b] {
        for chunk in (0..1250).collect::<Vec<_>>().chunks(500) {
            f.kv.put_many(&me(), ns, chunk.iter().map(|i| put(&format!("item:{i:04}:Match"), "v")).collect())
                .await
                .unwrap();
        }
        f.kv.put_key(&me(), ns, put("unrelated", "v")).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page =
            f.kv.search_keys(
                &me(),
                SearchQuery {
                    query: Some("match".into()),
                    limit: Some(300),
                    cursor: cursor.clone(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        pages += 1;
        if pages == 1 {
            assert_eq!(page.total, Some(2500));
        } else {
            assert_eq!(page.total, None);
        }
        seen.extend(page.results.into_iter().map(|h| (h.namespace_title, h.key)));
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 9);
    assert_eq!(seen.len(), 2500);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 2500, "no result twice");
    assert!(seen.windows(2).all(|w| (w[0].0.as_bytes(), w[0].1.as_bytes()) < (w[1].0.as_bytes(), w[1].1.as_bytes())));
    assert_eq!(seen[0].0, "paging-a", "ordered by namespace title first");
}

async fn the_index_follows_every_write(f: &Fixture) {
    let ns = namespace(f, "index").await;
    let other = namespace(f, "index-other").await;
    f.kv.put_key(&me(), &ns, put("alpha-key", "v")).await.unwrap();
    assert_eq!(keys(&search(f, text("pha-k")).await), ["alpha-key"]);
    f.kv.put_key(&me(), &ns, put("alpha-key", "longer value")).await.unwrap();
    let hit = f.kv.search_keys(&me(), text("pha-k")).await.unwrap().results;
    assert_eq!((hit.len(), hit[0].size), (1, 12), "an overwrite is one entry with the new size");
    f.kv.delete_key(&me(), &ns, "alpha-key").await.unwrap();
    assert!(search(f, text("pha-k")).await.is_empty());

    f.kv.put_key(&me(), &other, put("beta-key", "v")).await.unwrap();
    f.kv.delete_namespace(&me(), &other).await.unwrap();
    assert!(search(f, text("beta-k")).await.is_empty());

    f.kv.put_key(&me(), &ns, PutKey { expiration_ttl: Some(3600), ..put("gamma-key", "v") }).await.unwrap();
    exec(&f.db, &format!("UPDATE kv_entries SET expiration = 1 WHERE namespace_id = '{ns}' AND name = 'gamma-key'"))
        .await;
    assert!(search(f, text("mma-k")).await.is_empty(), "an expired key is not found");
    f.kv.purge_expired().await.unwrap();
    f.kv.put_key(&me(), &ns, put("gamma-key", "back")).await.unwrap();
    assert_eq!(keys(&search(f, text("mma-k")).await), ["gamma-key"]);
}

async fn versions_keep_what_overwrites_and_deletes_replaced(f: &Fixture) {
    let ns = namespace(f, "versions").await;
    f.kv.put_key(&me(), &ns, PutKey { metadata: Some(json!({"v": 1})), expiration_ttl: Some(7200), ..put("k", "one") })
        .await
        .unwrap();
    assert!(f.kv.list_key_versions(&me(), &ns, "k").await.unwrap().is_empty(), "creating a key keeps nothing");
    f.kv.put_key(&alice(), &ns, put("k", "two!")).await.unwrap();
    f.kv.put_key(&me(), &ns, put("k", "three")).await.unwrap();
    let versions = f.kv.list_key_versions(&me(), &ns, "k").await.unwrap();
    let summary: Vec<(i64, u64, &str, &str)> =
        versions.iter().map(|v| (v.version, v.size, v.operation.as_str(), v.created_by.as_str())).collect();
    assert_eq!(summary, [(2, 4, "update", "local"), (1, 3, "update", "alice@example.com")]);
    let first = f.kv.get_key_version(&me(), &ns, "k", 1).await.unwrap();
    assert_eq!((first.value.as_slice(), first.metadata.clone()), (b"one".as_slice(), Some(json!({"v": 1}))));
    assert!(first.expiration.is_some());
    // Versions never show up among the keys.
    assert_eq!(f.kv.get_namespace(&me(), &ns).await.unwrap().key_count, 1);
    assert_eq!(f.kv.list_keys(&me(), &ns, Default::default()).await.unwrap().keys.len(), 1);

    f.kv.restore_key_version(&alice(), &ns, "k", 1).await.unwrap();
    let restored = f.kv.get_key(&me(), &ns, "k").await.unwrap();
    assert_eq!(
        (restored.value.as_slice(), restored.metadata, restored.expiration),
        (b"one".as_slice(), Some(json!({"v": 1})), first.expiration)
    );
    let newest = &f.kv.list_key_versions(&me(), &ns, "k").await.unwrap()[0];
    assert_eq!(
        (newest.version, newest.operation.as_str(), newest.created_by.as_str(), newest.size),
        (3, "restore", "alice@example.com", 5)
    );

    f.kv.delete_key(&alice(), &ns, "k").await.unwrap();
    let deleted = &f.kv.list_key_versions(&me(), &ns, "k").await.unwrap()[0];
    assert_eq!((deleted.version, deleted.operation.as_str()), (4, "delete"));
    f.kv.restore_key_version(&me(), &ns, "k", 4).await.unwrap();
    assert_eq!(f.kv.get_key(&me(), &ns, "k").await.unwrap().value, b"one");

    assert_err(f.kv.get_key_version(&me(), &ns, "k", 99).await, "not_found", "version");
    assert_err(f.kv.restore_key_version(&me(), &ns, "missing", 1).await, "not_found", "version");
}

async fn versions_are_pruned_by_count_and_age(f: &Fixture) {
    let ns = namespace(f, "retention").await;
    for i in 0..15 {
        f.kv.put_key(&me(), &ns, put("k", &format!("value {i}"))).await.unwrap();
    }
    f.kv.put_key(&me(), &ns, put("young", "1")).await.unwrap();
    f.kv.put_key(&me(), &ns, put("young", "2")).await.unwrap();
    assert_eq!(f.kv.list_key_versions(&me(), &ns, "k").await.unwrap().len(), 14);
    let retention = VersionRetention { keep: 10, keep_days: 30 };
    // Everything is younger than 30 days: nothing goes.
    assert_eq!(f.kv.prune_versions(retention).await.unwrap(), 0);
    // Age the versions of "k": the oldest four beyond the newest ten go.
    let old = domain::now_unix() - 31 * 86_400;
    exec(&f.db, &format!("UPDATE key_versions SET created_at = {old} WHERE namespace_id = '{ns}' AND name = 'k'"))
        .await;
    assert_eq!(f.kv.prune_versions(retention).await.unwrap(), 4);
    let left: Vec<i64> = f.kv.list_key_versions(&me(), &ns, "k").await.unwrap().iter().map(|v| v.version).collect();
    assert_eq!(left, (5..=14).rev().collect::<Vec<_>>());
    assert_eq!(f.kv.list_key_versions(&me(), &ns, "young").await.unwrap().len(), 1);
    assert_eq!(f.kv.prune_versions(VersionRetention { keep: 0, keep_days: 30 }).await.unwrap(), 10);
    assert_eq!(f.kv.list_key_versions(&me(), &ns, "young").await.unwrap().len(), 1, "young versions stay");
}

async fn tag_searches_page_in_order(f: &Fixture) {
    let z = namespace(f, "z-tagged").await;
    let a = namespace(f, "a-tagged").await;
    let mut expected = Vec::new();
    for (ns, title) in [(&z, "z-tagged"), (&a, "a-tagged")] {
        f.kv.put_many(&me(), ns, (0..60).map(|i| put(&format!("k{i:02}"), "v")).collect()).await.unwrap();
        for i in (0..60).step_by(2) {
            let key = format!("k{i:02}");
            f.kv.put_key_details(&me(), ns, &key, Some(vec!["even".into()]), None).await.unwrap();
            expected.push((title.to_owned(), key));
        }
    }
    expected.sort();
    let query = SearchQuery { tags: vec!["Even".into()], limit: Some(7), ..Default::default() };
    assert_eq!(search(f, query).await, expected);
}

async fn concurrent_writers_wait_for_each_other(f: &Fixture) {
    let ns = namespace(f, "concurrent").await;
    f.kv.put_many(&me(), &ns, (0..40).map(|i| put(&format!("k{i}"), "v")).collect()).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (kv, ns) = (f.kv.clone(), ns.clone());
        tasks.push(tokio::spawn(async move {
            let key = format!("k{i}");
            kv.put_key_details(&me(), &ns, &key, Some(vec![format!("t{}", i % 3)]), None).await?;
            kv.put_key(&me(), &ns, put(&key, "changed")).await?;
            kv.put_key_details(&me(), &ns, &key, None, Some(json!({ "i": i }))).await
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("every concurrent write succeeds");
    }
    let tags = f.kv.list_tags(&me(), Some(&ns)).await.unwrap();
    assert_eq!(tags.iter().map(|t| t.count).sum::<u64>(), 40);
}

fn rename(from: &str, to: &str, overwrite: bool) -> Rename {
    Rename { from: from.to_owned(), to: to.to_owned(), overwrite, expect: None }
}

async fn a_rename_keeps_the_key_whole_and_refuses_a_taken_name(f: &Fixture) {
    let ns = namespace(f, "renames").await;
    let first = PutKey { metadata: Some(json!({"v": 1})), expiration_ttl: Some(7200), ..put("old", "one") };
    f.kv.put_key(&me(), &ns, first).await.unwrap();
    f.kv.put_key(
        &alice(),
        &ns,
        PutKey { metadata: Some(json!({"v": 2})), expiration_ttl: Some(7200), ..put("old", "two") },
    )
    .await
    .unwrap();
    f.kv.put_key_details(&me(), &ns, "old", Some(vec!["blue".into()]), Some(json!({"owner": "ops"}))).await.unwrap();
    let before = f.kv.get_key(&me(), &ns, "old").await.unwrap();

    let version = f.kv.rename_key(&alice(), &ns, rename("old", "new", false)).await.unwrap();
    let after = f.kv.get_key(&me(), &ns, "new").await.unwrap();
    assert_eq!(after.version.as_deref(), Some(version.as_str()), "the answer is the key's version under its new name");
    assert_eq!(
        (after.value.as_slice(), after.metadata.clone(), after.expiration),
        (b"two".as_slice(), before.metadata, before.expiration)
    );
    assert_err(f.kv.get_key(&me(), &ns, "old").await, "not_found", "key");
    let details = f.kv.get_key_details(&me(), &ns, "new").await.unwrap();
    assert_eq!((details.tags, details.custom_metadata), (vec!["blue".to_owned()], json!({"owner": "ops"})));
    // The history came along: version 1 is still the first value.
    let versions = f.kv.list_key_versions(&me(), &ns, "new").await.unwrap();
    assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), [1]);
    assert_eq!(f.kv.get_key_version(&me(), &ns, "new", 1).await.unwrap().value, b"one");
    // The old name keeps the state it was deleted in, restorable.
    let gone = f.kv.list_key_versions(&me(), &ns, "old").await.unwrap();
    assert_eq!(gone.iter().map(|v| (v.version, v.operation.as_str())).collect::<Vec<_>>(), [(1, "delete")]);
    assert_eq!(f.kv.get_namespace(&me(), &ns).await.unwrap().key_count, 1);

    // A taken name: 409 unless overwrite, and nothing moves.
    f.kv.put_key(&me(), &ns, put("other", "three")).await.unwrap();
    assert_err(f.kv.rename_key(&me(), &ns, rename("other", "new", false)).await, "conflict", "new_name");
    assert_eq!(f.kv.get_key(&me(), &ns, "new").await.unwrap().value, b"two");
    assert_eq!(f.kv.get_key(&me(), &ns, "other").await.unwrap().value, b"three");
    f.kv.rename_key(&me(), &ns, rename("other", "new", true)).await.unwrap();
    assert_eq!(f.kv.get_key(&me(), &ns, "new").await.unwrap().value, b"three");
    // Both histories stay, numbered on: "new"'s own first, then what it held when overwritten.
    let versions = f.kv.list_key_versions(&me(), &ns, "new").await.unwrap();
    let values: Vec<Vec<u8>> = {
        let mut values = Vec::new();
        for v in versions.iter().rev() {
            values.push(f.kv.get_key_version(&me(), &ns, "new", v.version).await.unwrap().value);
        }
        values
    };
    assert_eq!(values, [b"one".to_vec(), b"two".to_vec()]);
    assert_eq!(f.kv.get_namespace(&me(), &ns).await.unwrap().key_count, 1);

    // A stale version of the source: 409, nothing renamed.
    f.kv.put_key(&me(), &ns, put("src", "a")).await.unwrap();
    let stale = f.kv.get_key(&me(), &ns, "src").await.unwrap().version.unwrap();
    f.kv.put_key(&me(), &ns, put("src", "b")).await.unwrap();
    let guarded = Rename { expect: Some(Precondition::Version(stale)), ..rename("src", "dst", false) };
    assert_err(f.kv.rename_key(&me(), &ns, guarded).await, "conflict", "version");
    assert_err(f.kv.get_key(&me(), &ns, "dst").await, "not_found", "key");

    // Bad input names its field.
    assert_err(f.kv.rename_key(&me(), &ns, rename("missing", "x", false)).await, "not_found", "key");
    assert_err(f.kv.rename_key(&me(), &ns, rename("src", "src", false)).await, "invalid_input", "new_name");
    assert_err(f.kv.rename_key(&me(), &ns, rename("src", "", false)).await, "invalid_input", "new_name");
    assert_err(f.kv.rename_key(&me(), &ns, rename("src", &"x".repeat(600), false)).await, "invalid_input", "new_name");
}
