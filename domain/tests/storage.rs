//! Storage semantics (Cloudflare Workers KV's), on a real SQLite file and, when
//! `KVM_TEST_POSTGRES_URL` is set, on a fresh PostgreSQL database per test.

mod common;

use std::collections::BTreeSet;
use std::ops::Bound::{Excluded, Unbounded};

use common::{Fixture, assert_err, assert_err_status, me, namespace, put};
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
    nul_characters_are_refused_alike,
);

async fn all_keys(f: &Fixture, ns: &str, prefix: Option<&str>) -> Vec<String> {
    walk(f, ns, prefix, 100).await
}

/// Every key, page by page of `limit`; checks that a cursor comes exactly with an incomplete page.
async fn walk(f: &Fixture, ns: &str, prefix: Option<&str>, limit: u32) -> Vec<String> {
    let mut names = Vec::new();
    let mut cursor = None;
    loop {
        let query = KeyQuery { prefix: prefix.map(str::to_owned), cursor: cursor.clone(), limit: Some(limit) };
        let page = f.kv.list_keys(&me(), ns, query).await.expect("list");
        assert!(page.keys.len() <= limit as usize);
        assert_eq!(page.cursor.is_none(), page.list_complete, "a cursor comes with every incomplete page");
        names.extend(page.keys.into_iter().map(|k| k.name));
        if page.list_complete {
            return names;
        }
        assert_ne!(page.cursor, cursor, "the cursor did not move");
        cursor = page.cursor;
    }
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn byte_sorted(names: &[&str]) -> Vec<String> {
    let mut sorted = strings(names);
    sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    sorted
}

async fn size(f: &Fixture, ns: &str) -> (u64, u64) {
    let n = f.kv.get_namespace(&me(), ns).await.unwrap();
    (n.key_count, n.size_bytes)
}

async fn rows_in(f: &Fixture, ns: &str) -> i64 {
    let row =
        f.db.conn
            .query_one_raw(sea_orm::Statement::from_string(
                f.db.conn.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM kv_entries WHERE namespace_id = '{ns}'"),
            ))
            .await
            .unwrap()
            .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn namespace_titles_ids_and_conflicts(f: &Fixture) {
    let created = f.kv.create_namespace(&me(), "orders").await.unwrap();
    assert!(created.id.len() == 32 && created.id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_eq!((created.title.as_str(), created.key_count, created.size_bytes), ("orders", 0, 0));
    let now = domain::now_unix();
    assert!((now - 5..=now).contains(&created.created_at), "{} vs {now}", created.created_at);
    assert!(created.last_accessed >= created.created_at);
    assert_eq!(f.kv.get_namespace(&me(), &created.id).await.unwrap(), created);

    // 512 characters, not bytes: 1,024 bytes of "é" are a valid title, 513 characters are not.
    let long = "é".repeat(512);
    assert_eq!(f.kv.create_namespace(&me(), &long).await.unwrap().title, long);
    assert_eq!(f.kv.create_namespace(&me(), "x").await.unwrap().title, "x");
    assert_err_status(f.kv.create_namespace(&me(), &"t".repeat(513)).await, "invalid_input", 400, "title");
    assert_err(f.kv.create_namespace(&me(), &"é".repeat(513)).await, "invalid_input", "title");
    assert_err(f.kv.create_namespace(&me(), "").await, "invalid_input", "title");
    assert_err(f.kv.create_namespace(&me(), "   ").await, "invalid_input", "title");

    assert_err_status(f.kv.create_namespace(&me(), "orders").await, "conflict", 409, "title");
    assert_err_status(f.kv.create_namespace(&me(), &long).await, "conflict", 409, "title");
    let other = f.kv.create_namespace(&me(), "users").await.unwrap();
    assert_ne!(other.id, created.id);
    assert_err_status(f.kv.rename_namespace(&me(), &other.id, "orders").await, "conflict", 409, "title");
    assert_eq!(f.kv.get_namespace(&me(), &other.id).await.unwrap().title, "users", "a refused rename changes nothing");
    let renamed = f.kv.rename_namespace(&me(), &other.id, "people").await.unwrap();
    assert_eq!((renamed.id.as_str(), renamed.title.as_str()), (other.id.as_str(), "people"));
    assert_eq!(f.kv.get_namespace(&me(), &other.id).await.unwrap().title, "people");
    // Renaming to its own title is no conflict; the old title is free again.
    assert_eq!(f.kv.rename_namespace(&me(), &other.id, "people").await.unwrap().title, "people");
    assert_eq!(f.kv.create_namespace(&me(), "users").await.unwrap().title, "users");
    assert_err(f.kv.rename_namespace(&me(), &other.id, "").await, "invalid_input", "title");
    assert_err(f.kv.rename_namespace(&me(), &other.id, &"t".repeat(513)).await, "invalid_input", "title");

    let missing = "0".repeat(32);
    for bad in ["NOT-AN-ID", "", &format!("{}A", &created.id[..31]), &created.id[..31], &format!("{}0", created.id)] {
        assert_err_status(f.kv.get_namespace(&me(), bad).await, "not_found", 404, "namespace_id");
        assert_err(f.kv.rename_namespace(&me(), bad, "y").await, "not_found", "namespace_id");
        assert_err(f.kv.delete_namespace(&me(), bad).await, "not_found", "namespace_id");
        assert_err(f.kv.list_keys(&me(), bad, KeyQuery::default()).await, "not_found", "namespace_id");
    }
    assert_err_status(f.kv.get_namespace(&me(), &missing).await, "not_found", 404, "namespace_id");
    assert_err(f.kv.rename_namespace(&me(), &missing, "y").await, "not_found", "namespace_id");
    assert_err(f.kv.delete_namespace(&me(), &missing).await, "not_found", "namespace_id");
}

async fn namespace_listing_pages_and_searches_literally(f: &Fixture) {
    for title in ["alpha", "Beta", "100%_real", "1000 real", "gamma", "back\\slash", "École Ärger"] {
        namespace(f, title).await;
    }
    let q = |page, per_page, search: Option<&str>| NamespaceQuery {
        page,
        per_page,
        search: search.map(str::to_owned),
        ..Default::default()
    };
    let all = f.kv.list_namespaces(&me(), q(None, None, None)).await.unwrap();
    assert_eq!((all.total, all.page, all.per_page, all.namespaces.len()), (7, 1, 100, 7));
    let page2 = f.kv.list_namespaces(&me(), q(Some(2), Some(2), None)).await.unwrap();
    assert_eq!((page2.total, page2.page, page2.per_page, page2.namespaces.len()), (7, 2, 2, 2));
    let page4 = f.kv.list_namespaces(&me(), q(Some(4), Some(2), None)).await.unwrap();
    assert_eq!((page4.total, page4.namespaces.len()), (7, 1));
    let past = f.kv.list_namespaces(&me(), q(Some(9), Some(2), None)).await.unwrap();
    assert!(past.namespaces.is_empty());
    assert_eq!(past.total, 7);
    let mut seen: Vec<String> = Vec::new();
    for page in 1..=4 {
        seen.extend(
            f.kv.list_namespaces(&me(), q(Some(page), Some(2), None))
                .await
                .unwrap()
                .namespaces
                .into_iter()
                .map(|n| n.title),
        );
    }
    assert_eq!(seen.len(), 7);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 7, "pages overlap: {seen:?}");
    let one_page: Vec<String> = all.namespaces.into_iter().map(|n| n.title).collect();
    assert_eq!(seen, one_page, "pages follow the one order");
    let max = f.kv.list_namespaces(&me(), q(Some(1), Some(1000), None)).await.unwrap();
    assert_eq!(max.namespaces.len(), 7);

    assert_eq!(search(f, "BETA").await.0, ["Beta"]);
    assert_eq!(search(f, "eta").await.0, ["Beta"]);
    assert_eq!(search(f, "ALPHA").await.0, ["alpha"]);
    // `%`, `_` and `\` are characters to find, not patterns.
    assert_eq!(search(f, "%_").await.0, ["100%_real"]);
    assert_eq!(search(f, "%").await.0, ["100%_real"]);
    assert_eq!(search(f, "_").await.0, ["100%_real"]);
    assert_eq!(search(f, "0_r").await.0, Vec::<String>::new());
    assert_eq!(search(f, "0%r").await.0, Vec::<String>::new());
    assert_eq!(search(f, "\\").await.0, ["back\\slash"]);
    assert_eq!(search(f, "k\\s").await.0, ["back\\slash"]);
    // Case-insensitive beyond ASCII, and a title always finds itself.
    for s in ["École Ärger", "école", "ÉCOLE", "ärger", "ÄRGER"] {
        assert_eq!(search(f, s).await.0, ["École Ärger"], "search {s:?}");
    }
    assert_eq!(search(f, "nothing like it").await.0, Vec::<String>::new());
    assert_eq!(search(f, "nothing like it").await.1, 0);
    // Every title with an "a" ("École Ärger" has none).
    let (with_a, total) = search(f, "A").await;
    assert_eq!(total, 6, "{with_a:?}");
    let page = f.kv.list_namespaces(&me(), q(Some(2), Some(4), Some("a"))).await.unwrap();
    assert_eq!((page.total, page.namespaces.len()), (6, 2), "a search pages and counts all its matches");

    assert_err_status(f.kv.list_namespaces(&me(), q(None, Some(0), None)).await, "invalid_input", 400, "per_page");
    assert_err(f.kv.list_namespaces(&me(), q(None, Some(1001), None)).await, "invalid_input", "per_page");
    assert_err(f.kv.list_namespaces(&me(), q(Some(0), None, None)).await, "invalid_input", "page");
}

/// Titles found by a search on one page, and the total.
async fn search(f: &Fixture, text: &str) -> (Vec<String>, u64) {
    let query = NamespaceQuery { search: Some(text.to_owned()), ..Default::default() };
    let page = f.kv.list_namespaces(&me(), query).await.unwrap();
    (page.namespaces.into_iter().map(|n| n.title).collect(), page.total)
}

async fn deleting_a_namespace_removes_its_keys(f: &Fixture) {
    let ns = namespace(f, "doomed").await;
    let neighbour = namespace(f, "neighbour").await;
    f.kv.put_many(&me(), &ns, (0..50).map(|i| put(&format!("k{i}"), "v")).collect()).await.unwrap();
    f.kv.put_many(&me(), &neighbour, vec![put("k1", "stays")]).await.unwrap();
    f.kv.delete_namespace(&me(), &ns).await.unwrap();
    assert_err_status(f.kv.get_namespace(&me(), &ns).await, "not_found", 404, "namespace_id");
    assert_err(f.kv.list_keys(&me(), &ns, KeyQuery::default()).await, "not_found", "namespace_id");
    assert_err(f.kv.get_key(&me(), &ns, "k1").await, "not_found", "namespace_id");
    assert_err(f.kv.put_key(&me(), &ns, put("k1", "v")).await, "not_found", "namespace_id");
    assert_err(f.kv.delete_key(&me(), &ns, "k1").await, "not_found", "namespace_id");
    assert_err(f.kv.delete_namespace(&me(), &ns).await, "not_found", "namespace_id");
    assert_eq!(rows_in(f, &ns).await, 0);
    assert!(
        f.kv.list_namespaces(&me(), NamespaceQuery::default()).await.unwrap().namespaces.iter().all(|n| n.id != ns)
    );

    // The same title can be used again; the new namespace starts empty and never sees old keys.
    let again = namespace(f, "doomed").await;
    assert_ne!(again, ns);
    assert_eq!(size(f, &again).await, (0, 0));
    assert!(all_keys(f, &again, None).await.is_empty());
    assert_err(f.kv.get_key(&me(), &again, "k1").await, "not_found", "key");
    assert!(!f.kv.delete_key(&me(), &again, "k1").await.unwrap());
    // Other namespaces keep their keys.
    assert_eq!(f.kv.get_key(&me(), &neighbour, "k1").await.unwrap().value, b"stays");
    assert_eq!(size(f, &neighbour).await, (1, 5));
}

async fn key_name_limits(f: &Fixture) {
    let ns = namespace(f, "names").await;
    let max = "ü".repeat(256); // 512 bytes, 256 characters
    f.kv.put_key(&me(), &ns, put(&max, "v")).await.unwrap();
    assert_eq!(f.kv.get_key(&me(), &ns, &max).await.unwrap().name, max);
    let max_ascii = "k".repeat(512);
    f.kv.put_key(&me(), &ns, put(&max_ascii, "v")).await.unwrap();
    let max_emoji = "😀".repeat(128); // 512 bytes
    f.kv.put_key(&me(), &ns, put(&max_emoji, "v")).await.unwrap();
    assert_eq!(f.kv.get_key(&me(), &ns, &max_emoji).await.unwrap().name, max_emoji);
    assert_err_status(f.kv.put_key(&me(), &ns, put(&format!("{max}x"), "v")).await, "invalid_input", 400, "key");
    assert_err(f.kv.put_key(&me(), &ns, put(&"k".repeat(513), "v")).await, "invalid_input", "key");
    // 511 bytes and a two-byte character: 513 bytes in 257 characters.
    assert_err(f.kv.put_key(&me(), &ns, put(&format!("{}é", "k".repeat(511)), "v")).await, "invalid_input", "key");
    assert_err(f.kv.put_key(&me(), &ns, put("", "v")).await, "invalid_input", "key");
    assert_err(f.kv.put_key(&me(), &ns, put(".", "v")).await, "invalid_input", "key");
    assert_err(f.kv.put_key(&me(), &ns, put("..", "v")).await, "invalid_input", "key");
    for fine in ["...", ". ", " .", "./", "a/b/../c?d#e f", " ", "%", "_", "\\", "\t", "'; DROP TABLE kv_entries; --"] {
        f.kv.put_key(&me(), &ns, put(fine, fine)).await.unwrap();
        assert_eq!(f.kv.get_key(&me(), &ns, fine).await.unwrap().value, fine.as_bytes(), "{fine:?}");
    }
    assert_err(f.kv.get_key(&me(), &ns, "..").await, "invalid_input", "key");
    assert_err(f.kv.get_key(&me(), &ns, "").await, "invalid_input", "key");
    assert_err(f.kv.delete_key(&me(), &ns, ".").await, "invalid_input", "key");
    assert_err(f.kv.delete_many(&me(), &ns, &strings(&["...", ".."])).await, "invalid_input", "key");
    assert!(f.kv.get_key(&me(), &ns, "...").await.is_ok(), "a refused delete_many deletes nothing");
    assert_err_status(f.kv.get_key(&me(), &ns, "missing").await, "not_found", 404, "key");
    assert_eq!(size(f, &ns).await.0, 14);
}

async fn values_are_binary_safe_up_to_25_mib(f: &Fixture) {
    let ns = namespace(f, "values").await;
    let binary: Vec<u8> = (0..=255u8).chain([0, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80]).collect();
    assert!(String::from_utf8(binary.clone()).is_err());
    f.kv.put_key(&me(), &ns, PutKey { name: "bin".into(), value: binary.clone(), ..Default::default() }).await.unwrap();
    assert_eq!(f.kv.get_key(&me(), &ns, "bin").await.unwrap().value, binary);
    f.kv.put_key(&me(), &ns, put("empty", "")).await.unwrap();
    assert_eq!(f.kv.get_key(&me(), &ns, "empty").await.unwrap().value, b"");

    let limit = 25 * 1024 * 1024;
    assert_eq!(limit, 26_214_400);
    let big: Vec<u8> = (0..limit).map(|i| (i % 251) as u8).collect();
    f.kv.put_key(&me(), &ns, PutKey { name: "big".into(), value: big.clone(), ..Default::default() }).await.unwrap();
    let got = f.kv.get_key(&me(), &ns, "big").await.unwrap().value;
    assert!(got == big, "the 25 MiB value came back different");
    drop((got, big));
    let listed = f.kv.list_keys(&me(), &ns, KeyQuery { prefix: Some("big".into()), ..Default::default() }).await;
    assert_eq!(listed.unwrap().keys[0].size, limit as u64);
    assert_err_status(
        f.kv.put_key(&me(), &ns, PutKey { name: "bigger".into(), value: vec![b'x'; limit + 1], ..Default::default() })
            .await,
        "too_large",
        413,
        "value",
    );
    assert_err(f.kv.get_key(&me(), &ns, "bigger").await, "not_found", "key");
    // Overwriting the big value with one byte too many leaves it as it was.
    assert_err(
        f.kv.put_key(&me(), &ns, PutKey { name: "big".into(), value: vec![b'y'; limit + 1], ..Default::default() })
            .await,
        "too_large",
        "value",
    );
    assert_eq!(size(f, &ns).await, (3, (binary.len() + limit) as u64));
}

async fn metadata_limit_and_any_json(f: &Fixture) {
    let ns = namespace(f, "meta").await;
    for (i, metadata) in [
        serde_json::json!(null),
        serde_json::json!(false),
        serde_json::json!(0),
        serde_json::json!(-1.5),
        serde_json::json!(u64::MAX),
        serde_json::json!("s"),
        serde_json::json!(""),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!([1, {"a": "é", "nested": {"deep": [null, true]}}]),
        serde_json::json!({"emoji": "😀", "quote": "\"", "control": "\u{1}\n"}),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("m{i:02}");
        f.kv.put_key(&me(), &ns, PutKey { metadata: Some(metadata.clone()), ..put(&name, "v") }).await.unwrap();
        assert_eq!(f.kv.get_key(&me(), &ns, &name).await.unwrap().metadata, Some(metadata.clone()), "{name}");
        let listed =
            f.kv.list_keys(&me(), &ns, KeyQuery { prefix: Some(name.clone()), ..Default::default() }).await.unwrap();
        assert_eq!(listed.keys[0].metadata, Some(metadata), "{name} listed");
    }
    f.kv.put_key(&me(), &ns, put("none", "v")).await.unwrap();
    assert_eq!(f.kv.get_key(&me(), &ns, "none").await.unwrap().metadata, None);

    // {"p":"..."} is 8 bytes of JSON around the string.
    let exactly = serde_json::json!({ "p": "x".repeat(1024 - 8) });
    assert_eq!(serde_json::to_string(&exactly).unwrap().len(), 1024);
    f.kv.put_key(&me(), &ns, PutKey { metadata: Some(exactly.clone()), ..put("fits", "v") }).await.unwrap();
    let listed =
        f.kv.list_keys(&me(), &ns, KeyQuery { prefix: Some("fits".into()), ..Default::default() }).await.unwrap();
    assert_eq!(listed.keys[0].metadata, Some(exactly));
    let over = serde_json::json!({ "p": "x".repeat(1024 - 7) });
    assert_err_status(
        f.kv.put_key(&me(), &ns, PutKey { metadata: Some(over), ..put("over", "v") }).await,
        "too_large",
        413,
        "metadata",
    );
    // Bytes, not characters: 1,016 bytes of "é" fit, one more byte does not.
    let multibyte = serde_json::json!({ "p": "é".repeat(508) });
    assert_eq!(serde_json::to_string(&multibyte).unwrap().len(), 1024);
    f.kv.put_key(&me(), &ns, PutKey { metadata: Some(multibyte.clone()), ..put("fits2", "v") }).await.unwrap();
    assert_eq!(f.kv.get_key(&me(), &ns, "fits2").await.unwrap().metadata, Some(multibyte));
    let multibyte_over = serde_json::json!({ "p": format!("{}x", "é".repeat(508)) });
    assert_err(
        f.kv.put_key(&me(), &ns, PutKey { metadata: Some(multibyte_over), ..put("over", "v") }).await,
        "too_large",
        "metadata",
    );
    assert_err(f.kv.get_key(&me(), &ns, "over").await, "not_found", "key");
}

async fn expiration_rules(f: &Fixture) {
    let ns = namespace(f, "ttl").await;
    let now = domain::now_unix();
    for ttl in [59, 0, -60] {
        assert_err_status(
            f.kv.put_key(&me(), &ns, PutKey { expiration_ttl: Some(ttl), ..put("a", "v") }).await,
            "invalid_input",
            400,
            "expiration_ttl",
        );
    }
    // `now` is read before the store reads its own clock, so now + 59 is always too soon.
    for at in [now + 59, now + 30, now, now - 3600, 0] {
        assert_err_status(
            f.kv.put_key(&me(), &ns, PutKey { expiration: Some(at), ..put("a", "v") }).await,
            "invalid_input",
            400,
            "expiration",
        );
    }
    f.kv.put_key(&me(), &ns, PutKey { expiration_ttl: Some(60), ..put("ttl", "v") }).await.unwrap();
    let ttl = f.kv.get_key(&me(), &ns, "ttl").await.unwrap().expiration.unwrap();
    assert!((now + 60..=now + 62).contains(&ttl), "{ttl} vs {now}");
    f.kv.put_key(&me(), &ns, PutKey { expiration: Some(now + 7200), ..put("abs", "v") }).await.unwrap();
    assert_eq!(f.kv.get_key(&me(), &ns, "abs").await.unwrap().expiration, Some(now + 7200));
    // Both given: the TTL wins, even over an absolute time that alone would be refused...
    f.kv.put_key(&me(), &ns, PutKey { expiration: Some(now + 10), expiration_ttl: Some(600), ..put("both", "v") })
        .await
        .unwrap();
    let both = f.kv.get_key(&me(), &ns, "both").await.unwrap().expiration.unwrap();
    assert!((now + 600..=now + 602).contains(&both));
    // ...and over a valid one; a TTL that is too short is refused whatever the absolute time.
    f.kv.put_key(&me(), &ns, PutKey { expiration: Some(now + 86_400), expiration_ttl: Some(120), ..put("both", "v") })
        .await
        .unwrap();
    let both = f.kv.get_key(&me(), &ns, "both").await.unwrap().expiration.unwrap();
    assert!((now + 120..=now + 122).contains(&both));
    assert_err(
        f.kv.put_key(&me(), &ns, PutKey { expiration: Some(now + 86_400), expiration_ttl: Some(30), ..put("a", "v") })
            .await,
        "invalid_input",
        "expiration_ttl",
    );
    assert_err(f.kv.get_key(&me(), &ns, "a").await, "not_found", "key");

    let listed = f.kv.list_keys(&me(), &ns, KeyQuery::default()).await.unwrap();
    let expirations: Vec<(String, Option<i64>)> = listed.keys.into_iter().map(|k| (k.name, k.expiration)).collect();
    assert_eq!(expirations, [("abs".into(), Some(now + 7200)), ("both".into(), Some(both)), ("ttl".into(), Some(ttl))]);
}

async fn writes_replace_value_metadata_and_expiration_together(f: &Fixture) {
    let ns = namespace(f, "overwrite").await;
    let now = domain::now_unix();
    let first = PutKey { metadata: Some(serde_json::json!({"v": 1})), expiration: Some(now + 3600), ..put("k", "one") };
    f.kv.put_key(&me(), &ns, first).await.unwrap();
    f.kv.put_key(&me(), &ns, put("k", "two")).await.unwrap();
    let k = f.kv.get_key(&me(), &ns, "k").await.unwrap();
    assert_eq!((k.value.as_slice(), k.metadata, k.expiration), (b"two".as_slice(), None, None));

    let third =
        PutKey { metadata: Some(serde_json::json!(["three"])), expiration_ttl: Some(300), ..put("k", "three!") };
    f.kv.put_key(&me(), &ns, third).await.unwrap();
    let k = f.kv.get_key(&me(), &ns, "k").await.unwrap();
    assert_eq!((k.value.as_slice(), &k.metadata), (b"three!".as_slice(), &Some(serde_json::json!(["three"]))));
    assert!(k.expiration.is_some_and(|at| (now + 300..=now + 302).contains(&at)));
    let listed = f.kv.list_keys(&me(), &ns, KeyQuery::default()).await.unwrap();
    assert_eq!(listed.keys.len(), 1);
    let entry = &listed.keys[0];
    assert_eq!(
        (entry.name.as_str(), entry.size, &entry.metadata, entry.expiration),
        ("k", 6, &k.metadata, k.expiration)
    );
    assert_eq!(size(f, &ns).await, (1, 6));

    assert!(f.kv.delete_key(&me(), &ns, "k").await.unwrap());
    assert!(!f.kv.delete_key(&me(), &ns, "k").await.unwrap());
    assert!(!f.kv.delete_key(&me(), &ns, "never-there").await.unwrap());
    assert_err(f.kv.get_key(&me(), &ns, "k").await, "not_found", "key");
    assert_eq!(size(f, &ns).await, (0, 0));
    // A deleted key can be written again, and starts from nothing.
    f.kv.put_key(&me(), &ns, put("k", "four")).await.unwrap();
    let k = f.kv.get_key(&me(), &ns, "k").await.unwrap();
    assert_eq!((k.value.as_slice(), k.metadata, k.expiration), (b"four".as_slice(), None, None));
    assert_err(f.kv.delete_key(&me(), "NOT-AN-ID", "k").await, "not_found", "namespace_id");
    assert_err(f.kv.delete_key(&me(), &"a".repeat(32), "k").await, "not_found", "namespace_id");
}

async fn put_many_is_all_or_nothing_and_last_write_wins(f: &Fixture) {
    let ns = namespace(f, "batch").await;
    let mut batch: Vec<PutKey> = (0..100).map(|i| put(&format!("k{i:03}"), "v")).collect();
    batch.push(put("", "invalid"));
    assert_err(f.kv.put_many(&me(), &ns, batch).await, "invalid_input", "key");
    assert!(all_keys(f, &ns, None).await.is_empty());
    assert_eq!(size(f, &ns).await, (0, 0));
    f.kv.put_many(&me(), &ns, Vec::new()).await.unwrap();
    assert_eq!(size(f, &ns).await, (0, 0));

    // Existing keys: a batch that would overwrite them and add new ones, with one bad item
    // anywhere in it, changes nothing at all.
    f.kv.put_many(&me(), &ns, vec![put("a", "old-a"), put("b", "old-b")]).await.unwrap();
    let now = domain::now_unix();
    let bad_items = [
        (PutKey { value: vec![0; 25 * 1024 * 1024 + 1], ..put("big", "") }, "too_large", "value"),
        (PutKey { metadata: Some(serde_json::json!("m".repeat(1024))), ..put("meta", "v") }, "too_large", "metadata"),
        (PutKey { expiration_ttl: Some(10), ..put("ttl", "v") }, "invalid_input", "expiration_ttl"),
        (PutKey { expiration: Some(now - 1), ..put("exp", "v") }, "invalid_input", "expiration"),
        (put("..", "v"), "invalid_input", "key"),
        (put(&"k".repeat(513), "v"), "invalid_input", "key"),
    ];
    for (bad, code, field) in bad_items {
        for at in [0, 1, 3] {
            let mut batch = vec![put("a", "new-a"), put("c", "new-c"), put("b", "new-b")];
            batch.insert(at, bad.clone());
            assert_err(f.kv.put_many(&me(), &ns, batch).await, code, field);
        }
    }
    assert_eq!(all_keys(f, &ns, None).await, ["a", "b"]);
    assert_eq!(f.kv.get_key(&me(), &ns, "a").await.unwrap().value, b"old-a");
    assert_eq!(f.kv.get_key(&me(), &ns, "b").await.unwrap().value, b"old-b");
    assert_eq!(size(f, &ns).await, (2, 10));

    // The last write of a name wins, also when the batch spans several statements.
    f.kv.put_many(&me(), &ns, vec![put("dup", "first"), put("x", "1"), put("dup", "second!")]).await.unwrap();
    assert_eq!(f.kv.get_key(&me(), &ns, "dup").await.unwrap().value, b"second!");
    assert_eq!(size(f, &ns).await, (4, 18));
    let mut big_batch: Vec<PutKey> = (0..1200).map(|i| put(&format!("n{i:04}"), "12")).collect();
    big_batch.push(PutKey { metadata: Some(serde_json::json!("last")), ..put("n0000", "last") });
    big_batch.push(put("a", "A"));
    big_batch.insert(0, put("n1199", "overwritten in the same batch"));
    f.kv.put_many(&me(), &ns, big_batch).await.unwrap();
    let first = f.kv.get_key(&me(), &ns, "n0000").await.unwrap();
    assert_eq!((first.value.as_slice(), first.metadata), (b"last".as_slice(), Some(serde_json::json!("last"))));
    assert_eq!(f.kv.get_key(&me(), &ns, "n1199").await.unwrap().value, b"12");
    assert_eq!(f.kv.get_key(&me(), &ns, "a").await.unwrap().value, b"A");
    assert_eq!(size(f, &ns).await, (4 + 1200, 18 - 4 + 1199 * 2 + 4));
    assert_eq!(all_keys(f, &ns, Some("n")).await.len(), 1200);

    assert_err(f.kv.put_many(&me(), &"f".repeat(32), vec![put("a", "b")]).await, "not_found", "namespace_id");
    assert_err(f.kv.put_many(&me(), "nope", vec![put("a", "b")]).await, "not_found", "namespace_id");
}

async fn keys_list_in_byte_order(f: &Fixture) {
    let ns = namespace(f, "order").await;
    let names = [
        "a",
        "a/b",
        "a0",
        "aB",
        "Z",
        "z",
        "é",
        "e",
        "ü",
        "日本",
        "日",
        "本",
        "😀",
        "A",
        "0",
        "9",
        "~",
        "a b",
        "ab",
        "ä",
        "Ä",
        "_",
        "%",
        "a_",
        "a%",
        "A_",
        "\u{7f}",
        "\u{80}",
        "\u{ff}",
        "\u{100}",
        "\u{e000}",
        "\u{fffd}",
        "\u{ff21}",
        "𝄞",
        "\u{10ffff}",
        "a\u{1}",
        "a\t",
        "-",
        "...",
        "Zebra",
        "apple",
        "Apple",
        "aa",
        "a-b",
        "a.b",
    ];
    f.kv.put_many(&me(), &ns, names.iter().map(|n| put(n, "v")).collect()).await.unwrap();
    let expected = byte_sorted(&names);
    // Not what UTF-16 or a linguistic collation would give.
    assert!(expected.iter().position(|n| n == "\u{fffd}") < expected.iter().position(|n| n == "😀"));
    assert!(expected.iter().position(|n| n == "Z") < expected.iter().position(|n| n == "a"));
    assert_eq!(f.kv.list_keys(&me(), &ns, KeyQuery::default()).await.unwrap().keys.len(), names.len());
    let one_page: Vec<String> =
        f.kv.list_keys(&me(), &ns, KeyQuery::default()).await.unwrap().keys.into_iter().map(|k| k.name).collect();
    assert_eq!(one_page, expected);
    for limit in [1, 2, 7] {
        assert_eq!(walk(f, &ns, None, limit).await, expected, "pages of {limit}");
    }
}

async fn prefix_and_limit_and_cursor_validation(f: &Fixture) {
    let ns = namespace(f, "prefix").await;
    let long = format!("{}:end", "p".repeat(508)); // 512 bytes
    let names = [
        "user:1",
        "user:2",
        "user:10",
        "userx",
        "user_1",
        "userA1",
        "user%1",
        "usé:1",
        "usé:2",
        "usf",
        "us",
        "日本:a",
        "日本:b",
        "日",
        "日本",
        "😀1",
        "😀2",
        "😁",
        "x\u{10ffff}a",
        "x\u{10ffff}",
        "y",
        &long,
    ];
    f.kv.put_many(&me(), &ns, names.iter().map(|n| put(n, "v")).collect()).await.unwrap();
    assert_eq!(all_keys(f, &ns, Some("user:")).await, ["user:1", "user:10", "user:2"]);
    assert_eq!(all_keys(f, &ns, Some("user_")).await, ["user_1"], "`_` is no wildcard");
    assert_eq!(all_keys(f, &ns, Some("user%")).await, ["user%1"], "`%` is no wildcard");
    assert_eq!(all_keys(f, &ns, Some("usé")).await, ["usé:1", "usé:2"]);
    assert_eq!(all_keys(f, &ns, Some("us")).await.len(), 11);
    assert_eq!(all_keys(f, &ns, Some("日本")).await, ["日本", "日本:a", "日本:b"]);
    assert_eq!(all_keys(f, &ns, Some("日")).await, ["日", "日本", "日本:a", "日本:b"]);
    assert_eq!(all_keys(f, &ns, Some("😀")).await, ["😀1", "😀2"]);
    assert_eq!(all_keys(f, &ns, Some("x\u{10ffff}")).await, ["x\u{10ffff}", "x\u{10ffff}a"]);
    assert_eq!(all_keys(f, &ns, Some("\u{10ffff}")).await, Vec::<String>::new());
    assert_eq!(all_keys(f, &ns, Some("nothing")).await, Vec::<String>::new());
    assert_eq!(all_keys(f, &ns, Some("User")).await, Vec::<String>::new(), "prefixes are case-sensitive");
    assert_eq!(all_keys(f, &ns, Some(&long)).await, std::slice::from_ref(&long));
    assert_eq!(all_keys(f, &ns, Some("")).await.len(), names.len());
    assert_eq!(
        walk(f, &ns, Some("user"), 1).await,
        ["user%1", "user:1", "user:10", "user:2", "userA1", "user_1", "userx"]
    );

    let default = f.kv.list_keys(&me(), &ns, KeyQuery::default()).await.unwrap();
    assert!(default.list_complete && default.cursor.is_none());
    assert_eq!(default.keys.len(), names.len());
    let first = f.kv.list_keys(&me(), &ns, KeyQuery { limit: Some(1), ..Default::default() }).await.unwrap();
    assert_eq!(first.keys.len(), 1);
    assert!(!first.list_complete && first.cursor.is_some());
    // The page that takes the last keys is complete and has no cursor.
    let n = names.len() as u32;
    let almost = f.kv.list_keys(&me(), &ns, KeyQuery { limit: Some(n - 1), ..Default::default() }).await.unwrap();
    let last =
        f.kv.list_keys(&me(), &ns, KeyQuery { cursor: almost.cursor, limit: Some(n - 1), ..Default::default() })
            .await
            .unwrap();
    assert_eq!((last.keys.len(), last.list_complete, last.cursor), (1, true, None));
    let exact = f.kv.list_keys(&me(), &ns, KeyQuery { limit: Some(n), ..Default::default() }).await.unwrap();
    assert_eq!((exact.keys.len(), exact.list_complete, exact.cursor), (names.len(), true, None));
    // An empty cursor starts from the beginning.
    let empty = f.kv.list_keys(&me(), &ns, KeyQuery { cursor: Some(String::new()), ..Default::default() }).await;
    assert_eq!(empty.unwrap().keys.len(), names.len());

    f.kv.put_many(&me(), &ns, (0..1005).map(|i| put(&format!("bulk:{i:04}"), "v")).collect()).await.unwrap();
    let page = f.kv.list_keys(&me(), &ns, KeyQuery::default()).await.unwrap();
    assert_eq!(page.keys.len(), 1000, "the default limit is 1000");
    assert!(!page.list_complete && page.cursor.is_some());
    let max = f.kv.list_keys(&me(), &ns, KeyQuery { limit: Some(1000), ..Default::default() }).await.unwrap();
    assert_eq!(max.keys.len(), 1000);
    assert_eq!(max.keys, page.keys);
    let rest = f.kv.list_keys(&me(), &ns, KeyQuery { cursor: max.cursor, ..Default::default() }).await.unwrap();
    assert_eq!(rest.keys.len(), 1005 + names.len() - 1000);
    assert!(rest.list_complete);

    for limit in [0, 1001, u32::MAX] {
        assert_err_status(
            f.kv.list_keys(&me(), &ns, KeyQuery { limit: Some(limit), ..Default::default() }).await,
            "invalid_input",
            400,
            "limit",
        );
    }
    // Not base64url, base64url of bytes that are not UTF-8 ("_w" is 0xFF), and padded base64.
    for cursor in ["not a cursor!", "_w", "***", "dXNlcjox=="] {
        let bad = KeyQuery { cursor: Some(cursor.into()), ..Default::default() };
        assert_err_status(f.kv.list_keys(&me(), &ns, bad).await, "invalid_input", 400, "cursor");
    }
    let long_prefix = KeyQuery { prefix: Some("p".repeat(513)), ..Default::default() };
    assert_err(f.kv.list_keys(&me(), &ns, long_prefix).await, "invalid_input", "prefix");
}

async fn cursor_paging_over_2500_keys_with_writes_between_pages(f: &Fixture) {
    let ns = namespace(f, "paging").await;
    let name = |n: usize| format!("key:{n:05}");
    let number = |key: &str| key[4..9].parse::<usize>().unwrap();
    // Keys that exist throughout the walk...
    let stable: Vec<String> = (0..2500).map(|i| name(i * 2)).collect();
    // ...and keys that exist at its start and are deleted on the way, before or after the position.
    let mut doomed: BTreeSet<String> = (0..5000).filter(|n| n % 50 == 25).map(name).collect();
    let initial: Vec<&String> = stable.iter().chain(&doomed).collect();
    for chunk in initial.chunks(1000) {
        f.kv.put_many(&me(), &ns, chunk.iter().map(|n| put(n, "v")).collect()).await.unwrap();
    }
    assert_eq!(size(f, &ns).await.0, 2600);

    let mut seen: Vec<String> = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    let mut inserted_behind = BTreeSet::new();
    let mut inserted_ahead = BTreeSet::new();
    let mut deleted_behind = BTreeSet::new();
    let mut deleted_ahead = BTreeSet::new();
    let mut far_ahead: Option<String> = None;
    loop {
        let query = KeyQuery { cursor: cursor.clone(), limit: Some(300), prefix: None };
        let page = f.kv.list_keys(&me(), &ns, query).await.unwrap();
        pages += 1;
        seen.extend(page.keys.into_iter().map(|k| k.name));
        if page.list_complete {
            break;
        }
        assert!(pages < 100 && page.cursor != cursor, "the walk does not advance");
        cursor = page.cursor;
        let position = seen.last().unwrap().clone();
        // Between pages, keys appear and disappear on both sides of the position. Inserted names
        // extend a stable one: "key:00098#" sorts just after "key:00098", "key:00100+" just after
        // "key:00100", and `#` sorts before `+`.
        let stable_behind = name((number(&position) - 1) / 2 * 2);
        let behind = format!("{stable_behind}#");
        let near = format!("{position}+");
        let far = (number(&position) + 600 < 5000).then(|| format!("{}+", name((number(&position) + 600) / 2 * 2)));
        let mut puts = vec![put(&behind, "new"), put(&near, "new")];
        puts.extend(far.iter().map(|k| put(k, "new")));
        f.kv.put_many(&me(), &ns, puts).await.unwrap();
        inserted_behind.insert(behind);
        inserted_ahead.insert(near);
        inserted_ahead.extend(far.clone());

        let mut deletes = Vec::new();
        if let Some(key) = doomed.range(..position.clone()).next_back().cloned() {
            doomed.remove(&key);
            deleted_behind.insert(key.clone());
            deletes.push(key);
        }
        if let Some(key) = doomed.range::<String, _>((Excluded(&position), Unbounded)).next().cloned() {
            doomed.remove(&key);
            deleted_ahead.insert(key.clone());
            deletes.push(key);
        }
        // The far key of the round before, while it is still ahead.
        if let Some(key) = far_ahead.take().filter(|k| *k > position) {
            inserted_ahead.remove(&key);
            deleted_ahead.insert(key.clone());
            deletes.push(key);
        }
        far_ahead = far;
        let deleted = f.kv.delete_many(&me(), &ns, &deletes).await.unwrap();
        assert_eq!(deleted, deletes.len() as u64);
    }

    assert!(seen.windows(2).all(|w| w[0].as_bytes() < w[1].as_bytes()), "keys repeated or out of order");
    let as_set: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(as_set.len(), seen.len(), "a key was listed twice");
    for key in &stable {
        assert!(as_set.contains(key), "{key} existed throughout and was skipped");
    }
    assert!(pages >= 9, "expected at least 9 pages, got {pages}");
    assert!(deleted_ahead.len() >= 8 && deleted_behind.len() >= 8);
    // With a cursor that is a position among names, the walk sees each key as it is when the
    // walk gets there: what was deleted ahead is never listed, what was inserted ahead is.
    for key in &deleted_ahead {
        assert!(!as_set.contains(key), "{key} was deleted before the walk reached it");
    }
    for key in &inserted_ahead {
        assert!(as_set.contains(key), "{key} was inserted ahead of the walk and skipped");
    }
    for key in &inserted_behind {
        assert!(!as_set.contains(key), "{key} was inserted behind the walk and listed");
    }
    // Exactly: what is there now, less what appeared behind, plus what was deleted behind.
    let now: BTreeSet<String> = walk(f, &ns, None, 1000).await.into_iter().collect();
    let expected: BTreeSet<String> =
        now.difference(&inserted_behind).cloned().chain(deleted_behind.iter().cloned()).collect();
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), expected);
    let keys = size(f, &ns).await.0;
    assert_eq!(keys as usize, now.len());
}

/// Moves the expiration of keys into the past through a connection of its own, for a state no
/// API can produce (a key that expired a moment ago).
async fn expire_now(f: &Fixture, ns: &str, names: &[&str]) {
    let past = domain::now_unix() - 5;
    let list = names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
    let sql = format!("UPDATE kv_entries SET expiration = {past} WHERE namespace_id = '{ns}' AND name IN ({list})");
    let side = f.side_connection().await;
    let result = side.execute_unprepared(&sql).await.unwrap();
    assert_eq!(result.rows_affected(), names.len() as u64, "{sql}");
    side.close().await.ok();
}

async fn expired_keys_are_invisible_and_purged(f: &Fixture) {
    let ns = namespace(f, "expiry").await;
    let other = namespace(f, "expiry too").await;
    let ttl = |name: &str, value: &str| PutKey { expiration_ttl: Some(3600), ..put(name, value) };
    f.kv.put_many(
        &me(),
        &ns,
        vec![
            ttl("soon", "12345"),
            put("stays", "abc"),
            PutKey { metadata: Some(serde_json::json!({"m": 1})), ..ttl("also", "xy") },
            ttl("so-live", "1"),
        ],
    )
    .await
    .unwrap();
    f.kv.put_many(&me(), &other, vec![ttl("gone", "1234"), put("kept", "12")]).await.unwrap();
    assert_eq!(size(f, &ns).await, (4, 11));
    expire_now(f, &ns, &["soon", "also"]).await;
    expire_now(f, &other, &["gone"]).await;

    assert_err_status(f.kv.get_key(&me(), &ns, "soon").await, "not_found", 404, "key");
    assert_err(f.kv.get_key(&me(), &ns, "also").await, "not_found", "key");
    assert_eq!(all_keys(f, &ns, None).await, ["so-live", "stays"]);
    assert_eq!(walk(f, &ns, None, 1).await, ["so-live", "stays"]);
    assert_eq!(all_keys(f, &ns, Some("so")).await, ["so-live"]);
    assert_eq!(all_keys(f, &ns, Some("als")).await, Vec::<String>::new());
    let page = f.kv.list_keys(&me(), &ns, KeyQuery { limit: Some(2), ..Default::default() }).await.unwrap();
    assert!(page.list_complete, "expired keys do not make a page look incomplete");
    assert_eq!(size(f, &ns).await, (2, 4));
    assert_eq!(size(f, &other).await, (1, 2));
    let listed = f.kv.list_namespaces(&me(), NamespaceQuery::default()).await.unwrap();
    let counts: Vec<(String, u64, u64)> =
        listed.namespaces.into_iter().map(|n| (n.title, n.key_count, n.size_bytes)).collect();
    assert_eq!(counts, [("expiry".to_owned(), 2, 4), ("expiry too".to_owned(), 1, 2)]);
    assert!(!f.kv.delete_key(&me(), &ns, "also").await.unwrap(), "an expired key does not count as deleted");
    assert_eq!(size(f, &ns).await, (2, 4));

    // Writing an expired key again brings it back, counted once.
    f.kv.put_key(&me(), &ns, put("soon", "new")).await.unwrap();
    let back = f.kv.get_key(&me(), &ns, "soon").await.unwrap();
    assert_eq!((back.value.as_slice(), back.expiration), (b"new".as_slice(), None));
    assert_eq!(size(f, &ns).await, (3, 7));
    expire_now(f, &ns, &["soon"]).await;
    assert_eq!(size(f, &ns).await, (2, 4));

    // delete_many counts the live keys it removed, not the expired ones.
    f.kv.put_many(&me(), &ns, vec![ttl("x1", "1"), ttl("x2", "22")]).await.unwrap();
    expire_now(f, &ns, &["x1"]).await;
    assert_eq!(f.kv.delete_many(&me(), &ns, &strings(&["x1", "x2", "missing"])).await.unwrap(), 1);
    assert_eq!(size(f, &ns).await, (2, 4));

    assert_eq!(rows_in(f, &ns).await, 3);
    assert_eq!(f.kv.purge_expired().await.unwrap(), 2, "one in each namespace");
    assert_eq!(f.kv.purge_expired().await.unwrap(), 0);
    assert_eq!(rows_in(f, &ns).await, 2);
    assert_eq!(rows_in(f, &other).await, 1);
    assert_eq!(size(f, &ns).await, (2, 4));
    assert_eq!(size(f, &other).await, (1, 2));
    assert_eq!(all_keys(f, &ns, None).await, ["so-live", "stays"]);
    // Live keys with an expiration are not purged.
    assert!(f.kv.get_key(&me(), &ns, "so-live").await.unwrap().expiration.is_some());
}

async fn namespace_sizes_stay_exact(f: &Fixture) {
    let before = domain::now_unix();
    let ns = namespace(f, "sizes").await;
    let other = namespace(f, "other").await;
    f.kv.put_many(&me(), &ns, (0..10).map(|i| put(&format!("k{i}"), "12345")).collect()).await.unwrap();
    f.kv.put_key(&me(), &other, put("k0", "1")).await.unwrap();
    assert_eq!(size(f, &ns).await, (10, 50));
    f.kv.put_key(&me(), &ns, put("k0", "1234567890")).await.unwrap();
    assert_eq!(size(f, &ns).await, (10, 55));
    f.kv.put_key(&me(), &ns, put("k0", "1")).await.unwrap();
    assert_eq!(size(f, &ns).await, (10, 46));
    // Metadata and key names do not count towards the size.
    f.kv.put_key(&me(), &ns, PutKey { metadata: Some(serde_json::json!({"a": "b"})), ..put("k0", "1") }).await.unwrap();
    assert_eq!(size(f, &ns).await, (10, 46));
    f.kv.put_key(&me(), &ns, put("empty", "")).await.unwrap();
    assert_eq!(size(f, &ns).await, (11, 46));
    f.kv.put_key(&me(), &ns, put("é", "日本")).await.unwrap();
    assert_eq!(size(f, &ns).await, (12, 52), "sizes are bytes");
    f.kv.delete_key(&me(), &ns, "k1").await.unwrap();
    assert_eq!(size(f, &ns).await, (11, 47));
    assert!(!f.kv.delete_key(&me(), &ns, "k1").await.unwrap());
    assert_eq!(size(f, &ns).await, (11, 47));
    assert_eq!(f.kv.delete_many(&me(), &ns, &strings(&["k2", "k3", "missing", "k2"])).await.unwrap(), 2);
    assert_eq!(size(f, &ns).await, (9, 37));
    assert_eq!(f.kv.delete_many(&me(), &ns, &[]).await.unwrap(), 0);
    // One batch that overwrites, adds and repeats names.
    f.kv.put_many(&me(), &ns, vec![put("k4", "1"), put("new", "123"), put("k5", ""), put("new", "12")]).await.unwrap();
    assert_eq!(size(f, &ns).await, (10, 37 - 4 - 5 + 2));
    let big = vec![7u8; 3 * 1024 * 1024];
    f.kv.put_key(&me(), &ns, PutKey { name: "big".into(), value: big, ..Default::default() }).await.unwrap();
    assert_eq!(size(f, &ns).await, (11, 30 + 3 * 1024 * 1024));
    f.kv.delete_key(&me(), &ns, "big").await.unwrap();
    assert_eq!(size(f, &ns).await, (10, 30));
    assert_eq!(size(f, &other).await, (1, 1));

    // The sizes agree with the keys listed, and the listing of namespaces agrees with both.
    let listed = f.kv.list_keys(&me(), &ns, KeyQuery::default()).await.unwrap();
    assert_eq!(listed.keys.len(), 10);
    assert_eq!(listed.keys.iter().map(|k| k.size).sum::<u64>(), 30);
    let info = f.kv.get_namespace(&me(), &ns).await.unwrap();
    let query = NamespaceQuery { search: Some("sizes".into()), ..Default::default() };
    assert_eq!(f.kv.list_namespaces(&me(), query).await.unwrap().namespaces, std::slice::from_ref(&info));
    let after = domain::now_unix();
    assert!((before..=after).contains(&info.created_at));
    assert!((info.created_at..=after).contains(&info.last_accessed));

    // Exact after all of it, and after counting the hard way.
    assert_eq!(rows_in(f, &ns).await, 10);
}

/// PostgreSQL cannot store a NUL in text, so names, titles, prefixes and cursors with one are
/// refused as invalid input on both databases, never a failure of the database.
async fn nul_characters_are_refused_alike(f: &Fixture) {
    let ns = namespace(f, "nul").await;
    assert_err(f.kv.put_key(&me(), &ns, put("a\0b", "v")).await, "invalid_input", "key");
    assert_err(f.kv.put_many(&me(), &ns, vec![put("ok", "v"), put("\0", "v")]).await, "invalid_input", "key");
    assert_err(f.kv.get_key(&me(), &ns, "a\0b").await, "invalid_input", "key");
    assert_err(f.kv.delete_key(&me(), &ns, "a\0b").await, "invalid_input", "key");
    assert_err(f.kv.delete_many(&me(), &ns, &strings(&["ok", "\0"])).await, "invalid_input", "key");
    let prefix = KeyQuery { prefix: Some("a\0".into()), ..Default::default() };
    assert_err(f.kv.list_keys(&me(), &ns, prefix).await, "invalid_input", "prefix");
    // "AA" is base64url for a single NUL byte.
    let cursor = KeyQuery { cursor: Some("AA".into()), ..Default::default() };
    assert_err(f.kv.list_keys(&me(), &ns, cursor).await, "invalid_input", "cursor");
    assert_err(f.kv.create_namespace(&me(), "t\0x").await, "invalid_input", "title");
    assert_err(f.kv.rename_namespace(&me(), &ns, "\0").await, "invalid_input", "title");
    let search = NamespaceQuery { search: Some("\0".into()), ..Default::default() };
    let found = f.kv.list_namespaces(&me(), search).await.unwrap();
    assert_eq!((found.total, found.namespaces.len()), (0, 0), "no title has a NUL");
    // Metadata is JSON text, where a NUL is an escape.
    let meta = serde_json::json!({"a\0": "\0"});
    f.kv.put_key(&me(), &ns, PutKey { metadata: Some(meta.clone()), ..put("ok", "\0") }).await.unwrap();
    let ok = f.kv.get_key(&me(), &ns, "ok").await.unwrap();
    assert_eq!((ok.value.as_slice(), ok.metadata), (b"\0".as_slice(), Some(meta)));
    assert_eq!(size(f, &ns).await, (1, 1));
}
