//! Key operations counted where they happen: every read, write, delete and list that passes
//! through a namespace's handle ([`crate::NamespaceAccess`]) is recorded here with its
//! namespace, surface (the actor's [`Source`], and for `/v1/kv` the service), operation, keys,
//! outcome and latency. Recording adds to an in-process table of the current minute under a
//! short lock and never touches the database: a background task ([`Metrics::spawn_flusher`])
//! writes the table in one transaction every few seconds, adding to the rows of the minute and
//! of the hour (`INSERT … ON CONFLICT … DO UPDATE SET n = n + excluded.n`), so counts survive
//! restarts and add up across instances sharing one database. The same task samples each
//! namespace's key count and bytes from its counters (no scan) and prunes old rows: minute rows
//! are kept a day, hour rows 90 days.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::actor::{Actor, Source};
use crate::entity::{metric_rollup, namespace};
use crate::error::{DomainError, DomainResult};

/// Upper bounds of the latency histogram's buckets in microseconds; the last bucket holds the
/// rest. The same bounds serve the rollups' columns (`le_ms1` …) and `/metrics`.
pub const LATENCY_BOUNDS_US: [u64; 7] = [1_000, 5_000, 10_000, 25_000, 100_000, 250_000, 1_000_000];
/// Buckets of the latency histogram: one per bound and one above the last.
pub const LATENCY_BUCKETS: usize = LATENCY_BOUNDS_US.len() + 1;
/// Seconds minute rows are kept.
pub const MINUTE_ROWS_KEPT_SECS: i64 = 24 * 3600;
/// Seconds hour rows are kept.
pub const HOUR_ROWS_KEPT_SECS: i64 = 90 * 24 * 3600;
/// The `operation` of storage samples.
pub const STORAGE: &str = "storage";
/// Rows per insert statement of a flush (22 values each, well under SQLite's variable limit).
const ROWS_PER_INSERT: usize = 200;

/// The kind of a key operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// Reading keys with their values (`get_key`, `get_many`, a scan of an export or backup).
    Read,
    /// Writing values, metadata, expirations, tags or custom metadata.
    Write,
    /// Deleting keys.
    Delete,
    /// Listing keys (a page of names) or searching them.
    List,
}

impl Operation {
    /// Every kind, in the order they are shown.
    pub const ALL: [Operation; 4] = [Self::Read, Self::Write, Self::Delete, Self::List];

    /// The name recorded in the rollups and on `/metrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Delete => "delete",
            Self::List => "list",
        }
    }
}

/// The length of a rollup's bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// Rows of one minute, kept a day.
    Minute,
    /// Rows of one hour, kept 90 days.
    Hour,
}

impl Resolution {
    /// Seconds in one bucket.
    pub fn seconds(self) -> i64 {
        match self {
            Self::Minute => 60,
            Self::Hour => 3600,
        }
    }

    /// The start of the bucket that holds `at` (unix seconds).
    pub fn bucket_of(self, at: i64) -> i64 {
        at.saturating_sub(at.rem_euclid(self.seconds()))
    }
}

/// What is added up per series and bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Operations (calls), whatever their outcome.
    pub operations: u64,
    /// Keys the operations touched (listed, read, written or deleted).
    pub keys: u64,
    /// Operations that failed; a key or namespace that is not there is an answer, not a failure.
    pub errors: u64,
    /// Sum of the operations' latencies in microseconds.
    pub latency_us: u64,
    /// Operations per latency bucket (see [`LATENCY_BOUNDS_US`]).
    pub latency: [u64; LATENCY_BUCKETS],
}

impl Counts {
    /// One operation over `keys` keys that took `elapsed`.
    fn one(keys: u64, failed: bool, elapsed: Duration) -> Self {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let bucket = LATENCY_BOUNDS_US.iter().position(|bound| micros <= *bound).unwrap_or(LATENCY_BOUNDS_US.len());
        let mut latency = [0; LATENCY_BUCKETS];
        if let Some(slot) = latency.get_mut(bucket) {
            *slot = 1;
        }
        Self { operations: 1, keys, errors: u64::from(failed), latency_us: micros, latency }
    }

    /// The `p`-th percentile (0 < p <= 100) of the latencies, in milliseconds, as the upper
    /// bound of the bucket it falls in (an estimate that never understates); `None` with no
    /// operations, `f64::INFINITY` when it is past the last bound (over a second).
    pub fn percentile_ms(&self, p: f64) -> Option<f64> {
        let total: u64 = self.latency.iter().sum();
        if total == 0 || !(p > 0.0 && p <= 100.0) {
            return None;
        }
        // The rank of the percentile: the smallest count of operations that reaches p% of all.
        let rank = ((total as f64) * p / 100.0).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (bucket, count) in self.latency.iter().enumerate() {
            seen = seen.saturating_add(*count);
            if seen >= rank {
                return Some(LATENCY_BOUNDS_US.get(bucket).map_or(f64::INFINITY, |us| *us as f64 / 1000.0));
            }
        }
        Some(f64::INFINITY)
    }

    /// Adds `other` (saturating: a counter stops at its maximum rather than wrap).
    pub fn add(&mut self, other: &Counts) {
        self.operations = self.operations.saturating_add(other.operations);
        self.keys = self.keys.saturating_add(other.keys);
        self.errors = self.errors.saturating_add(other.errors);
        self.latency_us = self.latency_us.saturating_add(other.latency_us);
        for (sum, more) in self.latency.iter_mut().zip(other.latency) {
            *sum = sum.saturating_add(more);
        }
    }
}

/// Whose operations a row counts: the namespace, surface, service and kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Series {
    /// The namespace; empty for an operation across namespaces (a search).
    pub namespace_id: String,
    /// The surface, as [`Source::as_str`] names it.
    pub surface: String,
    /// The `/v1/kv` service (or `master`) for the `kevi` surface; empty otherwise.
    pub service: String,
    pub operation: Operation,
}

/// One operation as it is handed to an observer (the server's Prometheus counters).
#[derive(Clone, Copy, Debug)]
pub struct Observation<'a> {
    pub surface: Source,
    /// The `/v1/kv` service (or `master`) for the `kevi` surface; empty otherwise.
    pub service: &'a str,
    pub operation: Operation,
    /// Keys the operation touched.
    pub keys: u64,
    /// It failed (a key or namespace that is not there is not a failure).
    pub failed: bool,
    pub elapsed: Duration,
}

/// Called with every operation recorded, on the caller's task: it must be as cheap as recording.
pub type Observer = Arc<dyn Fn(&Observation<'_>) + Send + Sync>;

/// One row of the rollups, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rollup {
    pub bucket_start: i64,
    pub resolution: Resolution,
    pub namespace_id: String,
    /// Empty for storage samples.
    pub surface: String,
    pub service: String,
    /// `read`, `write`, `delete`, `list`, or [`STORAGE`] for a storage sample.
    pub operation: String,
    pub counts: Counts,
    /// Storage samples: the namespace's live and not yet purged keys, the latest in the bucket.
    pub key_count: u64,
    /// Storage samples: the bytes of its values, the latest in the bucket.
    pub size_bytes: u64,
}

/// The recorder and its database flushes; cheap to clone (one shared table).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    conn: DatabaseConnection,
    enabled: AtomicBool,
    /// Counts not yet flushed, per minute (unix seconds of its start) and series.
    pending: Mutex<HashMap<(i64, Series), Counts>>,
    observer: OnceLock<Observer>,
}

/// A counter as stored (a BIGINT); one past its range is stored as the largest there is.
fn to_db(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A stored counter; a negative one (never written by us) reads as 0.
fn from_db(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Metrics {
    /// A recorder whose flushes write to `conn` (the catalog's database), recording.
    pub fn new(conn: DatabaseConnection) -> Self {
        Self {
            inner: Arc::new(Inner {
                conn,
                enabled: AtomicBool::new(true),
                pending: Mutex::new(HashMap::new()),
                observer: OnceLock::new(),
            }),
        }
    }

    /// Turns recording on or off (benchmarks measure the cost of it); off, an operation costs
    /// one atomic load.
    pub fn set_enabled(&self, enabled: bool) {
        self.inner.enabled.store(enabled, Ordering::Relaxed);
    }

    /// Whether operations are being recorded.
    pub fn enabled(&self) -> bool {
        self.inner.enabled.load(Ordering::Relaxed)
    }

    /// Hands every operation recorded from now on to `observer` too (once per recorder; a
    /// second observer is refused with an error naming `observer`).
    pub fn set_observer(&self, observer: Observer) -> DomainResult<()> {
        self.inner
            .observer
            .set(observer)
            .map_err(|_| DomainError::conflict("observer", "observer: this recorder already has one"))
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<(i64, Series), Counts>> {
        // A panic while the lock was held left whole counts behind: keep counting.
        self.inner.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records one operation of `actor` on `namespace_id` (empty: across namespaces) that
    /// touched `keys` keys, started at `started` and ended now with `result`.
    pub(crate) fn record<T>(
        &self,
        actor: &Actor,
        namespace_id: &str,
        operation: Operation,
        keys: u64,
        started: Instant,
        result: &DomainResult<T>,
    ) {
        if !self.enabled() {
            return;
        }
        let elapsed = started.elapsed();
        let failed = result.as_ref().is_err_and(|err| err.code() != "not_found");
        let service = if actor.source == Source::Kevi { actor.user.as_str() } else { "" };
        let counts = Counts::one(keys, failed, elapsed);
        let series = Series {
            namespace_id: namespace_id.to_owned(),
            surface: actor.source.as_str().to_owned(),
            service: service.to_owned(),
            operation,
        };
        let minute = Resolution::Minute.bucket_of(crate::now_unix());
        self.pending().entry((minute, series)).or_default().add(&counts);
        if let Some(observer) = self.inner.observer.get() {
            observer(&Observation { surface: actor.source, service, operation, keys, failed, elapsed });
        }
    }

    /// Counts recorded and not yet flushed, summed over minutes (tests, diagnostics).
    pub fn unflushed(&self) -> HashMap<Series, Counts> {
        let mut out: HashMap<Series, Counts> = HashMap::new();
        for ((_, series), counts) in self.pending().iter() {
            out.entry(series.clone()).or_default().add(counts);
        }
        out
    }

    /// Writes what was recorded since the last flush, adding it to the minute and hour rows, in
    /// one transaction; answers how many series-minutes were written. When the write fails the
    /// counts are kept for the next flush (nothing is lost, nothing counted twice).
    pub async fn flush(&self) -> DomainResult<usize> {
        let taken = std::mem::take(&mut *self.pending());
        if taken.is_empty() {
            return Ok(0);
        }
        match self.write(&taken).await {
            Ok(()) => Ok(taken.len()),
            Err(err) => {
                let mut pending = self.pending();
                for (key, counts) in taken {
                    pending.entry(key).or_default().add(&counts);
                }
                Err(err)
            }
        }
    }

    async fn write(&self, minutes: &HashMap<(i64, Series), Counts>) -> DomainResult<()> {
        let mut hours: HashMap<(i64, &Series), Counts> = HashMap::new();
        for ((minute, series), counts) in minutes {
            hours.entry((Resolution::Hour.bucket_of(*minute), series)).or_default().add(counts);
        }
        // Rows in one order on every instance, so two flushes that meet wait rather than deadlock.
        let mut rows: Vec<(Resolution, i64, &Series, &Counts)> =
            minutes.iter().map(|((minute, series), counts)| (Resolution::Minute, *minute, series, counts)).collect();
        rows.extend(hours.iter().map(|((hour, series), counts)| (Resolution::Hour, *hour, *series, counts)));
        rows.sort_by(|a, b| (a.0.seconds(), a.1, a.2).cmp(&(b.0.seconds(), b.1, b.2)));
        let txn = crate::db::begin_write(&self.inner.conn).await?;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let models = chunk.iter().map(|(resolution, start, series, counts)| {
                let mut model = empty_row(*resolution, *start, &series.namespace_id, series.operation.as_str());
                model.surface = Set(series.surface.clone());
                model.service = Set(series.service.clone());
                set_counts(&mut model, counts);
                model
            });
            metric_rollup::Entity::insert_many(models)
                .on_conflict(add_on_conflict())
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Samples every namespace's key count and bytes (from its counters) into the minute and
    /// hour rows of `now`: the latest sample of a bucket replaces the one before. Answers how
    /// many namespaces were sampled.
    pub async fn sample_storage(&self, now: i64) -> DomainResult<usize> {
        let namespaces = namespace::Entity::find().order_by_asc(namespace::Column::Id).all(&self.inner.conn).await?;
        if namespaces.is_empty() {
            return Ok(0);
        }
        let mut rows = Vec::with_capacity(namespaces.len().saturating_mul(2));
        for resolution in [Resolution::Minute, Resolution::Hour] {
            for ns in &namespaces {
                let mut model = empty_row(resolution, resolution.bucket_of(now), &ns.id, STORAGE);
                model.key_count = Set(Ord::max(ns.key_count, 0));
                model.size_bytes = Set(Ord::max(ns.size_bytes, 0));
                rows.push(model);
            }
        }
        let txn = crate::db::begin_write(&self.inner.conn).await?;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            metric_rollup::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns(key_columns())
                        .update_columns([metric_rollup::Column::KeyCount, metric_rollup::Column::SizeBytes])
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(namespaces.len())
    }

    /// Deletes minute rows older than a day and hour rows older than 90 days, as of `now`;
    /// answers how many rows went.
    pub async fn prune(&self, now: i64) -> DomainResult<u64> {
        let mut removed = 0u64;
        for (resolution, kept) in [(Resolution::Minute, MINUTE_ROWS_KEPT_SECS), (Resolution::Hour, HOUR_ROWS_KEPT_SECS)]
        {
            let oldest = now
                .checked_sub(kept)
                .ok_or_else(|| DomainError::invalid("now", format!("now: {now} is out of range")))?;
            let deleted = metric_rollup::Entity::delete_many()
                .filter(metric_rollup::Column::Resolution.eq(resolution.seconds() as i32))
                .filter(metric_rollup::Column::BucketStart.lt(resolution.bucket_of(oldest)))
                .exec(&self.inner.conn)
                .await?;
            removed = removed.saturating_add(deleted.rows_affected);
        }
        Ok(removed)
    }

    /// The rows of `resolution` whose buckets start from `from` to before `to` (unix seconds),
    /// in order of bucket, namespace, surface, service and operation.
    pub async fn rollups(&self, resolution: Resolution, from: i64, to: i64) -> DomainResult<Vec<Rollup>> {
        let rows = metric_rollup::Entity::find()
            .filter(metric_rollup::Column::Resolution.eq(resolution.seconds() as i32))
            .filter(metric_rollup::Column::BucketStart.gte(from))
            .filter(metric_rollup::Column::BucketStart.lt(to))
            .order_by_asc(metric_rollup::Column::BucketStart)
            .order_by_asc(metric_rollup::Column::NamespaceId)
            .order_by_asc(metric_rollup::Column::Surface)
            .order_by_asc(metric_rollup::Column::Service)
            .order_by_asc(metric_rollup::Column::Operation)
            .all(&self.inner.conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| Rollup {
                bucket_start: row.bucket_start,
                resolution,
                counts: Counts {
                    operations: from_db(row.operations),
                    keys: from_db(row.keys),
                    errors: from_db(row.errors),
                    latency_us: from_db(row.latency_us),
                    latency: [
                        row.le_ms1,
                        row.le_ms5,
                        row.le_ms10,
                        row.le_ms25,
                        row.le_ms100,
                        row.le_ms250,
                        row.le_ms1000,
                        row.le_inf,
                    ]
                    .map(from_db),
                },
                key_count: from_db(row.key_count),
                size_bytes: from_db(row.size_bytes),
                namespace_id: row.namespace_id,
                surface: row.surface,
                service: row.service,
                operation: row.operation,
            })
            .collect())
    }

    /// One flush (and, once a minute, a storage sample and pruning) every `every`, until the
    /// process ends; failures are logged and the counts kept for the next flush.
    pub fn spawn_flusher(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let metrics = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut sampled_minute = None;
            loop {
                tick.tick().await;
                if let Err(err) = metrics.flush().await {
                    tracing::warn!(%err, "writing metric rollups failed; the counts are kept for the next try");
                }
                let now = crate::now_unix();
                let minute = Resolution::Minute.bucket_of(now);
                if sampled_minute == Some(minute) {
                    continue;
                }
                sampled_minute = Some(minute);
                if let Err(err) = metrics.sample_storage(now).await {
                    tracing::warn!(%err, "sampling namespace storage into the metric rollups failed");
                }
                match metrics.prune(now).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(removed = n, "metric rollups past retention removed"),
                    Err(err) => tracing::warn!(%err, "pruning metric rollups failed"),
                }
            }
        })
    }
}

/// The columns that name a row.
fn key_columns() -> [metric_rollup::Column; 6] {
    [
        metric_rollup::Column::Resolution,
        metric_rollup::Column::BucketStart,
        metric_rollup::Column::NamespaceId,
        metric_rollup::Column::Surface,
        metric_rollup::Column::Service,
        metric_rollup::Column::Operation,
    ]
}

/// The counters of a row, in the order of [`Counts`].
const COUNTER_COLUMNS: [metric_rollup::Column; 12] = [
    metric_rollup::Column::Operations,
    metric_rollup::Column::Keys,
    metric_rollup::Column::Errors,
    metric_rollup::Column::LatencyUs,
    metric_rollup::Column::LeMs1,
    metric_rollup::Column::LeMs5,
    metric_rollup::Column::LeMs10,
    metric_rollup::Column::LeMs25,
    metric_rollup::Column::LeMs100,
    metric_rollup::Column::LeMs250,
    metric_rollup::Column::LeMs1000,
    metric_rollup::Column::LeInf,
];

/// On a row that exists, every counter grows by what the insert carried.
fn add_on_conflict() -> OnConflict {
    let mut on_conflict = OnConflict::columns(key_columns());
    for column in COUNTER_COLUMNS {
        on_conflict.value(column, Expr::col((metric_rollup::Entity, column)).add(Expr::col(("excluded", column))));
    }
    on_conflict.to_owned()
}

/// A row of zeros for one bucket, namespace and operation.
fn empty_row(resolution: Resolution, start: i64, namespace_id: &str, operation: &str) -> metric_rollup::ActiveModel {
    metric_rollup::ActiveModel {
        resolution: Set(resolution.seconds() as i32),
        bucket_start: Set(start),
        namespace_id: Set(namespace_id.to_owned()),
        surface: Set(String::new()),
        service: Set(String::new()),
        operation: Set(operation.to_owned()),
        operations: Set(0),
        keys: Set(0),
        errors: Set(0),
        latency_us: Set(0),
        le_ms1: Set(0),
        le_ms5: Set(0),
        le_ms10: Set(0),
        le_ms25: Set(0),
        le_ms100: Set(0),
        le_ms250: Set(0),
        le_ms1000: Set(0),
        le_inf: Set(0),
        key_count: Set(0),
        size_bytes: Set(0),
    }
}

/// Puts `counts` into a row's counters.
fn set_counts(model: &mut metric_rollup::ActiveModel, counts: &Counts) {
    model.operations = Set(to_db(counts.operations));
    model.keys = Set(to_db(counts.keys));
    model.errors = Set(to_db(counts.errors));
    model.latency_us = Set(to_db(counts.latency_us));
    let [a, b, c, d, e, f, g, h] = counts.latency.map(to_db);
    model.le_ms1 = Set(a);
    model.le_ms5 = Set(b);
    model.le_ms10 = Set(c);
    model.le_ms25 = Set(d);
    model.le_ms100 = Set(e);
    model.le_ms250 = Set(f);
    model.le_ms1000 = Set(g);
    model.le_inf = Set(h);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_read_from_the_histogram_as_bucket_upper_bounds() {
        let mut counts = Counts::default();
        assert_eq!(counts.percentile_ms(99.0), None);
        // 98 operations within 1 ms, one within 25 ms, one over a second.
        counts.latency = [98, 0, 0, 1, 0, 0, 0, 1];
        assert_eq!(counts.percentile_ms(50.0), Some(1.0));
        assert_eq!(counts.percentile_ms(98.0), Some(1.0));
        assert_eq!(counts.percentile_ms(99.0), Some(25.0));
        assert_eq!(counts.percentile_ms(100.0), Some(f64::INFINITY));
        assert_eq!(counts.percentile_ms(0.0), None);
        assert_eq!(counts.percentile_ms(f64::NAN), None);
    }

    #[test]
    fn a_latency_falls_in_the_bucket_of_its_first_bound_at_or_above_it() {
        let bucket = |micros| Counts::one(0, false, Duration::from_micros(micros)).latency;
        assert_eq!(bucket(0), [1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(bucket(1_000), [1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(bucket(1_001), [0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(bucket(1_000_001), [0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(Counts::one(0, false, Duration::MAX).latency_us, u64::MAX);
    }

    #[test]
    fn buckets_start_on_their_boundaries_before_1970_too() {
        assert_eq!(Resolution::Minute.bucket_of(125), 120);
        assert_eq!(Resolution::Hour.bucket_of(7_199), 3_600);
        assert_eq!(Resolution::Minute.bucket_of(-1), -60);
    }

    #[test]
    fn counters_saturate_instead_of_wrapping() {
        let mut counts = Counts { operations: u64::MAX, ..Default::default() };
        counts.add(&Counts::one(3, true, Duration::from_millis(2)));
        assert_eq!((counts.operations, counts.keys, counts.errors), (u64::MAX, 3, 1));
    }
}
