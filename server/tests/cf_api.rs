//! The Cloudflare-compatible API (`/client/v4`) against Cloudflare's contract: every endpoint, its
//! envelope, statuses and codes, pagination as wrangler and the SDKs do it, API tokens made by the
//! real CLI.

mod common;

use std::process::Command;

use base64::Engine;
use common::{Response, TestServer, encode};
use kv_manager::cf_api::DEFAULT_ACCOUNT_ID;
use serde_json::{Value, json};

struct Cf {
    server: TestServer,
    token: String,
}

fn cli(server: &TestServer, args: &[&str]) -> std::process::Output {
    let url = server.database_url.clone().expect("database");
    Command::new(env!("CARGO_BIN_EXE_kv-manager"))
        .args(args)
        .args(["--database-url", &url, "--config", "/dev/null"])
        .output()
        .expect("kv-manager")
}

/// A token made with `kv-manager token create`: the secret alone on the last line of stdout.
fn make_token(server: &TestServer, name: &str, read_only: bool) -> String {
    let mut args = vec!["token", "create", "--name", name];
    if read_only {
        args.push("--read-only");
    }
    let out = cli(server, &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last = stdout.lines().last().expect("a line").to_owned();
    assert!(last.starts_with("kvm_") && !last.contains(' '), "last line: {last:?}");
    last
}

fn ns_path(rest: &str) -> String {
    format!("/client/v4/accounts/{DEFAULT_ACCOUNT_ID}/storage/kv/namespaces{rest}")
}

impl Cf {
    async fn start() -> Self {
        let server = TestServer::start().await;
        let token = make_token(&server, "deploy-bot", false);
        Self { server, token }
    }

    async fn send(&self, method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> Response {
        self.send_as(&self.token, method, path, content_type, body).await
    }

    async fn send_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Response {
        let bearer = format!("Bearer {token}");
        let mut headers = vec![("Authorization", bearer.as_str())];
        if let Some(content_type) = content_type {
            headers.push(("Content-Type", content_type));
        }
        self.server.request(method, path, &headers, body).await
    }

    async fn json(&self, method: &str, path: &str, body: Value) -> Response {
        self.send(method, path, Some("application/json"), &serde_json::to_vec(&body).unwrap()).await
    }

    /// A call that must succeed: its `result` (and `result_info`).
    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> (Value, Value) {
        let res = match body {
            Some(body) => self.json(method, path, body).await,
            None => self.send(method, path, None, b"").await,
        };
        let envelope = res.json();
        assert_eq!(res.status, 200, "{method} {path}: {}", res.text());
        assert_eq!(envelope["success"], true);
        assert_eq!(envelope["errors"], json!([]));
        assert_eq!(envelope["messages"], json!([]));
        (envelope["result"].clone(), envelope["result_info"].clone())
    }

    async fn create(&self, title: &str) -> String {
        let (ns, _) = self.ok("POST", &ns_path(""), Some(json!({ "title": title }))).await;
        ns["id"].as_str().unwrap().to_owned()
    }
}

/// A failure envelope with this status and code.
fn fails(res: &Response, status: u16, code: u64) -> String {
    let envelope = res.json();
    assert_eq!((res.status, envelope["errors"][0]["code"].as_u64()), (status, Some(code)), "{}", res.text());
    assert_eq!(envelope["success"], false);
    assert_eq!(envelope["result"], Value::Null);
    envelope["errors"][0]["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn tokens_sign_in_and_are_refused_when_missing_wrong_read_only_or_revoked() {
    let cf = Cf::start().await;
    let res = cf.server.get(&ns_path("")).await;
    assert!(fails(&res, 401, 10000).contains("Bearer"));
    fails(&cf.send_as("kvm_0000", "GET", &ns_path(""), None, b"").await, 401, 10000);
    let (verified, _) = cf.ok("GET", "/client/v4/user/tokens/verify", None).await;
    assert_eq!(verified["status"], "active");
    let (accounts, _) = cf.ok("GET", "/client/v4/accounts", None).await;
    assert_eq!(accounts[0]["id"], DEFAULT_ACCOUNT_ID);
    let (memberships, _) = cf.ok("GET", "/client/v4/memberships", None).await;
    assert_eq!(memberships[0]["account"]["id"], DEFAULT_ACCOUNT_ID);

    let ns = cf.create("tokens").await;
    let reader = make_token(&cf.server, "dashboards", true);
    let put = ns_path(&format!("/{ns}/values/k"));
    fails(&cf.send_as(&reader, "PUT", &put, None, b"v").await, 403, 10000);
    assert_eq!(cf.send("PUT", &put, None, b"v").await.status, 200);
    let read = cf.send_as(&reader, "GET", &put, None, b"").await;
    assert_eq!((read.status, read.body.as_slice()), (200, b"v".as_slice()));

    // Revoked with the CLI: refused at once. The list shows it, never a secret.
    let out = cli(&cf.server, &["token", "revoke", "dashboards"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    fails(&cf.send_as(&reader, "GET", &put, None, b"").await, 401, 10000);
    let listed = String::from_utf8(cli(&cf.server, &["token", "list"]).stdout).unwrap();
    assert!(listed.contains("dashboards") && listed.contains("deploy-bot"));
    assert!(!listed.contains("kvm_"));

    // Changes are audited in the token's name, with the cf-api source.
    let audit = cf.server.ok("list_audit", json!({ "namespace_ids": [ns] })).await;
    let ops: Vec<(String, String, String)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["operation"].as_str().unwrap().into(),
                e["user"].as_str().unwrap().into(),
                e["source"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(ops.contains(&("key.create".into(), "deploy-bot".into(), "cf-api".into())), "{ops:?}");
    assert!(ops.contains(&("namespace.create".into(), "deploy-bot".into(), "cf-api".into())), "{ops:?}");
}

#[tokio::test]
async fn namespaces_page_until_an_empty_page_in_either_order() {
    let cf = Cf::start().await;
    let mut ids = Vec::new();
    for title in ["delta", "alpha", "echo", "charlie", "bravo"] {
        ids.push(cf.create(title).await);
    }
    let (created, _) = cf.ok("GET", &ns_path(&format!("/{}", ids[1])), None).await;
    assert_eq!(created, json!({ "id": ids[1], "title": "alpha", "supports_url_encoding": true }));
    fails(&cf.json("POST", &ns_path(""), json!({ "title": "alpha" })).await, 400, 10014);
    fails(&cf.json("POST", &ns_path(""), json!({})).await, 400, 10001);

    // As the TypeScript SDK pages: page + 1 until an empty page.
    let mut titles = Vec::new();
    for page in 1.. {
        let (result, info) = cf.ok("GET", &ns_path(&format!("?page={page}&per_page=2")), None).await;
        let result = result.as_array().unwrap().clone();
        assert_eq!((info["page"].as_u64(), info["per_page"].as_u64()), (Some(page), Some(2)));
        assert_eq!(info["total_count"], 5);
        assert_eq!(info["count"].as_u64(), Some(result.len() as u64));
        if result.is_empty() {
            assert_eq!(page, 4);
            break;
        }
        titles.extend(result.iter().map(|n| n["title"].as_str().unwrap().to_owned()));
    }
    assert_eq!(titles, ["alpha", "bravo", "charlie", "delta", "echo"]);
    let (desc, _) = cf.ok("GET", &ns_path("?order=title&direction=desc&per_page=1000"), None).await;
    let desc: Vec<&str> = desc.as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap()).collect();
    assert_eq!(desc, ["echo", "delta", "charlie", "bravo", "alpha"]);
    let (by_id, _) = cf.ok("GET", &ns_path("?order=id"), None).await;
    let by_id: Vec<String> = by_id.as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_owned()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(by_id, sorted);
    fails(&cf.send("GET", &ns_path("?per_page=1001"), None, b"").await, 400, 10001);
    fails(&cf.send("GET", &ns_path("?order=size"), None, b"").await, 400, 10001);

    let (renamed, _) = cf.ok("PUT", &ns_path(&format!("/{}", ids[0])), Some(json!({ "title": "foxtrot" }))).await;
    assert_eq!(renamed["title"], "foxtrot");
    fails(&cf.json("PUT", &ns_path(&format!("/{}", ids[0])), json!({ "title": "echo" })).await, 400, 10014);
    let (deleted, _) = cf.ok("DELETE", &ns_path(&format!("/{}", ids[0])), None).await;
    assert_eq!(deleted, Value::Null);
    fails(&cf.send("GET", &ns_path(&format!("/{}", ids[0])), None, b"").await, 404, 10013);
    fails(&cf.send("GET", &ns_path("/0123456789abcdef0123456789abcdef/keys"), None, b"").await, 404, 10013);
    let other_account = format!("/client/v4/accounts/{}/storage/kv/namespaces", "f".repeat(32));
    fails(&cf.send("GET", &other_account, None, b"").await, 404, 7003);
    fails(&cf.send("GET", "/client/v4/zones", None, b"").await, 404, 7000);
}

#[tokio::test]
async fn values_metadata_and_expiration_behave_as_on_cloudflare() {
    let cf = Cf::start().await;
    let ns = cf.create("values").await;
    let value_path = |key: &str| ns_path(&format!("/{ns}/values/{}", encode(key)));
    let now = chrono::Utc::now().timestamp();

    // Raw bytes in and out, any bytes, any key characters (percent-encoded).
    let binary: Vec<u8> = (0..=255).collect();
    for key in ["plain", "with/slash and space", "ünïcødé ✓", "a?b#c%d"] {
        let (result, _) = {
            let res = cf.send("PUT", &value_path(key), Some("application/octet-stream"), &binary).await;
            assert_eq!(res.status, 200, "{key}: {}", res.text());
            (res.json()["result"].clone(), ())
        };
        assert_eq!(result, Value::Null);
        let got = cf.send("GET", &value_path(key), None, b"").await;
        assert_eq!((got.status, &got.body), (200, &binary), "{key}");
        assert!(got.header("expiration").is_none());
    }
    // expiration_ttl wins over expiration; the value answers with its expiration header.
    let res = cf
        .send("PUT", &format!("{}?expiration_ttl=3600&expiration={}", value_path("ttl"), now + 99_999), None, b"x")
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let at: i64 = cf.send("GET", &value_path("ttl"), None, b"").await.header("expiration").unwrap().parse().unwrap();
    assert!((now + 3600..=now + 3610).contains(&at), "{at}");
    let message =
        fails(&cf.send("PUT", &format!("{}?expiration_ttl=30", value_path("ttl")), None, b"x").await, 400, 10001);
    assert!(message.contains("expiration_ttl"), "{message}");
    fails(&cf.send("PUT", &format!("{}?expiration=soon", value_path("ttl")), None, b"x").await, 400, 10001);

    // Multipart with metadata, as the TypeScript SDK and wrangler send it.
    let boundary = "----kvm-test-boundary";
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nhello\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{{\"owner\":\"ops\",\"n\":1}}\r\n--{boundary}--\r\n"
    );
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let res = cf.send("PUT", &value_path("with-meta"), Some(&content_type), form.as_bytes()).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(cf.send("GET", &value_path("with-meta"), None, b"").await.body, b"hello");
    let (metadata, _) = cf.ok("GET", &ns_path(&format!("/{ns}/metadata/with-meta")), None).await;
    assert_eq!(metadata, json!({ "owner": "ops", "n": 1 }));
    let (none, _) = cf.ok("GET", &ns_path(&format!("/{ns}/metadata/plain")), None).await;
    assert_eq!(none, Value::Null);
    let big = format!("{{\"m\":\"{}\"}}", "x".repeat(1100));
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nv\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{big}\r\n--{boundary}--\r\n"
    );
    fails(&cf.send("PUT", &value_path("big-meta"), Some(&content_type), form.as_bytes()).await, 413, 10011);
    fails(&cf.send("PUT", &value_path(&"k".repeat(513)), None, b"v").await, 414, 10033);

    // Missing keys: 404 with 10009; delete answers success either way.
    fails(&cf.send("GET", &value_path("nope"), None, b"").await, 404, 10009);
    fails(&cf.send("GET", &ns_path(&format!("/{ns}/metadata/nope")), None, b"").await, 404, 10009);
    cf.ok("DELETE", &value_path("plain"), None).await;
    fails(&cf.send("GET", &value_path("plain"), None, b"").await, 404, 10009);
    cf.ok("DELETE", &value_path("plain"), None).await;
}

#[tokio::test]
async fn bulk_write_list_get_and_delete_as_wrangler_does() {
    let cf = Cf::start().await;
    let ns = cf.create("bulk").await;
    let now = chrono::Utc::now().timestamp();
    let items: Vec<Value> = (0..2500)
        .map(|i| match i % 3 {
            0 => json!({ "key": format!("k{i:05}"), "value": format!("value {i}") }),
            1 => json!({
                "key": format!("k{i:05}"),
                "value": base64::engine::general_purpose::STANDARD.encode([0u8, 1, 2, i as u8]),
                "base64": true,
                "metadata": { "i": i },
            }),
            _ => json!({ "key": format!("k{i:05}"), "value": "{\"json\":true}", "expiration_ttl": 3600 }),
        })
        .collect();
    let (result, _) = cf.ok("PUT", &ns_path(&format!("/{ns}/bulk")), Some(Value::Array(items))).await;
    assert_eq!(result, json!({ "successful_key_count": 2500, "unsuccessful_keys": [] }));

    // As wrangler lists: while the cursor is not empty.
    let mut names = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let (page, info) = cf.ok("GET", &ns_path(&format!("/{ns}/keys?limit=1000&cursor={cursor}")), None).await;
        pages += 1;
        let page = page.as_array().unwrap().clone();
        assert_eq!(info["count"].as_u64(), Some(page.len() as u64));
        for key in &page {
            let i: usize = key["name"].as_str().unwrap()[1..].parse().unwrap();
            match i % 3 {
                1 => assert_eq!(key["metadata"], json!({ "i": i })),
                2 => assert!(key["expiration"].as_i64().unwrap() >= now + 3600),
                _ => assert!(key.get("metadata").is_none() && key.get("expiration").is_none(), "{key}"),
            }
        }
        names.extend(page.iter().map(|k| k["name"].as_str().unwrap().to_owned()));
        cursor = info["cursor"].as_str().unwrap().to_owned();
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names.len(), 2500);
    assert!(names.windows(2).all(|w| w[0] < w[1]));
    let (prefixed, info) = cf.ok("GET", &ns_path(&format!("/{ns}/keys?prefix=k001&limit=10")), None).await;
    assert_eq!(prefixed.as_array().unwrap().len(), 10);
    assert_eq!(prefixed[0]["name"], "k00100");
    assert!(!info["cursor"].as_str().unwrap().is_empty());
    fails(&cf.send("GET", &ns_path(&format!("/{ns}/keys?limit=5")), None, b"").await, 400, 10001);

    // Bulk get: text, json, with metadata; missing keys are null; at most 100 keys.
    let (got, _) = cf
        .ok("POST", &ns_path(&format!("/{ns}/bulk/get")), Some(json!({ "keys": ["k00000", "k00002", "missing"] })))
        .await;
    assert_eq!(got, json!({ "values": { "k00000": "value 0", "k00002": "{\"json\":true}", "missing": null } }));
    let (got, _) = cf
        .ok(
            "POST",
            &ns_path(&format!("/{ns}/bulk/get")),
            Some(json!({ "keys": ["k00002"], "type": "json", "withMetadata": true })),
        )
        .await;
    assert_eq!(got["values"]["k00002"]["value"], json!({ "json": true }));
    assert!(got["values"]["k00002"]["expiration"].as_i64().unwrap() >= now + 3600);
    let text_only = json!({ "keys": ["k00000"], "type": "json" });
    fails(&cf.json("POST", &ns_path(&format!("/{ns}/bulk/get")), text_only).await, 400, 10001);
    let too_many: Vec<String> = (0..101).map(|i| format!("k{i:05}")).collect();
    fails(&cf.json("POST", &ns_path(&format!("/{ns}/bulk/get")), json!({ "keys": too_many })).await, 400, 10001);
    let raw = cf.send("GET", &ns_path(&format!("/{ns}/values/k00001")), None, b"").await;
    assert_eq!(raw.body, [0, 1, 2, 1]);

    // One bad item: nothing is written, and the item is named.
    let bad = json!([
        { "key": "fine", "value": "v" },
        { "key": "short-ttl", "value": "v", "expiration_ttl": 10 },
    ]);
    let message = fails(&cf.json("PUT", &ns_path(&format!("/{ns}/bulk")), bad).await, 400, 10001);
    assert!(message.starts_with("[1]."), "{message}");
    fails(&cf.send("GET", &ns_path(&format!("/{ns}/values/fine")), None, b"").await, 404, 10009);
    let too_many: Vec<Value> = (0..10_001).map(|i| json!({ "key": format!("x{i}"), "value": "v" })).collect();
    fails(&cf.json("PUT", &ns_path(&format!("/{ns}/bulk")), Value::Array(too_many)).await, 400, 10001);
    fails(&cf.send("PUT", &ns_path(&format!("/{ns}/bulk")), Some("application/json"), b"[{").await, 400, 10001);

    // Both delete forms: POST .../bulk/delete and wrangler's DELETE .../bulk.
    let first: Vec<String> = names[..1000].to_vec();
    let (result, _) = cf.ok("POST", &ns_path(&format!("/{ns}/bulk/delete")), Some(json!(first))).await;
    assert_eq!(result["successful_key_count"], 1000);
    let rest: Vec<String> = names[1000..].to_vec();
    let (result, _) = cf.ok("DELETE", &ns_path(&format!("/{ns}/bulk")), Some(json!(rest))).await;
    assert_eq!(result["successful_key_count"], 1500);
    let (left, info) = cf.ok("GET", &ns_path(&format!("/{ns}/keys")), None).await;
    assert_eq!((left, info["cursor"].clone()), (json!([]), json!("")));
}

#[tokio::test]
async fn the_console_lists_makes_and_revokes_tokens() {
    let cf = Cf::start().await;
    let made = cf.server.ok("create_api_token", json!({ "name": "from-console", "read_only": true })).await;
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert_eq!(made["token"]["read_only"], true);
    let path = ns_path("");
    let (listed, _) = {
        let res = cf.send_as(&secret, "GET", &path, None, b"").await;
        assert_eq!(res.status, 200, "{}", res.text());
        (res.json()["result"].clone(), ())
    };
    assert_eq!(listed, json!([]));
    let tokens = cf.server.ok("list_api_tokens", json!({})).await;
    let names: Vec<&str> = tokens.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["from-console", "deploy-bot"]);
    assert!(tokens[0]["last_used_at"].is_string(), "{tokens}");
    assert!(!tokens.to_string().contains("kvm_"), "a secret is listed");
    let duplicate = cf.server.call("create_api_token", json!({ "name": "from-console" })).await;
    assert_eq!(duplicate.status, 409);
    let revoked = cf.server.ok("revoke_api_token", json!({ "token": made["token"]["id"] })).await;
    assert!(revoked["revoked_at"].is_string());
    fails(&cf.send_as(&secret, "GET", &path, None, b"").await, 401, 10000);
    assert_eq!(cf.server.call("revoke_api_token", json!({ "token": made["token"]["id"] })).await.status, 409);
}

/// What real clients send and hit: bulk items with fields Cloudflare ignores, bodies that are
/// too large or do not parse, methods a route does not take: every answer is Cloudflare's
/// envelope with its code.
#[tokio::test]
async fn bulk_items_with_extra_fields_and_refused_bodies_answer_in_the_envelope() {
    let cf = Cf::start().await;
    let ns = cf.create("contract").await;
    let items = json!([
        { "key": "a", "value": "1", "expiration_ttl": 600, "metadata": null, "type": "text", "neverKnown": {"x": 1} },
        { "key": "b", "value": "Mg==", "base64": true, "bulk": true },
    ]);
    let (result, _) = cf.ok("PUT", &ns_path(&format!("/{ns}/bulk")), Some(items)).await;
    assert_eq!(result["successful_key_count"], 2);
    let value = cf.send("GET", &ns_path(&format!("/{ns}/values/b")), None, b"").await;
    assert_eq!(value.body, b"2");

    // Not JSON, not a list, a field of the wrong type: 400 with code 10001, in the envelope.
    for body in [&b"{not json"[..], b"{\"key\":\"a\"}", b"[{\"key\":1,\"value\":\"v\"}]"] {
        let res = cf.send("PUT", &ns_path(&format!("/{ns}/bulk")), Some("application/json"), body).await;
        fails(&res, 400, 10001);
    }
    // A body past the limit: 413, code 10011, in the envelope.
    let head = format!(
        "PUT {} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        ns_path(&format!("/{ns}/bulk")),
        cf.server.addr,
        cf.token,
        kv_manager::cf_api::MAX_BULK_BYTES + 2 * 1024 * 1024
    );
    let res = cf.server.raw(&head, &[b"[{\"key\":"]).await;
    fails(&res, 413, 10011);
    // A multipart value whose form is broken.
    let res = cf
        .send(
            "PUT",
            &ns_path(&format!("/{ns}/values/m")),
            Some("multipart/form-data; boundary=xyz"),
            b"--xyz\r\nbroken",
        )
        .await;
    let envelope = res.json();
    assert_eq!(envelope["success"], false, "{}", res.text());
    assert!(res.status == 400 || res.status == 422, "{}", res.text());
    // A method the route does not take.
    let res = cf.send("PATCH", &ns_path(&format!("/{ns}/bulk")), None, b"").await;
    assert_eq!(res.json()["success"], false, "{}", res.text());
    assert_eq!(res.status, 405);
}
