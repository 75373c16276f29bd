//! The Cloudflare backend end to end, with no fake Cloudflare: instance A (local store) plays it,
//! instance B (`KVM_BACKEND=cloudflare`, base URL = A's `/client/v4`, a token made on A) is driven
//! through its own server functions and job routes, and A's side is checked for the data.

mod common;

use std::time::Duration;

use common::TestServer;
use kv_manager::cf_api::DEFAULT_ACCOUNT_ID;
use kv_manager::config::Backend;
use serde_json::{Value, json};

fn token(server: &TestServer) -> String {
    let url = server.database_url.clone().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kv-manager"))
        .args(["token", "create", "--name", "instance-b", "--database-url", &url, "--config", "/dev/null"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().last().unwrap().to_owned()
}

async fn finished(server: &TestServer, id: &str) -> Value {
    for _ in 0..1500 {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_b_manages_instance_as_data_through_cloudflares_api() {
    let a = TestServer::start().await;
    let secret = token(&a);
    let base_url = format!("http://{}/client/v4", a.addr);
    let b = TestServer::configured("127.0.0.1:0", |c| {
        c.backend = Backend::Cloudflare {
            account_id: DEFAULT_ACCOUNT_ID.into(),
            api_token: secret,
            base_url,
            concurrency: 4,
            sync_minutes: 15,
        };
    })
    .await;

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

    // An import of 2,500 keys through B's job route lands on A, exactly.
    let lines: String = (0..2500).map(|i| format!("{{\"name\":\"k{i:05}\",\"value\":\"value {i}\"}}\n")).collect();
    let res = b.request("POST", &format!("/api/import/{ns}"), &[], lines.as_bytes()).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let job = finished(&b, res.json()["job_id"].as_str().unwrap()).await;
    assert_eq!((job["status"].as_str(), job["processed"].as_u64()), (Some("completed"), Some(2500)), "{job}");
    let keys = keys_on(&a, &ns).await;
    assert_eq!(keys.len(), 2501);
    assert_eq!(a.ok("get_key", json!({ "namespace_id": ns, "key": "k01234" })).await["value"], "value 1234");

    // B lists them page by page with Cloudflare's cursors.
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
    assert_eq!(names.len(), 2500);
    assert!(names.windows(2).all(|w| w[0] < w[1]));
    let small = b.call("list_keys", json!({ "namespace_id": ns, "limit": 5 })).await;
    assert_eq!((small.status, small.json()["error"]["field"].as_str()), (400, Some("limit")), "{}", small.text());

    // An export through B holds every key once, in order.
    let job = b.ok("start_export", json!({ "namespace_id": ns, "format": "ndjson" })).await;
    let job = finished(&b, job["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "completed", "{job}");
    let file = b.get(&format!("/api/jobs/{}/download", job["id"].as_str().unwrap())).await;
    let exported: Vec<Value> = file.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(exported.len(), 2501);
    assert_eq!(exported[1]["name"], "k00001");
    assert_eq!(exported[1]["value"], "value 1");

    // Bulk TTL and bulk delete by prefix through B change A's data.
    let job = b.ok("bulk_ttl", json!({ "namespace_id": ns, "prefix": "k00", "expiration_ttl": 7200 })).await;
    let job = finished(&b, job["job_id"].as_str().unwrap()).await;
    assert_eq!((job["status"].as_str(), job["processed"].as_u64()), (Some("completed"), Some(1000)), "{job}");
    let with_ttl = keys_on(&a, &ns).await.into_iter().filter(|k| k["expiration"].is_i64()).count();
    assert_eq!(with_ttl, 1001, "the 1,000 k00* keys and user/1");
    assert_eq!(a.ok("get_key", json!({ "namespace_id": ns, "key": "k00010" })).await["value"], "value 10");
    let job = b.ok("bulk_delete", json!({ "namespace_id": ns, "prefix": "k" })).await;
    let job = finished(&b, job["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "completed", "{job}");
    let left: Vec<String> = keys_on(&a, &ns).await.iter().map(|k| k["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(left, ["user/1"]);

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
