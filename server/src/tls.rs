//! HTTPS without a proxy: rustls on aws-lc-rs (no OpenSSL), HTTP/2 and HTTP/1.1 offered through
//! ALPN, and the certificate and key read again when their files change (a renewal), polled every
//! few seconds and on SIGHUP. A pair that does not load is logged and the previous one kept.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::crypto::{CryptoProvider, aws_lc_rs};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::server::TlsStream;

use crate::config::TlsFiles;

/// How often the files' modification time and size are looked at.
pub const RELOAD_POLL: Duration = Duration::from_secs(2);
/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshaken connections waiting for the server to take them.
const ACCEPT_QUEUE: usize = 64;
/// Handshakes in progress at once; past this the accept loop waits for one to end, so a flood of
/// connections that never finish their handshake holds at most this many tasks (each 10 s at most).
const MAX_HANDSHAKES: usize = 1024;

/// The TLS settings the server is started with, and the certificate they serve (reloadable).
pub struct Tls {
    config: Arc<ServerConfig>,
    certificate: Arc<ReloadingCertificate>,
}

impl Tls {
    /// Reads and checks the certificate and key; the error is one line naming the file at fault.
    pub fn load(files: &TlsFiles) -> anyhow::Result<Self> {
        let provider = Arc::new(aws_lc_rs::default_provider());
        let stamp = Stamp::of(files);
        let key = load_pair(files, &provider).map_err(anyhow::Error::msg)?;
        let certificate = Arc::new(ReloadingCertificate {
            files: files.clone(),
            provider: provider.clone(),
            current: RwLock::new(Arc::new(key)),
            stamp: std::sync::Mutex::new(stamp),
        });
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| anyhow::anyhow!("TLS: {err}"))?
            .with_no_client_auth()
            .with_cert_resolver(certificate.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self { config: Arc::new(config), certificate })
    }

    /// Accepts TLS connections on `listener` (handshakes run beside each other, each in a task of
    /// its own) and starts watching the files for a new certificate.
    pub fn listener(self, listener: TcpListener) -> std::io::Result<TlsListener> {
        let local_addr = listener.local_addr()?;
        let (sender, receiver) = mpsc::channel(ACCEPT_QUEUE);
        tokio::spawn(accept_loop(listener, TlsAcceptor::from(self.config), sender));
        self.certificate.spawn_reloader();
        Ok(TlsListener { receiver, local_addr })
    }
}

/// Connections whose handshake is done, for `axum::serve`. Dropping it (the server stops
/// accepting at shutdown) stops the accept loop and closes the socket.
pub struct TlsListener {
    receiver: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.receiver.recv().await {
            Some(accepted) => accepted,
            // The accept loop ends only once this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    sender: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let handshakes = Arc::new(tokio::sync::Semaphore::new(MAX_HANDSHAKES));
    loop {
        let permit = tokio::select! {
            permit = handshakes.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
            () = sender.closed() => return,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // As axum's own listener: a connection that went away is no matter; anything
                    // else (out of file descriptors, say) is waited out.
                    if !matches!(
                        err.kind(),
                        std::io::ErrorKind::ConnectionRefused
                            | std::io::ErrorKind::ConnectionAborted
                            | std::io::ErrorKind::ConnectionReset
                    ) {
                        tracing::error!(%err, "accept error");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    continue;
                }
            },
            () = sender.closed() => return,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let sender = sender.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp));
            let stream = tokio::select! {
                done = handshake => match done {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(err)) => return tracing::debug!(%peer, %err, "TLS handshake failed"),
                    Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
                },
                // The server stopped accepting meanwhile.
                () = sender.closed() => return,
            };
            let _ = sender.send((stream, peer)).await;
        });
    }
}

/// The certificate handed to every handshake; replaced when its files change and load.
#[derive(Debug)]
struct ReloadingCertificate {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
    /// The files as they were when last read (loaded or not).
    stamp: std::sync::Mutex<Stamp>,
}

impl ResolvesServerCert for ReloadingCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

impl ReloadingCertificate {
    fn spawn_reloader(self: Arc<Self>) {
        tokio::spawn(async move {
            #[cfg(unix)]
            let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            let mut tick = tokio::time::interval(RELOAD_POLL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                #[cfg(unix)]
                let forced = tokio::select! {
                    _ = tick.tick() => false,
                    Some(()) = async { match hangup.as_mut() { Some(s) => s.recv().await, None => None } } => true,
                };
                #[cfg(not(unix))]
                let forced = {
                    tick.tick().await;
                    false
                };
                self.look(forced);
            }
        });
    }

    /// Loads the files again when they changed since the last look (or when `forced`).
    fn look(&self, forced: bool) {
        // Taken before reading: a write landing while the files are read is seen next time.
        let stamp = Stamp::of(&self.files);
        {
            let mut last = self.stamp.lock().unwrap_or_else(|e| e.into_inner());
            if !forced && *last == stamp {
                return;
            }
            *last = stamp;
        }
        match load_pair(&self.files, &self.provider) {
            Ok(key) => {
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(key);
                tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
            }
            Err(err) => {
                tracing::warn!(%err, "TLS certificate not reloaded; the previous one is still served")
            }
        }
    }
}

/// The files' modification times and sizes (`None` for one that cannot be read).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp([Option<(SystemTime, u64)>; 2]);

impl Stamp {
    fn of(files: &TlsFiles) -> Self {
        let stamp = |path: &Path| {
            std::fs::metadata(path).ok().map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()))
        };
        Self([stamp(&files.cert), stamp(&files.key)])
    }
}

/// The certificate chain and its key, checked to belong together; the error names the file.
fn load_pair(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, String> {
    let (cert, key) = (&files.cert, &files.key);
    let cert_pem = std::fs::read(cert).map_err(|err| format!("tls-cert {}: {err}", cert.display()))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| format!("tls-cert {}: not PEM: {err}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("tls-cert {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it", cert.display()));
    }
    let key_pem = std::fs::read(key).map_err(|err| format!("tls-key {}: {err}", key.display()))?;
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|err| match err {
        rustls::pki_types::pem::Error::NoItemsFound => format!(
            "tls-key {}: no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY) in it",
            key.display()
        ),
        err => format!("tls-key {}: not PEM: {err}", key.display()),
    })?;
    CertifiedKey::from_der(chain, private, provider).map_err(|err| match err {
        rustls::Error::InconsistentKeys(_) => {
            format!("tls-key {}: not the key of the certificate in {}", key.display(), cert.display())
        }
        rustls::Error::InvalidCertificate(_) => format!("tls-cert {}: {err}", cert.display()),
        err => format!("tls-key {}: {err}", key.display()),
    })
}
