//! Webhooks as a user runs them: an endpoint added with `kv-manager webhook add`, the built
//! server delivering to a real receiver on loopback; the server is killed (SIGKILL) while the
//! receiver still fails, started again, and the event is delivered, signed, after the restart.
//! `webhook list`, `webhook log` and `/metrics` tell what happened.

mod common;

use std::net::SocketAddr;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use common::TestServer;
use domain::webhooks::sign;
use serde_json::{Value, json};

const SECRET: &str = "whsec_server_test_0123456789";

#[derive(Default)]
struct Receiver {
    status: u16,
    /// (status answered, signature verified, body)
    got: Vec<(u16, bool, Value)>,
}

fn cli(dir: &std::path::Path, url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kv-manager"))
        .args(args)
        .args(["--database-url", url, "--data-dir"])
        .arg(dir.join("data"))
        .arg("--webhook-allow-networks")
        .arg("127.0.0.0/8")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run kv-manager")
}

fn start(dir: &std::path::Path, url: &str, addr: SocketAddr) -> Child {
    common::spawn_binary(dir, url, addr, &["--instance-id", "webhook-test", "--webhook-allow-networks", "127.0.0.0/8"])
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within 30 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_committed_before_a_kill_is_delivered_after_the_restart() {
    let shared = Arc::new(Mutex::new(Receiver { status: 503, got: Vec::new() }));
    let state = shared.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let timestamp: i64 = header(sign::TIMESTAMP_HEADER).parse().unwrap_or(0);
                let signed = sign::verify(SECRET, timestamp, &body, &header(sign::SIGNATURE_HEADER));
                let mut receiver = state.lock().unwrap();
                let status = receiver.status;
                receiver.got.push((status, signed, serde_json::from_slice(&body).unwrap_or(Value::Null)));
                StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });

    let dir = tempfile::tempdir().unwrap();
    let database = common::TestDatabase::new(dir.path());
    let out =
        cli(dir.path(), &database.url, &["webhook", "add", &hook_url, "--event", "key.created", "--secret", SECRET]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), SECRET, "the secret, alone on standard output");
    let id = String::from_utf8_lossy(&out.stderr)
        .split_whitespace()
        .find(|w| w.starts_with("whk_"))
        .expect("the endpoint's id")
        .to_owned();

    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let server = TestServer::at(addr);
    let mut process = start(dir.path(), &database.url, addr);
    common::ready(&server).await;
    let ns = server.ok("create_namespace", json!({ "title": "hooked" })).await["id"].as_str().unwrap().to_owned();
    server.ok("put_key", json!({ "namespace_id": ns, "key": "kept", "value": "v" })).await;
    // The receiver refuses it: the event waits in the endpoint's queue.
    until("a refused delivery", || !shared.lock().unwrap().got.is_empty()).await;
    process.kill().unwrap();
    process.wait().unwrap();

    shared.lock().unwrap().status = 200;
    let mut process = start(dir.path(), &database.url, addr);
    common::ready(&server).await;
    until("the delivery after the restart", || shared.lock().unwrap().got.iter().any(|(status, ..)| *status == 200))
        .await;
    let got = shared.lock().unwrap().got.clone();
    assert!(got.iter().all(|(_, signed, _)| *signed), "every delivery is signed");
    let delivered = &got.iter().find(|(status, ..)| *status == 200).unwrap().2;
    let event = &delivered["events"][0];
    assert_eq!((event["type"].as_str(), event["key"].as_str()), (Some("key.created"), Some("kept")), "{delivered}");
    assert_eq!(event["namespace"]["title"], "hooked");
    // A call without a browser session is a script's.
    assert_eq!(event["actor"]["source"], "script");
    // The same event, by id, in the refused attempt and the accepted one.
    assert!(got.iter().all(|(_, _, body)| body["events"][0]["id"] == event["id"]), "{got:?}");

    let metrics = server.get("/metrics").await.text();
    assert!(metrics.contains("kvm_webhook_deliveries_total{outcome=\"delivered\"} 1"), "{metrics}");
    assert!(metrics.contains("kvm_webhook_endpoints{state=\"delivering\"} 1"), "{metrics}");
    process.kill().unwrap();
    process.wait().unwrap();

    let list = cli(dir.path(), &database.url, &["webhook", "list"]);
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    let row = list.lines().find(|line| line.starts_with(&id)).unwrap_or_else(|| panic!("{list}"));
    assert!(row.contains("delivering") && row.contains(&hook_url), "{row}");
    let log = cli(dir.path(), &database.url, &["webhook", "log", &id]);
    let log = String::from_utf8_lossy(&log.stdout).into_owned();
    let outcomes: Vec<&str> = log.lines().skip(1).filter_map(|line| line.split_whitespace().nth(1)).collect();
    assert_eq!(outcomes.first(), Some(&"delivered"), "{log}");
    assert!(outcomes.contains(&"failed"), "{log}");
    assert!(log.contains("503"), "{log}");
}
