//! Pages under load: one `kv-manager serve` process (the release binary in `make test`, named by
//! `KVM_TEST_BIN`; else this build's) renders every console page for 32 concurrent clients for
//! `KVM_LOAD_SECONDS` (default 60) while four writers keep `/v1/kv` busy. Every page must answer
//! in full (its document closed and the stream ended) within 10 s (a slower one counts as a stall), no request may fail, and the server may
//! log no error or panic. The figures (pages, rate, p50/p99/max page time, writes) are printed.
//!
//! Ignored in the debug test run; `make test-release` runs it on the release build.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{TestServer, kv_manager_bin};
use serde_json::json;

const PAGE_CLIENTS: usize = 32;
const WRITERS: usize = 4;
const STALL: Duration = Duration::from_secs(10);

fn seconds() -> u64 {
    std::env::var("KVM_LOAD_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(60)
}

#[derive(Default)]
struct Tally {
    pages: Vec<Duration>,
    stalls: Vec<String>,
    errors: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "runs for a minute on the release build: make test-release"]
async fn every_console_page_renders_for_32_clients_while_v1_kv_writes_run() {
    let dir = tempfile::tempdir().unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(kv_manager_bin())
        .args(["serve", "--addr", &addr.to_string(), "--config", "/dev/null"])
        .arg("--database-url")
        .arg(format!("sqlite://{}?mode=rwc", dir.path().join("kv.db").display()))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--site-root")
        .arg(dir.path())
        .env("RUST_LOG", "info,sqlx=warn,sea_orm=warn")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start kv-manager");
    let server = TestServer::at(addr);
    let mut up = false;
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the server did not start: {}", std::fs::read_to_string(&log_path).unwrap_or_default());

    // Something on every page: namespaces with keys, tags, a finished job, audit rows, a token
    // and a service.
    let mut namespaces = Vec::new();
    for title in ["load-a", "load-b", "load-c"] {
        let id = server.ok("create_namespace", json!({ "title": title })).await["id"].as_str().unwrap().to_owned();
        for i in 0..40 {
            let key = format!("user:{i:03}");
            server.ok("put_key", json!({ "namespace_id": id, "key": key, "value": format!("value {i}") })).await;
        }
        server.ok("put_key_details", json!({ "namespace_id": id, "key": "user:001", "tags": ["vip"] })).await;
        namespaces.push(id);
    }
    server.ok("start_export", json!({ "namespace_id": namespaces[0] })).await;
    server.ok("create_api_token", json!({ "name": "load" })).await;
    let made = server
        .ok(
            "create_service",
            json!({ "name": "load-writer", "storage": namespaces[2], "role": "admin", "prefix": "w", "allowed_origins": ["*"] }),
        )
        .await;
    let secret = made["secret"].as_str().unwrap().to_owned();
    let ns = &namespaces[0];
    let pages: Arc<Vec<(String, u16)>> = Arc::new(vec![
        ("/".into(), 200),
        ("/?search=load-b".into(), 200),
        (format!("/namespaces/{ns}"), 200),
        (format!("/namespaces/{ns}?prefix=user%3A01"), 200),
        (format!("/namespaces/{ns}?key=user%3A001"), 200),
        ("/search?q=user".into(), 200),
        ("/search?tags=vip".into(), 200),
        ("/jobs".into(), 200),
        ("/jobs?status=completed&type=export".into(), 200),
        ("/audit".into(), 200),
        ("/tokens".into(), 200),
        ("/services".into(), 200),
        ("/no-such-page".into(), 404),
    ]);

    let http = reqwest::Client::builder().timeout(STALL).build().unwrap();
    let base = format!("http://{addr}");
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let tally = Arc::new(std::sync::Mutex::new(Tally::default()));
    let mut tasks = Vec::new();
    for client in 0..PAGE_CLIENTS {
        let (http, base, pages, stop, tally) = (http.clone(), base.clone(), pages.clone(), stop.clone(), tally.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = client;
            while !stop.load(Ordering::Relaxed) {
                let (path, want) = &pages[n % pages.len()];
                n += 1;
                let started = Instant::now();
                let outcome = async {
                    let res = http.get(format!("{base}{path}")).send().await?;
                    let status = res.status().as_u16();
                    let body = res.text().await?;
                    Ok::<_, reqwest::Error>((status, body))
                }
                .await;
                let took = started.elapsed();
                let mut tally = tally.lock().unwrap();
                match outcome {
                    // A whole page: the document closed (the resources' data follows it).
                    Ok((status, body)) if status == *want && body.contains("</html>") => tally.pages.push(took),
                    Ok((status, body)) => {
                        tally.errors.push(format!("{path}: {status}, {} bytes ending {:?}", body.len(), tail(&body)))
                    }
                    Err(err) if err.is_timeout() => tally.stalls.push(format!("{path}: no full answer in {took:?}")),
                    Err(err) => tally.errors.push(format!("{path}: {err}")),
                }
            }
        }));
    }
    for writer in 0..WRITERS {
        let (http, base, stop, tally, writes, secret) =
            (http.clone(), base.clone(), stop.clone(), tally.clone(), writes.clone(), secret.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let sent = http
                    .put(format!("{base}/v1/kv/writer-{writer}-{}", i % 500))
                    .header("X-Kevi-Token", &secret)
                    .header("Content-Type", "application/json")
                    .body(json!({ "value": { "n": i, "by": writer } }).to_string())
                    .send()
                    .await;
                match sent {
                    Ok(res) if res.status() == 200 => {
                        writes.fetch_add(1, Ordering::Relaxed);
                    }
                    // The service's token is limited to 100 requests a second: waiting is right.
                    Ok(res) if res.status() == 429 => tokio::time::sleep(Duration::from_millis(20)).await,
                    Ok(res) => tally.lock().unwrap().errors.push(format!("PUT /v1/kv: {}", res.status())),
                    Err(err) => tally.lock().unwrap().errors.push(format!("PUT /v1/kv: {err}")),
                }
            }
        }));
    }
    let run = Duration::from_secs(seconds());
    tokio::time::sleep(run).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    child.kill().ok();
    child.wait().ok();

    let tally = std::mem::take(&mut *tally.lock().unwrap());
    let mut times = tally.pages.clone();
    times.sort();
    let at = |q: f64| times.get(((times.len() as f64 * q) as usize).min(times.len().saturating_sub(1))).copied();
    let writes = writes.load(Ordering::Relaxed);
    println!(
        "pages under load ({PAGE_CLIENTS} clients, {WRITERS} /v1/kv writers, {run:?}, {}): {} pages ({:.0}/s), \
         p50 {:?}, p99 {:?}, max {:?}; {writes} writes ({:.0}/s); {} stalls, {} errors",
        kv_manager_bin(),
        times.len(),
        times.len() as f64 / run.as_secs_f64(),
        at(0.5).unwrap_or_default(),
        at(0.99).unwrap_or_default(),
        times.last().copied().unwrap_or_default(),
        writes as f64 / run.as_secs_f64(),
        tally.stalls.len(),
        tally.errors.len(),
    );
    assert!(tally.stalls.is_empty(), "pages that stalled: {:?}", &tally.stalls[..tally.stalls.len().min(10)]);
    assert!(tally.errors.is_empty(), "requests that failed: {:?}", &tally.errors[..tally.errors.len().min(10)]);
    assert!(times.len() >= 100 * pages.len(), "only {} pages rendered", times.len());
    assert!(writes > 0, "no write went through");
    let log = std::fs::read_to_string(&log_path).unwrap();
    let bad: Vec<&str> = log.lines().filter(|l| l.contains(" ERROR ") || l.contains("panicked at")).collect();
    assert!(bad.is_empty(), "the server logged errors: {bad:?}");
}

fn tail(body: &str) -> &str {
    let start = body.len().saturating_sub(80);
    body.get(start..).unwrap_or("")
}
