//! `/metrics` over real HTTP (issue 18): after key operations through the console's server
//! functions, `/client/v4` and `/v1/kv`, the Prometheus counters and the rollups equal what the
//! test did; only admins and the holder of the metrics token may read them.

mod common;
#[path = "../../domain/tests/common/jwks.rs"]
mod jwks;

use std::collections::BTreeMap;

use common::{Response, TestServer};
use domain::metrics::{Resolution, STORAGE};
use domain::services::ServiceSpec;
use domain::{Actor, Role, Source};
use jwks::{AUDIENCE, SigningKey, Team};
use kv_manager::cf_api::DEFAULT_ACCOUNT_ID;
use kv_manager::config::Auth;
use serde_json::json;

const TOKEN: &str = "metrics-token-for-tests-0123456789";

/// The samples of one metric: its labels (sorted by name) and value.
fn samples(text: &str, metric: &str) -> BTreeMap<Vec<(String, String)>, f64> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some(rest) = line.strip_prefix(metric) else { continue };
        let (labels, value) = match rest.strip_prefix('{') {
            Some(rest) => {
                let (labels, value) = rest.split_once("} ").expect("labels end before the value");
                (labels, value)
            }
            None => match rest.strip_prefix(' ') {
                Some(value) => ("", value),
                None => continue, // another metric whose name starts with this one's
            },
        };
        let mut pairs: Vec<(String, String)> = labels
            .split("\",")
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once("=\"").expect("name=\"value\"");
                (name.to_owned(), value.trim_end_matches('"').to_owned())
            })
            .collect();
        pairs.sort();
        out.insert(pairs, value.trim().parse().expect("a number"));
    }
    out
}

/// The value of the sample of `metric` with exactly these labels (0 when there is none).
fn value(text: &str, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let mut wanted: Vec<(String, String)> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    wanted.sort();
    samples(text, metric).get(&wanted).copied().unwrap_or(0.0)
}

/// Key operations of `surface` (and `service`) per operation, summed over outcomes, from `/metrics`.
fn key_operations(text: &str, surface: &str, service: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (labels, n) in samples(text, "kvm_key_operations_total") {
        let label = |name: &str| labels.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default();
        if label("surface") == surface && label("service") == service {
            *out.entry(label("operation").to_owned()).or_default() += n;
        }
    }
    out
}

fn ops(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

async fn scrape(server: &TestServer, bearer: Option<&str>) -> Response {
    let header = bearer.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = header.iter().map(|h| ("Authorization", h.as_str())).collect();
    server.request("GET", "/metrics", &headers, b"").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_and_rollups_equal_what_each_surface_did() {
    let server = TestServer::configured("127.0.0.1:0", |c| c.metrics.token = Some(TOKEN.into())).await;
    let state = server.state.clone().expect("a server started here");
    let ns = server.ok("create_namespace", json!({ "title": "metrics" })).await["id"].as_str().unwrap().to_owned();

    // The script API (server functions without a browser's headers).
    for key in ["a", "b"] {
        server.ok("put_key", json!({ "namespace_id": ns, "key": key, "value": "v" })).await;
    }
    server.ok("get_key", json!({ "namespace_id": ns, "key": "a" })).await;
    server.ok("list_keys", json!({ "namespace_id": ns })).await;
    server.ok("delete_key", json!({ "namespace_id": ns, "key": "b" })).await;
    // The console (a browser's fetch from its own page).
    let body = serde_json::to_vec(&json!({ "namespace_id": ns, "key": "a" })).unwrap();
    let browser = [
        ("Content-Type", "application/json"),
        ("Accept", "application/json"),
        ("Sec-Fetch-Mode", "cors"),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    let res = server.request("POST", "/api/get_key", &browser, &body).await;
    assert_eq!(res.status, 200, "{}", res.text());

    // The Cloudflare-compatible API.
    let cf_token = server.api_token("metrics-bot");
    let bearer = format!("Bearer {cf_token}");
    let cf = |rest: &str| format!("/client/v4/accounts/{DEFAULT_ACCOUNT_ID}/storage/kv/namespaces/{ns}{rest}");
    for (method, path, body) in [
        ("PUT", cf("/values/c"), &b"hello"[..]),
        ("GET", cf("/values/c"), b""),
        ("GET", cf("/keys"), b""),
        ("DELETE", cf("/values/c"), b""),
    ] {
        let res = server.request(method, &path, &[("Authorization", bearer.as_str())], body).await;
        assert_eq!(res.status, 200, "{method} {path}: {}", res.text());
    }

    // The multi-tenant API, as the service web-app.
    let admin = Actor::new("test-admin", Source::Cli, Role::Admin);
    let spec = ServiceSpec {
        name: "web-app".into(),
        storage: ns.clone(),
        role: "admin".into(),
        prefix: "web".into(),
        ..Default::default()
    };
    let kevi_token = state.services.create(&admin, &spec).await.expect("service").2;
    let kevi = [("X-Kevi-Token", kevi_token.as_str()), ("Content-Type", "application/json")];
    for (method, path, body) in [
        ("PUT", "/v1/kv/k1", &br#"{"value":{"plan":"pro"}}"#[..]),
        ("GET", "/v1/kv/k1", b""),
        ("GET", "/v1/kv?limit=100", b""),
        ("DELETE", "/v1/kv/k1", b""),
    ] {
        let res = server.request(method, path, &kevi, body).await;
        assert_eq!(res.status, 200, "{method} {path}: {}", res.text());
    }

    let res = scrape(&server, Some(TOKEN)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let text = res.text();
    let four = ops(&[("delete", 1.0), ("list", 1.0), ("read", 1.0), ("write", 1.0)]);
    let by_surface = [
        ("script", "", ops(&[("delete", 1.0), ("list", 1.0), ("read", 1.0), ("write", 2.0)])),
        ("console", "", ops(&[("read", 1.0)])),
        ("cf-api", "", four.clone()),
        ("kevi", "web-app", four),
    ];
    for (surface, service, expected) in &by_surface {
        assert_eq!(&key_operations(&text, surface, service), expected, "{surface} in\n{text}");
    }
    assert_eq!(
        value(&text, "kvm_key_operation_keys_total", &[("surface", "script"), ("service", ""), ("operation", "write")]),
        2.0
    );

    // Requests by route template, never the raw path.
    let request = |route: &str, method: &str, surface: &str| {
        value(
            &text,
            "kvm_http_requests_total",
            &[("route", route), ("method", method), ("status", "200"), ("surface", surface)],
        )
    };
    assert_eq!(request("/v1/kv/{*key}", "PUT", "kevi"), 1.0, "{text}");
    assert_eq!(request("/v1/kv/{*key}", "GET", "kevi"), 1.0);
    assert_eq!(request("/v1/kv", "GET", "kevi"), 1.0);
    let values = "/client/v4/accounts/{account_id}/storage/kv/namespaces/{namespace_id}/values/{*key}";
    assert_eq!(request(values, "GET", "cf-api"), 1.0, "{text}");
    assert_eq!(request("/api/put_key", "POST", "script"), 2.0, "{text}");
    assert_eq!(request("/api/get_key", "POST", "console"), 1.0);
    assert!(!text.contains("/v1/kv/k1") && !text.contains("values/c"), "no raw path is a label:\n{text}");
    assert!(
        value(&text, "kvm_http_request_duration_seconds_count", &[("route", "/v1/kv/{*key}"), ("surface", "kevi")])
            >= 3.0
    );
    // Jobs by status and the pool are there.
    assert!(text.contains("kvm_db_pool_connections{state=\"max\"}"), "{text}");
    assert_eq!(samples(&text, "kvm_jobs").len(), 6, "every status, zeros too: {text}");
    assert_eq!(value(&text, "kvm_jobs", &[("status", "running")]), 0.0);

    // The dashboard's numbers are the same (it writes the counts not yet written first).
    let board = server.ok("get_dashboard", json!({ "range": "1h", "namespace_id": ns })).await;
    let totals = &board["totals"];
    let kinds = ["reads", "writes", "deletes", "lists"].map(|k| totals[k].as_u64().unwrap());
    assert_eq!(kinds, [4, 4, 3, 3], "reads, writes, deletes, lists: {board}");
    let summed = board["ops"].as_array().unwrap().iter().fold(0, |sum, p| {
        sum + ["reads", "writes", "deletes", "lists"].iter().map(|k| p[*k].as_u64().unwrap()).sum::<u64>()
    });
    assert_eq!(summed, 14, "the points add up to the totals");
    let named = |list: &serde_json::Value| -> Vec<(String, u64)> {
        let list = list.as_array().unwrap().iter();
        list.map(|u| (u["name"].as_str().unwrap().to_owned(), u["operations"].as_u64().unwrap())).collect()
    };
    let expected_surfaces = [("script", 5), ("cf-api", 4), ("kevi", 4), ("console", 1)];
    assert_eq!(named(&board["surfaces"]), expected_surfaces.map(|(s, n)| (s.to_owned(), n)).to_vec());
    assert_eq!(named(&board["services"]), vec![("web-app".to_owned(), 4)]);
    assert!(board["health"].is_null(), "the health panel is on the view of every namespace");
    let all = server.ok("get_dashboard", json!({ "range": "24h" })).await;
    assert_eq!(all["top_namespaces"][0]["id"], ns.as_str());
    assert_eq!(all["top_namespaces"][0]["operations"], 14);
    assert_eq!(all["health"]["without_backup"], 1, "{all}");
    let bad = server
        .request("POST", "/api/get_dashboard", &[("Content-Type", "application/json")], br#"{"range":"2d"}"#)
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text());
    assert!(bad.text().contains("range"), "{}", bad.text());

    // The rollups hold the same numbers for the namespace, once flushed.
    state.kv.metrics().flush().await.expect("flush");
    let now = domain::now_unix();
    let rows = state.kv.metrics().rollups(Resolution::Hour, now - 7200, now + 3600).await.expect("rollups");
    for (surface, service, expected) in &by_surface {
        let mut found = BTreeMap::new();
        for row in rows.iter().filter(|r| r.namespace_id == ns && r.surface == *surface && r.service == *service) {
            assert_ne!(row.operation, STORAGE);
            *found.entry(row.operation.clone()).or_default() += row.counts.operations as f64;
        }
        assert_eq!(&found, expected, "rollups of {surface}");
    }

    // A wrong token is refused, whoever sends it.
    let res = scrape(&server, Some("not-the-metrics-token-0123456789")).await;
    assert_eq!(res.status, 401, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_and_the_token_holder_read_metrics_when_users_sign_in() {
    const ADMIN: &str = "root@example.com";
    const USER: &str = "someone@example.com";
    let key = SigningKey::generate("k1");
    let team = Team::start(&[&key]).await;
    let domain_name = team.domain();
    let server = TestServer::configured("127.0.0.1:0", |c| {
        c.auth = Auth::Access { team_domain: domain_name, audience: AUDIENCE.into() };
        c.admins = vec![ADMIN.into()];
        c.metrics.token = Some(TOKEN.into());
    })
    .await;
    let as_user = |email: &str| key.sign(&team.claims(email));

    let res = scrape(&server, None).await;
    assert_eq!(res.status, 401, "no sign-in, no token: {}", res.text());
    let user = as_user(USER);
    let res = server.request("GET", "/metrics", &[("Cf-Access-Jwt-Assertion", user.as_str())], b"").await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert!(res.json()["error"]["message"].as_str().unwrap_or_default().contains("metrics"), "{}", res.text());
    let admin = as_user(ADMIN);
    let res = server.request("GET", "/metrics", &[("Cf-Access-Jwt-Assertion", admin.as_str())], b"").await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.text().contains("kvm_http_requests_total"));
    // A scraper has no sign-in: the token alone is enough, a wrong one is refused.
    assert_eq!(scrape(&server, Some(TOKEN)).await.status, 200);
    assert_eq!(scrape(&server, Some("0123456789abcdef0123456789")).await.status, 401);
    // The refusals were counted too, under the route they were refused on.
    let text = scrape(&server, Some(TOKEN)).await.text();
    assert_eq!(
        value(
            &text,
            "kvm_http_requests_total",
            &[("route", "/metrics"), ("method", "GET"), ("status", "403"), ("surface", "script")]
        ),
        1.0,
        "{text}"
    );
}
