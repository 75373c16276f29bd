//! A real server on a free port over a fresh database (a SQLite file, or a PostgreSQL database
//! with `KVM_TEST_SERVER_DATABASE=postgres`), and a small HTTP/1.1 client over a plain TCP socket
//! (so the tests need no HTTP client library).

#![allow(dead_code)]

#[path = "../../../domain/tests/common/postgres.rs"]
pub mod postgres;
pub mod proxy;

use std::net::SocketAddr;

use kv_manager::{Config, build, serve};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `text` with every byte that is not unreserved (RFC 3986) percent-encoded: a key or cursor as a
/// path segment or query value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The `kv-manager` binary that tests running it as a child process start: `KVM_TEST_BIN` (the
/// release build, in `make test-release`), else this build's.
pub fn kv_manager_bin() -> String {
    std::env::var("KVM_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_kv-manager").to_owned())
}

/// Whether this run's test servers keep their data on PostgreSQL: `KVM_TEST_SERVER_DATABASE=
/// postgres` (with `KVM_TEST_POSTGRES_URL` naming a server), as `make test-rust` runs the HTTP
/// suites a second time when PostgreSQL is there. Otherwise each has a SQLite file.
pub fn on_postgres() -> bool {
    match std::env::var("KVM_TEST_SERVER_DATABASE").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("KVM_TEST_SERVER_DATABASE={other}: expected sqlite or postgres"),
    }
}

/// A fresh database for a test: `kv.db` in `dir`, or (see [`on_postgres`]) a PostgreSQL database
/// of its own, dropped with this value.
pub struct TestDatabase {
    pub url: String,
    /// PostgreSQL: the server's URL and the database's name.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub fn new(dir: &std::path::Path) -> Self {
        if !on_postgres() {
            return Self { url: format!("sqlite://{}?mode=rwc", dir.join("kv.db").display()), postgres: None };
        }
        let base = std::env::var("KVM_TEST_POSTGRES_URL")
            .expect("KVM_TEST_SERVER_DATABASE=postgres needs KVM_TEST_POSTGRES_URL (a PostgreSQL server)");
        let (url, name) = on_own_runtime({
            let base = base.clone();
            async move { postgres::create_database(&base).await }
        });
        Self { url, postgres: Some((base, name)) }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((base, name)) = self.postgres.take() {
            on_own_runtime(async move { postgres::drop_database(&base, &name).await });
        }
    }
}

/// Runs `work` to its end on a runtime of its own (callable from sync code, from async code and
/// from `Drop`).
fn on_own_runtime<T: Send + 'static>(work: impl std::future::Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(work)
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

pub struct TestServer {
    pub addr: SocketAddr,
    /// The database it serves (for the CLI, say); none for a server started elsewhere.
    pub database_url: Option<String>,
    /// The running server's state (services, say), for a server started here.
    pub state: Option<app::state::AppState>,
    _dir: Option<tempfile::TempDir>,
    /// Its own database, when the server made it; dropped after the server's directory.
    _database: Option<TestDatabase>,
}

impl TestServer {
    /// A server over a fresh database (SQLite, or PostgreSQL: see [`on_postgres`]).
    pub async fn start() -> Self {
        Self::configured("127.0.0.1:0", |_| {}).await
    }

    /// A server over `database_url` (a database the test keeps for a later server).
    pub async fn start_with(database_url: String, dir: tempfile::TempDir) -> Self {
        Self::start_configured(database_url, dir, "127.0.0.1:0", |_| {}).await
    }

    /// A server on `bind` over a fresh database, with settings changed by `configure`.
    pub async fn configured(bind: &str, configure: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = TestDatabase::new(dir.path());
        let mut server = Self::start_configured(database.url.clone(), dir, bind, configure).await;
        server._database = Some(database);
        server
    }

    pub async fn start_configured(
        database_url: String,
        dir: tempfile::TempDir,
        bind: &str,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let listener = tokio::net::TcpListener::bind(bind).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut config = Config {
            addr,
            database_url: database_url.clone(),
            site_root: dir.path().display().to_string(),
            data_dir: dir.path().join("data"),
            ..Default::default()
        };
        configure(&mut config);
        let (router, state) = build(&config).await.expect("server builds");
        tokio::spawn(serve(listener, router, std::future::pending()));
        Self { addr, database_url: Some(database_url), state: Some(state), _dir: Some(dir), _database: None }
    }

    /// A server with the Cloudflare backend whose "Cloudflare" is `base_url` (another server's
    /// `/client/v4`, or a proxy in front of it), signing in with `api_token`.
    pub async fn over_cloudflare(base_url: String, api_token: String) -> Self {
        Self::configured("127.0.0.1:0", |c| {
            c.backend = kv_manager::config::Backend::Cloudflare {
                account_id: kv_manager::cf_api::DEFAULT_ACCOUNT_ID.into(),
                api_token,
                base_url,
                concurrency: 4,
                sync_minutes: 15,
            };
        })
        .await
    }

    /// A token of the Cloudflare-compatible API named `name`, made on this server's database
    /// with the CLI (`kv-manager token create`, the secret alone on the last line).
    pub fn api_token(&self, name: &str) -> String {
        let url = self.database_url.clone().expect("a server started here");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kv-manager"))
            .args(["token", "create", "--name", name, "--database-url", &url, "--config", "/dev/null"])
            .output()
            .expect("the CLI runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8").lines().last().expect("a token").to_owned()
    }

    /// A client for a server started elsewhere.
    pub fn at(addr: SocketAddr) -> Self {
        Self { addr, database_url: None, state: None, _dir: None, _database: None }
    }

    /// Sends one request and reads the whole response.
    pub async fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        self.request_to(&self.addr.to_string(), method, path, headers, body).await
    }

    /// Sends one request naming `host` in its `Host` header (as a browser would for whatever name
    /// it resolved to this server).
    pub async fn request_to(
        &self,
        host: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let mut stream = TcpStream::connect(self.addr).await.expect("connect");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.expect("write head");
        // A server may answer (say, 413) and close before reading an oversize body.
        let _ = stream.write_all(body).await;
        let mut raw = Vec::new();
        // A server that never answers fails the test rather than hanging it.
        tokio::time::timeout(std::time::Duration::from_secs(20), stream.read_to_end(&mut raw))
            .await
            .unwrap_or_else(|_| panic!("no answer to {method} {path} within 20 s"))
            .expect("read");
        Response::parse(&raw)
    }

    /// Writes `head` (the request line and headers, ending in a blank line) and then `chunks` one
    /// by one, stopping at the first write the server refuses, and reads the answer: for bodies
    /// that lie about their length or stream without one.
    pub async fn raw(&self, head: &str, chunks: &[&[u8]]) -> Response {
        let mut stream = TcpStream::connect(self.addr).await.expect("connect");
        stream.write_all(head.as_bytes()).await.expect("write head");
        for chunk in chunks {
            if stream.write_all(chunk).await.is_err() {
                break;
            }
        }
        let mut raw = Vec::new();
        let read = tokio::time::timeout(std::time::Duration::from_secs(20), stream.read_to_end(&mut raw)).await;
        let _ = read.unwrap_or_else(|_| panic!("no answer within 20 s to {head:?}"));
        Response::parse(&raw)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request("GET", path, &[], b"").await
    }

    /// Calls a server function the way a script does.
    pub async fn call(&self, name: &str, input: Value) -> Response {
        let body = serde_json::to_vec(&input).expect("json");
        self.request(
            "POST",
            &format!("/api/{name}"),
            &[("Content-Type", "application/json"), ("Accept", "application/json")],
            &body,
        )
        .await
    }

    /// Calls a server function that must succeed and returns its JSON.
    pub async fn ok(&self, name: &str, input: Value) -> Value {
        let res = self.call(name, input).await;
        assert_eq!(res.status, 200, "{name} failed: {}", res.text());
        res.json()
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    fn parse(raw: &[u8]) -> Self {
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of head");
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let mut lines = head.split("\r\n");
        let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status");
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let mut body = raw[split + 4..].to_vec();
        if headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked")) {
            body = dechunk(&body);
        }
        Self { status, headers, body }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
    out
}

/// The built binary serving `database_url` on `addr` as a process of its own (one a test can
/// kill), its files under `dir`, with `extra` arguments.
pub fn spawn_binary(
    dir: &std::path::Path,
    database_url: &str,
    addr: SocketAddr,
    extra: &[&str],
) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_kv-manager"))
        .args(["serve", "--addr", &addr.to_string(), "--database-url", database_url])
        .args(extra)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--site-root")
        .arg(dir)
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("start kv-manager")
}

/// Waits until the server at `server.addr` answers `/health`; fails the test after 15 s.
pub async fn ready(server: &TestServer) {
    for _ in 0..300 {
        if TcpStream::connect(server.addr).await.is_ok() && server.get("/health").await.status == 200 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the server did not start");
}

/// Waits until job `id` has left `queued` and `running` (two minutes at most) and returns it as
/// `GET /api/jobs/{id}` answers.
#[allow(dead_code)]
pub async fn job_end(server: &TestServer, id: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let state = server.get(&format!("/api/jobs/{id}")).await.json();
        if !["queued", "running"].contains(&state["status"].as_str().unwrap_or_default()) {
            return state;
        }
        assert!(std::time::Instant::now() < deadline, "job {id} did not end: {state}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Makes a namespace titled `title`, starts an import of `total` keys (`key-000000` with the
/// value `value of 0`, ...) into it, and waits until at least `reached` are written, failing if
/// the import ends first. Returns the namespace's id and the job's.
#[allow(dead_code)]
pub async fn import_under_way(server: &TestServer, title: &str, total: usize, reached: u64) -> (String, String) {
    let ns = server.ok("create_namespace", serde_json::json!({ "title": title })).await["id"]
        .as_str()
        .expect("a namespace id")
        .to_owned();
    let mut lines = String::with_capacity(total * 48);
    for i in 0..total {
        lines.push_str(&format!("{{\"name\":\"key-{i:06}\",\"value\":\"value of {i}\"}}\n"));
    }
    let res = server.request("POST", &format!("/api/import/{ns}"), &[], lines.as_bytes()).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let id = res.json()["job_id"].as_str().expect("a job id").to_owned();
    loop {
        let state = server.get(&format!("/api/jobs/{id}")).await.json();
        assert_ne!(state["status"], "completed", "the import ended before it reached {reached} keys");
        if state["processed"].as_u64().unwrap_or(0) >= reached {
            return (ns, id);
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}
