//! `make bench`: storage figures on a real SQLite file (and PostgreSQL when
//! KVM_BENCH_POSTGRES_URL is set).
//!
//! - list one 1000-key page from a namespace of 1,000,000 keys (p50, p95)
//! - put_key and get_key p50
//!
//! KVM_BENCH_KEYS changes the namespace size (default 1,000,000).

mod common;

use std::time::Instant;

use common::{Lcg, ms, percentile};

use domain::{Actor, Database, KeyQuery, Kv, PutKey, Source};

async fn run(label: &str, url: &str, total: u64) {
    let db = Database::connect(url).await.expect("database");
    let kv = Kv::sql(db);
    let actor = Actor::local(Source::Cli);
    let ns = kv
        .create_namespace(&actor, &format!("bench-{}", Instant::now().elapsed().as_nanos()))
        .await
        .expect("namespace")
        .id;

    let started = Instant::now();
    let batch = 5_000u64;
    for start in (0..total).step_by(batch as usize) {
        let puts = (start..(start + batch).min(total))
            .map(|i| PutKey {
                name: format!("user:{i:07}:profile"),
                value: format!("{{\"id\":{i},\"plan\":\"pro\"}}").into_bytes(),
                ..Default::default()
            })
            .collect();
        kv.put_many(&actor, &ns, puts).await.expect("seed");
    }
    let seeded = started.elapsed();
    println!(
        "[{label}] seeded {total} keys in {:.1} s ({:.0} keys/s through put_many)",
        seeded.as_secs_f64(),
        total as f64 / seeded.as_secs_f64()
    );

    let mut rng = Lcg(42);
    let mut list = Vec::new();
    for _ in 0..200 {
        let at = rng.next() % total.saturating_sub(1000).max(1);
        let query = KeyQuery { prefix: Some(format!("user:{:04}", at / 1000)), cursor: None, limit: Some(1000) };
        let t = Instant::now();
        let page = kv.list_keys(&actor, &ns, query).await.expect("list");
        list.push(t.elapsed());
        assert!(!page.keys.is_empty());
    }
    // Walking with cursors from the start, too.
    let mut cursor = None;
    for _ in 0..50 {
        let t = Instant::now();
        let page = kv
            .list_keys(&actor, &ns, KeyQuery { prefix: None, cursor: cursor.clone(), limit: Some(1000) })
            .await
            .expect("list");
        list.push(t.elapsed());
        assert_eq!(page.keys.len(), 1000.min(total as usize));
        cursor = page.cursor;
    }
    let (p50, p95) = (percentile(&mut list, 0.5), percentile(&mut list, 0.95));
    println!(
        "[{label}] list_keys 1000-key page of {total}: p50 {:.3} ms p95 {:.3} ms (target p50 <= 5 ms)",
        ms(p50),
        ms(p95)
    );
    common::goals::record(label, "list_keys page of 1000, p50", ms(p50), "ms", common::goals::Goal::AtMost(5.0));

    let mut puts = Vec::new();
    for i in 0..1000u64 {
        let key = format!("user:{:07}:profile", rng.next() % total);
        let t = Instant::now();
        kv.put_key(&actor, &ns, PutKey { name: key, value: format!("updated {i}").into_bytes(), ..Default::default() })
            .await
            .expect("put");
        puts.push(t.elapsed());
    }
    let mut gets = Vec::new();
    for _ in 0..1000 {
        let key = format!("user:{:07}:profile", rng.next() % total);
        let t = Instant::now();
        kv.get_key(&actor, &ns, &key).await.expect("get");
        gets.push(t.elapsed());
    }
    println!(
        "[{label}] put_key p50 {:.3} ms p95 {:.3} ms",
        ms(percentile(&mut puts, 0.5)),
        ms(percentile(&mut puts, 0.95))
    );
    println!(
        "[{label}] get_key p50 {:.3} ms p95 {:.3} ms",
        ms(percentile(&mut gets, 0.5)),
        ms(percentile(&mut gets, 0.95))
    );
    kv.delete_namespace(&actor, &ns).await.expect("cleanup");
}

#[tokio::main]
async fn main() {
    let total: u64 = std::env::var("KVM_BENCH_KEYS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display());
    run("sqlite", &url, total).await;
    if let Ok(url) = std::env::var("KVM_BENCH_POSTGRES_URL") {
        run("postgres", &url, total).await;
    }
}
