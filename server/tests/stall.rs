//! Several servers in one process, each on a tokio runtime of its own that is dropped when its
//! "test" ends (as `cargo test` runs test functions on parallel threads): pages rendered by each
//! must keep answering while the others come and go (`KVM_STALL_SECONDS`, default 15). Before the
//! route list was made once per process, a server starting up suppressed the resources of pages
//! other servers were rendering (upstream_suppress.rs) and this failed within seconds.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::TestServer;

fn seconds() -> u64 {
    std::env::var("KVM_STALL_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(15)
}

#[test]
fn servers_on_runtimes_that_come_and_go_keep_rendering() {
    let deadline = Instant::now() + Duration::from_secs(seconds());
    let rendered = Arc::new(AtomicU64::new(0));
    let lives = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..4)
        .map(|lane| {
            let (rendered, lives) = (rendered.clone(), lives.clone());
            std::thread::spawn(move || {
                let mut life = 0u64;
                while Instant::now() < deadline {
                    life += 1;
                    // One "test": a runtime, a server, pages for a while, then the runtime dropped.
                    let rt =
                        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
                    let result = rt.block_on(async {
                        let server = TestServer::start().await;
                        let ns = server.ok("create_namespace", serde_json::json!({ "title": "stall" })).await["id"]
                            .as_str()
                            .unwrap()
                            .to_owned();
                        let pages = ["/".to_owned(), format!("/namespaces/{ns}"), "/jobs".into(), "/audit".into()];
                        let rounds = 5 + (lane as u64 * 7 + life * 3) % 20;
                        for i in 0..rounds {
                            let path = &pages[i as usize % pages.len()];
                            let res =
                                tokio::time::timeout(Duration::from_secs(10), server.request("GET", path, &[], b""))
                                    .await
                                    .map_err(|_| format!("lane {lane} life {life}: {path} did not answer in 10 s"))?;
                            if res.status != 200 || !res.text().contains("</html>") {
                                return Err(format!("lane {lane}: {path}: {}", res.status));
                            }
                            rendered.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok::<_, String>(())
                    });
                    drop(rt);
                    lives.fetch_add(1, Ordering::Relaxed);
                    result?;
                }
                Ok::<_, String>(())
            })
        })
        .collect();
    let outcomes: Vec<Result<(), String>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    println!(
        "{} pages rendered by {} servers on runtimes of their own",
        rendered.load(Ordering::Relaxed),
        lives.load(Ordering::Relaxed)
    );
    for outcome in outcomes {
        outcome.unwrap();
    }
}
