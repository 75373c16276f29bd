//! `make bench`: server-side render of `/` with 100 namespaces (median time to first byte), and
//! the first-load bytes of the release site (JS + WASM + CSS, gzip).

use std::process::Command;
use std::time::{Duration, Instant};

use domain::{Actor, Source};
use kv_manager::{Config, build, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn gzip_size(path: &str) -> Option<u64> {
    let out = Command::new("gzip").args(["-9", "-c", path]).output().ok()?;
    out.status.success().then_some(out.stdout.len() as u64)
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let config = Config {
        addr,
        database_url: format!("sqlite://{}?mode=rwc", dir.path().join("ssr.db").display()),
        site_root: "target/site".to_owned(),
        ..Default::default()
    };
    let (router, state) = build(&config).await.expect("server");
    let actor = Actor::local(Source::Cli);
    for i in 0..100 {
        state.kv.create_namespace(&actor, &format!("namespace-{i:03}")).await.expect("namespace");
    }
    tokio::spawn(serve(listener, router, std::future::pending()));

    let mut ttfb = Vec::new();
    let mut total = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let t = Instant::now();
        stream
            .write_all(format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())
            .await
            .expect("write");
        let mut first = [0u8; 1];
        stream.read_exact(&mut first).await.expect("first byte");
        ttfb.push(t.elapsed());
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await.expect("body");
        total.push(t.elapsed());
        assert!(String::from_utf8_lossy(&rest).contains("namespace-049"));
    }
    ttfb.sort();
    total.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "[ssr] GET / with 100 namespaces: median TTFB {:.2} ms, median full response {:.2} ms",
        ms(ttfb[100]),
        ms(total[100])
    );

    // Benches run in the package's folder; the site is built at the workspace root.
    let pkg = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site/pkg");
    let mut sum = 0;
    for name in ["kv-manager.js", "kv-manager.wasm", "kv-manager.css"] {
        let path = pkg.join(name);
        let file = path.to_str().unwrap_or_default();
        match gzip_size(file) {
            Some(size) => {
                println!("[site] {name}: {:.1} KB gzip", size as f64 / 1024.0);
                sum += size;
            }
            None => println!("[site] {name}: missing (run `cargo leptos build --release` first)"),
        }
    }
    println!(
        "[site] first load (JS + WASM + CSS): {:.1} KB gzip (seed console: 151 KB; limit 400 KB)",
        sum as f64 / 1024.0
    );
}
