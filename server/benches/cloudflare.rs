//! `make bench`: the Cloudflare backend's cost. Instance A (the local store) plays Cloudflare;
//! instance B (`KVM_BACKEND=cloudflare`) reaches it through a proxy that counts B's requests by
//! kind. For 100,000 keys: import, copy, TTL update and delete, each as a job through B, beside
//! the same job done by A on its own store; wall time of each, and the requests B sent (goal:
//! ceil(N/10,000) bulk writes or deletes, ceil(N/100) bulk gets where values are read).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../../domain/benches/common/goals.rs"]
mod goals;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::TestServer;
use common::proxy::Proxy;
use serde_json::{Value, json};

const KEYS: usize = 100_000;

async fn finished(server: &TestServer, id: &str) -> Value {
    loop {
        let job = server.get(&format!("/api/jobs/{id}")).await.json();
        if !["queued", "running"].contains(&job["status"].as_str().unwrap_or_default()) {
            assert_eq!(job["status"], "completed", "{job}");
            return job;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs a started job (the answer of a job route or server function) to its end; its wall time.
async fn timed(server: &TestServer, started: Value, t: Instant) -> Duration {
    let id = started["job_id"].as_str().expect("a job id").to_owned();
    finished(server, &id).await;
    t.elapsed()
}

/// The four jobs on `server`, over two fresh namespaces; their wall times.
async fn run(server: &TestServer, file: &[u8]) -> [Duration; 4] {
    let ns = server.ok("create_namespace", json!({ "title": "bench" })).await["id"].as_str().unwrap().to_owned();
    let copy = server.ok("create_namespace", json!({ "title": "bench-copy" })).await["id"].as_str().unwrap().to_owned();
    let t = Instant::now();
    let res = server.request("POST", &format!("/api/import/{ns}?collision=overwrite"), &[], file).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let import = timed(server, res.json(), t).await;
    let t = Instant::now();
    let started = server
        .ok("bulk_copy", json!({ "namespace_id": ns, "prefix": "", "target_namespace_id": copy, "overwrite": true }))
        .await;
    let copy_time = timed(server, started, t).await;
    let t = Instant::now();
    let started = server.ok("bulk_ttl", json!({ "namespace_id": ns, "prefix": "", "expiration_ttl": 86_400 })).await;
    let ttl = timed(server, started, t).await;
    let t = Instant::now();
    let started = server.ok("bulk_delete", json!({ "namespace_id": ns, "prefix": "" })).await;
    let delete = timed(server, started, t).await;
    [import, copy_time, ttl, delete]
}

fn describe(counts: &BTreeMap<&'static str, u64>) -> String {
    counts.iter().map(|(kind, n)| format!("{n} {kind}")).collect::<Vec<_>>().join(", ")
}

#[tokio::main]
async fn main() {
    let file: Vec<u8> = (0..KEYS)
        .flat_map(|i| {
            format!("{{\"name\":\"key-{i:06}\",\"value\":\"value {i}\",\"metadata\":{{\"i\":{i}}}}}\n").into_bytes()
        })
        .collect();

    let a = TestServer::start().await;
    let local = run(&a, &file).await;

    let secret = a.api_token("bench");
    let (proxy, base_url) = Proxy::start(&format!("http://{}", a.addr)).await;
    let b = TestServer::over_cloudflare(base_url, secret).await;
    // Every job of B counted on its own: the proxy's counts are taken after each.
    // (A already holds the namespaces of its own run: B's get titles of their own.)
    let ns = b.ok("create_namespace", json!({ "title": "bench-b" })).await["id"].as_str().unwrap().to_owned();
    let copy = b.ok("create_namespace", json!({ "title": "bench-b-copy" })).await["id"].as_str().unwrap().to_owned();
    proxy.take_counts();
    let mut remote = Vec::new();
    let t = Instant::now();
    let res = b.request("POST", &format!("/api/import/{ns}?collision=overwrite"), &[], &file).await;
    assert_eq!(res.status, 202, "{}", res.text());
    remote.push((timed(&b, res.json(), t).await, proxy.take_counts()));
    let t = Instant::now();
    let started = b
        .ok("bulk_copy", json!({ "namespace_id": ns, "prefix": "", "target_namespace_id": copy, "overwrite": true }))
        .await;
    remote.push((timed(&b, started, t).await, proxy.take_counts()));
    let t = Instant::now();
    let started = b.ok("bulk_ttl", json!({ "namespace_id": ns, "prefix": "", "expiration_ttl": 86_400 })).await;
    remote.push((timed(&b, started, t).await, proxy.take_counts()));
    let t = Instant::now();
    let started = b.ok("bulk_delete", json!({ "namespace_id": ns, "prefix": "" })).await;
    remote.push((timed(&b, started, t).await, proxy.take_counts()));

    let writes = KEYS.div_ceil(10_000);
    let gets = KEYS.div_ceil(100);
    let goals = [
        format!("goal {writes} bulk write"),
        format!("goal {gets} bulk get + {writes} bulk write"),
        format!("goal {gets} bulk get + {writes} bulk write"),
        format!("goal {writes} bulk delete"),
    ];
    let budgets = [writes, gets + writes, gets + writes, writes];
    for (i, op) in ["import", "copy", "TTL update", "delete"].iter().enumerate() {
        let (time, counts) = &remote[i];
        // Bulk requests carry the keys; the listing pages beside them are the store's walk.
        let sent: u64 = counts.iter().filter(|(kind, _)| kind.starts_with("bulk")).map(|(_, n)| n).sum();
        goals::record(
            "cloudflare",
            &format!("{op} of {KEYS} keys: bulk requests to Cloudflare"),
            sent as f64,
            "requests",
            goals::Goal::AtMost(budgets[i] as f64),
        );
        println!(
            "[cloudflare] {op} of {KEYS} keys: via B {:.2} s, A locally {:.2} s; B sent {} ({})",
            time.as_secs_f64(),
            local[i].as_secs_f64(),
            describe(counts),
            goals[i]
        );
    }
}
