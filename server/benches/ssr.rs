//! `make bench`: server-side render of `/` with 100 namespaces (median time to first byte), and
//! the first-load bytes of the release site (JS + WASM + CSS, gzip).

#[path = "../../domain/benches/common/goals.rs"]
mod goals;

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
        data_dir: dir.path().join("data"),
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
    site_bytes(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site/pkg"));
}

/// First-load bytes (gzip) of the release site: what `/` loads (JS, the split loader, the main
/// WASM, CSS), then what each code-split page adds when it is the first page opened.
fn site_bytes(pkg: &std::path::Path) {
    let size = |name: &str| -> Option<u64> { gzip_size(pkg.join(name).to_str().unwrap_or_default()) };
    let loader = std::fs::read_dir(pkg)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .find(|name| name.starts_with("__wasm_split") && name.ends_with(".js"));
    let mut first = 0;
    for name in ["kv-manager.js", "kv-manager.wasm", "kv-manager.css"].iter().copied().chain(loader.as_deref()) {
        match size(name) {
            Some(bytes) => {
                println!("[site] {name}: {:.1} KB gzip", bytes as f64 / 1024.0);
                first += bytes;
            }
            None => {
                println!("[site] {name}: missing (run `cargo leptos build --release --split` first)");
                return;
            }
        }
    }
    println!(
        "[site] first load of / (JS + WASM + CSS): {:.1} KB gzip (seed console: 151 KB; limit 400 KB)",
        first as f64 / 1024.0
    );
    goals::record("ssr", "first load of / (gzip)", first as f64 / 1024.0, "KB", goals::Goal::AtMost(400.0));
    let manifest: serde_json::Value = std::fs::read(pkg.join("__wasm_split_manifest.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    let Some(splits) = manifest.as_object() else {
        println!("[site] no code-split pages (built without --split)");
        return;
    };
    for (split, chunks) in splits {
        let extra: u64 = chunks
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|chunk| chunk.as_str())
            .filter_map(|chunk| size(&format!("{chunk}.wasm")))
            .sum();
        println!(
            "[site] code-split part {split}: +{:.1} KB gzip when first needed ({:.1} KB with the first load of /)",
            extra as f64 / 1024.0,
            (first + extra) as f64 / 1024.0
        );
    }
}
