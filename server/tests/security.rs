//! Sign-in, roles, protected namespaces, CSRF and security headers, over real HTTP.

mod common;
#[path = "../../domain/tests/common/jwks.rs"]
mod jwks;

use common::TestServer;
use jwks::{AUDIENCE, SigningKey, Team};
use kv_manager::config::Auth;
use serde_json::{Value, json};

const ADMIN: &str = "root@example.com";
const READER: &str = "reader@example.com";

struct Signed {
    server: TestServer,
    team: Team,
    key: SigningKey,
}

impl Signed {
    async fn start(protected: &[&str]) -> Self {
        let key = SigningKey::generate("k1");
        let team = Team::start(&[&key]).await;
        let domain = team.domain();
        let protected: Vec<String> = protected.iter().map(|p| p.to_string()).collect();
        let server = TestServer::configured("127.0.0.1:0", |c| {
            c.auth = Auth::Access { team_domain: domain, audience: AUDIENCE.into() };
            c.admins = vec![ADMIN.into()];
            c.readonly_users = vec![READER.into()];
            c.protected_namespaces = protected;
        })
        .await;
        Self { server, team, key }
    }

    fn token(&self, email: &str) -> String {
        self.key.sign(&self.team.claims(email))
    }

    /// A server function called by a script holding `email`'s token in the Access header.
    async fn call(&self, email: &str, name: &str, input: Value) -> common::Response {
        let token = self.token(email);
        let body = serde_json::to_vec(&input).unwrap();
        let headers = [
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
            ("Cf-Access-Jwt-Assertion", token.as_str()),
        ];
        self.server.request("POST", &format!("/api/{name}"), &headers, &body).await
    }

    async fn ok(&self, email: &str, name: &str, input: Value) -> Value {
        let res = self.call(email, name, input).await;
        assert_eq!(res.status, 200, "{name} as {email}: {}", res.text());
        res.json()
    }

    async fn get(&self, email: &str, path: &str) -> common::Response {
        let cookie = format!("CF_Authorization={}", self.token(email));
        self.server.request("GET", path, &[("Cookie", cookie.as_str())], b"").await
    }
}

fn error_code(res: &common::Response) -> String {
    res.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn access_mode_needs_a_valid_token_on_every_request_but_health() {
    let s = Signed::start(&[]).await;
    assert_eq!(s.server.get("/health").await.status, 200);
    for path in ["/", "/jobs", "/pkg/kv-manager.css"] {
        let res = s.server.get(path).await;
        assert_eq!(res.status, 401, "{path}");
    }
    let res = s.server.call("list_namespaces", json!({})).await;
    assert_eq!((res.status, error_code(&res)), (401, "unauthorized".into()), "{}", res.text());
    assert!(res.text().contains("Cloudflare Access"));

    // The header (scripts, service tokens) and the cookie (browsers) both sign in.
    let created = s.ok("ada@example.com", "create_namespace", json!({ "title": "from-a-script" })).await;
    let page = s.get("ada@example.com", "/").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("from-a-script"));
    assert!(page.text().contains(r#"data-user="ada@example.com""#));
    assert!(page.text().contains(r#"data-logout-url="/cdn-cgi/access/logout""#));
    assert!(page.text().contains(r#"data-can-write="true""#));

    // An expired token, or one for another application, is refused with the reason.
    let mut claims = s.team.claims("ada@example.com");
    claims["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    let expired = s.key.sign(&claims);
    let res = s.server.request("GET", "/", &[("Cf-Access-Jwt-Assertion", expired.as_str())], b"").await;
    assert_eq!(res.status, 401);
    assert!(res.text().contains("expired"), "{}", res.text());

    // Changes are attributed to the signed-in user.
    let audit = s.ok(ADMIN, "list_audit", json!({ "namespace_ids": [created["id"]] })).await;
    let entry = &audit["entries"][0];
    assert_eq!(
        (entry["user"].as_str(), entry["operation"].as_str()),
        (Some("ada@example.com"), Some("namespace.create"))
    );
    assert_eq!(entry["source"], "script");
}

#[tokio::test]
async fn a_read_only_user_gets_403_for_every_change_and_a_console_without_write_controls() {
    let s = Signed::start(&[]).await;
    let ns = s.ok(ADMIN, "create_namespace", json!({ "title": "shared" })).await["id"].as_str().unwrap().to_owned();
    s.ok(ADMIN, "put_key", json!({ "namespace_id": ns, "key": "k", "value": "v" })).await;

    assert_eq!(s.ok(READER, "get_key", json!({ "namespace_id": ns, "key": "k" })).await["value"], "v");
    for (name, input) in [
        ("create_namespace", json!({ "title": "mine" })),
        ("rename_namespace", json!({ "namespace_id": ns, "title": "renamed" })),
        ("delete_namespace", json!({ "namespace_id": ns })),
        ("put_key", json!({ "namespace_id": ns, "key": "k", "value": "changed" })),
        ("delete_key", json!({ "namespace_id": ns, "key": "k" })),
        ("rename_key", json!({ "namespace_id": ns, "key": "k", "new_name": "k2" })),
        ("bulk_delete", json!({ "namespace_id": ns, "prefix": "" })),
        ("undo_job", json!({ "job_id": "bulk_delete-01", "dry_run": true })),
    ] {
        let res = s.call(READER, name, input).await;
        assert_eq!((res.status, error_code(&res)), (403, "forbidden".into()), "{name}: {}", res.text());
    }
    let token = s.token(READER);
    let upload = s
        .server
        .request(
            "POST",
            &format!("/api/import/{ns}"),
            &[("Cf-Access-Jwt-Assertion", token.as_str()), ("Content-Type", "application/x-ndjson")],
            b"{\"name\":\"x\",\"value\":\"y\"}\n",
        )
        .await;
    assert_eq!(upload.status, 403, "{}", upload.text());
    assert_eq!(s.ok(READER, "get_key", json!({ "namespace_id": ns, "key": "k" })).await["value"], "v");
    let audit = s.ok(ADMIN, "list_audit", json!({ "users": [READER] })).await;
    assert_eq!(audit["entries"].as_array().unwrap().len(), 0, "a refused change left an audit row");

    // API tokens are for admins only.
    for who in [READER, "ada@example.com"] {
        let res = s.call(who, "list_api_tokens", json!({})).await;
        assert_eq!(res.status, 403, "{who}: {}", res.text());
        let res = s.call(who, "create_api_token", json!({ "name": "mine" })).await;
        assert_eq!(res.status, 403, "{who}: {}", res.text());
    }
    assert_eq!(s.ok(ADMIN, "list_api_tokens", json!({})).await, json!([]));

    let page = s.get(READER, &format!("/namespaces/{ns}")).await;
    assert!(page.text().contains(r#"data-can-write="false""#));
    assert!(page.text().contains("read-only"));
}

#[tokio::test]
async fn users_see_only_their_own_jobs_and_downloads_and_admins_see_all() {
    let s = Signed::start(&[]).await;
    let ns = s.ok(ADMIN, "create_namespace", json!({ "title": "exports" })).await["id"].as_str().unwrap().to_owned();
    let job = s.ok("ada@example.com", "start_export", json!({ "namespace_id": ns, "format": "ndjson" })).await;
    let id = job["job_id"].as_str().unwrap().to_owned();
    for _ in 0..100 {
        let state = s.ok("ada@example.com", "get_job", json!({ "job_id": id })).await;
        if state["status"] == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let download = format!("/api/jobs/{id}/download");
    assert_eq!(s.get("ada@example.com", &download).await.status, 200);
    assert_eq!(s.get(ADMIN, &download).await.status, 200);
    for path in [download.as_str(), &format!("/api/jobs/{id}"), &format!("/api/jobs/{id}/events")] {
        assert_eq!(s.get("bob@example.com", path).await.status, 404, "{path}");
    }
    assert_eq!(s.call("bob@example.com", "get_job", json!({ "job_id": id })).await.status, 404);
    assert_eq!(s.call("bob@example.com", "cancel_job", json!({ "job_id": id })).await.status, 404);
    let listed = s.ok("bob@example.com", "list_jobs", json!({})).await;
    assert_eq!(listed["jobs"].as_array().unwrap().len(), 0);
    let listed = s.ok(ADMIN, "list_jobs", json!({})).await;
    assert_eq!(listed["jobs"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn protected_namespaces_are_absent_from_every_console_surface() {
    // An operator set the namespaces up before protecting them: a first server on the database.
    let data = tempfile::tempdir().unwrap();
    let database = common::TestDatabase::new(data.path());
    let url = database.url.clone();
    let before = TestServer::start_configured(url.clone(), tempfile::tempdir().unwrap(), "127.0.0.1:0", |_| {}).await;
    let open = before.ok("create_namespace", json!({ "title": "open" })).await["id"].as_str().unwrap().to_owned();
    let payroll = before.ok("create_namespace", json!({ "title": "payroll" })).await["id"].as_str().unwrap().to_owned();
    for ns in [&open, &payroll] {
        before.ok("put_key", json!({ "namespace_id": ns, "key": "salary-sheet", "value": "v" })).await;
    }
    let job =
        before.ok("start_export", json!({ "namespace_id": payroll })).await["job_id"].as_str().unwrap().to_owned();

    let s = TestServer::start_configured(url, tempfile::tempdir().unwrap(), "127.0.0.1:0", |c| {
        c.protected_namespaces = vec!["payroll".into()];
    })
    .await;
    let listed = s.ok("list_namespaces", json!({})).await;
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["namespaces"][0]["id"], open.as_str());
    for (name, input) in [
        ("get_namespace", json!({ "namespace_id": payroll })),
        ("list_keys", json!({ "namespace_id": payroll })),
        ("get_key", json!({ "namespace_id": payroll, "key": "salary-sheet" })),
        ("put_key", json!({ "namespace_id": payroll, "key": "k", "value": "v" })),
        ("delete_namespace", json!({ "namespace_id": payroll })),
        ("bulk_delete", json!({ "namespace_id": payroll, "prefix": "" })),
        ("start_export", json!({ "namespace_id": payroll })),
        ("get_job", json!({ "job_id": job })),
    ] {
        let res = s.call(name, input).await;
        assert_eq!(res.status, 404, "{name}: {}", res.text());
    }
    let found = s.ok("search_keys", json!({ "query": "salary" })).await;
    let hits = found["results"].as_array().unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["namespace_id"], open.as_str());
    let jobs = s.ok("list_jobs", json!({})).await;
    assert!(jobs["jobs"].as_array().unwrap().iter().all(|j| j["namespace_id"] != payroll.as_str()));
    let audit = s.ok("list_audit", json!({ "limit": 1000 })).await;
    let entries = audit["entries"].as_array().unwrap();
    assert!(!entries.is_empty());
    assert!(entries.iter().all(|e| e["namespace_id"] == open.as_str()), "{entries:?}");
    let csv = s.get("/api/audit.csv").await.text();
    assert!(!csv.contains(&payroll) && csv.contains(&open));
    assert_eq!(s.get(&format!("/api/jobs/{job}")).await.status, 404);
    assert!(!s.get("/").await.text().contains("payroll"));
    let res = s.call("create_namespace", json!({ "title": "payroll" })).await;
    assert_eq!(res.status, 409, "a protected title cannot be taken from the console: {}", res.text());
}

#[tokio::test]
async fn cross_site_requests_that_change_state_are_refused() {
    let server = TestServer::start().await;
    let host = server.addr.to_string();
    let own = format!("http://{host}");
    let create = |title: &str| serde_json::to_vec(&json!({ "title": title })).unwrap();
    let json_headers = |extra: Vec<(&'static str, String)>| {
        let mut headers =
            vec![("Content-Type", "application/json".to_owned()), ("Accept", "application/json".to_owned())];
        headers.extend(extra);
        headers
    };
    let send = |headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let server = &server;
        async move {
            let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            server.request("POST", "/api/create_namespace", &headers, &body).await
        }
    };

    // A form on another site posting to a server function: refused, nothing created.
    let form = send(
        vec![
            ("Content-Type", "application/x-www-form-urlencoded".into()),
            ("Origin", "https://evil.example".into()),
            ("Sec-Fetch-Site", "cross-site".into()),
            ("Sec-Fetch-Mode", "navigate".into()),
            ("Cookie", "kvm_theme=dark".into()),
        ],
        b"title=forged".to_vec(),
    )
    .await;
    assert_eq!(form.status, 403, "{}", form.text());
    assert!(form.text().contains("cross-site"));
    for (why, headers) in [
        ("another site (fetch metadata)", vec![("Sec-Fetch-Site", "cross-site".to_owned())]),
        ("a sibling subdomain", vec![("Sec-Fetch-Site", "same-site".to_owned())]),
        ("another origin (old browser)", vec![("Origin", "https://evil.example".to_owned())]),
        ("an opaque origin", vec![("Origin", "null".to_owned())]),
        ("cookies without a word on where from", vec![("Cookie", "kvm_theme=dark".to_owned())]),
    ] {
        let res = send(json_headers(headers), create("forged")).await;
        assert_eq!(res.status, 403, "{why}: {}", res.text());
    }
    let listed = server.ok("list_namespaces", json!({})).await;
    assert_eq!(listed["total"], 0, "a refused request created a namespace");

    // The console's own requests, and scripts without cookies, pass.
    let console = json_headers(vec![
        ("Sec-Fetch-Site", "same-origin".to_owned()),
        ("Origin", own.clone()),
        ("Cookie", "kvm_theme=dark".to_owned()),
    ]);
    assert_eq!(send(console, create("from-the-console")).await.status, 200);
    let older_browser = json_headers(vec![("Origin", own.clone()), ("Cookie", "kvm_theme=dark".to_owned())]);
    assert_eq!(send(older_browser, create("from-an-older-browser")).await.status, 200);
    assert_eq!(send(json_headers(vec![]), create("from-a-script")).await.status, 200);

    // A WebSocket opened from another site is refused before the upgrade.
    let res = server
        .request(
            "GET",
            "/api/jobs/export-01jz/ws",
            &[
                ("Connection", "Upgrade"),
                ("Upgrade", "websocket"),
                ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Origin", "https://evil.example"),
            ],
            b"",
        )
        .await;
    assert_eq!(res.status, 403);
    // Reads need no origin.
    assert_eq!(server.get("/").await.status, 200);
}

#[tokio::test]
async fn pages_carry_a_nonce_based_csp_and_every_response_the_security_headers() {
    let server = TestServer::start().await;
    let first = server.get("/").await;
    let second = server.get("/").await;
    let nonce_of = |res: &common::Response| {
        let csp = res.header("content-security-policy").expect("CSP").to_owned();
        let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("nonce").to_owned();
        (csp, nonce)
    };
    let (csp, nonce) = nonce_of(&first);
    assert_ne!(nonce, nonce_of(&second).1, "a nonce is used once");
    assert!(nonce.len() >= 16);
    for directive in ["default-src 'self'", "'wasm-unsafe-eval'", "frame-ancestors 'none'", "object-src 'none'"] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    // Scripts: never inline without the nonce, never eval (WebAssembly compilation aside).
    let scripts = csp.split(';').map(str::trim).find(|d| d.starts_with("script-src")).expect("script-src");
    assert!(!scripts.contains("'unsafe-inline'") && !scripts.contains(" 'unsafe-eval'"), "{scripts}");
    // Every inline script of the page carries the nonce.
    let html = first.text();
    let scripts: Vec<&str> = html.split("<script").skip(1).map(|s| s.split('>').next().unwrap_or_default()).collect();
    assert!(!scripts.is_empty());
    for attributes in scripts {
        assert!(attributes.contains(&format!("nonce=\"{nonce}\"")), "a script without the nonce: <script{attributes}>");
    }
    for res in [&first, &server.call("list_namespaces", json!({})).await, &server.get("/health").await] {
        assert_eq!(res.header("x-frame-options"), Some("DENY"));
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(res.header("referrer-policy"), Some("same-origin"));
    }
}

#[tokio::test]
async fn without_sign_in_the_server_refuses_a_public_address_unless_asked() {
    let bin = env!("CARGO_BIN_EXE_kv-manager");
    let dir = tempfile::tempdir().unwrap();
    let database = common::TestDatabase::new(dir.path());
    let url = database.url.clone();
    let out = std::process::Command::new(bin)
        .args(["serve", "--addr", "0.0.0.0:0", "--database-url", &url])
        .env_remove("TEAM_DOMAIN")
        .env_remove("KVM_TEAM_DOMAIN")
        .env_remove("KVM_AUTH")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--insecure-no-auth") && err.contains("0.0.0.0"), "{err}");
}

/// What a page on another site gets when its name has been re-pointed at 127.0.0.1 (DNS
/// rebinding): its own name in `Host`, and `Sec-Fetch-Site: same-origin` since the browser thinks
/// it is talking to that site. Every surface answers 421 before reading anything else.
#[tokio::test]
async fn requests_for_another_host_name_get_421_on_every_surface() {
    let server = TestServer::start().await;
    let port = server.addr.port();
    let ns = server.ok("create_namespace", json!({ "title": "victim" })).await["id"].as_str().unwrap().to_owned();
    let job = server.ok("start_export", json!({ "namespace_id": ns })).await["job_id"].as_str().unwrap().to_owned();
    let browser = [("Sec-Fetch-Site", "same-origin"), ("Sec-Fetch-Mode", "cors"), ("Content-Type", "application/json")];
    let websocket = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    type Case<'a> = (&'a str, String, &'a [(&'a str, &'a str)], &'a [u8]);
    let cases: Vec<Case> = vec![
        ("GET", "/".into(), &browser, b""),
        ("GET", format!("/namespaces/{ns}"), &browser, b""),
        ("POST", "/api/list_namespaces".into(), &browser, b"{}"),
        ("POST", "/api/create_api_token".into(), &browser, br#"{"name":"stolen"}"#),
        ("GET", format!("/api/jobs/{job}"), &browser, b""),
        ("GET", format!("/api/jobs/{job}/download"), &browser, b""),
        ("GET", format!("/api/jobs/{job}/ws"), &websocket, b""),
        ("POST", format!("/api/import/{ns}?format=ndjson"), &browser, b"{\"name\":\"k\",\"value\":\"v\"}\n"),
        ("GET", "/api/audit.csv".into(), &browser, b""),
        ("GET", "/client/v4/accounts/x/storage/kv/namespaces".into(), &[], b""),
        ("GET", "/v1/kv/some-key".into(), &[], b""),
        ("GET", "/docs".into(), &[], b""),
        ("GET", "/openapi.json".into(), &[], b""),
        ("GET", "/health".into(), &[], b""),
        ("GET", "/pkg/kv-manager.css".into(), &[], b""),
    ];
    let evil = format!("rebound.example:{port}");
    for host in [evil.as_str(), "127.0.0.1.rebound.example", "localhost.rebound.example", "rebound.example", "::1"] {
        for (method, path, headers, body) in &cases {
            let res = server.request_to(host, method, path, headers, body).await;
            assert_eq!(res.status, 421, "{method} {path} with Host {host:?}: {}", res.text());
            if !host.is_empty() {
                assert_eq!(res.json()["error"]["code"], "misdirected_request");
            }
        }
    }
    let tokens = server.ok("list_api_tokens", json!({})).await;
    assert_eq!(tokens.as_array().unwrap().len(), 0, "no token was minted through a rebound name");
    // The names of this machine, with or without a port, in any case, are answered.
    for host in [
        format!("localhost:{port}"),
        "LOCALHOST".into(),
        "localhost.".into(),
        format!("127.0.0.1:{port}"),
        "127.0.0.2".into(),
        format!("[::1]:{port}"),
    ] {
        let res = server.request_to(&host, "POST", "/api/list_namespaces", &browser, b"{}").await;
        assert_eq!(res.status, 200, "Host {host:?}: {}", res.text());
        assert_eq!(server.request_to(&host, "GET", "/health", &[], b"").await.status, 200);
    }
}

#[tokio::test]
async fn allowed_hosts_add_names_and_apply_in_access_mode_too() {
    let server = TestServer::configured("127.0.0.1:0", |c| {
        c.allowed_hosts = vec!["kv.internal".into(), "*.corp.example".into()];
    })
    .await;
    for (host, status) in [
        ("kv.internal:3000", 200),
        ("KV.internal", 200),
        ("eu.corp.example", 200),
        ("a.b.corp.example:8443", 200),
        ("corp.example", 421),
        ("evilcorp.example", 421),
        ("kv.internal.evil", 421),
        ("localhost", 200),
    ] {
        let res = server
            .request_to(host, "POST", "/api/list_namespaces", &[("Content-Type", "application/json")], b"{}")
            .await;
        assert_eq!(res.status, status, "Host {host:?}: {}", res.text());
    }

    // Access mode answers any name unless the list is set; then only the list (and loopback).
    let key = SigningKey::generate("k1");
    let team = Team::start(&[&key]).await;
    let token = key.sign(&team.claims(ADMIN));
    let headers = [("Cf-Access-Jwt-Assertion", token.as_str()), ("Content-Type", "application/json")];
    let open = TestServer::configured("127.0.0.1:0", |c| {
        c.auth = Auth::Access { team_domain: team.domain(), audience: AUDIENCE.into() };
    })
    .await;
    assert_eq!(open.request_to("kv.example.com", "POST", "/api/list_namespaces", &headers, b"{}").await.status, 200);
    let listed = TestServer::configured("127.0.0.1:0", |c| {
        c.auth = Auth::Access { team_domain: team.domain(), audience: AUDIENCE.into() };
        c.allowed_hosts = vec!["kv.example.com".into()];
    })
    .await;
    assert_eq!(listed.request_to("kv.example.com", "POST", "/api/list_namespaces", &headers, b"{}").await.status, 200);
    let res = listed.request_to("kv.rebound.example", "POST", "/api/list_namespaces", &headers, b"{}").await;
    assert_eq!(res.status, 421, "{}", res.text());
}

#[tokio::test]
async fn audit_rows_of_no_namespace_are_for_admins_only() {
    let s = Signed::start(&[]).await;
    let ns = s.ok(ADMIN, "create_namespace", json!({ "title": "shared" })).await["id"].as_str().unwrap().to_owned();
    s.ok(ADMIN, "create_api_token", json!({ "name": "deploy" })).await;
    s.ok(ADMIN, "create_service", json!({ "name": "billing", "storage": ns, "role": "admin", "prefix": "billing" }))
        .await;
    s.ok("ada@example.com", "put_key", json!({ "namespace_id": ns, "key": "k", "value": "v" })).await;
    let operations = |page: &Value| -> Vec<String> {
        page["entries"].as_array().unwrap().iter().map(|e| e["operation"].as_str().unwrap().to_owned()).collect()
    };
    let admin = operations(&s.ok(ADMIN, "list_audit", json!({})).await);
    for op in ["token.create", "service.create", "namespace.create", "key.create"] {
        assert!(admin.iter().any(|o| o == op), "admins see {op}: {admin:?}");
    }
    let user = operations(&s.ok("ada@example.com", "list_audit", json!({})).await);
    assert!(user.iter().any(|o| o == "key.create") && user.iter().any(|o| o == "namespace.create"), "{user:?}");
    assert!(!user.iter().any(|o| o.starts_with("token.") || o.starts_with("service.")), "{user:?}");
    let asked =
        s.ok("ada@example.com", "list_audit", json!({ "operations": ["token.create", "service.create"] })).await;
    assert_eq!(operations(&asked), Vec::<String>::new());
    let csv = s.get("ada@example.com", "/api/audit.csv").await.text();
    assert!(csv.contains("key.create") && !csv.contains("token.create") && !csv.contains("deploy"), "{csv}");
    assert!(s.get(ADMIN, "/api/audit.csv").await.text().contains("token.create"));
}

/// A namespace protected by id: its title is reserved, answered exactly as a title the list
/// names that no namespace has, so the reply tells nothing of the namespace.
#[tokio::test]
async fn a_protected_title_is_reserved_without_telling_whether_it_exists() {
    let data = tempfile::tempdir().unwrap();
    let database = common::TestDatabase::new(data.path());
    let url = database.url.clone();
    let before = TestServer::start_configured(url.clone(), tempfile::tempdir().unwrap(), "127.0.0.1:0", |_| {}).await;
    let secret =
        before.ok("create_namespace", json!({ "title": "acquisition-2027" })).await["id"].as_str().unwrap().to_owned();
    let s = TestServer::start_configured(url, tempfile::tempdir().unwrap(), "127.0.0.1:0", |c| {
        c.protected_namespaces = vec![secret.clone(), "never-made".into()];
    })
    .await;
    let mine = s.ok("create_namespace", json!({ "title": "mine" })).await["id"].as_str().unwrap().to_owned();
    let answer =
        |res: common::Response| (res.status, res.json()["error"]["message"].as_str().unwrap().replace('"', ""));
    let held = answer(s.call("create_namespace", json!({ "title": "acquisition-2027" })).await);
    let unheld = answer(s.call("create_namespace", json!({ "title": "never-made" })).await);
    assert_eq!(held.0, 409);
    assert_eq!(held.1.replace("acquisition-2027", "T"), unheld.1.replace("never-made", "T"), "the same answer");
    assert!(!held.1.contains(&secret) && !held.1.contains("already exists"), "{held:?}");
    let renamed =
        answer(s.call("rename_namespace", json!({ "namespace_id": mine, "title": "acquisition-2027" })).await);
    assert_eq!(renamed, held);
    // A title no namespace holds and the list does not name is free; a visible one is "taken".
    s.ok("rename_namespace", json!({ "namespace_id": mine, "title": "mine-2" })).await;
    let taken = answer(s.call("create_namespace", json!({ "title": "mine-2" })).await);
    assert_eq!(taken.0, 409);
    assert!(taken.1.contains("already exists"), "{taken:?}");
}

/// Keys and titles that a spreadsheet would run as formulas are written as text, and the file
/// stays RFC 4180.
#[tokio::test]
async fn the_audit_csv_never_hands_a_spreadsheet_a_formula() {
    let server = TestServer::start().await;
    let ns = server.ok("create_namespace", json!({ "title": "=cmd|' /C calc'!A0" })).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let keys = ["=HYPERLINK(\"http://x.example\",\"a,b\")", "+1+1", "-2", "@SUM(A1)", "\tTAB", "\rCR", "plain"];
    for key in keys {
        server.ok("put_key", json!({ "namespace_id": ns, "key": key, "value": "v" })).await;
    }
    let csv = server.get(&format!("/api/audit.csv?namespace_ids={ns}")).await;
    let mut reader = csv::Reader::from_reader(csv.body.as_slice());
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let cells: Vec<String> = records.iter().flat_map(|r| r.iter().map(str::to_owned).collect::<Vec<_>>()).collect();
    for cell in &cells {
        assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "a formula reached the CSV: {cell:?}");
    }
    for key in keys {
        let shown = if key == "plain" { key.to_owned() } else { format!("'{key}") };
        assert!(records.iter().any(|r| &r[7] == shown.as_str()), "{shown:?} not in {cells:?}");
    }
    assert!(records.iter().any(|r| &r[6] == "'=cmd|' /C calc'!A0"));
}
