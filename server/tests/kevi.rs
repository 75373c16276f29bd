//! The multi-tenant KV API (`/v1/kv`) over real HTTP: Kevi's own three cases, each weak spot of
//! the seed (reference/kevi-inventory.md) got right, and a property test of isolation.

mod common;

use common::{Response, TestServer, encode};
use domain::services::ServiceSpec;
use domain::{Actor, Role, Source};
use serde_json::{Value, json};

const APP: &str = "https://app.example.com";
const EVIL: &str = "http://evil.com";
const MASTER: &str = "master-token-for-tests-0123456789";

fn admin() -> Actor {
    Actor::new("test-admin", Source::Cli, Role::Admin)
}

async fn server_with_rate(rate: u32) -> TestServer {
    TestServer::configured("127.0.0.1:0", |c| {
        c.kevi.rate = rate;
        c.kevi.master_token = Some(MASTER.to_owned());
    })
    .await
}

async fn namespace(server: &TestServer, title: &str) -> String {
    server.ok("create_namespace", json!({ "title": title })).await["id"].as_str().unwrap().to_owned()
}

/// A service made through the domain (as the console and the CLI do); answers its token.
async fn service(server: &TestServer, spec: ServiceSpec) -> String {
    let services = &server.state.as_ref().unwrap().services;
    services.create(&admin(), &spec).await.unwrap_or_else(|e| panic!("{spec:?}: {e}")).2
}

fn spec(name: &str, storage: &str, role: &str, prefix: &str) -> ServiceSpec {
    ServiceSpec {
        name: name.into(),
        storage: storage.into(),
        role: role.into(),
        prefix: prefix.into(),
        allowed_origins: vec![APP.into()],
        ..Default::default()
    }
}

/// One request to the API with a token, an origin and a JSON body, each optional.
async fn send(
    server: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    origin: Option<&str>,
    body: Option<&Value>,
) -> Response {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(token) = token {
        headers.push(("X-Kevi-Token", token));
    }
    if let Some(origin) = origin {
        headers.push(("Origin", origin));
    }
    let bytes = body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default();
    server.request(method, path, &headers, &bytes).await
}

fn error_of(res: &Response) -> (u16, Option<String>) {
    let body = res.json();
    assert!(body["error"].is_string() && body["message"].is_string(), "not the error shape: {body}");
    (res.status, body["field"].as_str().map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kevis_own_three_cases() {
    let server = server_with_rate(1000).await;
    let ns = namespace(&server, "apps").await;
    let token = service(&server, spec("web-app", &ns, "admin", "web")).await;

    // 1. GET with a valid token from an allowed origin.
    send(&server, "POST", "/v1/kv/greeting", Some(&token), Some(APP), Some(&json!({ "value": "hi" }))).await;
    let res = send(&server, "GET", "/v1/kv/greeting", Some(&token), Some(APP), None).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["data"], "hi");
    assert_eq!(res.header("access-control-allow-origin"), Some(APP));

    // 2. POST from a disallowed origin.
    let res = send(&server, "POST", "/v1/kv/x", Some(&token), Some(EVIL), Some(&json!({ "value": 1 }))).await;
    assert_eq!(error_of(&res).0, 403);
    assert_eq!(res.header("access-control-allow-origin"), None, "the allow-list is not leaked");

    // 3. A script tag is data: stored and read back verbatim.
    let script = "<script>alert(1)</script>";
    let res = send(&server, "POST", "/v1/kv/html", Some(&token), Some(APP), Some(&json!({ "value": script }))).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = send(&server, "GET", "/v1/kv/html", Some(&token), Some(APP), None).await;
    assert_eq!(res.json()["data"], script);
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_check_origin_and_writes_check_role() {
    let server = server_with_rate(1000).await;
    let ns = namespace(&server, "apps").await;
    let writer = service(&server, spec("writer", &ns, "admin", "w")).await;
    let reader = service(
        &server,
        ServiceSpec { public_keys: vec!["public/*".into(), "motd".into()], ..spec("reader", &ns, "read-only", "r") },
    )
    .await;
    let any =
        service(&server, ServiceSpec { allowed_origins: vec!["*".into()], ..spec("anyone", &ns, "admin", "a") }).await;

    // Reads from a disallowed origin are refused too (the seed let them through), lists included.
    for path in ["/v1/kv/k", "/v1/kv"] {
        let res = send(&server, "GET", path, Some(&writer), Some(EVIL), None).await;
        assert_eq!(res.status, 403, "{path}: {}", res.text());
        assert_eq!(res.header("access-control-allow-origin"), None);
    }
    // Scripts send no Origin: not origin-checked.
    assert_eq!(send(&server, "GET", "/v1/kv", Some(&writer), None, None).await.status, 200);
    // A wildcard service echoes the request's own origin, never another.
    let res = send(&server, "GET", "/v1/kv", Some(&any), Some(EVIL), None).await;
    assert_eq!((res.status, res.header("access-control-allow-origin")), (200, Some(EVIL)));
    assert!(res.headers.iter().any(|(n, v)| n == "vary" && v.contains("Origin")));

    // A read-only service reads, and is refused writes with what it has and what it needs.
    for method in ["POST", "PUT", "DELETE"] {
        let res = send(&server, method, "/v1/kv/k", Some(&reader), Some(APP), Some(&json!({ "value": 1 }))).await;
        assert_eq!(res.status, 403, "{method}");
        let body = res.json();
        assert_eq!(
            (body["error"].as_str(), body["required"].as_str(), body["current"].as_str()),
            (Some("Permission Denied"), Some("admin"), Some("read-only"))
        );
        assert_eq!(res.header("access-control-allow-origin"), Some(APP), "the page can read why");
    }
    assert_eq!(send(&server, "GET", "/v1/kv/k", Some(&reader), Some(APP), None).await.status, 404);

    // Public keys (with `/` in them, so `public/*` matches) are read from any origin; others not.
    let services = &server.state.as_ref().unwrap().services;
    let kv = services.kv();
    for key in ["r:public/settings", "r:motd", "r:private"] {
        kv.put_key(
            &admin(),
            &ns,
            domain::PutKey {
                name: key.into(),
                value: b"\"v\"".to_vec(),
                metadata: None,
                expiration: None,
                expiration_ttl: None,
            },
        )
        .await
        .unwrap();
    }
    for (key, status) in [("public/settings", 200), ("public%2Fsettings", 200), ("motd", 200), ("private", 403)] {
        let res = send(&server, "GET", &format!("/v1/kv/{key}"), Some(&reader), Some(EVIL), None).await;
        assert_eq!(res.status, status, "{key}: {}", res.text());
        if status == 200 {
            assert_eq!(res.header("access-control-allow-origin"), Some(EVIL));
            assert_eq!(res.json()["data"], "v");
        }
    }
    // Public is for reading only.
    let res = send(&server, "POST", "/v1/kv/public/x", Some(&reader), Some(EVIL), Some(&json!({ "value": 1 }))).await;
    assert_eq!(res.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflights_need_no_token_and_follow_the_services() {
    let server = server_with_rate(1000).await;
    let ns = namespace(&server, "apps").await;
    service(&server, ServiceSpec { public_keys: vec!["public/*".into()], ..spec("web", &ns, "admin", "web") }).await;
    let preflight = |path: &'static str, origin: &'static str, method: &'static str| {
        let server = &server;
        async move {
            server
                .request(
                    "OPTIONS",
                    path,
                    &[
                        ("Origin", origin),
                        ("Access-Control-Request-Method", method),
                        ("Access-Control-Request-Headers", "x-kevi-token, content-type"),
                    ],
                    b"",
                )
                .await
        }
    };
    let res = preflight("/v1/kv/some/key", APP, "PUT").await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert_eq!(res.header("access-control-allow-origin"), Some(APP));
    assert!(res.header("access-control-allow-methods").unwrap().contains("PUT"));
    let allowed = res.header("access-control-allow-headers").unwrap().to_ascii_lowercase();
    for name in ["x-kevi-token", "x-kevi-service", "content-type", "if-match", "if-none-match"] {
        assert!(allowed.contains(name), "{allowed}");
    }
    assert_eq!(preflight("/v1/kv", APP, "GET").await.status, 204);
    // An origin no service accepts: refused, and nothing echoed.
    let res = preflight("/v1/kv/some/key", EVIL, "PUT").await;
    assert_eq!((res.status, res.header("access-control-allow-origin")), (403, None));
    // A public path may be read from anywhere, so its GET preflight passes; a write's does not.
    let res = preflight("/v1/kv/public/readme", EVIL, "GET").await;
    assert_eq!((res.status, res.header("access-control-allow-origin")), (204, Some(EVIL)));
    assert_eq!(preflight("/v1/kv/public/readme", EVIL, "POST").await.status, 403);
    // A method the route does not take.
    assert_eq!(preflight("/v1/kv", APP, "DELETE").await.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_refused_alike_and_stored_only_as_hashes() {
    let server = server_with_rate(1000).await;
    let ns = namespace(&server, "apps").await;
    let token = service(&server, spec("web", &ns, "admin", "web")).await;
    assert_eq!(token.len(), 64);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    let services = &server.state.as_ref().unwrap().services;
    let ok = send(&server, "GET", "/v1/kv", Some(&token), None, None).await;
    assert_eq!(ok.status, 200);

    // Rotation: a second token works beside the first; the revoked one stops at once.
    let (second, second_secret) = services.issue_token(&admin(), "web").await.unwrap();
    let first = services.tokens("web").await.unwrap().into_iter().find(|t| t.id != second.id).unwrap();
    services.revoke_token(&admin(), "web", &first.id).await.unwrap();
    let revoked = send(&server, "GET", "/v1/kv", Some(&token), None, None).await;
    assert_eq!(send(&server, "GET", "/v1/kv", Some(&second_secret), None, None).await.status, 200);

    let missing = send(&server, "GET", "/v1/kv", None, None, None).await;
    let unknown = send(&server, "GET", "/v1/kv", Some(&"0".repeat(64)), None, None).await;
    // A disabled service's tokens stop too.
    let disabled_token = service(&server, spec("paused", &ns, "admin", "paused")).await;
    services
        .update(&admin(), "paused", &ServiceSpec { disabled: true, ..spec("paused", &ns, "admin", "paused") })
        .await
        .unwrap();
    let disabled = send(&server, "GET", "/v1/kv", Some(&disabled_token), None, None).await;
    for res in [&missing, &unknown, &revoked, &disabled] {
        assert_eq!(res.status, 401);
        assert_eq!(res.body, missing.body, "one body for every refusal");
    }

    // Neither secret is anywhere in the database: the SQLite file and its log byte by byte, or
    // on PostgreSQL every row of every table as text.
    let url = server.database_url.clone().unwrap();
    let bytes = if common::on_postgres() {
        use sea_orm::ConnectionTrait;
        let conn = sea_orm::Database::connect(url.as_str()).await.unwrap();
        let backend = conn.get_database_backend();
        let tables = conn
            .query_all_raw(sea_orm::Statement::from_string(
                backend,
                "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public'",
            ))
            .await
            .unwrap();
        let mut text = String::new();
        for table in tables {
            let name: String = table.try_get("", "name").unwrap();
            let sql = format!("SELECT coalesce(string_agg(t::text, ' '), '') AS rows FROM \"{name}\" t");
            let row = conn.query_one_raw(sea_orm::Statement::from_string(backend, sql)).await.unwrap().unwrap();
            text.push_str(&row.try_get::<String>("", "rows").unwrap());
        }
        assert!(text.contains("paused"), "the tables were read");
        text.into_bytes()
    } else {
        let path = url.trim_start_matches("sqlite://").split('?').next().unwrap().to_owned();
        let mut bytes = std::fs::read(&path).unwrap();
        if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
            bytes.extend(wal);
        }
        bytes
    };
    for secret in [&token, &second_secret] {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "a token in plain text");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_master_token_acts_on_a_named_service_and_is_audited_as_master() {
    let server = server_with_rate(1000).await;
    let ns = namespace(&server, "apps").await;
    service(&server, spec("reader", &ns, "read-only", "r")).await;
    let with_service = |method: &'static str, service: Option<&'static str>| {
        let server = &server;
        async move {
            let mut headers = vec![("X-Kevi-Token", MASTER), ("Content-Type", "application/json")];
            if let Some(service) = service {
                headers.push(("X-Kevi-Service", service));
            }
            server.request(method, "/v1/kv/from-master", &headers, br#"{"value": 7}"#).await
        }
    };
    // It writes even to a read-only service, under that service's prefix.
    assert_eq!(with_service("PUT", Some("reader")).await.status, 200);
    let stored = server.ok("get_key", json!({ "namespace_id": ns, "key": "r:from-master" })).await;
    assert_eq!(stored["value"], "7");
    assert_eq!(stored["metadata"]["updated_by"], "master");
    // Without a service, or with an unknown one: the same 401 as any bad token.
    assert_eq!(with_service("GET", None).await.status, 401);
    assert_eq!(with_service("GET", Some("nope")).await.status, 401);
    let audit = server.ok("list_audit", json!({ "namespace_ids": [ns], "operations": ["key.create"] })).await;
    assert_eq!(
        (audit["entries"][0]["user"].as_str(), audit["entries"][0]["source"].as_str()),
        (Some("master"), Some("kevi"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefixes_are_required_valid_and_never_shared_in_a_namespace() {
    let server = server_with_rate(1000).await;
    let ns = namespace(&server, "apps").await;
    let other = namespace(&server, "other").await;
    let services = &server.state.as_ref().unwrap().services;
    service(&server, spec("dev-service", &ns, "admin", "dev")).await;
    // The seed derived "dev" for both of these; here the second must choose another prefix.
    let clash = services.create(&admin(), &spec("dev-tools", &ns, "admin", "dev")).await.unwrap_err();
    assert_eq!((clash.status(), clash.field()), (409, Some("prefix")));
    // The same prefix in another namespace is another key space.
    service(&server, spec("dev-tools", &other, "admin", "dev")).await;
    for bad in ["", "dev:x", "a/b", "ü"] {
        let err = services.create(&admin(), &spec("bad-prefix", &ns, "admin", bad)).await.unwrap_err();
        assert_eq!((err.status(), err.field()), (400, Some("prefix")), "{bad:?}");
    }
    let err = services.create(&admin(), &spec("x", &ns, "admin", "x")).await.unwrap_err();
    assert_eq!(err.field(), Some("name"));
    let err = services.create(&admin(), &spec("no-storage", "missing", "admin", "x")).await.unwrap_err();
    assert_eq!(err.field(), Some("storage"));
    let err = services.create(&admin(), &spec("dev-service", &ns, "admin", "other")).await.unwrap_err();
    assert_eq!((err.status(), err.field()), (409, Some("name")));
    let reader = Actor::new("someone", Source::Console, Role::User);
    assert_eq!(services.create(&reader, &spec("by-user", &ns, "admin", "u")).await.unwrap_err().status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_metadata_ttl_and_limits() {
    let server = server_with_rate(1000).await;
    let ns = namespace(&server, "apps").await;
    let token = service(&server, spec("web", &ns, "admin", "web")).await;
    let put = |key: String, body: Value| {
        let server = &server;
        let token = token.clone();
        async move { send(server, "PUT", &format!("/v1/kv/{key}"), Some(&token), None, Some(&body)).await }
    };
    let get = |key: &'static str| {
        let server = &server;
        let token = token.clone();
        async move { send(server, "GET", &format!("/v1/kv/{key}"), Some(&token), None, None).await }
    };

    // Falsy values read back as themselves (the seed answered 404).
    for (key, value) in
        [("f", json!(false)), ("z", json!(0)), ("e", json!("")), ("n", json!(null)), ("a", json!([])), ("o", json!({}))]
    {
        assert_eq!(put(key.into(), json!({ "value": value })).await.status, 200, "{key}");
        let res = get(key).await;
        assert_eq!((res.status, res.json()["data"].clone()), (200, value), "{key}");
    }
    assert_eq!(error_of(&get("missing").await), (404, Some("key".into())));

    // The server's metadata fields win over the client's.
    let res = put(
        "m".into(),
        json!({ "value": 1, "metadata": { "updated_by": "mallory", "updated_at": "never", "team": "a" } }),
    )
    .await;
    assert_eq!(res.status, 200);
    let meta = get("m").await.json()["metadata"].clone();
    assert_eq!((meta["updated_by"].as_str(), meta["team"].as_str()), (Some("web"), Some("a")));
    assert_ne!(meta["updated_at"], "never");

    // TTLs: at least 60 whole seconds, else 400 naming ttl (the seed turned these into 500s).
    for ttl in [json!(59), json!(60.5), json!("60"), json!(-1)] {
        assert_eq!(
            error_of(&put("t".into(), json!({ "value": 1, "ttl": ttl })).await),
            (400, Some("ttl".into())),
            "{ttl}"
        );
    }
    assert_eq!(put("t".into(), json!({ "value": 1, "ttl": 60 })).await.status, 200);
    let res = get("t").await;
    assert!(res.json()["expiration"].as_i64().unwrap() >= domain::now_unix() + 58);

    // Bodies: not JSON, no value, an unknown field, metadata that is not an object.
    let raw = server.request("POST", "/v1/kv/b", &[("X-Kevi-Token", &token)], b"value=1").await;
    assert_eq!(error_of(&raw), (400, Some("body".into())));
    assert_eq!(error_of(&put("b".into(), json!({ "metadata": {} })).await), (400, Some("value".into())));
    assert_eq!(error_of(&put("b".into(), json!({ "value": 1, "extra": 2 })).await), (400, Some("extra".into())));
    assert_eq!(
        error_of(&put("b".into(), json!({ "value": 1, "metadata": [1] })).await),
        (400, Some("metadata".into()))
    );

    // Sizes: metadata within 1024 bytes with the server's fields; key within 512 with the prefix.
    let big = "x".repeat(1000);
    assert_eq!(
        error_of(&put("b".into(), json!({ "value": 1, "metadata": { "big": big } })).await),
        (413, Some("metadata".into()))
    );
    let longest = "k".repeat(512 - "web:".len());
    assert_eq!(put(longest.clone(), json!({ "value": 1 })).await.status, 200);
    assert_eq!(error_of(&put(format!("{longest}k"), json!({ "value": 1 })).await), (400, Some("key".into())));
    let huge = json!({ "value": "v".repeat(25 * 1024 * 1024) });
    assert_eq!(error_of(&put("huge".into(), huge).await), (413, Some("value".into())));

    // Delete: once, then 404.
    let del = send(&server, "DELETE", "/v1/kv/f", Some(&token), None, None).await;
    assert_eq!(del.status, 200);
    assert_eq!(
        error_of(&send(&server, "DELETE", "/v1/kv/f", Some(&token), None, None).await),
        (404, Some("key".into()))
    );

    // Unknown routes and methods answer in the same shape.
    assert_eq!(error_of(&send(&server, "GET", "/v1/nothing", Some(&token), None, None).await).0, 404);
    assert_eq!(error_of(&send(&server, "PATCH", "/v1/kv/x", Some(&token), None, None).await).0, 405);
    assert_eq!(error_of(&send(&server, "GET", "/v1/kv/", Some(&token), None, None).await), (400, Some("key".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_pages_through_the_services_own_keys() {
    let server = server_with_rate(1000).await;
    let ns = namespace(&server, "apps").await;
    let token = service(&server, spec("web", &ns, "admin", "web")).await;
    let other = service(&server, spec("webx", &ns, "admin", "web-x")).await;
    for i in 0..25 {
        let res =
            send(&server, "PUT", &format!("/v1/kv/item/{i:02}"), Some(&token), None, Some(&json!({ "value": i })))
                .await;
        assert_eq!(res.status, 200);
    }
    send(&server, "PUT", "/v1/kv/item/99", Some(&other), None, Some(&json!({ "value": "not web's" }))).await;
    send(&server, "PUT", "/v1/kv/other", Some(&token), None, Some(&json!({ "value": 0, "ttl": 3600 }))).await;

    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/kv?prefix=item/&limit=10&cursor={c}"),
            None => "/v1/kv?prefix=item/&limit=10".to_owned(),
        };
        let page = send(&server, "GET", &path, Some(&token), None, None).await.json();
        assert_eq!(page["status"], "ok");
        names.extend(page["keys"].as_array().unwrap().iter().map(|k| k["name"].as_str().unwrap().to_owned()));
        if page["list_complete"] == true {
            assert!(page.get("cursor").is_none());
            break;
        }
        cursor = Some(page["cursor"].as_str().unwrap().to_owned());
    }
    assert_eq!(names, (0..25).map(|i| format!("item/{i:02}")).collect::<Vec<_>>());
    let all = send(&server, "GET", "/v1/kv", Some(&token), None, None).await.json();
    let keys = all["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 26, "web's keys only, prefix stripped");
    let listed = keys.iter().find(|k| k["name"] == "other").unwrap();
    assert!(listed["expiration"].is_i64());
    assert_eq!(listed["metadata"]["updated_by"], "web");
    for limit in ["0", "1001", "ten"] {
        let res = send(&server, "GET", &format!("/v1/kv?limit={limit}"), Some(&token), None, None).await;
        assert_eq!(error_of(&res), (400, Some("limit".into())), "{limit}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_go_through_the_domain_path() {
    let server = server_with_rate(1000).await;
    let ns = namespace(&server, "apps").await;
    let token = service(&server, spec("web", &ns, "admin", "web")).await;
    for value in [json!("one"), json!("two")] {
        send(&server, "PUT", "/v1/kv/doc", Some(&token), None, Some(&json!({ "value": value }))).await;
    }
    // Audit: source kevi, the service as the user.
    let audit = server.ok("list_audit", json!({ "namespace_ids": [ns] })).await;
    let entry = audit["entries"].as_array().unwrap().iter().find(|e| e["key"] == "web:doc").unwrap().clone();
    assert_eq!((entry["user"].as_str(), entry["source"].as_str()), (Some("web"), Some("kevi")));
    // Search index and versions.
    let found = server.ok("search_keys", json!({ "query": "doc", "namespace_ids": [ns] })).await;
    assert_eq!(found["results"][0]["key"], "web:doc");
    let versions = server.ok("list_key_versions", json!({ "namespace_id": ns, "key": "web:doc" })).await;
    assert_eq!(versions["versions"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_token_has_its_own_rate() {
    let server = server_with_rate(5).await;
    let ns = namespace(&server, "apps").await;
    let token = service(&server, spec("web", &ns, "admin", "web")).await;
    let other = service(&server, spec("other", &ns, "admin", "other")).await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(send(&server, "GET", "/v1/kv", Some(&token), None, None).await.status);
    }
    // A burst of twice the rate goes through, then 429 with Retry-After.
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 10, "{statuses:?}");
    let limited = send(&server, "GET", "/v1/kv", Some(&token), None, None).await;
    assert_eq!(error_of(&limited).0, 429);
    assert!(limited.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    // Another token is not held back.
    assert_eq!(send(&server, "GET", "/v1/kv", Some(&other), None, None).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_makes_a_service_and_prints_its_token_last() {
    let server = server_with_rate(1000).await;
    namespace(&server, "cli-apps").await;
    let url = server.database_url.clone().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kv-manager"))
        .args(["service", "create", "from-cli", "--storage", "cli-apps", "--role", "admin", "--prefix", "cli"])
        .args(["--origin", APP, "--public", "public/*", "--database-url", &url, "--config", "/dev/null"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().lines().last().unwrap().to_owned();
    let res =
        send(&server, "PUT", "/v1/kv/public/hello", Some(&token), Some(APP), Some(&json!({ "value": "world" }))).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = send(&server, "GET", "/v1/kv/public/hello", Some(&token), Some(EVIL), None).await;
    assert_eq!(res.json()["data"], "world");
    // A bad flag is a clear error, nothing made.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kv-manager"))
        .args(["service", "create", "bad", "--storage", "cli-apps", "--prefix", "a:b", "--database-url", &url])
        .args(["--config", "/dev/null"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("prefix"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_services_file_is_loaded_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let database = common::TestDatabase::new(dir.path());
    let url = database.url.clone();
    // The namespace must exist before the file names it: made by a first start.
    let first = TestServer::start_configured(url.clone(), tempfile::tempdir().unwrap(), "127.0.0.1:0", |_| {}).await;
    namespace(&first, "shared").await;
    let token = "f".repeat(64);
    let hash: String = {
        use aws_lc_rs::digest::{SHA256, digest};
        digest(&SHA256, token.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
    };
    let file = dir.path().join("services.toml");
    std::fs::write(
        &file,
        format!(
            "[[service]]\nname = \"from-file\"\nstorage = \"shared\"\nrole = \"admin\"\nprefix = \"ff\"\n\
             allowed_origins = [\"{APP}\"]\ntoken_sha256 = [\"{hash}\"]\n"
        ),
    )
    .unwrap();
    let server = TestServer::start_configured(url, tempfile::tempdir().unwrap(), "127.0.0.1:0", |c| {
        c.kevi.services_file = Some(file.clone());
    })
    .await;
    let res = send(&server, "PUT", "/v1/kv/x", Some(&token), Some(APP), Some(&json!({ "value": 1 }))).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let services = server.state.as_ref().unwrap().services.list().await.unwrap();
    assert_eq!(services.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["from-file"]);
}

/// A small deterministic generator, so a failing case can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// Random services over two namespaces, with prefixes that are prefixes of one another, and
/// keys built to escape (`../`, `%2F`, `:`, look-alikes, another service's prefix): no request
/// with one service's token ever reads, lists, overwrites or deletes another's key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_service_ever_reaches_another_services_keys() {
    let server = server_with_rate(1_000_000).await;
    let namespaces = [namespace(&server, "iso-a").await, namespace(&server, "iso-b").await];
    let seed =
        std::env::var("KVM_ISOLATION_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_1234_abcd_9876u64);
    let mut rng = Rng(seed);
    let prefixes = ["a", "ab", "a.b", "a-b", "A", "b", "a_", "ab.c", "z9", "Ab"];
    let mut services = Vec::new();
    for (i, prefix) in prefixes.iter().enumerate() {
        let ns = rng.pick(&namespaces).clone();
        let name = format!("svc-{i}");
        let token =
            service(&server, ServiceSpec { allowed_origins: vec!["*".into()], ..spec(&name, &ns, "admin", prefix) })
                .await;
        services.push((name, ns, prefix.to_string(), token));
    }
    let pieces = ["../", "%2F", ":", "/", "a", "ab", "b:", "ａ", "ℯ", "..", "x", "a:b", "\u{200b}", "é", "%3A", "*"];
    // Every service writes keys of its own, each value naming its owner.
    let mut written: Vec<(usize, String)> = Vec::new();
    for round in 0..120 {
        let owner = (rng.next() % services.len() as u64) as usize;
        let mut key = String::new();
        for _ in 0..1 + rng.next() % 4 {
            let piece: &str = rng.pick::<&str>(&pieces);
            key.push_str(piece);
        }
        if round % 5 == 0 {
            // A key that starts like another service's stored key.
            let (_, _, other_prefix, _) = rng.pick(&services);
            key = format!("{other_prefix}:{key}");
        }
        let (name, _, _, token) = &services[owner];
        let res = send(
            &server,
            "PUT",
            &format!("/v1/kv/{}", encode(&key)),
            Some(token),
            None,
            Some(&json!({ "value": name })),
        )
        .await;
        assert_eq!(res.status, 200, "seed {seed}: {name} writes {key:?}: {}", res.text());
        written.retain(|(o, k)| !(*o == owner && *k == key));
        written.push((owner, key));
    }
    for (index, (name, _, _, token)) in services.iter().enumerate() {
        // Listing: exactly its own keys.
        let mut own: Vec<String> = written.iter().filter(|(o, _)| *o == index).map(|(_, k)| k.clone()).collect();
        own.sort();
        let listed = send(&server, "GET", "/v1/kv?limit=1000", Some(token), None, None).await.json();
        let mut names: Vec<String> =
            listed["keys"].as_array().unwrap().iter().map(|k| k["name"].as_str().unwrap().to_owned()).collect();
        names.sort();
        assert_eq!(names, own, "seed {seed}: {name} lists exactly its own keys");
        // Reading any key name anyone wrote gives this service's own value or 404.
        for (owner, key) in &written {
            let res = send(&server, "GET", &format!("/v1/kv/{}", encode(key)), Some(token), None, None).await;
            if own.contains(key) {
                assert_eq!(res.json()["data"], json!(name), "seed {seed}: {name} reads its {key:?}");
            } else {
                assert_eq!(res.status, 404, "seed {seed}: {name} read {key:?} of svc-{owner}: {}", res.text());
            }
        }
    }
    // Deleting every name anyone wrote, with a service that owns none of them, removes nothing.
    let (_, _, _, outsider) = &services[services.len() - 1];
    let outsider_index = services.len() - 1;
    for (owner, key) in written.iter().filter(|(o, _)| *o != outsider_index) {
        let res = send(&server, "DELETE", &format!("/v1/kv/{}", encode(key)), Some(outsider), None, None).await;
        let outsider_has = written.iter().any(|(o, k)| *o == outsider_index && k == key);
        if !outsider_has {
            assert_eq!(res.status, 404, "seed {seed}: outsider deleted {key:?} of svc-{owner}");
        }
    }
    for (index, (name, _, _, token)) in services.iter().enumerate().filter(|(i, _)| *i != outsider_index) {
        for (_, key) in written.iter().filter(|(o, _)| *o == index) {
            let res = send(&server, "GET", &format!("/v1/kv/{}", encode(key)), Some(token), None, None).await;
            assert_eq!(res.json()["data"], json!(name), "seed {seed}: {name} still has {key:?}");
        }
    }
}
