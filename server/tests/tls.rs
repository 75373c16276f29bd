//! HTTPS without a proxy: the `kv-manager` binary with `--tls-cert`/`--tls-key`, a certificate for
//! `localhost` and 127.0.0.1 from a CA made here. `/health` answers over HTTP/2 (ALPN) and over
//! HTTP/1.1, with the peer address the loopback check needs; plain HTTP on the port gets no
//! answer; a job's WebSocket opens over TLS; a new certificate written over the files is served to
//! new connections without a restart, a garbage one is logged and the previous pair kept; SIGTERM
//! ends it at once with 0. At start-up a missing, garbage or mismatched file stops it with one line
//! naming the file.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

fn new_ca() -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, "kv-manager test CA");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A server certificate for localhost and 127.0.0.1 with a key of its own: (cert PEM, key PEM, cert DER).
fn leaf(ca: &CertifiedIssuer<'static, KeyPair>, name: &str) -> (String, String, Vec<u8>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
    params.distinguished_name.push(DnType::CommonName, name);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &**ca).unwrap();
    (cert.pem(), key.serialize_pem(), cert.der().to_vec())
}

/// Replaces `path` by a new file with `text` (written aside, then renamed over it, as certificate
/// tools do).
fn replace(path: &Path, text: &str) {
    let aside = path.with_extension("new");
    std::fs::write(&aside, text).unwrap();
    std::fs::rename(&aside, path).unwrap();
}

/// The binary serving HTTPS, its log lines collected; killed when dropped (unless it exited).
struct Server {
    process: Child,
    addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(dir: &Path, cert: &Path, key: &Path) -> Self {
        let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let mut process = Command::new(common::kv_manager_bin())
            .args(["serve", "--addr", &addr.to_string()])
            .arg("--database-url")
            .arg(format!("sqlite://{}?mode=rwc", dir.join("kv.db").display()))
            .arg("--data-dir")
            .arg(dir.join("data"))
            .arg("--site-root")
            .arg(dir)
            .arg("--tls-cert")
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            // A grace far above the exit the test waits for: idle connections must not hold it.
            .args(["--shutdown-grace", "30"])
            .env("RUST_LOG", "info,sqlx=warn,sea_orm=warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start kv-manager");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stdout = process.stdout.take().unwrap();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        Self { process, addr, log }
    }

    fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits until a log line after the first `after` ones contains every one of `words`.
    async fn wait_for_log(&self, after: usize, words: &[&str], within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(line) = self.log_lines().into_iter().skip(after).find(|l| words.iter().all(|w| l.contains(w))) {
                return line;
            }
            assert!(Instant::now() < deadline, "no log line with {words:?} within {within:?}: {:#?}", self.log_lines());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.process.try_wait().ok().flatten().is_none() {
            let _ = self.process.kill();
            let _ = self.process.wait();
        }
    }
}

/// A client trusting only the test CA, `localhost` resolving to the server.
fn client(ca_pem: &str, addr: SocketAddr, http1_only: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap()])
        .resolve("localhost", addr)
        .no_proxy()
        .timeout(Duration::from_secs(10));
    let builder = if http1_only { builder.http1_only() } else { builder };
    builder.build().unwrap()
}

fn tls_config(ca_der: &[u8]) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(ca_der.to_vec())).unwrap();
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A new TLS connection (HTTP/1.1 by ALPN) to the server, verified against the CA.
async fn connect(
    config: &Arc<ClientConfig>,
    addr: SocketAddr,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let connector = tokio_rustls::TlsConnector::from(config.clone());
    tokio::time::timeout(Duration::from_secs(10), connector.connect(ServerName::try_from("localhost").unwrap(), tcp))
        .await
        .expect("handshake in time")
        .expect("handshake")
}

/// The leaf certificate (DER) a new connection is shown.
async fn presented(config: &Arc<ClientConfig>, addr: SocketAddr) -> Vec<u8> {
    let stream = connect(config, addr).await;
    stream.get_ref().1.peer_certificates().expect("a certificate")[0].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_over_http2_and_http1_with_websockets_reload_and_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let ca = new_ca();
    let ca_pem = ca.pem();
    let ca_der = ca.der().to_vec();
    let (cert1, key1, der1) = leaf(&ca, "kv-manager first");
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, &cert1).unwrap();
    std::fs::write(&key_path, &key1).unwrap();
    let mut server = Server::start(dir.path(), &cert_path, &key_path);
    let h2 = client(&ca_pem, server.addr, false);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(res) = h2.get(server.url("/health")).send().await
            && res.status() == 200
        {
            break;
        }
        assert!(server.process.try_wait().unwrap().is_none(), "the server exited: {:#?}", server.log_lines());
        assert!(Instant::now() < deadline, "no answer over HTTPS: {:#?}", server.log_lines());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let listening = server.log_lines().into_iter().find(|l| l.contains("kv-manager listening")).unwrap();
    assert!(listening.contains(&format!("https://{}", server.addr)), "{listening}");

    // (1) HTTP/2 through ALPN, and HTTP/1.1 when that is all the client offers. A 200 also says
    // the loopback check saw the peer's address (it refuses a request without one).
    let res = h2.get(server.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.version(), reqwest::Version::HTTP_2);
    let h1 = client(&ca_pem, server.addr, true);
    let res = h1.get(server.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.version(), reqwest::Version::HTTP_11);

    // The container's HEALTHCHECK, `kv-manager health`, with the server's own settings: HTTPS on
    // the loopback (the certificate names `localhost`, not the address probed). Without the TLS
    // settings it speaks plain HTTP to the TLS port, and says unhealthy.
    let probe = |tls: bool| {
        let mut command = Command::new(common::kv_manager_bin());
        command.args(["health", "--addr", &format!("0.0.0.0:{}", server.addr.port())]);
        if tls {
            command.arg("--tls-cert").arg(&cert_path).arg("--tls-key").arg(&key_path);
        }
        command.env("RUST_LOG", "off").output().unwrap()
    };
    let out = probe(true);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.starts_with(&format!("healthy: GET https://127.0.0.1:{}/health: 200", server.addr.port())),
        "{stdout}"
    );
    assert!(!probe(false).status.success(), "a plain-HTTP probe of the TLS port said healthy");

    // (2) Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap();
    let res = plain.get(format!("http://{}/health", server.addr)).send().await;
    assert!(!matches!(&res, Ok(r) if r.status().is_success()), "plain HTTP was answered: {res:?}");

    // (3) A job's WebSocket over TLS (HTTP/1.1), after a server function and an import over HTTP/2.
    let ns = h2
        .post(server.url("/api/create_namespace"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(r#"{"title":"tls"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(ns.status(), 200);
    let ns: serde_json::Value = ns.json().await.unwrap();
    let ns = ns["id"].as_str().unwrap();
    let import = h2
        .post(server.url(&format!("/api/import/{ns}")))
        .body("{\"name\":\"a\",\"value\":\"1\"}\n{\"name\":\"b\",\"value\":\"2\"}\n")
        .send()
        .await
        .unwrap();
    assert_eq!(import.status(), 202);
    let import: serde_json::Value = import.json().await.unwrap();
    let job = import["job_id"].as_str().unwrap();
    let tls = tls_config(&ca_der);
    let stream = connect(&tls, server.addr).await;
    let ws_url = format!("wss://localhost:{}/api/jobs/{job}/ws", server.addr.port());
    let (mut socket, response) = tokio_tungstenite::client_async(ws_url, stream).await.expect("WebSocket over TLS");
    assert_eq!(response.status(), 101);
    let first = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.unwrap().unwrap().unwrap();
    assert!(first.to_text().unwrap().contains(job), "{first:?}");
    drop(socket);

    // (4) A renewal: a new certificate with a new key, written over the files, is what new
    // connections get; the server never stopped.
    assert_eq!(presented(&tls, server.addr).await, der1);
    let (cert2, key2, der2) = leaf(&ca, "kv-manager second");
    replace(&key_path, &key2);
    replace(&cert_path, &cert2);
    let deadline = Instant::now() + Duration::from_secs(20);
    while presented(&tls, server.addr).await != der2 {
        assert!(Instant::now() < deadline, "the new certificate was not served: {:#?}", server.log_lines());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.wait_for_log(0, &["TLS certificate reloaded"], Duration::from_secs(5)).await;
    let fresh = client(&ca_pem, server.addr, false);
    assert_eq!(fresh.get(server.url("/health")).send().await.unwrap().status(), 200);

    // A garbage certificate is logged, naming the file, and the last good pair still served.
    let seen = server.log_lines().len();
    replace(&cert_path, "not a certificate\n");
    let line = server.wait_for_log(seen, &["not reloaded", "no PEM certificate"], Duration::from_secs(20)).await;
    assert!(line.contains(&cert_path.display().to_string()), "{line}");
    assert_eq!(presented(&tls, server.addr).await, der2);
    let fresh = client(&ca_pem, server.addr, true);
    assert_eq!(fresh.get(server.url("/health")).send().await.unwrap().status(), 200);

    // (6) SIGTERM with connections open (the clients' pooled HTTP/2 and HTTP/1.1 ones): exit 0 at
    // once, not at the end of the grace.
    let sent = Command::new("kill").args(["-TERM", &server.process.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let signalled = Instant::now();
    let status = loop {
        if let Some(status) = server.process.try_wait().unwrap() {
            break status;
        }
        assert!(signalled.elapsed() < Duration::from_secs(10), "no exit 10 s after SIGTERM: {:#?}", server.log_lines());
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status:?}: {:#?}", server.log_lines());
    drop((h1, h2, fresh));
}

/// Runs `serve` with these TLS arguments; it must exit (non-zero) within 30 s: its stderr.
fn refused(dir: &Path, tls: &[&Path]) -> String {
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut command = Command::new(common::kv_manager_bin());
    command
        .args(["serve", "--addr", &addr.to_string()])
        .arg("--database-url")
        .arg(format!("sqlite://{}?mode=rwc", dir.join("kv.db").display()))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--site-root")
        .arg(dir);
    if let Some(cert) = tls.first() {
        command.arg("--tls-cert").arg(cert);
    }
    if let Some(key) = tls.get(1) {
        command.arg("--tls-key").arg(key);
    }
    let mut child = command
        .env("RUST_LOG", "warn")
        // The error alone, as a user sees it (no backtrace from the test run's settings).
        .env("RUST_BACKTRACE", "0")
        .env_remove("RUST_LIB_BACKTRACE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server started with {tls:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "{stderr}");
    let error: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(error.len(), 1, "one line: {stderr}");
    stderr
}

#[test]
fn start_up_refuses_a_missing_garbage_or_mismatched_file_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let ca = new_ca();
    let (cert, key, _) = leaf(&ca, "kv-manager");
    let (_, other_key, _) = leaf(&ca, "another");
    let path = |name: &str| -> PathBuf { dir.path().join(name) };
    std::fs::write(path("cert.pem"), &cert).unwrap();
    std::fs::write(path("key.pem"), &key).unwrap();
    std::fs::write(path("other-key.pem"), &other_key).unwrap();
    std::fs::write(path("garbage.pem"), "garbage\n").unwrap();

    let err = refused(dir.path(), &[&path("cert.pem"), &path("missing-key.pem")]);
    assert!(err.contains(&format!("tls-key {}", path("missing-key.pem").display())), "{err}");
    assert!(err.contains("No such file"), "{err}");

    let err = refused(dir.path(), &[&path("garbage.pem"), &path("key.pem")]);
    assert!(err.contains(&format!("tls-cert {}", path("garbage.pem").display())), "{err}");
    assert!(err.contains("no PEM certificate"), "{err}");

    let err = refused(dir.path(), &[&path("cert.pem"), &path("garbage.pem")]);
    assert!(err.contains(&format!("tls-key {}", path("garbage.pem").display())), "{err}");
    assert!(err.contains("no PEM private key"), "{err}");

    let err = refused(dir.path(), &[&path("cert.pem"), &path("other-key.pem")]);
    assert!(err.contains("not the key of the certificate"), "{err}");

    let err = refused(dir.path(), &[&path("cert.pem")]);
    assert!(err.contains("tls-key:"), "{err}");
    assert!(!dir.path().join("kv.db").exists(), "nothing was started before the refusals");
}
