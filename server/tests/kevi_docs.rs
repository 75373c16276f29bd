//! The reference of the KV API: `GET /openapi.json` (OpenAPI 3.1) and `GET /docs` (HTML), and a
//! check that ties the document to the code: a running server is made to answer every status it
//! can (but 500, 502 and 503), and each (path, method, status) seen must be in the document; each
//! documented status must have been seen (but those three).

mod common;

use std::collections::BTreeSet;

use common::{Response, TestServer};
use serde_json::{Value, json};

const APP: &str = "https://app.example.com";
const EVIL: &str = "https://evil.example";
/// Statuses a test server cannot be made to answer: a failure of the server, of Cloudflare, of
/// the database.
const UNREACHABLE: [u16; 3] = [500, 502, 503];

/// A service made with the CLI over the server's database; answers its token.
fn service(server: &TestServer, name: &str, storage: &str, role: &str, prefix: &str) -> String {
    let url = server.database_url.clone().expect("a database");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kv-manager"))
        .args(["service", "create", name, "--storage", storage, "--role", role, "--prefix", prefix])
        .args(["--origin", APP, "--public", "pub/*", "--database-url", &url, "--config", "/dev/null"])
        .output()
        .expect("the CLI runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").lines().last().expect("a token").trim().to_owned()
}

async fn openapi(server: &TestServer) -> Value {
    let res = server.get("/openapi.json").await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.header("content-type").is_some_and(|t| t.starts_with("application/json")), "{:?}", res.headers);
    res.json()
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_every_path_and_the_token_scheme() {
    let server = TestServer::start().await;
    let doc = openapi(&server).await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")), "{}", doc["openapi"]);
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let expected: [(&str, &[&str]); 3] = [
        ("/v1/kv", &["get", "options"]),
        ("/v1/kv/{key}", &["get", "put", "post", "delete", "options"]),
        ("/health", &["get"]),
    ];
    for (path, methods) in expected {
        for method in methods {
            let op = &doc["paths"][path][method];
            assert!(op.is_object(), "{method} {path} is not documented");
            assert!(op["operationId"].is_string(), "{method} {path}: no operationId");
            let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{method} {path}: no responses"));
            for (status, response) in responses {
                assert!(response["description"].as_str().is_some_and(|d| !d.is_empty()), "{method} {path} {status}");
                // Every body is shown with an example.
                if let Some(content) = response.get("content") {
                    let media = content.as_object().and_then(|c| c.values().next()).expect("a media type");
                    if media["schema"] != json!({ "type": "string" }) {
                        assert!(media["examples"].is_object(), "{method} {path} {status}: no example");
                    }
                }
            }
        }
    }
    let key = &doc["paths"]["/v1/kv/{key}"]["get"]["parameters"];
    assert!(
        key.as_array().unwrap().iter().any(|p| p["name"] == "key" && p["in"] == "path" && p["required"] == true),
        "{key}"
    );
    assert!(doc["paths"]["/v1/kv/{key}"]["put"]["requestBody"]["content"]["application/json"]["schema"].is_object());
    let token = &doc["components"]["securitySchemes"]["KeviToken"];
    assert_eq!(
        (token["type"].as_str(), token["in"].as_str(), token["name"].as_str()),
        (Some("apiKey"), Some("header"), Some("X-Kevi-Token"))
    );
    assert_eq!(doc["components"]["securitySchemes"]["KeviService"]["name"], "X-Kevi-Service");
    // Reads and writes need the token; preflights and /health do not.
    assert_eq!(doc["paths"]["/v1/kv/{key}"]["get"]["security"][0], json!({ "KeviToken": [] }));
    assert_eq!(doc["paths"]["/v1/kv/{key}"]["options"]["security"], json!([]));
    assert_eq!(doc["paths"]["/health"]["get"]["security"], json!([]));
    // Every $ref resolves.
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r}"));
        assert!(doc["components"]["schemas"][name].is_object(), "{r} does not resolve");
    }
}

#[tokio::test]
async fn the_page_is_html_with_every_path_and_its_own_styles() {
    let server = TestServer::start().await;
    let doc = openapi(&server).await;
    let res = server.get("/docs").await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").is_some_and(|t| t.starts_with("text/html")), "{:?}", res.headers);
    let html = res.text();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(html.contains(&format!("<code>{path}</code>")), "{path} is not on the page");
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            assert!(html.contains(&format!("id=\"op-{id}\"")), "{method} {path} is not on the page");
            for status in op["responses"].as_object().unwrap().keys() {
                assert!(
                    html.contains(&format!("id=\"op-{id}-{status}\"")),
                    "{method} {path} {status} is not on the page"
                );
            }
        }
    }
    assert!(html.contains("X-Kevi-Token") && html.contains("X-Kevi-Service") && html.contains("Retry-After"));
    assert!(html.contains("Permission Denied"));
    // Styled by itself, working offline: inline CSS, no script, nothing loaded from elsewhere.
    assert!(html.contains("<style>"));
    for needle in ["<script", "<link", "src=", "@import", "url(", "http://", "//cdn"] {
        assert!(!html.contains(needle), "the page has {needle:?}");
    }
    let policy = res.header("content-security-policy").expect("a policy");
    assert!(policy.contains("default-src 'none'") && policy.contains("style-src 'unsafe-inline'"), "{policy}");
    assert!(!policy.contains("script-src"), "{policy}");
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    // The document itself keeps the strict policy of non-pages.
    let json = server.get("/openapi.json").await;
    assert!(json.header("content-security-policy").is_some_and(|p| p.starts_with("default-src 'none'")));
}

/// What the running server answered, by documented path.
#[derive(Default)]
struct Seen {
    calls: BTreeSet<(String, String, u16)>,
}

impl Seen {
    /// `path` as the document names it.
    fn template(path: &str) -> String {
        let path = path.split('?').next().unwrap_or_default();
        if path.starts_with("/v1/kv/") { "/v1/kv/{key}".to_owned() } else { path.to_owned() }
    }

    async fn send(
        &mut self,
        server: &TestServer,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        expect: u16,
    ) -> Response {
        let res = server.request(method, path, headers, body).await;
        assert_eq!(res.status, expect, "{method} {path}: {}", res.text());
        self.record(method, path, &res);
        res
    }

    fn record(&mut self, method: &str, path: &str, res: &Response) {
        self.calls.insert((Self::template(path), method.to_ascii_lowercase(), res.status));
        // Every failure of the API is {"error", "message"}; a 400 or 413 names the field.
        if res.status >= 400 && path.starts_with("/v1/") {
            let body = res.json();
            assert!(body["error"].is_string() && body["message"].is_string(), "{method} {path}: {body}");
            if res.status == 400 || res.status == 413 {
                assert!(body["field"].is_string(), "{method} {path}: no field in {body}");
            }
        }
    }
}

#[tokio::test]
async fn every_status_the_server_answers_is_documented() {
    let server = TestServer::start().await;
    let ns = server.ok("create_namespace", json!({ "title": "docs-check" })).await["id"].as_str().unwrap().to_owned();
    let writer = service(&server, "docs-writer", "docs-check", "admin", "w");
    let reader = service(&server, "docs-reader", "docs-check", "read-only", "r");
    let doc = openapi(&server).await;
    let mut seen = Seen::default();
    let w = [("X-Kevi-Token", writer.as_str()), ("Content-Type", "application/json")];
    let r = [("X-Kevi-Token", reader.as_str())];

    // 200s: write, read, list, delete.
    let body = json!({ "value": { "theme": "dark" }, "metadata": { "owner": "docs" }, "ttl": 3600 }).to_string();
    seen.send(&server, "PUT", "/v1/kv/user/42", &w, body.as_bytes(), 200).await;
    seen.send(&server, "POST", "/v1/kv/user/43", &w, br#"{"value":"plain"}"#, 200).await;
    // 409: a create-only write over a key that exists.
    let create_only = [w[0], w[1], ("If-None-Match", "*")];
    let conflict = seen.send(&server, "PUT", "/v1/kv/user/42", &create_only, br#"{"value":1}"#, 409).await.json();
    assert_eq!(
        (conflict["field"].as_str(), conflict["current"]["data"].clone()),
        (Some("version"), json!({ "theme": "dark" }))
    );
    seen.send(&server, "POST", "/v1/kv/user/43", &create_only, br#"{"value":1}"#, 409).await;
    let read = seen.send(&server, "GET", "/v1/kv/user/42", &w, b"", 200).await.json();
    assert_eq!(read["data"], json!({ "theme": "dark" }));
    assert_eq!(read["metadata"]["owner"], "docs");
    let list = seen.send(&server, "GET", "/v1/kv?prefix=user/&limit=1", &w, b"", 200).await.json();
    assert_eq!(list["keys"][0]["name"], "user/42");
    assert!(list["cursor"].is_string());
    seen.send(&server, "DELETE", "/v1/kv/user/43", &w, b"", 200).await;

    // 204: preflights.
    let preflight = [("Origin", APP), ("Access-Control-Request-Method", "PUT")];
    let res = seen.send(&server, "OPTIONS", "/v1/kv/user/42", &preflight, b"", 204).await;
    assert_eq!(res.header("access-control-allow-origin"), Some(APP));
    seen.send(&server, "OPTIONS", "/v1/kv", &[("Origin", APP)], b"", 204).await;

    // 400, naming the field.
    let long = format!("/v1/kv/{}", "k".repeat(600));
    for (method, path, headers, body) in [
        ("GET", "/v1/kv?limit=0", &w[..], &b""[..]),
        ("GET", "/v1/kv?limit=1&limit=2", &w[..], b""),
        ("GET", long.as_str(), &w[..], b""),
        ("GET", "/v1/kv/", &w[..], b""),
        ("DELETE", long.as_str(), &w[..], b""),
        ("PUT", "/v1/kv/a", &w[..], b"not json"),
        ("PUT", "/v1/kv/a", &w[..], br#"{"metadata":{}}"#),
        ("POST", "/v1/kv/a", &w[..], br#"{"value":1,"ttl":5}"#),
        ("PUT", "/v1/kv/a", &w[..], br#"{"value":1,"tags":["x"]}"#),
        ("OPTIONS", "/v1/kv/a", &[][..], b""),
        ("OPTIONS", "/v1/kv", &[][..], b""),
    ] {
        seen.send(&server, method, path, headers, body, 400).await;
    }

    // 401: no token, an unknown one.
    seen.send(&server, "GET", "/v1/kv", &[], b"", 401).await;
    seen.send(&server, "GET", "/v1/kv/user/42", &[("X-Kevi-Token", "0".repeat(64).as_str())], b"", 401).await;
    seen.send(&server, "PUT", "/v1/kv/a", &[("X-Kevi-Token", "nope")], br#"{"value":1}"#, 401).await;
    seen.send(&server, "POST", "/v1/kv/a", &[], br#"{"value":1}"#, 401).await;
    seen.send(&server, "DELETE", "/v1/kv/a", &[], b"", 401).await;

    // 403: an origin the service does not allow (a public key may be read from anywhere), a
    // preflight from such an origin or for a method the path does not take, a read-only service
    // writing.
    let evil = [("X-Kevi-Token", writer.as_str()), ("Origin", EVIL)];
    seen.send(&server, "GET", "/v1/kv/user/42", &evil, b"", 403).await;
    seen.send(&server, "GET", "/v1/kv", &evil, b"", 403).await;
    seen.send(&server, "DELETE", "/v1/kv/user/42", &evil, b"", 403).await;
    seen.send(&server, "PUT", "/v1/kv/user/42", &evil, br#"{"value":1}"#, 403).await;
    seen.send(&server, "GET", "/v1/kv/pub/missing", &evil, b"", 404).await;
    seen.send(&server, "OPTIONS", "/v1/kv/user/42", &[("Origin", EVIL)], b"", 403).await;
    seen.send(&server, "OPTIONS", "/v1/kv", &[("Origin", EVIL)], b"", 403).await;
    seen.send(&server, "OPTIONS", "/v1/kv", &[("Origin", APP), ("Access-Control-Request-Method", "PUT")], b"", 403)
        .await;
    let denied = seen.send(&server, "PUT", "/v1/kv/mine", &r, br#"{"value":1}"#, 403).await.json();
    assert_eq!(
        (denied["error"].as_str(), denied["required"].as_str(), denied["current"].as_str()),
        (Some("Permission Denied"), Some("admin"), Some("read-only")),
        "{denied}"
    );
    seen.send(&server, "POST", "/v1/kv/mine", &r, br#"{"value":1}"#, 403).await;
    seen.send(&server, "DELETE", "/v1/kv/mine", &r, b"", 403).await;

    // 404: a key that does not exist (a service sees only its own keys).
    seen.send(&server, "GET", "/v1/kv/user/42", &r, b"", 404).await;
    seen.send(&server, "DELETE", "/v1/kv/user/43", &w, b"", 404).await;

    // 405: methods the paths do not take.
    for (method, path) in
        [("POST", "/v1/kv"), ("PUT", "/v1/kv"), ("DELETE", "/v1/kv"), ("PATCH", "/v1/kv"), ("PATCH", "/v1/kv/a")]
    {
        let res = seen.send(&server, method, path, &w, b"{}", 405).await;
        assert!(res.header("allow").is_some(), "{method} {path}: no Allow header");
    }

    // 413, naming the field: metadata over 1024 bytes; a value over 25 MiB.
    let big_metadata = json!({ "value": 1, "metadata": { "note": "m".repeat(1100) } }).to_string();
    seen.send(&server, "PUT", "/v1/kv/a", &w, big_metadata.as_bytes(), 413).await;
    let big_value = format!("{{\"value\":\"{}\"}}", "v".repeat(domain::limits::MAX_VALUE_BYTES));
    let res = seen.send(&server, "POST", "/v1/kv/a", &w, big_value.as_bytes(), 413).await;
    assert_eq!(res.json()["field"], "value");

    // 429 with Retry-After, on a server allowing a token 1 request a second (bursts of 2): each
    // operation is sent until refused (the limit is checked before anything but the token).
    let slow = TestServer::configured("127.0.0.1:0", |c| c.kevi.rate = 1).await;
    slow.ok("create_namespace", json!({ "title": "docs-slow" })).await;
    let token = service(&slow, "docs-slow", "docs-slow", "admin", "s");
    let t = [("X-Kevi-Token", token.as_str())];
    for (method, path, body) in [
        ("GET", "/v1/kv", &b""[..]),
        ("GET", "/v1/kv/a", b""),
        ("PUT", "/v1/kv/a", br#"{"value":1}"#),
        ("POST", "/v1/kv/a", br#"{"value":1}"#),
        ("DELETE", "/v1/kv/a", b""),
    ] {
        let mut refused = None;
        for _ in 0..10 {
            let res = slow.request(method, path, &t, body).await;
            if res.status == 429 {
                refused = Some(res);
                break;
            }
        }
        let res = refused.unwrap_or_else(|| panic!("{method} {path}: no 429 in 10 requests at a rate of 1/s"));
        assert!(res.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1)), "{:?}", res.headers);
        seen.record(method, path, &res);
    }

    // /health.
    seen.send(&server, "GET", "/health", &[], b"", 200).await;

    // 404: the service's namespace deleted.
    server.ok("delete_namespace", json!({ "namespace_id": ns })).await;
    for (method, path, body) in [
        ("GET", "/v1/kv", &b""[..]),
        ("GET", "/v1/kv/user/42", b""),
        ("PUT", "/v1/kv/user/44", br#"{"value":1}"#),
        ("POST", "/v1/kv/user/44", br#"{"value":1}"#),
        ("DELETE", "/v1/kv/user/42", b""),
    ] {
        let res = server.request(method, path, &w, body).await;
        assert_eq!(res.status, 404, "{method} {path} with the namespace deleted: {}", res.text());
        seen.record(method, path, &res);
    }

    // Each answer seen is documented...
    let paths = &doc["paths"];
    for (path, method, status) in &seen.calls {
        let responses = &paths[path.as_str()][method.as_str()]["responses"];
        assert!(responses.get(status.to_string()).is_some(), "{method} {path} answered {status}: not documented");
    }
    // ...and each documented answer of the API was seen (but failures a test cannot cause).
    for (path, item) in paths.as_object().unwrap() {
        if !path.starts_with("/v1/") && path != "/health" {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            for status in op["responses"].as_object().unwrap().keys() {
                let status: u16 = status.parse().unwrap();
                let key = (path.clone(), method.clone(), status);
                assert!(
                    UNREACHABLE.contains(&status) || seen.calls.contains(&key),
                    "{method} {path} {status} is documented but was never answered here"
                );
            }
        }
    }
}
