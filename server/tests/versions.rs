//! Version tokens over real HTTP on every surface that reads and writes keys (issue 20): a read
//! answers the key's version (`ETag`, or `version` in a server function's result), a write
//! that sends it back is made only while the key is still at it, and a stale one gets `409`
//! and leaves the value alone. Writes without a token behave as before.

mod common;

use common::{Response, TestServer, encode};
use domain::services::ServiceSpec;
use domain::{Actor, Role, Source};
use kv_manager::cf_api::DEFAULT_ACCOUNT_ID;
use serde_json::{Value, json};

async fn namespace(server: &TestServer, title: &str) -> String {
    server.ok("create_namespace", json!({ "title": title })).await["id"].as_str().unwrap().to_owned()
}

/// The `ETag` of a response, without its quotes.
fn etag(res: &Response) -> String {
    let tag = res.header("etag").unwrap_or_else(|| panic!("no ETag: {} {}", res.status, res.text()));
    assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() > 2, "a strong tag: {tag}");
    tag.trim_matches('"').to_owned()
}

#[tokio::test]
async fn the_console_api_checks_the_version_a_read_answered() {
    let server = TestServer::start().await;
    let ns = namespace(&server, "versions-console").await;
    let put = |value: &str, extra: Value| {
        let mut input = json!({ "namespace_id": ns, "key": "doc", "value": value });
        input.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        input
    };
    // A write without a version: as before, and it tells the version it made.
    let first = server.ok("put_key", put("one", json!({}))).await;
    let v1 = first["version"].as_str().unwrap().to_owned();
    let read = server.ok("get_key", json!({ "namespace_id": ns, "key": "doc" })).await;
    assert_eq!(read["version"], v1.as_str(), "a read answers the version the write made");
    // Based on the version read: written, with a new version.
    let second = server.ok("put_key", put("two", json!({ "version": v1 }))).await;
    let v2 = second["version"].as_str().unwrap().to_owned();
    assert_ne!(v1, v2);
    // A second editor still on the first version: refused, saying who and when, value kept.
    let stale = server.call("put_key", put("three", json!({ "version": v1 }))).await;
    assert_eq!(stale.status, 409, "{}", stale.text());
    let body = stale.json();
    assert_eq!(body["error"]["field"], "version", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("was changed by") && message.contains(&v2), "{message}");
    let now = server.ok("get_key", json!({ "namespace_id": ns, "key": "doc" })).await;
    assert_eq!((now["value"].as_str(), now["version"].as_str()), (Some("two"), Some(v2.as_str())));
    // Create-only: refused over a key, made where there is none.
    let taken = server.call("put_key", put("x", json!({ "create_only": true }))).await;
    assert_eq!(taken.status, 409, "{}", taken.text());
    let fresh = json!({ "namespace_id": ns, "key": "new", "value": "n", "create_only": true });
    assert!(server.ok("put_key", fresh).await["version"].is_string());
    // A key deleted and made again never takes an old version back.
    server.ok("delete_key", json!({ "namespace_id": ns, "key": "doc" })).await;
    let gone = server.call("put_key", put("again", json!({ "version": v2 }))).await;
    assert_eq!(gone.status, 409, "{}", gone.text());
    assert!(gone.text().contains("was deleted"), "{}", gone.text());
    let remade = server.ok("put_key", put("again", json!({}))).await;
    assert!(remade["version"] != v1.as_str() && remade["version"] != v2.as_str(), "{remade}");
    // A version no read could have answered is refused by name before anything is read.
    let long = "r".repeat(domain::MAX_VERSION_BYTES + 1);
    let refused = server.call("put_key", put("z", json!({ "version": long }))).await;
    assert_eq!(
        (refused.status, refused.json()["error"]["field"].as_str()),
        (400, Some("version")),
        "{}",
        refused.text()
    );
    // Both at once make no sense.
    let both = server.call("put_key", put("y", json!({ "version": "r1", "create_only": true }))).await;
    assert_eq!((both.status, both.json()["error"]["field"].as_str()), (400, Some("version")), "{}", both.text());
}

fn admin() -> Actor {
    Actor::new("test-admin", Source::Cli, Role::Admin)
}

#[tokio::test]
async fn v1_kv_answers_etags_and_honours_if_match() {
    let server = TestServer::start().await;
    namespace(&server, "versions-kevi").await;
    let spec = ServiceSpec {
        name: "app".into(),
        storage: "versions-kevi".into(),
        role: "admin".into(),
        prefix: "app".into(),
        ..Default::default()
    };
    let services = &server.state.as_ref().unwrap().services;
    let token = services.create(&admin(), &spec).await.unwrap().2;
    let send = |method: &'static str, value: Option<Value>, condition: Option<(&'static str, String)>| {
        let token = token.clone();
        let server = &server;
        async move {
            let body = value.map(|v| serde_json::to_vec(&json!({ "value": v })).unwrap()).unwrap_or_default();
            let mut headers = vec![("X-Kevi-Token", token.as_str()), ("Content-Type", "application/json")];
            if let Some((name, value)) = &condition {
                headers.push((name, value.as_str()));
            }
            server.request(method, "/v1/kv/settings", &headers, &body).await
        }
    };
    let written = send("PUT", Some(json!({ "theme": "dark" })), None).await;
    assert_eq!(written.status, 200, "{}", written.text());
    let v1 = etag(&written);
    let read = send("GET", None, None).await;
    assert_eq!(etag(&read), v1, "the read's ETag is the write's");
    // If-Match with the current version (quoted, as the ETag came): written, new ETag.
    let next = send("PUT", Some(json!({ "theme": "light" })), Some(("If-Match", format!("\"{v1}\"")))).await;
    assert_eq!(next.status, 200, "{}", next.text());
    let v2 = etag(&next);
    assert_ne!(v1, v2);
    // A stale one: 409 with the key as it is now, and the value unchanged.
    let stale = send("PUT", Some(json!({ "theme": "blue" })), Some(("If-Match", format!("\"{v1}\"")))).await;
    assert_eq!(stale.status, 409, "{}", stale.text());
    let body = stale.json();
    assert_eq!(body["field"], "version", "{body}");
    assert_eq!(body["current"]["data"], json!({ "theme": "light" }), "{body}");
    assert_eq!(body["current"]["version"], v2.as_str(), "{body}");
    assert_eq!(send("GET", None, None).await.json()["data"], json!({ "theme": "light" }));
    // If-None-Match: * creates only.
    let exists = send("PUT", Some(json!(1)), Some(("If-None-Match", "*".to_owned()))).await;
    assert_eq!(exists.status, 409, "{}", exists.text());
    let headers = [("X-Kevi-Token", token.as_str()), ("If-None-Match", "*")];
    let created = server.request("PUT", "/v1/kv/fresh", &headers, br#"{"value": 1}"#).await;
    assert_eq!(created.status, 200, "{}", created.text());
    etag(&created);
    // Headers that name no version are refused by name, and nothing is written.
    for (name, value, field) in [
        ("If-Match", "*", "If-Match"),
        ("If-Match", "W/\"r1\"", "If-Match"),
        ("If-Match", "\"a\", \"b\"", "If-Match"),
        ("If-None-Match", "\"r1\"", "If-None-Match"),
    ] {
        let res = send("PUT", Some(json!("no")), Some((name, value.to_owned()))).await;
        assert_eq!((res.status, res.json()["field"].as_str()), (400, Some(field)), "{name}: {value}: {}", res.text());
    }
    // Empty headers are no condition: the write is made as without them.
    let headers = [("X-Kevi-Token", token.as_str()), ("If-Match", ""), ("If-None-Match", " ")];
    let unconditional = server.request("PUT", "/v1/kv/fresh", &headers, br#"{"value": 2}"#).await;
    assert_eq!(unconditional.status, 200, "{}", unconditional.text());
    assert_eq!(server.request("GET", "/v1/kv/fresh", &headers[..1], b"").await.json()["data"], json!(2));
    // Both at once never hold (the key cannot both exist at a version and not exist): 409.
    let headers = [("X-Kevi-Token", token.as_str()), ("If-Match", v2.as_str()), ("If-None-Match", "*")];
    let both = server.request("PUT", "/v1/kv/settings", &headers, br#"{"value": "both"}"#).await;
    assert_eq!((both.status, both.json()["field"].as_str()), (409, Some("If-None-Match")), "{}", both.text());
    assert_eq!(send("GET", None, None).await.json()["data"], json!({ "theme": "light" }));
}

#[tokio::test]
async fn client_v4_answers_etags_and_honours_if_match_as_an_extension() {
    let server = TestServer::start().await;
    let ns = namespace(&server, "versions-cf").await;
    let token = server.api_token("versions");
    let bearer = format!("Bearer {token}");
    let path = format!("/client/v4/accounts/{DEFAULT_ACCOUNT_ID}/storage/kv/namespaces/{ns}/values/{}", encode("a/b"));
    let send = |method: &'static str, body: &'static [u8], condition: Option<(&'static str, String)>| {
        let (bearer, path, server) = (bearer.clone(), path.clone(), &server);
        async move {
            let mut headers = vec![("Authorization", bearer.as_str())];
            if let Some((name, value)) = &condition {
                headers.push((name, value.as_str()));
            }
            server.request(method, &path, &headers, body).await
        }
    };
    // Cloudflare's clients send no condition: as before.
    let written = send("PUT", b"one", None).await;
    assert_eq!(written.status, 200, "{}", written.text());
    let v1 = etag(&written);
    let read = send("GET", b"", None).await;
    assert_eq!((read.body.as_slice(), etag(&read)), (&b"one"[..], v1.clone()));
    let next = send("PUT", b"two", Some(("If-Match", format!("\"{v1}\"")))).await;
    assert_eq!(next.status, 200, "{}", next.text());
    let v2 = etag(&next);
    let stale = send("PUT", b"three", Some(("If-Match", format!("\"{v1}\"")))).await;
    assert_eq!(stale.status, 409, "{}", stale.text());
    assert_eq!(stale.json()["success"], false);
    assert_eq!(etag(&stale), v2, "the 409 carries the version the key is at");
    assert_eq!(send("GET", b"", None).await.body, b"two");
    let exists = send("PUT", b"four", Some(("If-None-Match", "*".to_owned()))).await;
    assert_eq!(exists.status, 409, "{}", exists.text());
    let bad = send("PUT", b"five", Some(("If-Match", "*".to_owned()))).await;
    assert_eq!(bad.status, 400, "{}", bad.text());
    assert_eq!(send("GET", b"", None).await.body, b"two");
}

/// Over the Cloudflare backend the version is a hash of what Cloudflare holds: a write made on
/// Cloudflare directly (another instance here) changes it, and a stale write is refused.
#[tokio::test]
async fn over_cloudflare_a_write_made_elsewhere_is_seen() {
    let cloudflare = TestServer::start().await;
    let secret = cloudflare.api_token("instance-b");
    let ours = TestServer::over_cloudflare(format!("http://{}/client/v4", cloudflare.addr), secret).await;
    let ns =
        ours.ok("create_namespace", json!({ "title": "versions-remote" })).await["id"].as_str().unwrap().to_owned();
    // Metadata and an expiration are part of what the version covers.
    let key = |value: &str, version: Option<&str>| {
        json!({
            "namespace_id": ns, "key": "doc", "value": value, "version": version,
            "metadata": { "owner": "ops", "n": [1, 2] }, "expiration_ttl": 3600,
        })
    };
    let v1 = ours.ok("put_key", key("one", None)).await["version"].as_str().unwrap().to_owned();
    let read = ours.ok("get_key", json!({ "namespace_id": ns, "key": "doc" })).await;
    assert_eq!(read["version"], v1.as_str(), "the read's version is the write's");
    // Someone writes on Cloudflare itself, not through us.
    cloudflare.ok("put_key", key("theirs", None)).await;
    let stale = ours.call("put_key", key("mine", Some(&v1))).await;
    assert_eq!(stale.status, 409, "{}", stale.text());
    assert_eq!(stale.json()["error"]["field"], "version");
    let now = ours.ok("get_key", json!({ "namespace_id": ns, "key": "doc" })).await;
    assert_eq!(now["value"], "theirs");
    let current = now["version"].as_str().unwrap().to_owned();
    assert_ne!(current, v1);
    let written = ours.ok("put_key", key("mine", Some(&current))).await;
    assert_ne!(written["version"], current.as_str());
    assert_eq!(cloudflare.ok("get_key", json!({ "namespace_id": ns, "key": "doc" })).await["value"], "mine");
    // Create-only: refused over the key Cloudflare holds, made where it holds none.
    let create = |key: &str| json!({ "namespace_id": ns, "key": key, "value": "new", "create_only": true });
    let taken = ours.call("put_key", create("doc")).await;
    assert_eq!((taken.status, taken.json()["error"]["field"].as_str()), (409, Some("version")), "{}", taken.text());
    assert_eq!(cloudflare.ok("get_key", json!({ "namespace_id": ns, "key": "doc" })).await["value"], "mine");
    ours.ok("put_key", create("fresh")).await;
    assert_eq!(cloudflare.ok("get_key", json!({ "namespace_id": ns, "key": "fresh" })).await["value"], "new");
}

/// A rename over the script API, on the local store and on the Cloudflare backend: the key
/// moves whole (value, metadata, expiration, tags, history), a taken name is refused unless
/// overwrite is asked, and a stale version refuses it too.
#[tokio::test]
async fn a_key_is_renamed_whole_locally_and_over_cloudflare() {
    let cloudflare = TestServer::start().await;
    let secret = cloudflare.api_token("instance-rename");
    let remote = TestServer::over_cloudflare(format!("http://{}/client/v4", cloudflare.addr), secret).await;
    let mut remote_id = None;
    for (server, title) in [(&cloudflare, "rename-local"), (&remote, "rename-remote")] {
        let ns = namespace(server, title).await;
        if title == "rename-remote" {
            remote_id = Some(ns.clone());
        }
        let put = |key: &str, value: &str| json!({ "namespace_id": ns, "key": key, "value": value, "metadata": { "m": 1 }, "expiration_ttl": 3600 });
        server.ok("put_key", put("old", "one")).await;
        let v2 = server.ok("put_key", put("old", "two")).await["version"].as_str().unwrap().to_owned();
        let details =
            json!({ "namespace_id": ns, "key": "old", "tags": ["blue"], "custom_metadata": { "owner": "ops" } });
        server.ok("put_key_details", details).await;
        let before = server.ok("get_key", json!({ "namespace_id": ns, "key": "old" })).await;

        let rename = |from: &str, to: &str, extra: Value| {
            let mut input = json!({ "namespace_id": ns, "key": from, "new_name": to });
            input.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            input
        };
        let renamed = server.ok("rename_key", rename("old", "new", json!({ "version": v2 }))).await;
        let after = server.ok("get_key", json!({ "namespace_id": ns, "key": "new" })).await;
        assert_eq!(after["version"], renamed["version"], "{title}");
        for field in ["value", "metadata", "expiration"] {
            assert_eq!(after[field], before[field], "{title}: {field}");
        }
        let old = server.call("get_key", json!({ "namespace_id": ns, "key": "old" })).await;
        assert_eq!(old.status, 404, "{title}: {}", old.text());
        let details = server.ok("get_key_details", json!({ "namespace_id": ns, "key": "new" })).await;
        assert_eq!(
            (&details["tags"], &details["custom_metadata"]),
            (&json!(["blue"]), &json!({ "owner": "ops" })),
            "{title}"
        );
        let history = server.ok("list_key_versions", json!({ "namespace_id": ns, "key": "new" })).await;
        assert_eq!(history["versions"].as_array().map(Vec::len), Some(1), "{title}: {history}");

        // Taken: 409 naming new_name, both keys as they were; with overwrite, replaced.
        server.ok("put_key", put("other", "three")).await;
        let taken = server.call("rename_key", rename("other", "new", json!({}))).await;
        assert_eq!(
            (taken.status, taken.json()["error"]["field"].as_str()),
            (409, Some("new_name")),
            "{title}: {}",
            taken.text()
        );
        assert_eq!(server.ok("get_key", json!({ "namespace_id": ns, "key": "new" })).await["value"], "two");
        server.ok("rename_key", rename("other", "new", json!({ "overwrite": true }))).await;
        assert_eq!(server.ok("get_key", json!({ "namespace_id": ns, "key": "new" })).await["value"], "three");
        // A stale version, a missing key, a bad name: refused by field.
        let stale = server.call("rename_key", rename("new", "newer", json!({ "version": v2 }))).await;
        assert_eq!(
            (stale.status, stale.json()["error"]["field"].as_str()),
            (409, Some("version")),
            "{title}: {}",
            stale.text()
        );
        let missing = server.call("rename_key", rename("nothing", "x", json!({}))).await;
        assert_eq!((missing.status, missing.json()["error"]["field"].as_str()), (404, Some("key")), "{title}");
        let empty = server.call("rename_key", rename("new", "", json!({}))).await;
        assert_eq!((empty.status, empty.json()["error"]["field"].as_str()), (400, Some("new_name")), "{title}");
    }
    // On Cloudflare itself the key is under its new name only (the backend takes Cloudflare's ids).
    let id = remote_id.expect("the remote namespace");
    assert_eq!(cloudflare.ok("get_key", json!({ "namespace_id": id, "key": "new" })).await["value"], "three");
    let gone = cloudflare.call("get_key", json!({ "namespace_id": id, "key": "other" })).await;
    assert_eq!(gone.status, 404, "{}", gone.text());
}
