//! PostgreSQL over TLS: the `kv-manager` binary against a PostgreSQL cluster of the test's own
//! with `ssl = on`, a server certificate for `localhost` made here by a CA made here, and a
//! pg_hba.conf that refuses any connection without TLS. The URL's `sslmode` and `sslrootcert`
//! decide: verify-full with the right root serves keys; with an unrelated root, a name the
//! certificate does not list, a missing root file or no TLS at all, the binary exits with one
//! clear line and no secret.
//!
//! The cluster needs PostgreSQL's server binaries (`/usr/lib/postgresql/*/bin`); without them the
//! test says so on stderr and passes, unless `KVM_REQUIRE_POSTGRES=1`. As root it runs them as the
//! `postgres` user (the server refuses root). The machine's own PostgreSQL is not touched.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::TestServer;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use serde_json::json;

/// In every URL: trust authentication ignores it, and nothing the binary prints may show it.
const PASSWORD: &str = "never-printed-4b1d";

/// The newest PostgreSQL server binaries' folder, if any.
fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn id(args: &[&str]) -> u32 {
    let out = Command::new("id").args(args).output().expect("run id");
    assert!(out.status.success(), "id {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("a numeric id")
}

/// A PostgreSQL cluster in a temp folder, listening on 127.0.0.1 with TLS only; stopped (`-m
/// immediate`) when dropped, whatever the test's outcome.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// Root runs the server binaries as `postgres`.
    as_postgres: bool,
    port: u16,
    started: bool,
}

impl Cluster {
    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        // A folder the server's user may enter.
        command.current_dir(self.dir.path());
        command
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A file the server reads: owned by its user when that is `postgres`, with `mode`.
    fn server_file(&self, name: &str, text: &str, mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        if self.as_postgres {
            std::os::unix::fs::chown(&path, Some(id(&["-u", "postgres"])), Some(id(&["-g", "postgres"]))).unwrap();
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    fn start(bin: PathBuf, server_cert: &str, server_key: &str) -> Self {
        let as_postgres = id(&["-u"]) == 0;
        let dir = tempfile::tempdir().expect("temp dir");
        if as_postgres {
            std::os::unix::fs::chown(dir.path(), Some(id(&["-u", "postgres"])), Some(id(&["-g", "postgres"]))).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut cluster = Self { dir, bin, as_postgres, port, started: false };
        let out = cluster
            .command("initdb")
            .arg("-D")
            .arg(cluster.data())
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
            .output()
            .expect("run initdb");
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        let cert = cluster.server_file("server.crt", server_cert, 0o644);
        let key = cluster.server_file("server.key", server_key, 0o600);
        let dir = cluster.dir.path().display().to_string();
        let settings = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{dir}'\nssl = on\n\
             ssl_cert_file = '{}'\nssl_key_file = '{}'\nfsync = off\nshared_buffers = 16MB\n",
            cert.display(),
            key.display()
        );
        let conf = cluster.data().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text.push_str(&settings);
        std::fs::write(&conf, text).unwrap();
        std::fs::write(
            cluster.data().join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
        )
        .unwrap();
        cluster.started = true;
        let out = cluster
            .command("pg_ctl")
            .arg("-D")
            .arg(cluster.data())
            .arg("-l")
            .arg(cluster.dir.path().join("server.log"))
            .args(["-w", "-t", "60", "start"])
            .output()
            .expect("run pg_ctl start");
        let log = std::fs::read_to_string(cluster.dir.path().join("server.log")).unwrap_or_default();
        assert!(out.status.success(), "pg_ctl start failed: {}\n{log}", String::from_utf8_lossy(&out.stderr));
        cluster
    }

    /// A URL on `host` with these parameters.
    fn url(&self, host: &str, params: &str) -> String {
        format!("postgres://postgres:{PASSWORD}@{host}:{}/postgres?{params}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.started {
            let _ = self
                .command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// A CA certificate (PEM) and its issuer.
fn new_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// Runs `kv-manager <args> --database-url <url>`, killed after 60 s; its output.
fn kv_manager(dir: &Path, args: &[&str], url: &str) -> Output {
    let mut child = Command::new(common::kv_manager_bin())
        .args(args)
        .args(["--database-url", url, "--data-dir"])
        .arg(dir.join("data"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kv-manager");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("kv-manager {args:?} ran over 60 s: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// `kv-manager token list` over `url` succeeds.
fn connects(dir: &Path, url: &str) {
    let out = kv_manager(dir, &["token", "list"], url);
    assert!(out.status.success(), "{url}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `kv-manager token list` over `url` fails; its stderr, checked for a one-line reason, no panic
/// and no password.
fn refused(dir: &Path, url: &str) -> String {
    let out = kv_manager(dir, &["token", "list"], url);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{url} connected: {stdout}");
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "{stderr}");
    assert!(!stderr.contains(PASSWORD) && !stdout.contains(PASSWORD), "the password was printed:\n{stdout}\n{stderr}");
    let error =
        stderr.lines().find(|line| line.starts_with("Error: ")).unwrap_or_else(|| panic!("no error line: {stderr}"));
    error.to_owned()
}

/// A server process, killed when dropped.
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls_honours_sslmode_and_sslrootcert() {
    let Some(bin) = postgres_bin() else {
        assert!(
            std::env::var("KVM_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "KVM_REQUIRE_POSTGRES=1 but no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
        );
        eprintln!("SKIPPED postgres_over_tls: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin");
        return;
    };
    let started = Instant::now();
    let ca = new_ca("kv-manager test CA");
    let wrong_ca = new_ca("an unrelated CA");
    let server_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, "localhost");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = params.signed_by(&server_key, &*ca).unwrap();
    let cluster = Cluster::start(bin, &server_cert.pem(), &server_key.serialize_pem());

    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let ca_pem = dir.join("ca.pem");
    let wrong_pem = dir.join("wrong-ca.pem");
    std::fs::write(&ca_pem, ca.pem()).unwrap();
    std::fs::write(&wrong_pem, wrong_ca.pem()).unwrap();
    let verify_full = cluster.url("localhost", &format!("sslmode=verify-full&sslrootcert={}", ca_pem.display()));

    // verify-full with the right root: the server starts, and a key written reads back.
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let server = TestServer::at(addr);
    let process = Serving(common::spawn_binary(dir, &verify_full, addr, &[]));
    common::ready(&server).await;
    let ns = server.ok("create_namespace", json!({ "title": "over-tls" })).await["id"].as_str().unwrap().to_owned();
    server.ok("put_key", json!({ "namespace_id": ns, "key": "greeting", "value": "hello over TLS" })).await;
    let key = server.ok("get_key", json!({ "namespace_id": ns, "key": "greeting" })).await;
    assert_eq!(key["value"], "hello over TLS");
    drop(process);
    connects(dir, &verify_full);

    // verify-full with an unrelated root: `serve` exits at once, naming the certificate problem.
    let wrong = cluster.url("localhost", &format!("sslmode=verify-full&sslrootcert={}", wrong_pem.display()));
    let out = kv_manager(dir, &["serve", "--addr", "127.0.0.1:0", "--site-root", &dir.display().to_string()], &wrong);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("certificate is not trusted"), "{stderr}");
    assert!(!stderr.contains(PASSWORD) && !String::from_utf8_lossy(&out.stdout).contains(PASSWORD));
    let error = refused(dir, &wrong);
    assert!(error.contains("certificate is not trusted") && error.contains("wrong-ca.pem"), "{error}");
    // verify-ca checks the root as well.
    let wrong = cluster.url("localhost", &format!("sslmode=verify-ca&sslrootcert={}", wrong_pem.display()));
    assert!(refused(dir, &wrong).contains("certificate is not trusted"));
    // With no sslrootcert, the built-in public roots do not know this CA either.
    let error = refused(dir, &cluster.url("localhost", "sslmode=verify-full"));
    assert!(error.contains("certificate is not trusted") && error.contains("set sslrootcert"), "{error}");

    // The name: verify-ca does not check it, verify-full does (the certificate lists localhost only).
    connects(dir, &cluster.url("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={}", ca_pem.display())));
    let error =
        refused(dir, &cluster.url("127.0.0.1", &format!("sslmode=verify-full&sslrootcert={}", ca_pem.display())));
    assert!(error.contains("not valid for the host \"127.0.0.1\""), "{error}");

    // require and prefer encrypt without checking the certificate (pg_hba.conf refuses plain ones).
    connects(dir, &cluster.url("localhost", "sslmode=require"));
    connects(dir, &cluster.url("127.0.0.1", "sslmode=prefer"));

    // disable: the server's `hostnossl ... reject` answers, in PostgreSQL's words.
    let error = refused(dir, &cluster.url("localhost", "sslmode=disable"));
    assert!(error.contains("pg_hba.conf rejects connection") && error.contains("no encryption"), "{error}");

    // A root certificate file that is not there is named.
    let missing = dir.join("no-such-ca.pem");
    let error =
        refused(dir, &cluster.url("localhost", &format!("sslmode=verify-full&sslrootcert={}", missing.display())));
    assert!(error.contains(&format!("sslrootcert={}", missing.display())) && error.contains("cannot read"), "{error}");

    // A server without TLS: sslmode=require says so rather than falling back to plain text.
    let conf = cluster.data().join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str("ssl = off\n");
    std::fs::write(&conf, text).unwrap();
    let out = cluster.command("pg_ctl").arg("-D").arg(cluster.data()).arg("reload").output().unwrap();
    assert!(out.status.success(), "pg_ctl reload: {}", String::from_utf8_lossy(&out.stderr));
    let require = cluster.url("localhost", "sslmode=require");
    let deadline = Instant::now() + Duration::from_secs(10);
    let error = loop {
        // The reload is a signal: until the server has read it, TLS is still offered.
        let out = kv_manager(dir, &["token", "list"], &require);
        if !out.status.success() || Instant::now() > deadline {
            break refused(dir, &require);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(error.contains("does not offer TLS, which sslmode=require requires"), "{error}");

    eprintln!("postgres_over_tls: {:.1} s", started.elapsed().as_secs_f64());
}
