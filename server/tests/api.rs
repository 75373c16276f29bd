//! Every server function over real HTTP, with each error's status and code.

mod common;

use common::TestServer;
use serde_json::{Value, json};

fn assert_error(res: &common::Response, status: u16, code: &str, field: Option<&str>) {
    assert_eq!(res.status, status, "unexpected status, body: {}", res.text());
    assert_eq!(res.header("content-type"), Some("application/json"), "{}", res.text());
    let body = res.json();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["field"], field.map_or(Value::Null, |f| json!(f)), "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    if let Some(field) = field {
        assert!(message.contains(field), "message {message:?} does not name {field}");
    }
}

async fn namespace(server: &TestServer, title: &str) -> String {
    server.ok("create_namespace", json!({ "title": title })).await["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_the_database() {
    let server = TestServer::start().await;
    let res = server.get("/health").await;
    assert_eq!(res.status, 200);
    let body = res.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], if common::on_postgres() { "postgres" } else { "sqlite" });
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_are_created_listed_renamed_and_deleted() {
    let server = TestServer::start().await;
    let created = server.ok("create_namespace", json!({ "title": "Orders" })).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert_eq!(created["title"], "Orders");
    assert_eq!(created["key_count"], 0);
    assert_eq!(created["size_bytes"], 0);
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    namespace(&server, "orders-archive").await;
    namespace(&server, "Users").await;

    let page = server.ok("list_namespaces", json!({})).await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["page"], 1);
    assert_eq!(page["per_page"], 100);
    let found = server.ok("list_namespaces", json!({ "search": "ORDERS" })).await;
    let titles: Vec<&str> =
        found["namespaces"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Orders", "orders-archive"]);
    let second = server.ok("list_namespaces", json!({ "page": 2, "per_page": 2 })).await;
    assert_eq!(second["namespaces"].as_array().unwrap().len(), 1);

    let renamed = server.ok("rename_namespace", json!({ "namespace_id": id, "title": "Orders 2026" })).await;
    assert_eq!(renamed["title"], "Orders 2026");
    assert_eq!(server.ok("get_namespace", json!({ "namespace_id": id })).await["title"], "Orders 2026");

    assert_eq!(server.ok("delete_namespace", json!({ "namespace_id": id })).await, json!({ "deleted": true }));
    let res = server.call("get_namespace", json!({ "namespace_id": id })).await;
    assert_error(&res, 404, "not_found", Some("namespace_id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_errors_name_their_field() {
    let server = TestServer::start().await;
    let id = namespace(&server, "taken").await;
    assert_error(&server.call("create_namespace", json!({ "title": "taken" })).await, 409, "conflict", Some("title"));
    assert_error(&server.call("create_namespace", json!({ "title": "" })).await, 400, "invalid_input", Some("title"));
    assert_error(
        &server.call("create_namespace", json!({ "title": "x".repeat(513) })).await,
        400,
        "invalid_input",
        Some("title"),
    );
    assert_error(&server.call("create_namespace", json!({})).await, 400, "invalid_input", Some("title"));
    let other = namespace(&server, "other").await;
    assert_error(
        &server.call("rename_namespace", json!({ "namespace_id": other, "title": "taken" })).await,
        409,
        "conflict",
        Some("title"),
    );
    assert_error(
        &server.call("rename_namespace", json!({ "namespace_id": "0".repeat(32), "title": "new" })).await,
        404,
        "not_found",
        Some("namespace_id"),
    );
    assert_error(
        &server.call("delete_namespace", json!({ "namespace_id": "not-an-id" })).await,
        404,
        "not_found",
        Some("namespace_id"),
    );
    assert_error(
        &server.call("list_namespaces", json!({ "per_page": 1001 })).await,
        400,
        "invalid_input",
        Some("per_page"),
    );
    assert_error(&server.call("list_namespaces", json!({ "page": 0 })).await, 400, "invalid_input", Some("page"));
    assert_error(&server.call("list_namespaces", json!({ "page": "one" })).await, 400, "invalid_input", Some("page"));
    assert_error(
        &server
            .call("put_key", json!({ "namespace_id": id, "key": "k", "value": "v", "expiration_ttl": "soon" }))
            .await,
        400,
        "invalid_input",
        Some("expiration_ttl"),
    );
    assert_error(&server.call("list_namespaces", json!([1, 2])).await, 400, "invalid_input", Some("body"));
    // The first namespace is untouched by all of this.
    assert_eq!(server.ok("get_namespace", json!({ "namespace_id": id })).await["title"], "taken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_round_trip_with_metadata_and_expiration() {
    let server = TestServer::start().await;
    let ns = namespace(&server, "keys").await;
    let put = json!({
        "namespace_id": ns, "key": "user:1", "value": "{\"name\":\"Ada\"}",
        "metadata": { "owner": "ops" }, "expiration_ttl": 3600
    });
    let written = server.ok("put_key", put).await;
    assert_eq!(written["ok"], true);
    let key = server.ok("get_key", json!({ "namespace_id": ns, "key": "user:1" })).await;
    assert_eq!(key["version"], written["version"], "the read answers the version the write made");
    assert_eq!(key["name"], "user:1");
    assert_eq!(key["value"], "{\"name\":\"Ada\"}");
    assert_eq!(key["value_base64"], Value::Null);
    assert_eq!(key["size"], 14);
    assert_eq!(key["metadata"], json!({ "owner": "ops" }));
    let expiration = key["expiration"].as_i64().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!((now + 3590..=now + 3610).contains(&expiration));

    // Binary values travel as base64 both ways.
    let bytes = [0u8, 159, 146, 150, 255];
    server.ok("put_key", json!({ "namespace_id": ns, "key": "blob", "value_base64": "AJ+Slv8=" })).await;
    let blob = server.ok("get_key", json!({ "namespace_id": ns, "key": "blob" })).await;
    assert_eq!(blob["value"], Value::Null);
    assert_eq!(blob["value_base64"], "AJ+Slv8=");
    assert_eq!(blob["size"], bytes.len());

    let listed = server.ok("list_keys", json!({ "namespace_id": ns })).await;
    assert_eq!(listed["list_complete"], true);
    assert_eq!(listed["cursor"], Value::Null);
    let keys = listed["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["name"], "blob");
    assert_eq!(keys[1]["name"], "user:1");
    assert_eq!(keys[1]["metadata"], json!({ "owner": "ops" }));
    assert_eq!(keys[1]["expiration"], expiration);

    let info = server.ok("get_namespace", json!({ "namespace_id": ns })).await;
    assert_eq!(info["key_count"], 2);
    assert_eq!(info["size_bytes"], 14 + 5);

    assert_eq!(
        server.ok("delete_key", json!({ "namespace_id": ns, "key": "user:1" })).await,
        json!({ "deleted": true })
    );
    assert_eq!(
        server.ok("delete_key", json!({ "namespace_id": ns, "key": "user:1" })).await,
        json!({ "deleted": false })
    );
    assert_error(
        &server.call("get_key", json!({ "namespace_id": ns, "key": "user:1" })).await,
        404,
        "not_found",
        Some("key"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_keys_pages_with_a_cursor_and_a_prefix() {
    let server = TestServer::start().await;
    let ns = namespace(&server, "paged").await;
    for i in 0..25 {
        let key = if i % 2 == 0 { format!("even:{i:02}") } else { format!("odd:{i:02}") };
        server.ok("put_key", json!({ "namespace_id": ns, "key": key, "value": "v" })).await;
    }
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let page = server
            .ok("list_keys", json!({ "namespace_id": ns, "prefix": "even:", "limit": 5, "cursor": cursor }))
            .await;
        seen.extend(page["keys"].as_array().unwrap().iter().map(|k| k["name"].as_str().unwrap().to_owned()));
        if page["list_complete"] == true {
            assert_eq!(page["cursor"], Value::Null);
            break;
        }
        cursor = page["cursor"].clone();
        assert!(cursor.is_string());
    }
    let expected: Vec<String> = (0..25).filter(|i| i % 2 == 0).map(|i| format!("even:{i:02}")).collect();
    assert_eq!(seen, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_errors_have_their_status_code_and_field() {
    let server = TestServer::start().await;
    let ns = namespace(&server, "errors").await;
    let put = |extra: Value| {
        let mut body = json!({ "namespace_id": ns, "key": "k", "value": "v" });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (put(json!({ "key": "" })), 400, "invalid_input", "key"),
        (put(json!({ "key": ".." })), 400, "invalid_input", "key"),
        (put(json!({ "key": "k".repeat(513) })), 400, "invalid_input", "key"),
        (put(json!({ "metadata": { "pad": "x".repeat(1100) } })), 413, "too_large", "metadata"),
        (put(json!({ "expiration_ttl": 59 })), 400, "invalid_input", "expiration_ttl"),
        (put(json!({ "expiration": 1000 })), 400, "invalid_input", "expiration"),
        (put(json!({ "value": null })), 400, "invalid_input", "value"),
        (put(json!({ "value": null, "value_base64": "***" })), 400, "invalid_input", "value_base64"),
        (put(json!({ "value_base64": "AA==" })), 400, "invalid_input", "value_base64"),
        (put(json!({ "namespace_id": "f".repeat(32) })), 404, "not_found", "namespace_id"),
    ];
    for (body, status, code, field) in cases {
        let res = server.call("put_key", body.clone()).await;
        assert_error(&res, status, code, Some(field));
    }
    let big = "x".repeat(25 * 1024 * 1024 + 1);
    assert_error(&server.call("put_key", put(json!({ "value": big }))).await, 413, "too_large", Some("value"));
    assert_error(
        &server.call("put_key", json!({ "namespace_id": ns, "value": "v" })).await,
        400,
        "invalid_input",
        Some("key"),
    );
    assert_error(
        &server.call("list_keys", json!({ "namespace_id": ns, "limit": 1001 })).await,
        400,
        "invalid_input",
        Some("limit"),
    );
    assert_error(
        &server.call("list_keys", json!({ "namespace_id": ns, "cursor": "%%%" })).await,
        400,
        "invalid_input",
        Some("cursor"),
    );
    assert_error(
        &server.call("get_key", json!({ "namespace_id": ns, "key": "missing" })).await,
        404,
        "not_found",
        Some("key"),
    );
    // Nothing above was half-written.
    assert_eq!(server.ok("get_namespace", json!({ "namespace_id": ns })).await["key_count"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_25_mib_value_is_accepted_and_oversize_bodies_get_json_errors() {
    let server = TestServer::start().await;
    let ns = namespace(&server, "large").await;
    let value = "v".repeat(25 * 1024 * 1024);
    server.ok("put_key", json!({ "namespace_id": ns, "key": "big", "value": value })).await;
    let info = server.ok("get_namespace", json!({ "namespace_id": ns })).await;
    assert_eq!(info["size_bytes"], 25 * 1024 * 1024);
    let huge = vec![b' '; kv_manager::router::MAX_BODY_BYTES + 1];
    let res = server
        .request("POST", "/api/put_key", &[("Content-Type", "application/json"), ("Accept", "application/json")], &huge)
        .await;
    assert_error(&res, 413, "too_large", Some("body"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_on_the_server() {
    let server = TestServer::start().await;
    let ns = namespace(&server, "Rendered <Namespace>").await;
    server.ok("put_key", json!({ "namespace_id": ns, "key": "greeting", "value": "hello" })).await;
    let home = server.get("/").await;
    assert_eq!(home.status, 200);
    let html = home.text();
    assert!(html.contains("Rendered &lt;Namespace&gt;"), "{html}");
    assert!(html.contains("1 key"), "{html}");
    let keys = server.get(&format!("/namespaces/{ns}")).await.text();
    assert!(keys.contains("greeting"), "{keys}");
    // The key editor is a browser dialog (its own code chunk): the page around it still renders.
    let editor = server.get(&format!("/namespaces/{ns}?key=greeting")).await;
    assert_eq!(editor.status, 200);
    assert!(editor.text().contains(">greeting<"), "{}", editor.text());
    for placeholder in ["/search", "/jobs", "/audit"] {
        assert_eq!(server.get(placeholder).await.status, 200, "{placeholder}");
    }
    assert_eq!(server.get("/no/such/page").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_theme_cookie_is_rendered_by_the_server() {
    let server = TestServer::start().await;
    let dark = server.request("GET", "/", &[("Cookie", "kvm_theme=dark")], b"").await.text();
    let html_tag = |page: &str| {
        page[..page.find('>').unwrap_or(0)].to_owned()
            + &page[page.find("<html").unwrap_or(0)..page.find("<head").unwrap_or(0)]
    };
    let tag = html_tag(&dark);
    assert!(tag.contains(r#"class="dark""#) && tag.contains(r#"data-theme="dark""#), "{tag}");
    let light = server.request("GET", "/", &[("Cookie", "other=1; kvm_theme=light")], b"").await.text();
    assert!(light.contains(r#"data-theme="light""#));
    assert!(!light.contains(r#"class="dark""#));
    let system = server.get("/").await.text();
    assert!(system.contains(r#"data-theme="system""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_503_when_the_database_does_not_answer() {
    let dir = tempfile::tempdir().unwrap();
    let database = common::TestDatabase::new(dir.path());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = kv_manager::Config {
        addr,
        database_url: database.url.clone(),
        site_root: dir.path().display().to_string(),
        data_dir: dir.path().join("data"),
        ..Default::default()
    };
    let (router, state) = kv_manager::build(&config).await.unwrap();
    tokio::spawn(kv_manager::serve(listener, router, std::future::pending()));
    state.health.close().await;
    let server = TestServer::at(addr);
    let res = server.get("/health").await;
    assert_eq!(res.status, 503);
    let body = res.json();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"], if common::on_postgres() { "postgres" } else { "sqlite" });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_search_and_versions_over_http() {
    let server = TestServer::start().await;
    let ns = namespace(&server, "catalog").await;
    server.ok("put_key", json!({ "namespace_id": ns, "key": "user:42:profile", "value": "v1" })).await;
    server.ok("put_key", json!({ "namespace_id": ns, "key": "user:42:profile", "value": "v2!" })).await;
    server.ok("put_key", json!({ "namespace_id": ns, "key": "other", "value": "x" })).await;

    let details = server
        .ok("put_key_details", json!({ "namespace_id": ns, "key": "user:42:profile", "tags": [" VIP ", "vip", "eu"], "custom_metadata": { "plan": "pro" } }))
        .await;
    assert_eq!(details["tags"], json!(["VIP", "eu"]));
    assert_eq!(details["custom_metadata"], json!({ "plan": "pro" }));
    assert!(details["created_at"].as_str().unwrap().ends_with('Z'));
    let read = server.ok("get_key_details", json!({ "namespace_id": ns, "key": "user:42:profile" })).await;
    assert_eq!(read["tags"], json!(["VIP", "eu"]));
    let empty = server.ok("get_key_details", json!({ "namespace_id": ns, "key": "other" })).await;
    assert_eq!(empty, json!({ "tags": [], "custom_metadata": {}, "created_at": null, "updated_at": null }));

    let tags = server.ok("list_tags", json!({})).await;
    assert_eq!(tags, json!({ "tags": [{ "tag": "eu", "count": 1 }, { "tag": "VIP", "count": 1 }], "cursor": null }));
    assert_eq!(server.ok("list_tags", json!({ "namespace_id": ns })).await, tags);

    let found = server.ok("search_keys", json!({ "query": "42:PRO" })).await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["cursor"], Value::Null);
    let hit = &found["results"][0];
    assert_eq!(
        (hit["namespace_id"].as_str(), hit["namespace_title"].as_str(), hit["key"].as_str()),
        (Some(ns.as_str()), Some("catalog"), Some("user:42:profile"))
    );
    assert_eq!((hit["size"].as_u64(), &hit["tags"]), (Some(3), &json!(["VIP", "eu"])));
    let by_tag = server.ok("search_keys", json!({ "tags": ["vip"], "namespace_ids": [ns] })).await;
    assert_eq!(by_tag["results"].as_array().unwrap().len(), 1);
    assert_eq!(server.ok("search_keys", json!({ "tags": ["vip", "nope"] })).await["results"], json!([]));

    let versions = server.ok("list_key_versions", json!({ "namespace_id": ns, "key": "user:42:profile" })).await;
    let v = &versions["versions"][0];
    assert_eq!(
        (v["version"].as_i64(), v["size"].as_u64(), v["operation"].as_str(), v["created_by"].as_str()),
        (Some(1), Some(2), Some("update"), Some("local"))
    );
    let kept =
        server.ok("get_key_version", json!({ "namespace_id": ns, "key": "user:42:profile", "version": 1 })).await;
    assert_eq!((kept["value"].as_str(), kept["size"].as_u64()), (Some("v1"), Some(2)));
    assert_eq!(
        server.ok("restore_key_version", json!({ "namespace_id": ns, "key": "user:42:profile", "version": 1 })).await,
        json!({ "ok": true })
    );
    assert_eq!(server.ok("get_key", json!({ "namespace_id": ns, "key": "user:42:profile" })).await["value"], "v1");

    let bad_custom =
        server.call("put_key_details", json!({ "namespace_id": ns, "key": "other", "custom_metadata": [1] })).await;
    assert_error(&bad_custom, 400, "invalid_input", Some("custom_metadata"));
    let bad_tag =
        server.call("put_key_details", json!({ "namespace_id": ns, "key": "other", "tags": ["x".repeat(65)] })).await;
    assert_error(&bad_tag, 400, "invalid_input", Some("tags"));
    assert_error(
        &server.call("put_key_details", json!({ "namespace_id": ns, "key": "nope", "tags": [] })).await,
        404,
        "not_found",
        Some("key"),
    );
    assert_error(&server.call("search_keys", json!({ "limit": 0 })).await, 400, "invalid_input", Some("limit"));
    assert_error(&server.call("search_keys", json!({ "cursor": "bogus" })).await, 400, "invalid_input", Some("cursor"));
    assert_error(&server.call("search_keys", json!({ "min_size": -1 })).await, 400, "invalid_input", Some("min_size"));
    let missing =
        server.call("get_key_version", json!({ "namespace_id": ns, "key": "user:42:profile", "version": 9 })).await;
    assert_error(&missing, 404, "not_found", Some("version"));
}

/// Everything a request can make the server hold or scan has a limit, answered with the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_and_number_a_request_sends_is_bounded() {
    let server = TestServer::start().await;
    let ns = namespace(&server, "bounded").await;
    server.ok("put_key", json!({ "namespace_id": ns, "key": "k", "value": "v" })).await;
    let field = |res: common::Response| (res.status, res.json()["error"]["field"].as_str().map(str::to_owned));
    let many = |n: usize, f: fn(usize) -> String| (0..n).map(f).collect::<Vec<String>>();

    // Tags per key and custom metadata bytes.
    let tags = many(65, |i| format!("t{i}"));
    let res = server.call("put_key_details", json!({ "namespace_id": ns, "key": "k", "tags": tags })).await;
    assert_eq!(field(res), (400, Some("tags".into())));
    let ok_tags = many(64, |i| format!("t{i}"));
    server.ok("put_key_details", json!({ "namespace_id": ns, "key": "k", "tags": ok_tags })).await;
    let big = json!({ "blob": "x".repeat(16 * 1024) });
    let res = server.call("put_key_details", json!({ "namespace_id": ns, "key": "k", "custom_metadata": big })).await;
    assert_eq!(field(res), (413, Some("custom_metadata".into())));

    // Tags and versions come in pages.
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    for _ in 0..40 {
        let page = server.ok("list_tags", json!({ "namespace_id": ns, "limit": 7, "cursor": cursor })).await;
        assert!(page["tags"].as_array().unwrap().len() <= 7);
        seen.extend(page["tags"].as_array().unwrap().iter().map(|t| t["tag"].as_str().unwrap().to_owned()));
        cursor = page["cursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    let mut expected = many(64, |i| format!("t{i}"));
    expected.sort();
    assert_eq!(seen, expected);
    let res = server.call("list_tags", json!({ "limit": 1001 })).await;
    assert_eq!(field(res), (400, Some("limit".into())));
    for i in 0..5 {
        server.ok("put_key", json!({ "namespace_id": ns, "key": "k", "value": format!("v{i}") })).await;
    }
    let first = server.ok("list_key_versions", json!({ "namespace_id": ns, "key": "k", "limit": 3 })).await;
    assert_eq!(first["versions"].as_array().unwrap().len(), 3);
    let rest = server
        .ok("list_key_versions", json!({ "namespace_id": ns, "key": "k", "limit": 3, "cursor": first["cursor"] }))
        .await;
    assert_eq!(rest["versions"].as_array().unwrap().len(), 2, "{rest}");
    assert!(rest["cursor"].is_null());
    let versions: Vec<i64> = first["versions"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["versions"].as_array().unwrap())
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert!(versions.windows(2).all(|w| w[0] > w[1]), "newest first, no repeats: {versions:?}");
    let res = server.call("list_key_versions", json!({ "namespace_id": ns, "key": "k", "cursor": "x" })).await;
    assert_eq!(field(res), (400, Some("cursor".into())));

    // Ids and values in one filter.
    let ids = many(101, |i| format!("{i:032x}"));
    assert_eq!(
        field(server.call("search_keys", json!({ "namespace_ids": ids })).await),
        (400, Some("namespace_ids".into()))
    );
    let tags = many(101, |i| format!("t{i}"));
    assert_eq!(field(server.call("search_keys", json!({ "tags": tags })).await), (400, Some("tags".into())));
    let users = many(101, |i| format!("u{i}"));
    assert_eq!(field(server.call("list_audit", json!({ "users": users })).await), (400, Some("users".into())));
    assert_eq!(
        field(server.call("list_audit", json!({ "namespace_ids": ids })).await),
        (400, Some("namespace_ids".into()))
    );

    // Unsigned numbers past what the database holds are refused, not wrapped negative.
    let res = server.call("search_keys", json!({ "max_size": u64::MAX })).await;
    assert_eq!(field(res), (400, Some("max_size".into())));
    let res = server.call("search_keys", json!({ "min_size": 9_223_372_036_854_775_808u64 })).await;
    assert_eq!(field(res), (400, Some("min_size".into())));
    let found = server.ok("search_keys", json!({ "max_size": i64::MAX as u64 })).await;
    assert_eq!(found["results"].as_array().unwrap().len(), 1, "{found}");
    let res = server.call("list_jobs", json!({ "min_errors": u64::MAX })).await;
    assert_eq!(field(res), (400, Some("min_errors".into())));
}
