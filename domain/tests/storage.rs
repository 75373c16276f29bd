//! Storage semantics (Cloudflare Workers KV's), on a real SQLite file and, when
//! `KVM_TEST_POSTGRES_URL` is set, on a fresh PostgreSQL database per test.

mod common;

use std::collections::BTreeSet;

use common::{Fixture, assert_err, me, namespace, put};
use domain::{KeyQuery, NamespaceQuery, PutKey};
use sea_orm::ConnectionTrait;

both!(
    namespace_titles_ids_and_conflicts,
    namespace_listing_pages_and_searches_literally,
    deleting_a_namespace_removes_its_keys,
    key_name_limits,
    values_are_binary_safe_up_to_25_mib,
    metadata_limit_and_any_json,
    expiration_rules,
    writes_replace_value_metadata_and_expiration_together,
    put_many_is_all_or_nothing_and_last_write_wins,
    keys_list_in_byte_order,
    prefix_and_limit_and_cursor_validation,
    cursor_paging_over_2500_keys_with_writes_between_pages,
    expired_keys_are_invisible_and_purged,
    namespace_sizes_stay_exact,
);

async fn all_keys(f: &Fixture, ns: &str, prefix: Option<&str>) -> Vec<String> {
    let mut names = Vec::new();
    let mut cursor = None;
    loop {
        let query = KeyQuery { prefix: prefix.map(str::to_owned), cursor: cursor.clone(), limit: Some(100) };
        let page = f.kv.list_keys(&me(), ns, query).await.expect("list");
        names.extend(page.keys.into_iter().map(|k| k.name));
        if page.list_complete {
            return names;
        }
        cursor = page.cursor;
    }
}

async fn namespace_titles_ids_and_conflicts(f: &Fixture) {
    let created = f.kv.create_namespace(&me(), "orders").await.unwrap();
    assert!(created.id.len() == 32 && created.id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_eq!((created.key_count, created.size_bytes), (0, 0));
    assert!(created.created_at > 1_700_000_000 && created.last_accessed >= created.created_at);
    let long = "é".repeat(512);
    assert_eq!(f.kv.create_namespace(&me(), &long).await.unwrap().title, long);
    assert_err(f.kv.create_namespace(&me(), &"t".repeat(513)).await, "invalid_input", "title");
    assert_err(f.kv.create_namespace(&me(), "").await, "invalid_input", "title");
    assert_err(f.kv.create_namespace(&me(), "   ").await, "invalid_input", "title");
    assert_err(f.kv.create_namespace(&me(), "orders").await, "conflict", "title");
    let other = namespace(f, "users").await;
    assert_err(f.kv.rename_namespace(&me(), &other, "orders").await, "conflict", "title");
    assert_eq!(f.kv.rename_namespace(&me(), &other, "people").await.unwrap().title, "people");
    // Renaming to its own title is no conflict.
    assert_eq!(f.kv.rename_namespace(&me(), &other, "people").await.unwrap().title, "people");
    assert_err(f.kv.get_namespace(&me(), "NOT-AN-ID").await, "not_found", "namespace_id");
    assert_err(f.kv.get_namespace(&me(), &"0".repeat(32)).await, "not_found", "namespace_id");
    assert_err(f.kv.rename_namespace(&me(), &"0".repeat(32), "x").await, "not_found", "namespace_id");
    assert_err(f.kv.delete_namespace(&me(), &"0".repeat(32)).await, "not_found", "namespace_id");
}

async fn namespace_listing_pages_and_searches_literally(f: &Fixture) {
    for title in ["alpha", "Beta", "100%_real", "1000 real", "gamma"] {
        namespace(f, title).await;
    }
    let q = |page, per_page, search: Option<&str>| NamespaceQuery { page, per_page, search: search.map(str::to_owned) };
    let all = f.kv.list_namespaces(&me(), q(None, None, None)).await.unwrap();
    assert_eq!((all.total, all.page, all.per_page, all.namespaces.len()), (5, 1, 100, 5));
    let page2 = f.kv.list_namespaces(&me(), q(Some(2), Some(2), None)).await.unwrap();
    assert_eq!(page2.namespaces.len(), 2);
    let page3 = f.kv.list_namespaces(&me(), q(Some(3), Some(2), None)).await.unwrap();
    assert_eq!(page3.namespaces.len(), 1);
    let past = f.kv.list_namespaces(&me(), q(Some(9), Some(2), None)).await.unwrap();
    assert!(past.namespaces.is_empty());
    let mut seen: Vec<String> = Vec::new();
    for page in 1..=3 {
        seen.extend(
            f.kv.list_namespaces(&me(), q(Some(page), Some(2), None))
                .await
                .unwrap()
                .namespaces
                .into_iter()
                .map(|n| n.title),
        );
    }
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 5, "{seen:?}");

    let titles = |p: domain::NamespacePage| p.namespaces.into_iter().map(|n| n.title).collect::<Vec<_>>();
    assert_eq!(titles(f.kv.list_namespaces(&me(), q(None, None, Some("BETA"))).await.unwrap()), ["Beta"]);
    assert_eq!(titles(f.kv.list_namespaces(&me(), q(None, None, Some("%_"))).await.unwrap()), ["100%_real"]);
    assert_eq!(titles(f.kv.list_namespaces(&me(), q(None, None, Some("0_r"))).await.unwrap()), Vec::<String>::new());
    assert_eq!(f.kv.list_namespaces(&me(), q(None, None, Some("E"))).await.unwrap().total, 3);

    assert_err(f.kv.list_namespaces(&me(), q(None, Some(0), None)).await, "invalid_input", "per_page");
    assert_err(f.kv.list_namespaces(&me(), q(None, Some(1001), None)).await, "invalid_input", "per_page");
    assert_err(f.kv.list_namespaces(&me(), q(Some(0), None, None)).await, "invalid_input", "page");
}

async fn deleting_a_namespace_removes_its_keys(f: &Fixture) {
    let ns = namespace(f, "doomed").await;
    f.kv.put_many(&me(), &ns, (0..50).map(|i| put(&format!("k{i}"), "v")).collect()).await.unwrap();
    f.kv.delete_namespace(&me(), &ns).await.unwrap();
    assert_err(f.kv.get_namespace(&me(), &ns).await, "not_found", "namespace_id");
    assert_err(f.kv.list_keys(&me(), &ns, KeyQuery::default()).await, "not_found", "namespace_id");
    assert_err(f.kv.get_key(&me(), &ns, "k1").await, "not_found", "namespace_id");
    let rows =
        f.db.conn
            .query_one_raw(sea_orm::Statement::from_string(
                f.db.conn.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM kv_entries WHERE namespace_id = '{ns}'"),
            ))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(rows.try_get::<i64>("", "n").unwrap(), 0);
    // The same title can be used again and starts empty.
    let again = namespace(f, "doomed").await;
    assert_eq!(f.kv.get_namespace(&me(), &again).await.unwrap().key_count, 0);
}

async fn key_name_limits(f: &Fixture) {
    let ns = namespace(f, "names").await;
    let max = "ü".repeat(256); // 512 bytes
    f.kv.put_key(&me(), &ns, put(&max, "v")).await.unwrap();
    assert_eq!(f.kv.get_key(&me(), &ns, &max).await.unwrap().name, max);
    assert_err(f.kv.put_key(&me(), &ns, put(&format!("{max}x"), "v")).await, "invalid_input", "key");
    assert_err(f.kv.put_key(&me(), &ns, put("", "v")).await, "invalid_input", "key");
    assert_err(f.kv.put_key(&me(), &ns, put(".", "v")).await, "invalid_input", "key");
    assert_err(f.kv.put_key(&me(), &ns, put("..", "v")).await, "invalid_input", "key");
    f.kv.put_key(&me(), &ns, put("...", "v")).await.unwrap();
    f.kv.put_key(&me(), &ns, put("a/b/../c?d#e f", "v")).await.unwrap();
    assert_err(f.kv.get_key(&me(), &ns, "..").await, "invalid_input", "key");
    assert_err(f.kv.get_key(&me(), &ns, "missing").await, "not_found", "key");
}

async fn values_are_binary_safe_up_to_25_mib(f: &Fixture) {
    let ns = namespace(f, "values").await;
    let binary: Vec<u8> = (0..=255u8).chain([0, 0xff, 0xc3, 0x28]).collect();
    f.kv.put_key(&me(), &ns, PutKey { name: "bin".into(), value: binary.clone(), ..Default::default() }).await.unwrap();
    assert_eq!(f.kv.get_key(&me(), &ns, "bin").await.unwrap().value, binary);
    f.kv.put_key(&me(), &ns, put("empty", "")).await.unwrap();
    assert_eq!(f.kv.get_key(&me(), &ns, "empty").await.unwrap().value, b"");

    let limit = 25 * 1024 * 1024;
    f.kv.put_key(&me(), &ns, PutKey { name: "big".into(), value: vec![b'x'; limit], ..Default::default() })
        .await
        .unwrap();
    assert_eq!(f.kv.get_key(&me(), &ns, "big").await.unwrap().value.len(), limit);
    assert_err(
        f.kv.put_key(&me(), &ns, PutKey { name: "bigger".into(), value: vec![b'x'; limit + 1], ..Default::default() })
            .await,
        "too_large",
        "value",
    );
    assert_err(f.kv.get_key(&me(), &ns, "bigger").await, "not_found", "key");
}

async fn metadata_limit_and_any_json(f: &Fixture) {
    let ns = namespace(f, "meta").await;
    for (i, metadata) in [
        serde_json::json!(null),
        serde_json::json!(false),
        serde_json::json!(0),
        serde_json::json!("s"),
        serde_json::json!([1, {"a": "é"}]),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("m{i}");
        f.kv.put_key(&me(), &ns, PutKey { metadata: Some(metadata.clone()), ..put(&name, "v") }).await.unwrap();
        assert_eq!(f.kv.get_key(&me(), &ns, &name).await.unwrap().metadata, Some(metadata));
    }
    // {"p":"..."} is 8 bytes of JSON around the string.
    let exactly = serde_json::json!({ "p": "x".repeat(1024 - 8) });
    assert_eq!(serde_json::to_string(&exactly).unwrap().len(), 1024);
    f.kv.put_key(&me(), &ns, PutKey { metadata: Some(exactly.clone()), ..put("fits", "v") }).await.unwrap();
    let listed =
        f.kv.list_keys(&me(), &ns, KeyQuery { prefix: Some("fits".into()), ..Default::default() }).await.unwrap();
    assert_eq!(listed.keys[0].metadata, Some(exactly));
    let over = serde_json::json!({ "p": "x".repeat(1024 - 7) });
    assert_err(
        f.kv.put_key(&me(), &ns, PutKey { metadata: Some(over), ..put("over", "v") }).await,
        "too_large",
        "metadata",
    );
}

async fn expiration_rules(f: &Fixture) {
    let ns = namespace(f, "ttl").await;
    let now = domain::now_unix();
    assert_err(
        f.kv.put_key(&me(), &ns, PutKey { expiration_ttl: Some(59), ..put("a", "v") }).await,
        "invalid_input",
        "expiration_ttl",
    );
    assert_err(
        f.kv.put_key(&me(), &ns, PutKey { expiration: Some(now + 30), ..put("a", "v") }).await,
        "invalid_input",
        "expiration",
    );
    f.kv.put_key(&me(), &ns, PutKey { expiration_ttl: Some(60), ..put("ttl", "v") }).await.unwrap();
    let ttl = f.kv.get_key(&me(), &ns, "ttl").await.unwrap().expiration.unwrap();
    assert!((now + 60..=now + 62).contains(&ttl), "{ttl} vs {now}");
    f.kv.put_key(&me(), &ns, PutKey { expiration: Some(now + 7200), ..put("abs", "v") }).await.unwrap();
    assert_eq!(f.kv.get_key(&me(), &ns, "abs").await.unwrap().expiration, Some(now + 7200));
    // Both given: the TTL wins, even over an absolute time that alone would be refused.
    f.kv.put_key(&me(), &ns, PutKey { expiration: Some(now + 10), expiration_ttl: Some(600), ..put("both", "v") })
        .await
        .unwrap();
    let both = f.kv.get_key(&me(), &ns, "both").await.unwrap().expiration.unwrap();
    assert!((now + 600..=now + 602).contains(&both));
    assert_err(f.kv.get_key(&me(), &ns, "a").await, "not_found", "key");
}

async fn writes_replace_value_metadata_and_expiration_together(f: &Fixture) {
    let ns = namespace(f, "overwrite").await;
    let now = domain::now_unix();
    let first = PutKey { metadata: Some(serde_json::json!({"v": 1})), expiration: Some(now + 3600), ..put("k", "one") };
    f.kv.put_key(&me(), &ns, first).await.unwrap();
    f.kv.put_key(&me(), &ns, put("k", "two")).await.unwrap();
    let k = f.kv.get_key(&me(), &ns, "k").await.unwrap();
    assert_eq!((k.value.as_slice(), k.metadata, k.expiration), (b"two".as_slice(), None, None));
    assert!(f.kv.delete_key(&me(), &ns, "k").await.unwrap());
    assert!(!f.kv.delete_key(&me(), &ns, "k").await.unwrap());
    assert!(!f.kv.delete_key(&me(), &ns, "never-there").await.unwrap());
}

async fn put_many_is_all_or_nothing_and_last_write_wins(f: &Fixture) {
    let ns = namespace(f, "batch").await;
    let mut batch: Vec<PutKey> = (0..100).map(|i| put(&format!("k{i:03}"), "v")).collect();
    batch.push(put("", "invalid"));
    assert_err(f.kv.put_many(&me(), &ns, batch).await, "invalid_input", "key");
    assert!(all_keys(f, &ns, None).await.is_empty());
    let info = f.kv.get_namespace(&me(), &ns).await.unwrap();
    assert_eq!((info.key_count, info.size_bytes), (0, 0));

    f.kv.put_many(&me(), &ns, vec![put("dup", "first"), put("x", "1"), put("dup", "second!")]).await.unwrap();
    assert_eq!(f.kv.get_key(&me(), &ns, "dup").await.unwrap().value, b"second!");
    let info = f.kv.get_namespace(&me(), &ns).await.unwrap();
    assert_eq!((info.key_count, info.size_bytes), (2, 8));
    assert_err(f.kv.put_many(&me(), &"f".repeat(32), vec![put("a", "b")]).await, "not_found", "namespace_id");
}

async fn keys_list_in_byte_order(f: &Fixture) {
    let ns = namespace(f, "order").await;
    let names = ["a", "a/b", "a0", "aB", "Z", "z", "é", "e", "ü", "日本", "😀", "A", "0", "~", "a b", "ab", "ä", "Ä"];
    f.kv.put_many(&me(), &ns, names.iter().map(|n| put(n, "v")).collect()).await.unwrap();
    let mut expected: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(all_keys(f, &ns, None).await, expected);
    let one_page = f.kv.list_keys(&me(), &ns, KeyQuery::default()).await.unwrap();
    assert_eq!(one_page.keys.into_iter().map(|k| k.name).collect::<Vec<_>>(), expected);
}

async fn prefix_and_limit_and_cursor_validation(f: &Fixture) {
    let ns = namespace(f, "prefix").await;
    let names = ["user:1", "user:2", "user:10", "userx", "usé:1", "usé:2", "us", "日本:a", "日本:b", "日"];
    f.kv.put_many(&me(), &ns, names.iter().map(|n| put(n, "v")).collect()).await.unwrap();
    assert_eq!(all_keys(f, &ns, Some("user:")).await, ["user:1", "user:10", "user:2"]);
    assert_eq!(all_keys(f, &ns, Some("usé")).await, ["usé:1", "usé:2"]);
    assert_eq!(all_keys(f, &ns, Some("日本")).await, ["日本:a", "日本:b"]);
    assert_eq!(all_keys(f, &ns, Some("nothing")).await, Vec::<String>::new());
    assert_eq!(all_keys(f, &ns, Some("")).await.len(), names.len());

    let default = f.kv.list_keys(&me(), &ns, KeyQuery::default()).await.unwrap();
    assert!(default.list_complete && default.cursor.is_none());
    let first = f.kv.list_keys(&me(), &ns, KeyQuery { limit: Some(1), ..Default::default() }).await.unwrap();
    assert_eq!(first.keys.len(), 1);
    assert!(!first.list_complete && first.cursor.is_some());
    let many = f.kv.put_many(&me(), &ns, (0..1005).map(|i| put(&format!("bulk:{i:04}"), "v")).collect()).await;
    many.unwrap();
    let page = f.kv.list_keys(&me(), &ns, KeyQuery::default()).await.unwrap();
    assert_eq!(page.keys.len(), 1000, "the default limit is 1000");
    assert!(!page.list_complete);
    let max = f.kv.list_keys(&me(), &ns, KeyQuery { limit: Some(1000), ..Default::default() }).await.unwrap();
    assert_eq!(max.keys.len(), 1000);

    assert_err(
        f.kv.list_keys(&me(), &ns, KeyQuery { limit: Some(0), ..Default::default() }).await,
        "invalid_input",
        "limit",
    );
    assert_err(
        f.kv.list_keys(&me(), &ns, KeyQuery { limit: Some(1001), ..Default::default() }).await,
        "invalid_input",
        "limit",
    );
    let bad = KeyQuery { cursor: Some("not a cursor!".into()), ..Default::default() };
    assert_err(f.kv.list_keys(&me(), &ns, bad).await, "invalid_input", "cursor");
    let long_prefix = KeyQuery { prefix: Some("p".repeat(513)), ..Default::default() };
    assert_err(f.kv.list_keys(&me(), &ns, long_prefix).await, "invalid_input", "prefix");
}

async fn cursor_paging_over_2500_keys_with_writes_between_pages(f: &Fixture) {
    let ns = namespace(f, "paging").await;
    let stable: Vec<String> = (0..2500).map(|i| format!("key:{:05}", i * 2)).collect();
    for chunk in stable.chunks(1000) {
        f.kv.put_many(&me(), &ns, chunk.iter().map(|n| put(n, "v")).collect()).await.unwrap();
    }
    let mut seen: Vec<String> = Vec::new();
    let mut cursor = None;
    let mut round = 0;
    loop {
        let page =
            f.kv.list_keys(&me(), &ns, KeyQuery { cursor: cursor.clone(), limit: Some(300), prefix: None })
                .await
                .unwrap();
        seen.extend(page.keys.into_iter().map(|k| k.name));
        if page.list_complete {
            break;
        }
        cursor = page.cursor;
        // Between pages: new keys before and after the position, and deletions of keys that are
        // not part of the stable set.
        round += 1;
        let odd_before = format!("key:{:05}", round * 2 + 1);
        let odd_after = format!("key:{:05}", 4999 - round * 2);
        f.kv.put_many(
            &me(),
            &ns,
            vec![put(&odd_before, "new"), put(&odd_after, "new"), put(&format!("temp:{round}"), "t")],
        )
        .await
        .unwrap();
        f.kv.delete_key(&me(), &ns, &format!("temp:{round}")).await.unwrap();
        if round > 1 {
            f.kv.delete_key(&me(), &ns, &format!("key:{:05}", 4999 - (round - 1) * 2)).await.unwrap();
        }
    }
    let as_set: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(as_set.len(), seen.len(), "a key was listed twice");
    assert!(seen.windows(2).all(|w| w[0].as_bytes() < w[1].as_bytes()), "keys out of order");
    for key in &stable {
        assert!(as_set.contains(key), "{key} was skipped");
    }
    assert!(round >= 8, "expected at least 9 pages, got {}", round + 1);
}

async fn expire_now(f: &Fixture, ns: &str, name: &str) {
    let past = domain::now_unix() - 5;
    let sql = format!("UPDATE kv_entries SET expiration = {past} WHERE namespace_id = '{ns}' AND name = '{name}'");
    f.db.conn.execute_unprepared(&sql).await.unwrap();
}

async fn expired_keys_are_invisible_and_purged(f: &Fixture) {
    let ns = namespace(f, "expiry").await;
    let soon = PutKey { expiration_ttl: Some(3600), ..put("soon", "12345") };
    f.kv.put_many(
        &me(),
        &ns,
        vec![soon, put("stays", "abc"), PutKey { expiration_ttl: Some(3600), ..put("also", "xy") }],
    )
    .await
    .unwrap();
    expire_now(f, &ns, "soon").await;
    expire_now(f, &ns, "also").await;

    assert_err(f.kv.get_key(&me(), &ns, "soon").await, "not_found", "key");
    assert_eq!(all_keys(f, &ns, None).await, ["stays"]);
    let info = f.kv.get_namespace(&me(), &ns).await.unwrap();
    assert_eq!((info.key_count, info.size_bytes), (1, 3));
    let listed =
        f.kv.list_namespaces(&me(), NamespaceQuery { search: Some("expiry".into()), ..Default::default() })
            .await
            .unwrap();
    assert_eq!(listed.namespaces[0].key_count, 1);
    assert!(!f.kv.delete_key(&me(), &ns, "also").await.unwrap(), "an expired key does not count as deleted");

    // Writing an expired key again brings it back, counted once.
    f.kv.put_key(&me(), &ns, put("soon", "new")).await.unwrap();
    let info = f.kv.get_namespace(&me(), &ns).await.unwrap();
    assert_eq!((info.key_count, info.size_bytes), (2, 6));
    expire_now(f, &ns, "soon").await;

    assert_eq!(f.kv.purge_expired().await.unwrap(), 1);
    assert_eq!(f.kv.purge_expired().await.unwrap(), 0);
    let info = f.kv.get_namespace(&me(), &ns).await.unwrap();
    assert_eq!((info.key_count, info.size_bytes), (1, 3));
    let row =
        f.db.conn
            .query_one_raw(sea_orm::Statement::from_string(
                f.db.conn.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM kv_entries WHERE namespace_id = '{ns}'"),
            ))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 1);
}

async fn size(f: &Fixture, ns: &str) -> (u64, u64) {
    let n = f.kv.get_namespace(&me(), ns).await.unwrap();
    (n.key_count, n.size_bytes)
}

async fn namespace_sizes_stay_exact(f: &Fixture) {
    let ns = namespace(f, "sizes").await;
    let other = namespace(f, "other").await;
    f.kv.put_many(&me(), &ns, (0..10).map(|i| put(&format!("k{i}"), "12345")).collect()).await.unwrap();
    f.kv.put_key(&me(), &other, put("k0", "1")).await.unwrap();
    assert_eq!(size(f, &ns).await, (10, 50));
    f.kv.put_key(&me(), &ns, put("k0", "1234567890")).await.unwrap();
    assert_eq!(size(f, &ns).await, (10, 55));
    f.kv.delete_key(&me(), &ns, "k1").await.unwrap();
    assert_eq!(size(f, &ns).await, (9, 50));
    let names: Vec<String> = ["k2", "k3", "missing"].iter().map(|s| s.to_string()).collect();
    assert_eq!(f.kv.delete_many(&me(), &ns, &names).await.unwrap(), 2);
    assert_eq!(size(f, &ns).await, (7, 40));
    assert_eq!(size(f, &other).await, (1, 1));
    let info = f.kv.get_namespace(&me(), &ns).await.unwrap();
    assert!(info.last_accessed >= info.created_at);
}
