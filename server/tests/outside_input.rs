//! Input from outside, generated. Extreme expirations on every surface that takes one (the script
//! API's `put_key` and `bulk_ttl`, import items, `/client/v4` values and bulk items, `/v1/kv`):
//! each answer is a 4xx naming the field, or a key that expires at least a minute from now and can
//! still be read, never a server error or a wrapped time that expires keys at once. Then property
//! tests of the parsers on the HTTP surfaces: `/v1/kv` key paths and prefixes, and `/client/v4`
//! multipart values.

mod common;

use std::time::Duration;

use common::{TestServer, encode};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

/// The edges, as JSON text, and random whole numbers (a fixed seed, so a failure repeats).
fn values() -> Vec<String> {
    let mut values: Vec<String> = [
        "0",
        "59",
        "60",
        "61",
        "-1",
        "-60",
        "3600",
        "120.0",
        "120.5",
        "1e300",
        "-1e300",
        "9007199254740991",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "18446744073709551615",
    ]
    .iter()
    .map(|v| v.to_string())
    .collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..8 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        values.push((state as i64).to_string());
    }
    values
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A refusal must be a client error that names `field`; an acceptance must leave `key` readable
/// with an expiration at least a minute ahead.
async fn judge(server: &TestServer, ns: &str, key: &str, res: &common::Response, field: &str, what: &str) {
    assert!(res.status < 500, "{what}: {} {}", res.status, res.text());
    if res.status >= 400 {
        assert!(res.text().contains(field), "{what}: the refusal names {field}: {}", res.text());
        return;
    }
    let got = server.call("get_key", json!({ "namespace_id": ns, "key": key })).await;
    assert_eq!(got.status, 200, "{what}: accepted, yet the key is gone: {}", got.text());
    let at = got.json()["expiration"].as_i64();
    assert!(at.is_some_and(|at| at >= now() + 59), "{what}: expiration {at:?} is not a minute ahead");
}

async fn finished(server: &TestServer, id: &str) -> Value {
    for _ in 0..500 {
        let job = server.ok("get_job", json!({ "job_id": id })).await;
        if !["queued", "running"].contains(&job["status"].as_str().unwrap()) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("job {id} did not end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_surface_refuses_or_sets_a_sane_expiration() {
    let server = TestServer::start().await;
    let cf_token = server.api_token("extremes");
    let ns = server.ok("create_namespace", json!({ "title": "extremes" })).await["id"].as_str().unwrap().to_owned();
    let admin = domain::Actor::new("admin", domain::Source::Cli, domain::Role::Admin);
    let spec = domain::services::ServiceSpec {
        name: "edge".into(),
        storage: ns.clone(),
        role: "admin".into(),
        prefix: "edge".into(),
        ..Default::default()
    };
    let (_, _, kevi_token) = server.state.as_ref().unwrap().services.create(&admin, &spec).await.unwrap();
    let cf = format!("/client/v4/accounts/{}/storage/kv/namespaces/{ns}", kv_manager::cf_api::DEFAULT_ACCOUNT_ID);
    let bearer = format!("Bearer {cf_token}");
    let json_type = ("Content-Type", "application/json");
    let script = [json_type, ("Accept", "application/json")];

    for (i, v) in values().iter().enumerate() {
        // The script API: put_key with either field.
        for field in ["expiration_ttl", "expiration"] {
            let key = format!("put-{field}-{i}");
            let body = format!(r#"{{"namespace_id":"{ns}","key":"{key}","value":"v","{field}":{v}}}"#);
            let res = server.request("POST", "/api/put_key", &script, body.as_bytes()).await;
            judge(&server, &ns, &key, &res, field, &format!("put_key {field}={v}")).await;
        }
        // bulk_ttl over one key, with either field: refused at start, or every key sane after.
        for field in ["expiration_ttl", "expiration"] {
            let key = format!("ttl-{field}-{i}");
            server.ok("put_key", json!({ "namespace_id": ns, "key": key, "value": "v" })).await;
            let body = format!(r#"{{"namespace_id":"{ns}","keys":["{key}"],"{field}":{v}}}"#);
            let res = server.request("POST", "/api/bulk_ttl", &script, body.as_bytes()).await;
            if res.status == 200 {
                let job = finished(&server, res.json()["job_id"].as_str().unwrap()).await;
                assert!(["completed", "failed"].contains(&job["status"].as_str().unwrap()), "{job}");
                let got = server.ok("get_key", json!({ "namespace_id": ns, "key": key })).await;
                let at = got["expiration"].as_i64();
                assert!(at.is_none_or(|at| at >= now() + 59), "bulk_ttl {field}={v}: {at:?}");
                if job["status"] == "completed" {
                    assert!(at.is_some(), "bulk_ttl {field}={v} completed without setting an expiration");
                }
            } else {
                judge(&server, &ns, &key, &res, field, &format!("bulk_ttl {field}={v}")).await;
            }
        }
        // An import item: refused item by item (the failure names the field), or imported sanely.
        for field in ["expiration_ttl", "expiration"] {
            let key = format!("import-{field}-{i}");
            let line = format!("{{\"name\":\"{key}\",\"value\":\"v\",\"{field}\":{v}}}\n");
            let res = server.request("POST", &format!("/api/import/{ns}?format=ndjson"), &[], line.as_bytes()).await;
            assert_eq!(res.status, 202, "{}", res.text());
            let job = finished(&server, res.json()["job_id"].as_str().unwrap()).await;
            assert!(["completed", "failed"].contains(&job["status"].as_str().unwrap()), "{job}");
            let got = server.call("get_key", json!({ "namespace_id": ns, "key": key })).await;
            if got.status == 200 {
                let at = got.json()["expiration"].as_i64();
                assert!(at.is_some_and(|at| at >= now() + 59), "import {field}={v}: {at:?}");
            } else {
                assert!(job.to_string().contains(field), "import {field}={v}: the failure names it: {job}");
            }
        }
        // /client/v4: a value with the expiration in its query, and a bulk item.
        for field in ["expiration_ttl", "expiration"] {
            let key = format!("cf-{field}-{i}");
            let path = format!("{cf}/values/{key}?{field}={v}");
            let res = server.request("PUT", &path, &[("Authorization", bearer.as_str())], b"v").await;
            judge(&server, &ns, &key, &res, field, &format!("/client/v4 value {field}={v}")).await;
            let key = format!("cfbulk-{field}-{i}");
            let body = format!(r#"[{{"key":"{key}","value":"v","{field}":{v}}}]"#);
            let res = server
                .request(
                    "PUT",
                    &format!("{cf}/bulk"),
                    &[("Authorization", bearer.as_str()), json_type],
                    body.as_bytes(),
                )
                .await;
            judge(&server, &ns, &key, &res, field, &format!("/client/v4 bulk {field}={v}")).await;
        }
        // /v1/kv: its ttl.
        let key = format!("kevi-{i}");
        let body = format!(r#"{{"value":1,"ttl":{v}}}"#);
        let res = server
            .request(
                "PUT",
                &format!("/v1/kv/{key}"),
                &[("X-Kevi-Token", kevi_token.as_str()), json_type],
                body.as_bytes(),
            )
            .await;
        judge(&server, &ns, &format!("edge:{key}"), &res, "ttl", &format!("/v1/kv ttl={v}")).await;
    }
    // Nothing was expired by any of it (the shortest accepted TTL is a minute, and the test is
    // shorter than that).
    let listed = server.ok("list_keys", json!({ "namespace_id": ns, "limit": 1000 })).await;
    let now = now();
    for key in listed["keys"].as_array().unwrap() {
        assert!(key["expiration"].as_i64().is_none_or(|at| at > now), "{key}");
    }
}

/// `count` values drawn from `strategy` with a fixed seed (a failure repeats; no shrinking).
fn draw<S: Strategy>(strategy: S, count: usize) -> Vec<S::Value> {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    );
    (0..count).map(|_| strategy.new_tree(&mut runner).expect("a value").current()).collect()
}

/// Any key a client may name in a `/v1/kv` path (slashes, colons, percent signs, spaces, dots,
/// any script): it is written under the service's prefix, read back whole, listed by any of its
/// prefixes with the service's prefix stripped, and never reaches another service's keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_key_path_round_trips_inside_its_service() {
    let server = TestServer::start().await;
    let ns = server.ok("create_namespace", json!({ "title": "paths" })).await["id"].as_str().unwrap().to_owned();
    let admin = domain::Actor::new("admin", domain::Source::Cli, domain::Role::Admin);
    let mut tokens = Vec::new();
    for (name, prefix) in [("svc", "svc"), ("svcx", "svc.x")] {
        let spec = domain::services::ServiceSpec {
            name: name.into(),
            storage: ns.clone(),
            role: "admin".into(),
            prefix: prefix.into(),
            ..Default::default()
        };
        tokens.push(server.state.as_ref().unwrap().services.create(&admin, &spec).await.unwrap().2);
    }
    let keys = draw(r"[a-z/:%. ?#&+=\\\u{e9}\u{4e16}\u{1f600}-]{1,24}", 60);
    let json_type = ("Content-Type", "application/json");
    for (i, key) in keys.iter().enumerate() {
        let headers = [("X-Kevi-Token", tokens[0].as_str()), json_type];
        let body = json!({ "value": { "i": i } }).to_string();
        let path = format!("/v1/kv/{}", encode(key));
        let res = server.request("PUT", &path, &headers, body.as_bytes()).await;
        assert!(res.status < 500, "PUT {key:?}: {}", res.text());
        assert_eq!(res.status, 200, "PUT {key:?}: {}", res.text());
        let got = server.request("GET", &path, &headers, b"").await;
        assert_eq!(got.json()["data"], json!({ "i": i }), "GET {key:?}");
        // Stored under the service's own prefix, nowhere else.
        let stored = server.ok("get_key", json!({ "namespace_id": ns, "key": format!("svc:{key}") })).await;
        assert_eq!(stored["value"], json!({ "i": i }).to_string());
        // Listed by a prefix of it, stripped of the service's prefix.
        let cut = key.char_indices().nth(key.chars().count() / 2).map_or(key.len(), |(at, _)| at);
        let listed =
            server.request("GET", &format!("/v1/kv?prefix={}&limit=1000", encode(&key[..cut])), &headers, b"").await;
        assert_eq!(listed.status, 200, "{}", listed.text());
        let names: Vec<String> =
            listed.json()["keys"].as_array().unwrap().iter().map(|k| k["name"].as_str().unwrap().to_owned()).collect();
        assert!(names.contains(key), "prefix {:?} lists {names:?}", &key[..cut]);
        // The other service (whose prefix starts like this one's) sees none of it.
        let other = [("X-Kevi-Token", tokens[1].as_str()), json_type];
        assert_eq!(server.request("GET", &path, &other, b"").await.status, 404, "{key:?} leaked to svc.x");
    }
    let other = [("X-Kevi-Token", tokens[1].as_str())];
    let listed = server.request("GET", "/v1/kv?limit=1000", &other, b"").await.json();
    assert_eq!(listed["keys"], json!([]), "svc.x lists nothing of svc's");
}

/// `/client/v4` multipart values: any value bytes and any metadata object round-trip, and any
/// body sent as multipart (well formed or not) gets an answer in Cloudflare's envelope, never a
/// server error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_multipart_value_round_trips_or_is_refused_in_the_envelope() {
    let server = TestServer::start().await;
    let token = server.api_token("multipart");
    let ns = server.ok("create_namespace", json!({ "title": "forms" })).await["id"].as_str().unwrap().to_owned();
    let base = format!("/client/v4/accounts/{}/storage/kv/namespaces/{ns}", kv_manager::cf_api::DEFAULT_ACCOUNT_ID);
    let bearer = format!("Bearer {token}");
    let boundary = "kvm-prop-boundary";
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let headers = [("Authorization", bearer.as_str()), ("Content-Type", content_type.as_str())];
    let cases = draw(
        (prop::collection::vec(any::<u8>(), 0..300), prop::collection::btree_map("[a-z]{1,6}", "\\PC{0,10}", 0..4)),
        40,
    );
    for (i, (value, metadata)) in cases.iter().enumerate() {
        if value.windows(boundary.len()).any(|w| w == boundary.as_bytes()) {
            continue;
        }
        let metadata = serde_json::to_string(metadata).unwrap();
        let mut form = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\n").into_bytes();
        form.extend_from_slice(value);
        form.extend_from_slice(
            format!("\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{metadata}\r\n--{boundary}--\r\n")
                .as_bytes(),
        );
        let path = format!("{base}/values/k{i}");
        let res = server.request("PUT", &path, &headers, &form).await;
        assert_eq!(res.status, 200, "case {i}: {}", res.text());
        let got = server.request("GET", &path, &[("Authorization", bearer.as_str())], b"").await;
        assert_eq!(&got.body, value, "case {i}: the value round-trips byte for byte");
        let meta =
            server.request("GET", &format!("{base}/metadata/k{i}"), &[("Authorization", bearer.as_str())], b"").await;
        let want: Value = serde_json::from_str(&metadata).unwrap();
        assert_eq!(meta.json()["result"], want, "case {i}");
    }
    let garbage = draw(prop::collection::vec(any::<u8>(), 0..200), 40);
    for (i, body) in garbage.iter().enumerate() {
        let mut form = format!("--{boundary}\r\n").into_bytes();
        form.extend_from_slice(body);
        let res = server.request("PUT", &format!("{base}/values/g{i}"), &headers, &form).await;
        assert!(res.status < 500, "garbage {i}: {} {}", res.status, res.text());
        assert!(res.json().get("success").is_some(), "garbage {i}: not the envelope: {}", res.text());
    }
}
