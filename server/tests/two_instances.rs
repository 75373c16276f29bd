//! Two server processes (the `kv-manager` binary) on one PostgreSQL database, each with its own
//! `--instance-id`: an import started through one is seen running, followed over a WebSocket and
//! cancelled through the other, and a key written through one is on the other's console pages.
//!
//! Runs only with `KVM_TEST_POSTGRES_URL` (SQLite serves one instance): without it the test says
//! so and passes, unless `KVM_REQUIRE_POSTGRES=1` (as in CI), which makes that a failure.

mod common;

use std::net::SocketAddr;
use std::process::Child;
use std::time::{Duration, Instant};

use common::TestServer;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// Lines in the imported file: enough that the import runs for many seconds on PostgreSQL in a
/// debug build, so it is still running when it is cancelled.
const TOTAL: u64 = 200_000;

/// A PostgreSQL database of its own on the server at `KVM_TEST_POSTGRES_URL`, dropped with it.
struct SharedDatabase {
    base: String,
    name: String,
    url: String,
}

impl SharedDatabase {
    async fn create() -> Option<Self> {
        let Some(base) = std::env::var("KVM_TEST_POSTGRES_URL").ok().filter(|url| !url.is_empty()) else {
            assert!(
                std::env::var("KVM_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "KVM_REQUIRE_POSTGRES=1 but KVM_TEST_POSTGRES_URL is not set: name a PostgreSQL server \
                 (postgres://user@host:5432/database) for the two-instance test"
            );
            return None;
        };
        let (url, name) = common::postgres::create_database(&base).await;
        Some(Self { base, name, url })
    }
}

impl Drop for SharedDatabase {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                rt.block_on(common::postgres::drop_database(&base, &name));
            }
        })
        .join();
    }
}

/// One `kv-manager serve` process with its own data directory; killed when dropped.
struct Instance {
    process: Child,
    server: TestServer,
    _dir: tempfile::TempDir,
}

impl Instance {
    async fn start(database_url: &str, instance_id: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let addr: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let process = common::spawn_binary(dir.path(), database_url, addr, &["--instance-id", instance_id]);
        let instance = Self { process, server: TestServer::at(addr), _dir: dir };
        common::ready(&instance.server).await;
        instance
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

async fn get_job(server: &TestServer, id: &str) -> Value {
    server.ok("get_job", json!({ "job_id": id })).await
}

fn status(job: &Value) -> &str {
    job["status"].as_str().unwrap_or_else(|| panic!("a job without a status: {job}"))
}

fn processed(job: &Value) -> u64 {
    job["processed"].as_u64().unwrap_or_else(|| panic!("a job without processed: {job}"))
}

/// Polls the job through `server` until `wanted` holds of it; fails on a job that ended
/// otherwise, or after `limit`.
async fn until(server: &TestServer, id: &str, what: &str, limit: Duration, wanted: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let job = get_job(server, id).await;
        if wanted(&job) {
            return job;
        }
        assert!(!["completed", "failed", "cancelled", "interrupted"].contains(&status(&job)), "{what}: {job}");
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}: {job}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next message on `socket`: its JSON (null for a frame that is not text), none once closed.
async fn next_message(socket: &mut Socket) -> Option<Value> {
    let message = tokio::time::timeout(Duration::from_secs(15), socket.next()).await;
    match message.expect("a WebSocket message from B within 15 s") {
        Some(Ok(Message::Text(text))) => Some(serde_json::from_str(&text).unwrap()),
        Some(Ok(Message::Close(_))) | None => None,
        Some(Ok(_)) => Some(Value::Null),
        Some(Err(err)) => panic!("B's WebSocket broke: {err}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_jobs_and_keys_through_postgres() {
    let Some(database) = SharedDatabase::create().await else {
        eprintln!("KVM_TEST_POSTGRES_URL is not set: the two-instance test (PostgreSQL only) is skipped");
        return;
    };
    // One after the other: the first start migrates the new database.
    let a = Instance::start(&database.url, "kvm-a").await;
    let b = Instance::start(&database.url, "kvm-b").await;
    let (a, b) = (&a.server, &b.server);

    // 1. An import started through A: seen running through B, followed on B's WebSocket,
    // cancelled through B, and A's job ends cancelled with only part of the file written.
    let ns = a.ok("create_namespace", json!({ "title": "imported-on-a" })).await["id"].as_str().unwrap().to_owned();
    let mut lines = String::with_capacity(TOTAL as usize * 48);
    for i in 0..TOTAL {
        lines.push_str(&format!("{{\"name\":\"key-{i:06}\",\"value\":\"value of {i}\"}}\n"));
    }
    let res = a.request("POST", &format!("/api/import/{ns}"), &[], lines.as_bytes()).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let id = res.json()["job_id"].as_str().unwrap().to_owned();
    // B reads the job from the database: running, with progress that grows.
    let running = |job: &Value| status(job) == "running" && processed(job) > 0;
    let seen = until(b, &id, "B sees A's import running", Duration::from_secs(30), running).await;
    assert_eq!(seen["id"], id.as_str(), "{seen}");
    let first = processed(&seen);
    assert!(first < TOTAL, "{seen}");
    let grown = until(b, &id, "B sees the import's progress grow", Duration::from_secs(30), |job| {
        running(job) && processed(job) > first
    })
    .await;
    assert!(processed(&grown) < TOTAL, "{grown}");

    // B's WebSocket sends the progress of a job running on A.
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/api/jobs/{id}/ws", b.addr)).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let progress = loop {
        let message = next_message(&mut socket).await.expect("B's WebSocket closed before a progress message");
        if message["type"] == "progress" && message["job"]["processed"].as_u64().is_some_and(|p| p > 0) {
            break message;
        }
        assert_ne!(message["type"], "error", "{message}");
        assert!(Instant::now() < deadline, "no progress message from B within 30 s: last {message}");
    };
    assert_eq!(
        (progress["job"]["id"].as_str(), progress["job"]["status"].as_str()),
        (Some(id.as_str()), Some("running"))
    );

    // Cancelled through B; A's job stops (it reads the request from its row) and ends cancelled.
    let asked = b.ok("cancel_job", json!({ "job_id": id })).await;
    assert_eq!(asked["id"], id.as_str(), "{asked}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = loop {
        let job = get_job(a, &id).await;
        if !["queued", "running"].contains(&status(&job)) {
            break job;
        }
        assert!(Instant::now() < deadline, "A's job did not end within 30 s of the cancel through B: {job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status(&done), "cancelled", "{done}");
    let written = processed(&done);
    assert!(written >= processed(&grown) && written < TOTAL, "{done}");
    // B's WebSocket follows the job to its end.
    let mut last = progress;
    while let Some(message) = next_message(&mut socket).await {
        if !message.is_null() {
            last = message;
        }
    }
    assert_eq!(
        (last["type"].as_str(), last["job"]["processed"].as_u64()),
        (Some("cancelled"), Some(written)),
        "{last}"
    );
    let events = a.ok("job_events", json!({ "job_id": id })).await;
    let names: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names.last(), Some(&"cancelled"), "{names:?}");
    // Fewer keys than the file had: what the job reports written, read through either instance.
    for server in [a, b] {
        let info = server.ok("get_namespace", json!({ "namespace_id": ns })).await;
        assert_eq!(info["key_count"].as_u64(), Some(written), "{info}");
    }

    // 2. A key written through A is on B's console pages: its name in the namespace's key list,
    // its value in the key's read view (`?key=`, rendered by the server).
    let ns = a.ok("create_namespace", json!({ "title": "written-on-a" })).await["id"].as_str().unwrap().to_owned();
    let (name, value) = ("written-through-a", "value-from-instance-kvm-a");
    let page = b.get(&format!("/namespaces/{ns}")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("written-on-a") && !page.text().contains(name), "{}", page.text());
    a.ok("put_key", json!({ "namespace_id": ns, "key": name, "value": value })).await;
    let page = b.get(&format!("/namespaces/{ns}")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains(&format!(">{name}<")), "B's key list lacks {name}: {}", page.text());
    let page = b.get(&format!("/namespaces/{ns}?key={name}")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains(value), "B's read view lacks the value: {}", page.text());
}
