//! A crash mid-import: the server process is killed (SIGKILL) during a 100,000-key import (30,000
//! on PostgreSQL), started again, finds the job `interrupted`, resumes it, and every key ends up
//! present exactly once with its value.

mod common;

use std::net::SocketAddr;
use std::process::Child;

use common::TestServer;
use domain::{Database, KeyQuery, Kv};
use serde_json::Value;

fn start(dir: &std::path::Path, url: &str, addr: SocketAddr) -> Child {
    common::spawn_binary(dir, url, addr, &["--instance-id", "crash-test"])
}

async fn job(server: &TestServer, id: &str) -> Value {
    server.get(&format!("/api/jobs/{id}")).await.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_import_is_interrupted_and_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let database = common::TestDatabase::new(dir.path());
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let server = TestServer::at(addr);
    let mut process = start(dir.path(), &database.url, addr);
    common::ready(&server).await;
    // Enough that the import is still running when it is killed at 10,000 keys; PostgreSQL
    // imports slower here (a debug build sharing two cores with the database), so fewer do.
    let total = if common::on_postgres() { 30_000 } else { 100_000 };
    let (ns, id) = common::import_under_way(&server, "crash", total, 10_000).await;
    process.kill().unwrap();
    process.wait().unwrap();

    let mut process = start(dir.path(), &database.url, addr);
    common::ready(&server).await;
    let state = job(&server, &id).await;
    assert_eq!(state["status"], "interrupted", "{state}");
    let events = server.get(&format!("/api/jobs/{id}/events")).await.json();
    assert!(events["events"].as_array().unwrap().iter().any(|e| e["event"] == "interrupted"));
    let res = server.request("POST", &format!("/api/jobs/{id}/resume"), &[], b"").await;
    assert_eq!(res.status, 200, "{}", res.text());
    let done = common::job_end(&server, &id).await;
    assert_eq!(
        (done["status"].as_str(), done["processed"].as_u64()),
        (Some("completed"), Some(total as u64)),
        "{done}"
    );
    process.kill().unwrap();
    process.wait().unwrap();

    // Every key exactly once, with its value.
    let kv = Kv::sql(Database::connect(&database.url).await.unwrap());
    let me = domain::Actor::local(domain::Source::Cli);
    assert_eq!(kv.get_namespace(&me, &ns).await.unwrap().key_count, total as u64);
    let mut seen = 0usize;
    let mut cursor = None;
    loop {
        let page = kv.list_keys(&me, &ns, KeyQuery { cursor, ..Default::default() }).await.unwrap();
        let names: Vec<String> = page.keys.iter().map(|k| k.name.clone()).collect();
        for key in kv
            .namespace(&domain::Actor::local(domain::Source::Cli), &ns, domain::Need::Read)
            .await
            .unwrap()
            .get_many(&names)
            .await
            .unwrap()
        {
            assert_eq!(key.name, format!("key-{seen:06}"));
            assert_eq!(key.value, format!("value of {seen}").into_bytes());
            seen += 1;
        }
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, total);
}
