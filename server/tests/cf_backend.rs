//! The Cloudflare backend end to end, with no fake Cloudflare: instance A (local store) plays it,
//! instance B (`KVM_BACKEND=cloudflare`, base URL = A's `/client/v4`, a token made on A) is driven
//! through its own server functions and job routes, and A's side is checked for the data. A
//! proxy between them counts B's requests by kind, and plays rate limits and outages.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::TestServer;
use common::proxy::{Mode, Proxy, UNAVAILABLE};
use serde_json::{Value, json};

async fn finished(server: &TestServer, id: &str) -> Value {
    for _ in 0..6000 {
        let job = server.get(&format!("/api/jobs/{id}")).await.json();
        if !["queued", "running"].contains(&job["status"].as_str().unwrap()) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("job {id} did not end");
}

/// Every key of a namespace on A, by name, through A's own script API.
async fn keys_on(a: &TestServer, ns: &str) -> Vec<Value> {
    let mut keys = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = a.ok("list_keys", json!({ "namespace_id": ns, "limit": 1000, "cursor": cursor })).await;
        keys.extend(page["keys"].as_array().unwrap().iter().cloned());
        match page["cursor"].as_str() {
            Some(next) if page["list_complete"] == false => cursor = Some(next.to_owned()),
            _ => return keys,
        }
    }
}

fn counts(expected: &[(&'static str, u64)]) -> BTreeMap<&'static str, u64> {
    expected.iter().copied().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_b_manages_instance_as_data_through_cloudflares_api() {
    let a = TestServer::start().await;
    let secret = a.api_token("instance-b");
    let (proxy, base_url) = Proxy::start(&format!("http://{}", a.addr)).await;
    let b = TestServer::over_cloudflare(base_url, secret).await;

    // Namespaces: made on B, they are A's; made on A, B lists them.
    let ns = b.ok("create_namespace", json!({ "title": "remote" })).await["id"].as_str().unwrap().to_owned();
    assert_eq!(a.ok("get_namespace", json!({ "namespace_id": ns })).await["title"], "remote");
    a.ok("create_namespace", json!({ "title": "made-on-a" })).await;
    let listed = b.ok("list_namespaces", json!({})).await;
    let titles: Vec<&str> =
        listed["namespaces"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["made-on-a", "remote"]);
    assert_eq!(b.call("create_namespace", json!({ "title": "remote" })).await.status, 409);

    // One key with metadata and a TTL, written and read through B, stored on A.
    b.ok(
        "put_key",
        json!({ "namespace_id": ns, "key": "user/1", "value": "hello", "metadata": { "plan": "pro" }, "expiration_ttl": 3600 }),
    )
    .await;
    let on_a = a.ok("get_key", json!({ "namespace_id": ns, "key": "user/1" })).await;
    assert_eq!((on_a["value"].as_str(), on_a["metadata"].clone()), (Some("hello"), json!({ "plan": "pro" })));
    let on_b = b.ok("get_key", json!({ "namespace_id": ns, "key": "user/1" })).await;
    assert_eq!(on_b["value"], "hello");
    assert!(on_b["expiration"].as_i64().unwrap() > domain::now_unix() + 3500);
    // Tags live in B's own database, and B's search finds the key.
    b.ok("put_key_details", json!({ "namespace_id": ns, "key": "user/1", "tags": ["vip"] })).await;
    let found = b.ok("search_keys", json!({ "tags": ["vip"] })).await;
    assert_eq!(found["results"][0]["key"], "user/1");

    // An import of 25,000 keys through B's job route lands on A, exactly, in three bulk writes.
    let lines: String = (0..25_000)
        .map(|i| format!("{{\"name\":\"k{i:05}\",\"value\":\"value {i}\",\"metadata\":{{\"i\":{i}}}}}\n"))
        .collect();
    proxy.take_counts();
    let res = b.request("POST", &format!("/api/import/{ns}?collision=overwrite"), &[], lines.as_bytes()).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let job = finished(&b, res.json()["job_id"].as_str().unwrap()).await;
    assert_eq!((job["status"].as_str(), job["processed"].as_u64()), (Some("completed"), Some(25_000)), "{job}");
    assert_eq!(proxy.take_counts(), counts(&[("namespace", 1), ("bulk write", 3)]));
    let keys = keys_on(&a, &ns).await;
    assert_eq!(keys.len(), 25_001);
    assert_eq!(a.ok("get_key", json!({ "namespace_id": ns, "key": "k01234" })).await["value"], "value 1234");
    assert_eq!(keys[12_345]["metadata"], json!({ "i": 12_345 }));

    // B lists them page by page with Cloudflare's cursors, and its search finds them.
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page =
            b.ok("list_keys", json!({ "namespace_id": ns, "prefix": "k", "limit": 1000, "cursor": cursor })).await;
        names.extend(page["keys"].as_array().unwrap().iter().map(|k| k["name"].as_str().unwrap().to_owned()));
        if page["list_complete"] == true {
            break;
        }
        cursor = page["cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(names.len(), 25_000);
    assert!(names.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(proxy.take_counts(), counts(&[("list keys", 25)]));
    // Pages smaller than Cloudflare's least (10) are parts of its pages, and go on where they stop.
    let small = b.ok("list_keys", json!({ "namespace_id": ns, "limit": 5 })).await;
    let names_of = |page: &Value| -> Vec<String> {
        page["keys"].as_array().unwrap().iter().map(|k| k["name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names_of(&small), ["k00000", "k00001", "k00002", "k00003", "k00004"]);
    let next = b.ok("list_keys", json!({ "namespace_id": ns, "limit": 7, "cursor": small["cursor"] })).await;
    assert_eq!(names_of(&next), (5..12).map(|i| format!("k{i:05}")).collect::<Vec<_>>());
    proxy.take_counts();
    let found = b.ok("search_keys", json!({ "query": "k2345", "namespace_ids": [ns], "limit": 100 })).await;
    let found: Vec<&str> = found["results"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(found, (0..10).map(|i| format!("k2345{i}")).collect::<Vec<_>>());

    // A bulk copy reads the values 100 at a time and writes them 10,000 at a time.
    let copy = b.ok("create_namespace", json!({ "title": "copy" })).await["id"].as_str().unwrap().to_owned();
    proxy.take_counts();
    let job = b
        .ok("bulk_copy", json!({ "namespace_id": ns, "prefix": "k", "target_namespace_id": copy, "overwrite": true }))
        .await;
    let job = finished(&b, job["job_id"].as_str().unwrap()).await;
    assert_eq!((job["status"].as_str(), job["processed"].as_u64()), (Some("completed"), Some(25_000)), "{job}");
    let sent = proxy.take_counts();
    assert_eq!((sent["bulk get"], sent["bulk write"]), (250, 3), "{sent:?}");
    let copied = keys_on(&a, &copy).await;
    assert_eq!(copied.len(), 25_000);
    assert_eq!(copied[24_999]["metadata"], json!({ "i": 24_999 }));
    assert_eq!(a.ok("get_key", json!({ "namespace_id": copy, "key": "k20000" })).await["value"], "value 20000");

    // An export through B holds every key once, in order, read 100 at a time.
    let job = b.ok("start_export", json!({ "namespace_id": ns, "format": "ndjson" })).await;
    let job = finished(&b, job["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(proxy.take_counts()["bulk get"], 251);
    let file = b.get(&format!("/api/jobs/{}/download", job["id"].as_str().unwrap())).await;
    let exported: Vec<Value> = file.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(exported.len(), 25_001);
    assert_eq!(exported[1]["name"], "k00001");
    assert_eq!(exported[1]["value"], "value 1");

    // Bulk TTL: one bulk read and one bulk write per 10,000 keys, values and metadata kept.
    let job = b.ok("bulk_ttl", json!({ "namespace_id": ns, "prefix": "k", "expiration_ttl": 7200 })).await;
    let job = finished(&b, job["job_id"].as_str().unwrap()).await;
    assert_eq!((job["status"].as_str(), job["processed"].as_u64()), (Some("completed"), Some(25_000)), "{job}");
    let sent = proxy.take_counts();
    assert_eq!((sent["bulk get"], sent["bulk write"]), (250, 3), "{sent:?}");
    let on_a = keys_on(&a, &ns).await;
    assert_eq!(on_a.iter().filter(|k| k["expiration"].is_i64()).count(), 25_001, "the k* keys and user/1");
    assert_eq!(on_a[10]["metadata"], json!({ "i": 10 }));
    assert_eq!(a.ok("get_key", json!({ "namespace_id": ns, "key": "k00010" })).await["value"], "value 10");

    // Bulk delete by prefix: three bulk deletes, no reads (B's mirror knows the keys).
    let job = b.ok("bulk_delete", json!({ "namespace_id": ns, "prefix": "k" })).await;
    let job = finished(&b, job["job_id"].as_str().unwrap()).await;
    assert_eq!((job["status"].as_str(), job["processed"].as_u64()), (Some("completed"), Some(25_000)), "{job}");
    let sent = proxy.take_counts();
    assert_eq!((sent["bulk delete"], sent.get("bulk get")), (3, None), "{sent:?}");
    let left: Vec<String> = keys_on(&a, &ns).await.iter().map(|k| k["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(left, ["user/1"]);

    // Rate limits and outages on the way: a job still completes, every key written once.
    proxy.set_mode(Mode::TwoInThree);
    let lines: String = (0..12_000).map(|i| format!("{{\"name\":\"f{i:05}\",\"value\":\"v{i}\"}}\n")).collect();
    let res = b.request("POST", &format!("/api/import/{copy}"), &[], lines.as_bytes()).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let job = finished(&b, res.json()["job_id"].as_str().unwrap()).await;
    assert_eq!((job["status"].as_str(), job["processed"].as_u64()), (Some("completed"), Some(12_000)), "{job}");
    assert!(proxy.seen() > 100, "the import went through the faults ({} requests)", proxy.seen());
    proxy.set_mode(Mode::Pass);
    let on_a = keys_on(&a, &copy).await;
    assert_eq!(on_a.len(), 37_000);
    assert_eq!(a.ok("get_key", json!({ "namespace_id": copy, "key": "f11999" })).await["value"], "v11999");
    // Down for good: the job fails, and says what Cloudflare said.
    let job = b.ok("bulk_delete", json!({ "namespace_id": copy, "prefix": "f" })).await;
    proxy.set_mode(Mode::Down);
    let job = finished(&b, job["job_id"].as_str().unwrap()).await;
    proxy.set_mode(Mode::Pass);
    assert_eq!(job["status"], "failed", "{job}");
    assert!(job["error_message"].as_str().unwrap().contains(UNAVAILABLE), "{job}");
    assert_eq!(keys_on(&a, &copy).await.len(), 37_000, "nothing was deleted");

    // B's audit log names its own user; A's names the token.
    let on_b = b.ok("list_audit", json!({ "namespace_ids": [ns], "operations": ["key.create"] })).await;
    assert_eq!(on_b["entries"][0]["user"], "local");
    let on_a = a.ok("list_audit", json!({ "namespace_ids": [ns], "operations": ["key.create"] })).await;
    assert_eq!(
        (on_a["entries"][0]["user"].as_str(), on_a["entries"][0]["source"].as_str()),
        (Some("instance-b"), Some("cf-api"))
    );

    // Keys written and deleted on Cloudflare by others reach B's search once synced.
    a.ok("put_key", json!({ "namespace_id": ns, "key": "written-elsewhere", "value": "x", "metadata": { "by": "a" } }))
        .await;
    a.ok("delete_key", json!({ "namespace_id": ns, "key": "user/1" })).await;
    let search = |q: &str| b.ok("search_keys", json!({ "query": q, "namespace_ids": [ns] }));
    assert_eq!(search("elsewhere").await["results"].as_array().unwrap().len(), 0);
    assert_eq!(search("user/1").await["results"].as_array().unwrap().len(), 1);
    let synced = b.ok("sync_namespace", json!({ "namespace_id": ns })).await;
    assert_eq!(synced, json!({ "taken": 1, "dropped": 1 }));
    assert_eq!(search("elsewhere").await["results"][0]["key"], "written-elsewhere");
    assert_eq!(search("user/1").await["results"].as_array().unwrap().len(), 0);
    assert_eq!(b.ok("sync_namespace", json!({ "namespace_id": ns })).await, json!({ "taken": 0, "dropped": 0 }));
    // The local backend has nothing to sync.
    let local = a.call("sync_namespace", json!({ "namespace_id": ns })).await;
    assert_eq!(local.status, 400);

    // Rename and delete through B.
    b.ok("rename_namespace", json!({ "namespace_id": ns, "title": "renamed" })).await;
    assert_eq!(a.ok("get_namespace", json!({ "namespace_id": ns })).await["title"], "renamed");
    b.ok("delete_namespace", json!({ "namespace_id": ns })).await;
    assert_eq!(a.call("get_namespace", json!({ "namespace_id": ns })).await.status, 404);
    assert_eq!(b.call("get_namespace", json!({ "namespace_id": ns })).await.status, 404);
}

/// The multi-tenant API over the Cloudflare backend: a service's keys land on "Cloudflare" under
/// its prefix, and Cloudflare's refusals come back as 502 with its words, never as if they were
/// about the client's own token, origin or rate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kv_api_works_over_the_cloudflare_backend() {
    let a = TestServer::start().await;
    let secret = a.api_token("instance-b");
    let (proxy, base_url) = Proxy::start(&format!("http://{}", a.addr)).await;
    let b = TestServer::over_cloudflare(base_url, secret).await;
    let ns = b.ok("create_namespace", json!({ "title": "tenants" })).await["id"].as_str().unwrap().to_owned();
    let spec = domain::services::ServiceSpec {
        name: "web".into(),
        storage: "tenants".into(),
        role: "admin".into(),
        prefix: "web".into(),
        ..Default::default()
    };
    let admin = domain::Actor::new("admin", domain::Source::Cli, domain::Role::Admin);
    let (_, _, kevi_token) = b.state.as_ref().unwrap().services.create(&admin, &spec).await.unwrap();
    let headers = [("X-Kevi-Token", kevi_token.as_str()), ("Content-Type", "application/json")];

    let res = b.request("PUT", "/v1/kv/user/1", &headers, br#"{"value": {"plan": "pro"}, "ttl": 3600}"#).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let on_a = a.ok("get_key", json!({ "namespace_id": ns, "key": "web:user/1" })).await;
    assert_eq!(on_a["value"], r#"{"plan":"pro"}"#);
    assert_eq!(on_a["metadata"]["updated_by"], "web");
    let res = b.request("GET", "/v1/kv/user%2F1", &headers, b"").await;
    assert_eq!(res.json()["data"], json!({ "plan": "pro" }));
    let listed = b.request("GET", "/v1/kv", &headers, b"").await.json();
    assert_eq!(listed["keys"][0]["name"], "user/1");

    // Pages under Cloudflare's least of 10: every key once, in order, whatever the page size.
    for i in 0..24 {
        a.ok("put_key", json!({ "namespace_id": ns, "key": format!("web:page/{i:02}"), "value": "v" })).await;
    }
    for limit in [1, 3, 7, 10, 11] {
        let (mut seen, mut cursor) = (Vec::new(), String::new());
        for _ in 0..40 {
            let path = format!("/v1/kv?prefix=page/&limit={limit}&cursor={cursor}");
            let page = b.request("GET", &path, &headers, b"").await;
            assert_eq!(page.status, 200, "limit {limit}: {}", page.text());
            let page = page.json();
            let names = page["keys"].as_array().unwrap();
            assert!(names.len() <= limit, "limit {limit}: {page}");
            seen.extend(names.iter().map(|k| k["name"].as_str().unwrap().to_owned()));
            if page["list_complete"] == true {
                break;
            }
            cursor = common::encode(page["cursor"].as_str().unwrap());
        }
        let expected: Vec<String> = (0..24).map(|i| format!("page/{i:02}")).collect();
        assert_eq!(seen, expected, "limit {limit}");
    }

    let answered = proxy.seen() as u64;
    proxy.set_mode(Mode::Down);
    let res = b.request("GET", "/v1/kv/user/1", &headers, b"").await;
    let refused = proxy.seen() as u64;
    proxy.set_mode(Mode::Pass);
    assert_eq!(res.status, 502, "{}", res.text());
    assert!(res.json()["message"].as_str().unwrap().contains(UNAVAILABLE), "{}", res.text());

    // B's /metrics counts every request it sent Cloudflare by outcome: the six attempts of the
    // read above (five retried, one failed for good), and every other request answered.
    let scraped = b.request("GET", "/metrics", &[], b"").await;
    assert_eq!(scraped.status, 200, "{}", scraped.text());
    let text = scraped.text();
    let value = |outcome: &str| -> u64 {
        let line = format!("kvm_cloudflare_requests_total{{outcome=\"{outcome}\"}} ");
        let found = text.lines().find_map(|l| l.strip_prefix(line.as_str()));
        found.unwrap_or_else(|| panic!("no {line} in {text}")).trim().parse().unwrap()
    };
    assert_eq!((value("retried"), value("failed"), refused), (5, 1, 6));
    assert_eq!(value("ok"), answered, "every request answered through the proxy is counted once");
    assert!(text.contains("kvm_cloudflare_request_seconds_total "), "{text}");
    assert!(!a.request("GET", "/metrics", &[], b"").await.text().contains("kvm_cloudflare"), "A stores keys itself");

    // B's dashboard counts what the service did through B: one write, two reads (the second
    // failed with Cloudflare down), and the listings, all by the service `web`.
    let board = b.ok("get_dashboard", json!({ "range": "1h", "namespace_id": ns })).await;
    let totals = &board["totals"];
    assert_eq!(
        (totals["writes"].as_u64(), totals["reads"].as_u64(), totals["errors"].as_u64()),
        (Some(1), Some(2), Some(1))
    );
    let lists = totals["lists"].as_u64().unwrap();
    assert!(lists >= 5, "a listing per page: {board}");
    assert_eq!(board["services"], json!([{ "name": "web", "operations": 3 + lists, "errors": 1 }]));
}

/// Only Cloudflare's own "namespace not found" (404, code 10013) drops what the mirror keeps of a
/// namespace (versions, tags, details); a 404 from anything else between us and Cloudflare is an
/// upstream error that loses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_cloudflares_own_namespace_not_found_drops_the_mirror() {
    let a = TestServer::start().await;
    let secret = a.api_token("instance-b");
    let (proxy, base_url) = Proxy::start(&format!("http://{}", a.addr)).await;
    let b = TestServer::over_cloudflare(base_url, secret).await;
    let ns = b.ok("create_namespace", json!({ "title": "kept" })).await["id"].as_str().unwrap().to_owned();
    b.ok("put_key", json!({ "namespace_id": ns, "key": "k", "value": "v1" })).await;
    b.ok("put_key", json!({ "namespace_id": ns, "key": "k", "value": "v2" })).await;
    b.ok("put_key_details", json!({ "namespace_id": ns, "key": "k", "tags": ["keep"] })).await;

    proxy.set_mode(Mode::PlainNotFound);
    for (name, input) in [
        ("get_key", json!({ "namespace_id": ns, "key": "k" })),
        ("list_keys", json!({ "namespace_id": ns })),
        ("put_key", json!({ "namespace_id": ns, "key": "k", "value": "v3" })),
        ("delete_key", json!({ "namespace_id": ns, "key": "k" })),
        ("rename_key", json!({ "namespace_id": ns, "key": "k", "new_name": "k2" })),
    ] {
        let res = b.call(name, input).await;
        assert_eq!(res.status, 502, "{name} through a proxy's 404: {}", res.text());
        assert!(res.text().contains("404"), "{}", res.text());
    }
    proxy.set_mode(Mode::Pass);
    let details = b.ok("get_key_details", json!({ "namespace_id": ns, "key": "k" })).await;
    assert_eq!(details["tags"], json!(["keep"]));
    let versions = b.ok("list_key_versions", json!({ "namespace_id": ns, "key": "k" })).await;
    assert!(!versions["versions"].as_array().unwrap().is_empty(), "{versions}");
    assert_eq!(b.ok("get_key", json!({ "namespace_id": ns, "key": "k" })).await["value"], "v2");

    // Cloudflare's own answer: the namespace is gone there, and so here.
    a.ok("delete_namespace", json!({ "namespace_id": ns })).await;
    assert_eq!(b.call("get_key", json!({ "namespace_id": ns, "key": "k" })).await.status, 404);
    assert_eq!(b.call("get_namespace", json!({ "namespace_id": ns })).await.status, 404);
}

/// `kv-manager import` and `export` with the Cloudflare backend read and write Cloudflare, as the
/// server would: not only the local mirror (which the next sync would drop).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_imports_into_and_exports_from_the_configured_cloudflare() {
    let a = TestServer::start().await;
    let secret = a.api_token("cli-b");
    let ns = a.ok("create_namespace", json!({ "title": "from-the-cli" })).await["id"].as_str().unwrap().to_owned();
    a.ok("put_key", json!({ "namespace_id": ns, "key": "already-there", "value": "on cloudflare" })).await;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ndjson");
    let lines: String = (0..30).map(|i| format!("{{\"name\":\"cli-{i:02}\",\"value\":\"v{i}\"}}\n")).collect();
    std::fs::write(&input, lines).unwrap();
    let b_db = format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display());
    let base = format!("http://{}/client/v4", a.addr);
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kv-manager"))
            .args(args)
            .args(["--database-url", &b_db, "--config", "/dev/null", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(["--backend", "cloudflare", "--cloudflare-account-id", kv_manager::cf_api::DEFAULT_ACCOUNT_ID])
            .args(["--cloudflare-api-base-url", &base])
            .env("CLOUDFLARE_API_TOKEN", &secret)
            .output()
            .expect("the CLI runs");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    };
    run(&["import", "from-the-cli", input.to_str().unwrap()]);
    let names: Vec<String> = keys_on(&a, &ns).await.iter().map(|k| k["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names.len(), 31, "{names:?}");
    assert!(names.contains(&"cli-29".to_owned()));

    let output = dir.path().join("out.ndjson");
    run(&["export", "from-the-cli", "-o", output.to_str().unwrap()]);
    let exported = std::fs::read_to_string(&output).unwrap();
    assert_eq!(exported.lines().count(), 31, "{exported}");
    assert!(exported.contains("on cloudflare"), "the key written on Cloudflare directly is exported");
}

/// Cloudflare took a write and the mirror's transaction then failed (here a trigger makes the
/// database refuse it, as a full disk would): the next sync reads the namespace again and the
/// mirror (sizes, search) matches Cloudflare.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_the_mirror_missed_is_repaired_by_the_next_sync() {
    use sea_orm::ConnectionTrait;
    let a = TestServer::start().await;
    let secret = a.api_token("instance-b");
    let b = TestServer::over_cloudflare(format!("http://{}/client/v4", a.addr), secret).await;
    let ns = b.ok("create_namespace", json!({ "title": "repaired" })).await["id"].as_str().unwrap().to_owned();
    b.ok("put_key", json!({ "namespace_id": ns, "key": "k", "value": "short" })).await;

    let db = domain::Database::connect(b.database_url.as_deref().unwrap()).await.unwrap();
    for event in ["INSERT", "UPDATE"] {
        let sql = format!(
            "CREATE TRIGGER injected_{event} BEFORE {event} ON kv_entries BEGIN SELECT RAISE(ABORT, 'injected'); END"
        );
        db.conn.execute_unprepared(&sql).await.unwrap();
    }
    let res = b.call("put_key", json!({ "namespace_id": ns, "key": "k", "value": "a much longer value" })).await;
    assert_eq!(res.status, 500, "{}", res.text());
    let on_a = a.ok("get_key", json!({ "namespace_id": ns, "key": "k" })).await;
    assert_eq!(on_a["value"], "a much longer value", "Cloudflare took the write");
    for event in ["INSERT", "UPDATE"] {
        db.conn.execute_unprepared(&format!("DROP TRIGGER injected_{event}")).await.unwrap();
    }
    let size = |page: Value| page["keys"][0]["size"].as_u64();
    assert_eq!(size(b.ok("list_keys", json!({ "namespace_id": ns })).await), Some(5), "the mirror missed it");
    b.ok("sync_namespace", json!({ "namespace_id": ns })).await;
    assert_eq!(size(b.ok("list_keys", json!({ "namespace_id": ns })).await), Some(19), "repaired by the sync");
    let found = b.ok("search_keys", json!({ "query": "k", "min_size": 10 })).await;
    assert_eq!(found["results"].as_array().unwrap().len(), 1, "{found}");
}

/// Whether a key is live is the store's answer on every path: a key written on Cloudflare by
/// someone else and never synced into B's mirror can be tagged and given custom metadata through
/// B as soon as B's `get_key` finds it (the catalog asks the store, not the mirror's tables).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_written_elsewhere_and_never_synced_takes_tags_and_details() {
    let a = TestServer::start().await;
    let secret = a.api_token("instance-b");
    let b = TestServer::over_cloudflare(format!("http://{}/client/v4", a.addr), secret).await;
    let ns = b.ok("create_namespace", json!({ "title": "elsewhere" })).await["id"].as_str().unwrap().to_owned();
    a.ok("put_key", json!({ "namespace_id": ns, "key": "written-on-a", "value": "v" })).await;
    assert_eq!(b.ok("get_key", json!({ "namespace_id": ns, "key": "written-on-a" })).await["value"], "v");
    let details =
        json!({ "namespace_id": ns, "key": "written-on-a", "tags": ["red"], "custom_metadata": { "owner": "ops" } });
    let put = b.call("put_key_details", details).await;
    assert_eq!(put.status, 200, "{}", put.text());
    let read = b.ok("get_key_details", json!({ "namespace_id": ns, "key": "written-on-a" })).await;
    assert_eq!(read["tags"], json!(["red"]), "{read}");
    assert_eq!(read["custom_metadata"], json!({ "owner": "ops" }));
    // A key that is nowhere is still not found.
    let missing = b.call("get_key_details", json!({ "namespace_id": ns, "key": "nowhere" })).await;
    assert_eq!(missing.status, 404, "{}", missing.text());
}

/// A bulk write that takes several Cloudflare requests is recorded part by part: when Cloudflare
/// refuses a later part, the parts it took are in the mirror and the audit log, the error says
/// which part failed and how many keys were written, and nothing of the refused parts is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_write_over_several_requests_is_recorded_part_by_part() {
    use domain::audit::{Audit, AuditQuery};
    use domain::cloudflare::{CloudflareClient, CloudflareConfig};
    let a = TestServer::start().await;
    let secret = a.api_token("parts");
    let (proxy, base_url) = Proxy::start(&format!("http://{}", a.addr)).await;
    let ns = a.ok("create_namespace", json!({ "title": "parts" })).await["id"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let db =
        domain::Database::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display())).await.unwrap();
    let mut settings = CloudflareConfig::new(&base_url, kv_manager::cf_api::DEFAULT_ACCOUNT_ID, &secret);
    // Two 400-byte values a request (about 600 bytes each as sent, in base64): ten keys take five.
    settings.bulk_write_bytes = 1300;
    let kv = domain::Kv::cloudflare(db.clone(), CloudflareClient::new(settings).unwrap());
    let actor = domain::Actor::new("tester", domain::Source::Script, domain::Role::Admin);
    let now = domain::now_unix();
    let items: Vec<domain::ValidPut> = (0..10)
        .map(|i| {
            let put = domain::PutKey { name: format!("k{i}"), value: vec![b'x'; 400], ..Default::default() };
            domain::ValidPut::new(put, domain::DetailsWrite::default(), now).unwrap()
        })
        .collect();
    kv.get_namespace(&actor, &ns).await.unwrap();
    proxy.set_mode(Mode::LaterBulkWritesRefused);
    let err = kv.put_valid(&actor, &ns, items).await.unwrap_err();
    proxy.set_mode(Mode::Pass);
    let message = err.to_string();
    assert!(message.contains("part 2 of 5") && message.contains("the first 2 of 10 keys"), "{message}");

    let on_a: Vec<String> = keys_on(&a, &ns).await.iter().map(|k| k["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(on_a, ["k0", "k1"], "Cloudflare has the first part only");
    let audit = Audit::new(db.conn.clone()).list(&AuditQuery::default()).await.unwrap();
    let puts: Vec<&domain::audit::AuditEntry> =
        audit.entries.iter().filter(|e| e.operation.starts_with("key")).collect();
    assert_eq!(puts.len(), 1, "one audit row, for the part written: {:?}", audit.entries);
    assert!(
        puts[0].details.to_string().contains("\"created\":2") || puts[0].details.to_string().contains("k1"),
        "{:?}",
        puts[0]
    );
    let mirrored = kv.list_keys(&actor, &ns, domain::KeyQuery::default()).await.unwrap();
    let sizes: Vec<(String, u64)> = mirrored.keys.iter().map(|k| (k.name.clone(), k.size)).collect();
    assert_eq!(sizes, [("k0".to_owned(), 400), ("k1".to_owned(), 400)], "the mirror knows the written part");
}

/// Values written to Cloudflare by others have sizes nobody knows until they are read: a bulk
/// get's answer past `bulk_get_bytes` is not read on, its keys are asked for again in halves (a
/// key alone may be as large as a value can be), so what one answer holds in memory is bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_get_answer_past_its_budget_is_asked_again_in_halves() {
    use domain::cloudflare::{CloudflareClient, CloudflareConfig};
    let a = TestServer::start().await;
    let secret = a.api_token("halves");
    let (proxy, base_url) = Proxy::start(&format!("http://{}", a.addr)).await;
    let ns = a.ok("create_namespace", json!({ "title": "halves" })).await["id"].as_str().unwrap().to_owned();
    let value = |i: usize, size: usize| format!("{i}").repeat(size);
    let mut names = Vec::new();
    for i in 0..7 {
        let size = if i == 6 { 300_000 } else { 100_000 };
        a.ok("put_key", json!({ "namespace_id": ns, "key": format!("k{i}"), "value": value(i, size) })).await;
        names.push(format!("k{i}"));
    }
    names.push("absent".into());
    let dir = tempfile::tempdir().unwrap();
    let db =
        domain::Database::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display())).await.unwrap();
    let mut settings = CloudflareConfig::new(&base_url, kv_manager::cf_api::DEFAULT_ACCOUNT_ID, &secret);
    settings.bulk_get_bytes = 250_000;
    let kv = domain::Kv::cloudflare(db.clone(), CloudflareClient::new(settings).unwrap());
    let actor = domain::Actor::new("tester", domain::Source::Script, domain::Role::Admin);
    kv.get_namespace(&actor, &ns).await.unwrap();

    proxy.take_counts();
    let read = kv
        .namespace(&domain::Actor::local(domain::Source::Cli), &ns, domain::Need::Read)
        .await
        .unwrap()
        .get_many(&names)
        .await
        .unwrap();
    let got: Vec<(String, usize)> = read.iter().map(|k| (k.name.clone(), k.value.len())).collect();
    let sizes = [100_000, 100_000, 100_000, 100_000, 100_000, 100_000, 300_000];
    let want: Vec<(String, usize)> = sizes.iter().enumerate().map(|(i, size)| (format!("k{i}"), *size)).collect();
    assert_eq!(got, want, "every live key once, in order");
    assert!(read.iter().enumerate().all(|(i, k)| k.value == value(i, sizes[i]).into_bytes()));
    // 8 keys (900 KB) > [k0..k3] (400 KB) > [k0 k1], [k2 k3]; [k4 k5 k6 absent] (500 KB) >
    // [k4 k5], [k6 absent] (300 KB) > [k6], [absent]: nine asks, the answers read within budget.
    assert_eq!(proxy.take_counts().get("bulk get").copied(), Some(9));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_values_are_read_from_cloudflare_a_byte_budget_at_a_time() {
    const SIZE: usize = 10 * 1024 * 1024;
    const KEYS: usize = 8;
    let a = TestServer::start().await;
    let secret = a.api_token("instance-b");
    let (proxy, base_url) = Proxy::start(&format!("http://{}", a.addr)).await;
    let b = TestServer::over_cloudflare(base_url, secret).await;
    let ns = b.ok("create_namespace", json!({ "title": "large" })).await["id"].as_str().unwrap().to_owned();
    let target = b.ok("create_namespace", json!({ "title": "large-copy" })).await["id"].as_str().unwrap().to_owned();
    let value = |i: usize| format!("{i:02}-").repeat(SIZE / 3 + 1)[..SIZE].to_owned();
    let mut lines = String::new();
    for i in 0..KEYS {
        lines.push_str(&format!("{{\"name\":\"big/{i:02}\",\"value\":\"{}\"}}\n", value(i)));
    }
    let res = b.request("POST", &format!("/api/import/{ns}"), &[], lines.as_bytes()).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let job = finished(&b, res.json()["job_id"].as_str().unwrap()).await;
    assert_eq!((job["status"].as_str(), job["processed"].as_u64()), (Some("completed"), Some(KEYS as u64)), "{job}");
    drop(lines);

    // A copy reads at most 32 MiB of values a bulk get: three keys of 10 MiB.
    proxy.take_counts();
    let started = b
        .ok(
            "bulk_copy",
            json!({ "namespace_id": ns, "prefix": "big/", "target_namespace_id": target, "overwrite": false }),
        )
        .await;
    let job = finished(&b, started["job_id"].as_str().unwrap()).await;
    assert_eq!((job["status"].as_str(), job["processed"].as_u64()), (Some("completed"), Some(KEYS as u64)), "{job}");
    let gets = proxy.take_counts().get("bulk get").copied().unwrap_or(0);
    let per_get = domain::limits::BATCH_BYTES / SIZE;
    assert!(gets >= KEYS.div_ceil(per_get) as u64, "{gets} bulk gets for {KEYS} values of 10 MiB");
    let copied = a.ok("get_key", json!({ "namespace_id": target, "key": "big/05" })).await;
    assert!(copied["value"].as_str() == Some(value(5).as_str()), "big/05 copied whole");

    // An export's pages share the budget: one key of 10 MiB a page, each its own bulk get.
    let started = b.ok("start_export", json!({ "namespace_id": ns, "format": "ndjson" })).await;
    let id = started["job_id"].as_str().unwrap().to_owned();
    let job = finished(&b, &id).await;
    assert_eq!(job["status"], "completed", "{job}");
    let gets = proxy.take_counts().get("bulk get").copied().unwrap_or(0);
    assert!(gets >= KEYS as u64, "{gets} bulk gets for an export of {KEYS} values of 10 MiB");
    let file = b.get(&format!("/api/jobs/{id}/download")).await;
    let items: Vec<Value> = file.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(items.len(), KEYS);
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item["name"], format!("big/{i:02}"));
        assert!(item["value"].as_str() == Some(value(i).as_str()), "big/{i:02} exported whole");
    }
}

/// Every key of a namespace on A with its value, metadata and expiration.
async fn contents_on(a: &TestServer, ns: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for key in keys_on(a, ns).await {
        let name = key["name"].as_str().unwrap();
        let got = a.ok("get_key", json!({ "namespace_id": ns, "key": name })).await;
        out.push(json!([name, got["value"], got["metadata"], got["expiration"]]));
    }
    out
}

/// Backups and restores over the Cloudflare backend (issue 17): B backs up a namespace that
/// lives on A (playing Cloudflare); the keys then change on A, behind B's back; B's preview of a
/// "make equal" restore counts the change exactly, and the restore brings A's keys back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_and_an_equal_restore_work_over_the_cloudflare_backend() {
    let a = TestServer::start().await;
    let secret = a.api_token("instance-b");
    let (_proxy, base_url) = Proxy::start(&format!("http://{}", a.addr)).await;
    let b = TestServer::over_cloudflare(base_url, secret).await;
    let ns = b.ok("create_namespace", json!({ "title": "backed-up" })).await["id"].as_str().unwrap().to_owned();
    let expiration = domain::now_unix() + 86_400;
    for i in 0..30 {
        let mut key =
            json!({ "namespace_id": ns, "key": format!("k{i:02}"), "value": format!("v{i}"), "metadata": { "i": i } });
        if i % 3 == 0 {
            key["expiration"] = json!(expiration);
        }
        b.ok("put_key", key).await;
    }
    let before = contents_on(&a, &ns).await;
    assert_eq!(before.len(), 30);

    let started = b.ok("start_backup", json!({ "namespace_id": ns })).await;
    let job = finished(&b, started["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["result"]["key_count"], 30, "{job}");
    let backup_id = job["result"]["backup_id"].as_str().unwrap().to_owned();

    // Changed on A directly: 10 values, 5 deletions, 4 new keys.
    for i in 0..10 {
        a.ok("put_key", json!({ "namespace_id": ns, "key": format!("k{i:02}"), "value": "changed" })).await;
    }
    for i in 10..15 {
        a.ok("delete_key", json!({ "namespace_id": ns, "key": format!("k{i:02}") })).await;
    }
    for i in 50..54 {
        a.ok("put_key", json!({ "namespace_id": ns, "key": format!("k{i:02}"), "value": "new" })).await;
    }
    let ask = json!({ "backup_id": backup_id, "namespace_id": ns, "mode": "equal", "dry_run": true });
    let preview = b.ok("restore_backup", ask).await;
    let c = &preview["counts"];
    assert_eq!(
        (&c["created"], &c["changed"], &c["deleted"], &c["unchanged"]),
        (&json!(5), &json!(10), &json!(4), &json!(15)),
        "{preview}"
    );

    let ask = json!({ "backup_id": backup_id, "namespace_id": ns, "mode": "equal" });
    let started = b.ok("restore_backup", ask).await;
    let job = finished(&b, started["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(contents_on(&a, &ns).await, before, "A holds the backup's keys again, values, metadata and expirations");
}

/// Webhooks over the Cloudflare backend: a key written through B (whose keys live on "Cloudflare",
/// instance A) and a key deleted through B reach B's webhook receiver, signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_tell_of_changes_made_through_the_cloudflare_backend() {
    use domain::webhooks::{AddressPolicy, EndpointInput, WebhookConfig, Webhooks, sign};
    use std::sync::{Arc, Mutex};

    const SECRET: &str = "whsec_cf_backend_0123456789";
    let got: Arc<Mutex<Vec<(bool, Value)>>> = Arc::default();
    let seen = got.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let timestamp: i64 = header(sign::TIMESTAMP_HEADER).parse().unwrap_or(0);
                let signed = sign::verify(SECRET, timestamp, &body, &header(sign::SIGNATURE_HEADER));
                seen.lock().unwrap().push((signed, serde_json::from_slice(&body).unwrap_or(Value::Null)));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.ok() });

    let a = TestServer::start().await;
    let secret = a.api_token("instance-b");
    let base_url = format!("http://{}/client/v4", a.addr);
    let b = TestServer::configured("127.0.0.1:0", |c| {
        c.backend = kv_manager::config::Backend::Cloudflare {
            account_id: kv_manager::cf_api::DEFAULT_ACCOUNT_ID.into(),
            api_token: secret,
            base_url,
            concurrency: 4,
            sync_minutes: 15,
        };
        c.webhook_allow_networks = AddressPolicy::parse_list("127.0.0.0/8").unwrap();
    })
    .await;
    // The endpoint, made on B's database as an admin would (B's sender sees it within a pass).
    let db = domain::Database::connect(b.database_url.as_deref().unwrap()).await.unwrap();
    let input = EndpointInput {
        url: hook_url,
        events: vec!["key.created".into(), "key.deleted".into()],
        enabled: true,
        secret: Some(SECRET.into()),
        ..Default::default()
    };
    let me = domain::Actor::local(domain::Source::Cli);
    let loopback =
        WebhookConfig { allow_networks: AddressPolicy::parse_list("127.0.0.0/8").unwrap(), ..Default::default() };
    let hooks = Webhooks::new(domain::Kv::sql(db.clone()), db.conn.clone(), loopback).unwrap();
    hooks.create(&me, input).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let ns = b.ok("create_namespace", json!({ "title": "hooked-remote" })).await["id"].as_str().unwrap().to_owned();
    b.ok("put_key", json!({ "namespace_id": ns, "key": "remote-key", "value": "v" })).await;
    b.ok("delete_key", json!({ "namespace_id": ns, "key": "remote-key" })).await;
    // The key was written to "Cloudflare" (A), not only to B's mirror.
    assert_eq!(a.ok("get_namespace", json!({ "namespace_id": ns })).await["title"], "hooked-remote");
    let mut events: Vec<(String, String)> = Vec::new();
    for _ in 0..400 {
        events = got
            .lock()
            .unwrap()
            .iter()
            .flat_map(|(_, body)| body["events"].as_array().cloned().unwrap_or_default())
            .map(|e| (e["type"].as_str().unwrap_or("").to_owned(), e["key"].as_str().unwrap_or("").to_owned()))
            .collect();
        if events.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        events,
        vec![("key.created".to_owned(), "remote-key".to_owned()), ("key.deleted".to_owned(), "remote-key".to_owned())]
    );
    assert!(got.lock().unwrap().iter().all(|(signed, _)| *signed));
}

/// Undoing a job and rewinding read the history of every write, which a namespace on Cloudflare
/// does not have (keys written there by others leave none here): both are refused, naming the
/// field, before anything is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_and_rewind_are_refused_over_cloudflare_naming_the_field() {
    let a = TestServer::start().await;
    let secret = a.api_token("instance-b");
    let b = TestServer::over_cloudflare(format!("http://{}/client/v4", a.addr), secret).await;
    let ns = b.ok("create_namespace", json!({ "title": "no-history" })).await["id"].as_str().unwrap().to_owned();
    b.ok("put_key", json!({ "namespace_id": ns, "key": "k", "value": "v" })).await;
    let started = b.ok("bulk_delete", json!({ "namespace_id": ns, "keys": ["k"] })).await;
    let id = started["job_id"].as_str().unwrap().to_owned();
    assert_eq!(finished(&b, &id).await["status"], "completed");
    for (name, input, field) in [
        ("undo_job", json!({ "job_id": id, "dry_run": true }), "job_id"),
        ("undo_job", json!({ "job_id": id }), "job_id"),
        ("rewind", json!({ "namespace_id": ns, "at": 0, "dry_run": true }), "namespace_id"),
    ] {
        let res = b.call(name, input).await;
        assert_eq!((res.status, res.json()["error"]["field"].as_str()), (400, Some(field)), "{name}: {}", res.text());
        assert!(res.text().contains("Cloudflare"), "{}", res.text());
    }
    assert_eq!(b.call("get_key", json!({ "namespace_id": ns, "key": "k" })).await.status, 404, "nothing written back");
}
