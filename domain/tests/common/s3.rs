//! A real S3-compatible server for the backup tests: moto's server mode (PyPI `moto[server]`,
//! installed into `target/moto-venv` by `scripts/setup.sh test`), started on a loopback port of
//! its own with signature checking on: the first four requests (made here, unsigned) create a
//! user, its access key, a policy allowing everything, and the bucket; every later request must
//! be signed with that key, so wrong credentials are refused as S3 refuses them.
//!
//! [`Cut`] is a TCP relay in front of it that drops every connection once a number of bytes went
//! through it and refuses new ones: the server going away in the middle of an upload.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::jobs::s3::{S3Options, S3Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const BUCKET: &str = "kvm-backups";

pub struct S3Server {
    child: Child,
    pub port: u16,
    pub access_key: String,
    pub secret_key: String,
}

fn moto_server() -> std::path::PathBuf {
    if let Ok(path) = std::env::var("KVM_TEST_MOTO_SERVER") {
        return path.into();
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = root.join("target/moto-venv/bin/moto_server");
    assert!(
        path.exists(),
        "no S3 test server at {}: run `scripts/setup.sh test` (it installs moto[server] there) or set KVM_TEST_MOTO_SERVER",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).unwrap_or_else(|| panic!("no {open} in {text}")) + open.len();
    let end = text[start..].find(close).unwrap_or_else(|| panic!("no {close} in {text}")) + start;
    &text[start..end]
}

impl S3Server {
    pub async fn start() -> Self {
        let port = free_port();
        let child = Command::new(moto_server())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "4")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let mut server = Self { child, port, access_key: String::new(), secret_key: String::new() };
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(std::time::Instant::now() < deadline, "moto_server did not listen on {port} within 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let http = reqwest::Client::new();
        let iam = |body: String| {
            http.post(format!("http://127.0.0.1:{port}/"))
                // moto routes an unsigned request by the service its credential scope names.
                .header(
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=setup/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
                )
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
        };
        let ok = |r: reqwest::Response| async move {
            let status = r.status();
            let text = r.text().await.expect("moto's answer");
            assert!(status.is_success(), "moto: {status} {text}");
            text
        };
        ok(iam("Action=CreateUser&UserName=kvm&Version=2010-05-08".into()).await.expect("CreateUser")).await;
        let key = ok(iam("Action=CreateAccessKey&UserName=kvm&Version=2010-05-08".into()).await.expect("key")).await;
        server.access_key = between(&key, "<AccessKeyId>", "</AccessKeyId>").to_owned();
        server.secret_key = between(&key, "<SecretAccessKey>", "</SecretAccessKey>").to_owned();
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let body = format!(
            "Action=PutUserPolicy&UserName=kvm&PolicyName=all&Version=2010-05-08&PolicyDocument={}",
            policy.replace('{', "%7B").replace('}', "%7D").replace('"', "%22").replace(':', "%3A").replace(',', "%2C")
        );
        ok(iam(body).await.expect("PutUserPolicy")).await;
        let bucket = http.put(format!("http://127.0.0.1:{port}/{BUCKET}")).send().await.expect("CreateBucket");
        ok(bucket).await;
        server
    }

    /// Options for a store on this server through `port` (the server's own or a [`Cut`]'s),
    /// signing with `secret`.
    pub fn options_via(&self, port: u16, secret: &str) -> S3Options {
        S3Options {
            config: vec![
                ("aws_endpoint".into(), format!("http://127.0.0.1:{port}")),
                ("aws_allow_http".into(), "true".into()),
                ("aws_region".into(), "us-east-1".into()),
                ("aws_access_key_id".into(), self.access_key.clone()),
                ("aws_secret_access_key".into(), secret.to_owned()),
                ("aws_virtual_hosted_style_request".into(), "false".into()),
            ],
            retry_for: Duration::from_secs(3),
            ..S3Options::default()
        }
    }

    pub fn options(&self) -> S3Options {
        self.options_via(self.port, &self.secret_key)
    }

    /// A store under `prefix` of the bucket.
    pub fn store(&self, prefix: &str, options: S3Options) -> Arc<S3Store> {
        Arc::new(S3Store::connect(&format!("s3://{BUCKET}/{prefix}"), options).expect("connect to the S3 server"))
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP relay to `127.0.0.1:to` that, once `after` bytes went from clients to the server,
/// closes every connection and stops accepting.
pub struct Cut {
    pub port: u16,
    pub forwarded: Arc<AtomicU64>,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Cut {
    pub async fn start(to: u16, after: u64) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the relay");
        let port = listener.local_addr().expect("relay address").port();
        let forwarded = Arc::new(AtomicU64::new(0));
        let tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (count, all) = (forwarded.clone(), tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if count.load(Ordering::SeqCst) >= after {
                    break;
                }
                let (count, all_inner) = (count.clone(), all.clone());
                let relay = tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", to)).await else { return };
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let back = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                    });
                    let back_abort = back.abort_handle();
                    all_inner.lock().unwrap().push(back);
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = client_read.read(&mut buf).await {
                        if n == 0 || count.fetch_add(n as u64, Ordering::SeqCst) + n as u64 >= after {
                            break;
                        }
                        if server_write.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    back_abort.abort();
                    // Past the limit: every other connection goes too.
                    if count.load(Ordering::SeqCst) >= after {
                        for task in all_inner.lock().unwrap().drain(..) {
                            task.abort();
                        }
                    }
                });
                all.lock().unwrap().push(relay);
            }
        });
        tasks.lock().unwrap().push(accept);
        Self { port, forwarded, tasks }
    }
}

impl Drop for Cut {
    fn drop(&mut self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}
