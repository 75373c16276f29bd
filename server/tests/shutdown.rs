//! A graceful shutdown: SIGTERM while an import runs. The import stops after the batch it is
//! writing and ends `interrupted` with its checkpoint, a WebSocket following it gets that state
//! and a close frame saying why, the process exits 0 within its grace; started again, the import
//! resumes where it stopped and every key is there once.

mod common;

use std::net::SocketAddr;
use std::process::Child;
use std::time::{Duration, Instant};

use common::TestServer;
use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const GRACE_SECS: u64 = 20;

fn start(dir: &std::path::Path, url: &str, addr: SocketAddr) -> Child {
    common::spawn_binary(
        dir,
        url,
        addr,
        &["--instance-id", "shutdown-test", "--shutdown-grace", &GRACE_SECS.to_string()],
    )
}

async fn job(server: &TestServer, id: &str) -> Value {
    server.get(&format!("/api/jobs/{id}")).await.json()
}

async fn key_count(server: &TestServer, ns: &str) -> u64 {
    server.ok("get_namespace", serde_json::json!({ "namespace_id": ns })).await["key_count"].as_u64().unwrap()
}

/// Waits for the process to exit, at most `within`.
fn exit_within(process: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = process.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = process.kill();
            panic!("the server had not exited {within:?} after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A server process on a fresh database, answering; the folder and database live as long as this.
struct Started {
    dir: tempfile::TempDir,
    database: common::TestDatabase,
    addr: SocketAddr,
    server: TestServer,
    process: Child,
}

async fn started() -> Started {
    let dir = tempfile::tempdir().unwrap();
    let database = common::TestDatabase::new(dir.path());
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let server = TestServer::at(addr);
    let process = start(dir.path(), &database.url, addr);
    common::ready(&server).await;
    Started { dir, database, addr, server, process }
}

fn sigterm(process: &Child) {
    let sent = std::process::Command::new("kill").args(["-TERM", &process.id().to_string()]).status().unwrap();
    assert!(sent.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_an_import_leaves_it_resumable_and_closes_its_websocket() {
    let Started { dir, database, addr, server, mut process } = started().await;
    let total = if common::on_postgres() { 30_000 } else { 100_000 };
    let (ns, id) = common::import_under_way(&server, "shutdown", total, 3_000).await;
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/api/jobs/{id}/ws")).await.expect("open the WebSocket");
    let first = socket.next().await.unwrap().unwrap();
    assert!(first.to_text().unwrap().contains("\"progress\""), "{first:?}");

    sigterm(&process);
    let signalled = Instant::now();

    // The socket: the job's state as the shutdown left it, then a close frame with a reason.
    let mut last_text = Value::Null;
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(GRACE_SECS), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => last_text = serde_json::from_str(&text).unwrap(),
            Ok(Some(Ok(Message::Close(frame)))) => break frame,
            Ok(Some(Ok(_))) => {}
            other => panic!("the socket ended without a close frame: {other:?} (last message {last_text})"),
        }
    };
    let close = close.expect("a close frame with a code and reason");
    assert_eq!(close.code, CloseCode::Away, "{close:?}");
    assert!(close.reason.contains("shutting down"), "{close:?}");
    assert_eq!(last_text["type"], "interrupted", "{last_text}");
    assert_eq!(last_text["job"]["status"], "interrupted", "{last_text}");

    let status = exit_within(&mut process, Duration::from_secs(GRACE_SECS + 5));
    assert!(status.success(), "the server exited with {status}");
    let took = signalled.elapsed();
    assert!(took < Duration::from_secs(GRACE_SECS), "the shutdown took {took:?}, the whole grace: jobs did not stop");

    // Started again: the job is interrupted by the shutdown, not by a crash, and what it counted is
    // exactly what it wrote.
    let mut process = start(dir.path(), &database.url, addr);
    common::ready(&server).await;
    let state = job(&server, &id).await;
    assert_eq!(state["status"], "interrupted", "{state}");
    assert!(state["error_message"].as_str().unwrap().contains("shut down"), "{state}");
    let processed = state["processed"].as_u64().unwrap();
    assert!(processed >= 3_000 && processed < total as u64, "{state}");
    assert_eq!(key_count(&server, &ns).await, processed, "keys written but not counted, or counted but not written");
    let events = server.get(&format!("/api/jobs/{id}/events")).await.json();
    let interrupted: Vec<&Value> =
        events["events"].as_array().unwrap().iter().filter(|e| e["event"] == "interrupted").collect();
    assert_eq!(interrupted.len(), 1, "{events}");
    assert!(interrupted[0]["details"]["reason"].as_str().unwrap().contains("shut down"), "{events}");

    let res = server.request("POST", &format!("/api/jobs/{id}/resume"), &[], b"").await;
    assert_eq!(res.status, 200, "{}", res.text());
    let done = common::job_end(&server, &id).await;
    assert_eq!(
        (done["status"].as_str(), done["processed"].as_u64()),
        (Some("completed"), Some(total as u64)),
        "{done}"
    );
    assert_eq!(key_count(&server, &ns).await, total as u64);
    process.kill().unwrap();
    process.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_with_nothing_running_exits_at_once() {
    // Held whole to the end: its folder and database outlive the process.
    let mut idle = started().await;
    sigterm(&idle.process);
    let signalled = Instant::now();
    let status = exit_within(&mut idle.process, Duration::from_secs(GRACE_SECS + 5));
    assert!(status.success(), "the server exited with {status}");
    assert!(signalled.elapsed() < Duration::from_secs(5), "an idle server took {:?} to stop", signalled.elapsed());
}
