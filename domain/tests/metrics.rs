//! Metrics (issue 18): a scripted mix of key operations by actors of every surface, flushed,
//! reads back from the rollups as exactly what was done; two engines on one database add up;
//! rows are pruned by age as of a clock the test moves.

mod common;

use std::collections::BTreeMap;

use common::{Fixture, put};
use domain::metrics::{Counts, Resolution, Rollup, STORAGE};
use domain::{Actor, Database, Kv, Role, Source};

/// Namespace, surface, service and operation of a row.
type SeriesKey = (String, String, String, String);
/// Operations, keys and errors per series.
type Totals = BTreeMap<SeriesKey, (u64, u64, u64)>;

/// The rows of `resolution` around now, summed per series (a test may cross a minute).
async fn totals(kv: &Kv, resolution: Resolution) -> Totals {
    let now = domain::now_unix();
    let rows = kv.metrics().rollups(resolution, now - 2 * 3600, now + 3600).await.expect("read the rollups");
    sum(&rows)
}

fn sum(rows: &[Rollup]) -> Totals {
    let mut out = Totals::new();
    for row in rows.iter().filter(|row| row.operation != STORAGE) {
        let Counts { operations, keys, errors, latency, .. } = row.counts;
        assert_eq!(latency.iter().sum::<u64>(), operations, "every operation is in one latency bucket: {row:?}");
        let entry = out
            .entry((row.namespace_id.clone(), row.surface.clone(), row.service.clone(), row.operation.clone()))
            .or_default();
        entry.0 += operations;
        entry.1 += keys;
        entry.2 += errors;
    }
    out
}

fn series(
    ns: &str,
    surface: &str,
    service: &str,
    operation: &str,
    counts: (u64, u64, u64),
) -> (SeriesKey, (u64, u64, u64)) {
    ((ns.to_owned(), surface.to_owned(), service.to_owned(), operation.to_owned()), counts)
}

fn console() -> Actor {
    Actor::new("alice@example.com", Source::Console, Role::User)
}

fn kevi() -> Actor {
    Actor::new("web-app", Source::Kevi, Role::Admin)
}

fn cf_api() -> Actor {
    Actor::new("ci-token", Source::CfApi, Role::User)
}

fn job() -> Actor {
    Actor::new("alice@example.com", Source::Job, Role::User)
}

/// The mix every test below does on `ns`: what it answers is what the rollups must hold.
async fn scripted_mix(kv: &Kv, ns: &str) -> Totals {
    for name in ["x/a", "x/b", "x/c"] {
        kv.put_key(&console(), ns, put(name, "v")).await.expect("console put");
    }
    kv.get_key(&console(), ns, "x/a").await.expect("console get");
    // A key that is not there is an answer, not a failure.
    kv.get_key(&console(), ns, "missing").await.expect_err("no such key");
    let query = domain::KeyQuery { prefix: Some("x/".into()), ..Default::default() };
    let page = kv.list_keys(&console(), ns, query).await.expect("console list");
    assert_eq!(page.keys.len(), 3);

    kv.put_many(&kevi(), ns, vec![put("k1", "1"), put("k2", "2")]).await.expect("kevi put_many");
    let read = kv.namespace(&kevi(), ns, domain::Need::Read).await.expect("open");
    let found = read.get_many(&["k1".into(), "k2".into(), "nope".into()]).await.expect("kevi get_many");
    assert_eq!(found.len(), 2);
    assert!(kv.delete_key(&kevi(), ns, "k1").await.expect("kevi delete"));

    assert_eq!(
        kv.delete_many(&cf_api(), ns, &["x/b".into(), "x/c".into(), "gone".into()]).await.expect("cf delete"),
        2
    );
    // An invalid write fails, and counts as a failed write of no keys.
    kv.put_key(&job(), ns, put("", "v")).await.expect_err("empty key name");

    Totals::from([
        series(ns, "console", "", "write", (3, 3, 0)),
        series(ns, "console", "", "read", (2, 1, 0)),
        series(ns, "console", "", "list", (1, 3, 0)),
        series(ns, "kevi", "web-app", "write", (1, 2, 0)),
        series(ns, "kevi", "web-app", "read", (1, 2, 0)),
        series(ns, "kevi", "web-app", "delete", (1, 1, 0)),
        series(ns, "cf-api", "", "delete", (1, 2, 0)),
        series(ns, "job", "", "write", (1, 0, 1)),
    ])
}

async fn a_scripted_mix_reads_back_from_the_rollups_exactly(fixture: &Fixture) {
    let kv = &fixture.kv;
    let ns = kv.create_namespace(&console(), "metrics-mix").await.expect("namespace").id;
    let expected = scripted_mix(kv, &ns).await;

    // Nothing reaches the database until a flush: a request never waits for it.
    assert_eq!(totals(kv, Resolution::Minute).await, Totals::new());
    assert!(kv.metrics().flush().await.expect("flush") > 0);
    assert_eq!(totals(kv, Resolution::Minute).await, expected);
    assert_eq!(totals(kv, Resolution::Hour).await, expected, "hour rows hold the same counts");
    assert_eq!(kv.metrics().flush().await.expect("an empty flush"), 0);
    assert_eq!(totals(kv, Resolution::Minute).await, expected, "an empty flush adds nothing");

    // A later flush adds to the rows that are there.
    kv.get_key(&console(), &ns, "x/a").await.expect("console get");
    kv.metrics().flush().await.expect("flush");
    let mut more = expected.clone();
    more.insert(series(&ns, "console", "", "read", (3, 2, 0)).0, (3, 2, 0));
    assert_eq!(totals(kv, Resolution::Minute).await, more);
    assert_eq!(totals(kv, Resolution::Hour).await, more);

    // A search of one namespace counts as a listing of it.
    let query = domain::SearchQuery { namespace_ids: vec![ns.clone()], ..Default::default() };
    let found = kv.search_keys(&console(), query).await.expect("search");
    kv.metrics().flush().await.expect("flush");
    more.insert(series(&ns, "console", "", "list", (0, 0, 0)).0, (2, 3 + found.results.len() as u64, 0));
    assert_eq!(totals(kv, Resolution::Minute).await, more);

    // Turned off, nothing is recorded.
    kv.metrics().set_enabled(false);
    kv.get_key(&console(), &ns, "x/a").await.expect("console get");
    assert!(kv.metrics().unflushed().is_empty());
    kv.metrics().set_enabled(true);
}

async fn storage_is_sampled_from_the_namespace_counters(fixture: &Fixture) {
    let kv = &fixture.kv;
    let ns = kv.create_namespace(&console(), "metrics-storage").await.expect("namespace").id;
    kv.put_many(&console(), &ns, vec![put("a", "12345"), put("b", "123")]).await.expect("put");
    let now = domain::now_unix();
    assert!(kv.metrics().sample_storage(now).await.expect("sample") >= 1);
    kv.delete_key(&console(), &ns, "b").await.expect("delete");
    // A second sample in the same bucket replaces the first.
    kv.metrics().sample_storage(now).await.expect("sample");
    for resolution in [Resolution::Minute, Resolution::Hour] {
        let start = resolution.bucket_of(now);
        let rows = kv.metrics().rollups(resolution, start, start + 1).await.expect("rollups");
        let sample: Vec<_> = rows
            .iter()
            .filter(|r| r.operation == STORAGE && r.namespace_id == ns)
            .map(|r| (r.key_count, r.size_bytes))
            .collect();
        let counters = kv.get_namespace(&console(), &ns).await.expect("namespace");
        assert_eq!(counters.key_count, 1);
        assert_eq!(sample, vec![(counters.key_count, counters.size_bytes)], "{resolution:?}");
    }
}

async fn two_engines_on_one_database_add_up(fixture: &Fixture) {
    let ns = fixture.kv.create_namespace(&console(), "metrics-two").await.expect("namespace").id;
    let other = Kv::sql(Database::connect(&fixture.url).await.expect("second engine"));
    let expected = scripted_mix(&fixture.kv, &ns).await;
    // The second engine does the same again (the counts are the same).
    scripted_mix(&other, &ns).await;
    let (a, b) = tokio::join!(fixture.kv.metrics().flush(), other.metrics().flush());
    a.expect("first flush");
    b.expect("second flush");
    let doubled: Totals = expected.into_iter().map(|(k, (o, n, e))| (k, (2 * o, 2 * n, 2 * e))).collect();
    assert_eq!(totals(&fixture.kv, Resolution::Minute).await, doubled);
    assert_eq!(totals(&other, Resolution::Hour).await, doubled);
}

async fn a_failed_flush_keeps_the_counts_for_the_next(fixture: &Fixture) {
    let ns = fixture.kv.create_namespace(&console(), "metrics-kept").await.expect("namespace").id;
    let db = Database::connect(&fixture.url).await.expect("second engine");
    let other = Kv::sql(db.clone());
    other.put_key(&console(), &ns, put("a", "v")).await.expect("put");
    let before = other.metrics().unflushed();
    assert_eq!(before.values().map(|c| c.operations).sum::<u64>(), 1);
    // The database goes away: the flush fails, and the counts stay to be written later.
    db.conn.clone().close().await.expect("close the pool");
    other.metrics().flush().await.expect_err("no database");
    assert_eq!(other.metrics().unflushed(), before);
    assert_eq!(totals(&fixture.kv, Resolution::Minute).await, Totals::new(), "nothing was half-written");
}

/// How many minute and hour rows `ns` has.
async fn rows_of(kv: &Kv, ns: &str) -> (usize, usize) {
    let mut counts = [0; 2];
    for (slot, resolution) in counts.iter_mut().zip([Resolution::Minute, Resolution::Hour]) {
        let rows = kv.metrics().rollups(resolution, i64::MIN, i64::MAX).await.expect("rollups");
        *slot = rows.iter().filter(|r| r.namespace_id == ns).count();
    }
    (counts[0], counts[1])
}

async fn rows_are_pruned_by_age(fixture: &Fixture) {
    let kv = &fixture.kv;
    let ns = kv.create_namespace(&console(), "metrics-prune").await.expect("namespace").id;
    kv.put_key(&console(), &ns, put("a", "v")).await.expect("put");
    kv.metrics().flush().await.expect("flush");
    let now = domain::now_unix();
    let day = 24 * 3600;
    for at in [now, now - 2 * day, now - 100 * day] {
        kv.metrics().sample_storage(at).await.expect("sample");
    }
    // Minute: the write and three samples; hour: the same.
    assert_eq!(rows_of(kv, &ns).await, (4, 4));
    kv.metrics().prune(now).await.expect("prune");
    // The minute samples of 2 and 100 days ago went; of the hours only the 100-day one.
    assert_eq!(rows_of(kv, &ns).await, (2, 3));
    // Two days on, today's minutes are past their day; 91 days on, today's hours their 90.
    kv.metrics().prune(now + 2 * day).await.expect("prune");
    assert_eq!(rows_of(kv, &ns).await, (0, 3));
    kv.metrics().prune(now + 91 * day).await.expect("prune");
    assert_eq!(rows_of(kv, &ns).await, (0, 0));
    common::assert_err(kv.metrics().prune(i64::MIN).await, "invalid_input", "now");
}

both!(
    a_scripted_mix_reads_back_from_the_rollups_exactly,
    storage_is_sampled_from_the_namespace_counters,
    two_engines_on_one_database_add_up,
    rows_are_pruned_by_age,
    a_failed_flush_keeps_the_counts_for_the_next,
);
