//! What the console's dashboard shows, read from the metric rollups ([`crate::metrics`]) and the
//! state of jobs, backup plans, alert rules and webhook endpoints:
//! - **Usage** over a range (1 h, 24 h, 7 d, 30 d, 90 d): operations per bucket by kind, their
//!   latency percentiles, total storage over time, the busiest namespaces and `/v1/kv` services,
//!   operations per surface, and the largest namespaces with their storage trend; for every
//!   namespace together or for one (its own panel). Buckets are added up in the database (a
//!   `GROUP BY` over the rollups), so a 90-day range reads a few hundred rows, not every hour of
//!   every series.
//! - **Health** (admins): failed jobs in the last day, threshold breaches open now, namespaces no
//!   running backup plan covers, webhook endpoints failing or paused, and the keys expiry rules
//!   fired for.
//!
//! Namespaces hidden from the caller (`KVM_PROTECTED_NAMESPACES`) are left out of every number.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult};
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::alerts::{Alerts, ExpiringKey, THRESHOLD};
use crate::error::{DomainError, DomainResult};
use crate::jobs::Jobs;
use crate::kv::Kv;
use crate::metrics::{Counts, LATENCY_BUCKETS, Resolution, STORAGE};
use crate::sql::{Sql, get, get_int};
use crate::webhooks::Webhooks;

/// Namespaces and services listed as the busiest or largest, at most.
pub const TOP: usize = 10;
/// Names listed for one health item, at most (the count says how many there are).
const NAMES_LISTED: usize = 5;
/// Keys expiry rules fired for, listed at most.
const EXPIRING_LISTED: u64 = 20;

/// The span a dashboard covers, ending now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Range {
    #[serde(rename = "1h")]
    Hour,
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
    #[serde(rename = "90d")]
    Quarter,
}

impl Range {
    /// Every range, shortest first.
    pub const ALL: [Range; 5] = [Self::Hour, Self::Day, Self::Week, Self::Month, Self::Quarter];

    /// `1h`, `24h`, `7d`, `30d` or `90d`; anything else is a 400 naming `range`.
    pub fn parse(text: &str) -> DomainResult<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text).ok_or_else(|| {
            DomainError::invalid("range", format!("range: {text:?} is not one of 1h, 24h, 7d, 30d, 90d"))
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "1h",
            Self::Day => "24h",
            Self::Week => "7d",
            Self::Month => "30d",
            Self::Quarter => "90d",
        }
    }

    /// Seconds the range spans.
    pub fn seconds(self) -> i64 {
        match self {
            Self::Hour => 3600,
            Self::Day => 86_400,
            Self::Week => 7 * 86_400,
            Self::Month => 30 * 86_400,
            Self::Quarter => 90 * 86_400,
        }
    }

    /// Seconds one point of its charts stands for: 60, 96, 84, 90 and 90 points.
    pub fn step(self) -> i64 {
        match self {
            Self::Hour => 60,
            Self::Day => 900,
            Self::Week => 7200,
            Self::Month => 8 * 3600,
            Self::Quarter => 86_400,
        }
    }

    /// The rollups it reads: minute rows (kept a day) up to 24 hours, hour rows beyond.
    pub fn resolution(self) -> Resolution {
        match self {
            Self::Hour | Self::Day => Resolution::Minute,
            _ => Resolution::Hour,
        }
    }

    /// The first and past-the-last second of the range ending at `now`: whole steps, the last
    /// one holding `now`.
    pub fn bounds(self, now: i64) -> (i64, i64) {
        let step = self.step();
        let to = now.saturating_sub(now.rem_euclid(step)).saturating_add(step);
        (to.saturating_sub(self.seconds()), to)
    }
}

/// Operations in one point of a chart.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OpsPoint {
    /// Start of the point's span (unix seconds).
    pub start: i64,
    pub reads: u64,
    pub writes: u64,
    pub deletes: u64,
    pub lists: u64,
    pub errors: u64,
    /// Latency percentiles in milliseconds (bucket upper bounds; `None` without operations, 1000
    /// for "over a second").
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// Storage at one point: the largest sample of each namespace in the span, added up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoragePoint {
    pub start: i64,
    pub key_count: u64,
    pub size_bytes: u64,
}

/// A namespace's share of the range.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NamespaceUsage {
    pub id: String,
    /// Its title; `None` when it has been deleted since.
    pub title: Option<String>,
    /// Its keys and bytes now.
    pub key_count: u64,
    pub size_bytes: u64,
    pub operations: u64,
    pub errors: u64,
    /// Storage over the range (the largest namespaces only; empty for the busiest).
    pub trend: Vec<StoragePoint>,
    /// Keys and bytes now minus at the first sample of the range (0 without samples).
    pub key_change: i64,
    pub byte_change: i64,
}

/// Operations of one `/v1/kv` service (or `master`), or of one surface.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub name: String,
    pub operations: u64,
    pub errors: u64,
}

/// Everything over the range added up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub reads: u64,
    pub writes: u64,
    pub deletes: u64,
    pub lists: u64,
    pub errors: u64,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// The usage part of the dashboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsageView {
    pub range: Range,
    pub from: i64,
    pub to: i64,
    pub step: i64,
    /// The namespace the view is of; `None`: every namespace the caller sees.
    pub namespace_id: Option<String>,
    /// One point per step from `from` to `to`, with zeros where nothing happened.
    pub ops: Vec<OpsPoint>,
    pub totals: Totals,
    /// One point per step; a step without any sample is absent.
    pub storage: Vec<StoragePoint>,
    /// Keys and bytes now (the namespace's, or all the caller sees).
    pub key_count: u64,
    pub size_bytes: u64,
    /// The busiest namespaces by operations (empty for one namespace's view).
    pub top_namespaces: Vec<NamespaceUsage>,
    /// The largest namespaces by bytes now, with their trend (empty for one namespace's view).
    pub largest: Vec<NamespaceUsage>,
    /// The busiest `/v1/kv` services; admins only (`None` for anyone else).
    pub services: Option<Vec<Usage>>,
    /// Operations per surface (console, script, kevi, cf-api, cli, job).
    pub surfaces: Vec<Usage>,
}

/// A name with a count, for health items that list a few of many.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// A threshold rule breached now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Breach {
    pub rule_id: String,
    pub namespace_id: String,
    pub namespace_title: Option<String>,
    pub metric: String,
    pub threshold: f64,
    pub value: Option<f64>,
    pub since: Option<i64>,
}

/// A webhook endpoint that is failing (attempts failed since its last success) or paused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailingEndpoint {
    pub id: String,
    pub url: String,
    pub failures: i64,
    pub paused_reason: Option<String>,
    pub pending: i64,
}

/// The health panel (admins).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// Jobs that ended `failed` in the last 24 hours, and the newest of them.
    pub failed_jobs: u64,
    pub failed_job_ids: Vec<String>,
    pub breaches: Vec<Breach>,
    /// Namespaces that no running backup plan covers, and the first of them by title.
    pub without_backup: u64,
    pub without_backup_names: Vec<Named>,
    pub failing_webhooks: Vec<FailingEndpoint>,
    /// Keys expiry rules fired for that have not expired yet, soonest first.
    pub expiring: Vec<ExpiringKey>,
}

impl Health {
    /// Nothing needs looking at.
    pub fn is_clear(&self) -> bool {
        self.failed_jobs == 0
            && self.breaches.is_empty()
            && self.without_backup == 0
            && self.failing_webhooks.is_empty()
            && self.expiring.is_empty()
    }
}

/// Reads the dashboard; cheap to clone.
#[derive(Clone)]
pub struct Dashboard {
    kv: Kv,
    jobs: Jobs,
    alerts: Alerts,
    webhooks: Webhooks,
    conn: DatabaseConnection,
}

/// A namespace as listed from the catalog.
struct NamespaceRow {
    title: String,
    key_count: u64,
    size_bytes: u64,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The counters summed per group, as BIGINT on both databases (PostgreSQL's SUM of a BIGINT is a
/// NUMERIC).
const SUMS: &str = "CAST(SUM(operations) AS BIGINT) AS operations, CAST(SUM(errors) AS BIGINT) AS errors, \
     CAST(SUM(le_ms1) AS BIGINT) AS l0, CAST(SUM(le_ms5) AS BIGINT) AS l1, CAST(SUM(le_ms10) AS BIGINT) AS l2, \
     CAST(SUM(le_ms25) AS BIGINT) AS l3, CAST(SUM(le_ms100) AS BIGINT) AS l4, CAST(SUM(le_ms250) AS BIGINT) AS l5, \
     CAST(SUM(le_ms1000) AS BIGINT) AS l6, CAST(SUM(le_inf) AS BIGINT) AS l7";

/// The summed counters of a row read with [`SUMS`].
fn counts_of(row: &QueryResult) -> DomainResult<Counts> {
    let mut latency = [0u64; LATENCY_BUCKETS];
    for (i, slot) in latency.iter_mut().enumerate() {
        *slot = count(get_opt_sum(row, &format!("l{i}"))?);
    }
    Ok(Counts {
        operations: count(get_opt_sum(row, "operations")?),
        errors: count(get_opt_sum(row, "errors")?),
        latency,
        ..Default::default()
    })
}

/// A sum, which is NULL over no rows.
fn get_opt_sum(row: &QueryResult, column: &str) -> DomainResult<i64> {
    Ok(get::<Option<i64>>(row, column)?.unwrap_or(0))
}

/// A percentile as shown: over a second reads as 1000 ms.
fn shown(ms: Option<f64>) -> Option<f64> {
    ms.map(|ms| if ms.is_finite() { ms } else { 1000.0 })
}

fn percentiles(counts: &Counts) -> [Option<f64>; 3] {
    [50.0, 90.0, 99.0].map(|p| shown(counts.percentile_ms(p)))
}

impl Dashboard {
    pub fn new(kv: Kv, jobs: Jobs, alerts: Alerts, webhooks: Webhooks, conn: DatabaseConnection) -> Self {
        Self { kv, jobs, alerts, webhooks, conn }
    }

    fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// The rollup rows of `range` ending at `now`, of one namespace or of every one but the
    /// hidden: the `WHERE` clause, ready for more conditions.
    fn rollups_where(&self, range: Range, now: i64, scope: &Scope) -> Sql {
        let (from, to) = range.bounds(now);
        let mut sql = Sql::new(self.backend(), " FROM metric_rollups WHERE resolution = ");
        sql.bind(range.resolution().seconds() as i32);
        sql.push(" AND bucket_start >= ").bind(from).push(" AND bucket_start < ").bind(to);
        match scope {
            Scope::One(id) => {
                sql.push(" AND namespace_id = ").bind(id.as_str());
            }
            Scope::AllBut(hidden) if !hidden.is_empty() => {
                sql.push(" AND namespace_id NOT IN ").bind_list(hidden);
            }
            Scope::AllBut(_) => {}
        }
        sql
    }

    /// Usage over `range` ending at `now`, of `namespace_id` (which `actor` must be able to
    /// read: 404 as for one that does not exist) or of every namespace `actor` sees.
    pub async fn usage(
        &self,
        actor: &Actor,
        range: Range,
        namespace_id: Option<&str>,
        now: i64,
    ) -> DomainResult<UsageView> {
        let (from, to) = range.bounds(now);
        let step = range.step();
        let (scope, current) = match namespace_id {
            Some(id) => {
                let ns = self.kv.get_namespace(actor, id).await?;
                (Scope::One(ns.id), Some((ns.key_count, ns.size_bytes)))
            }
            None => (Scope::AllBut(self.kv.hidden_namespaces(actor).await?), None),
        };

        // Operations per point and kind.
        let bucket = format!("(bucket_start - (bucket_start % {step}))");
        let mut sql = Sql::new(self.backend(), &format!("SELECT {bucket} AS point, operation, {SUMS}"));
        sql.push_sql(&self.rollups_where(range, now, &scope));
        sql.push(" AND operation <> ").bind(STORAGE).push(" GROUP BY 1, 2");
        let mut points: BTreeMap<i64, (OpsPoint, Counts)> = BTreeMap::new();
        let mut start = from;
        while start < to {
            points.insert(start, (OpsPoint { start, ..Default::default() }, Counts::default()));
            start = start.saturating_add(step);
        }
        let mut all = Counts::default();
        let mut totals = Totals::default();
        for row in self.conn.query_all_raw(sql.statement()).await? {
            let point: i64 = get_int(&row, "point")?;
            let operation: String = get(&row, "operation")?;
            let counts = counts_of(&row)?;
            all.add(&counts);
            totals.errors = totals.errors.saturating_add(counts.errors);
            let Some((shown, sum)) = points.get_mut(&point) else { continue };
            sum.add(&counts);
            shown.errors = shown.errors.saturating_add(counts.errors);
            let (slot, total) = match operation.as_str() {
                "read" => (&mut shown.reads, &mut totals.reads),
                "write" => (&mut shown.writes, &mut totals.writes),
                "delete" => (&mut shown.deletes, &mut totals.deletes),
                _ => (&mut shown.lists, &mut totals.lists),
            };
            *slot = slot.saturating_add(counts.operations);
            *total = total.saturating_add(counts.operations);
        }
        [totals.p50_ms, totals.p90_ms, totals.p99_ms] = percentiles(&all);
        let ops = points
            .into_values()
            .map(|(mut point, counts)| {
                [point.p50_ms, point.p90_ms, point.p99_ms] = percentiles(&counts);
                point
            })
            .collect();

        // Storage per point: each namespace's largest sample in the point, added up.
        let mut inner = Sql::new(
            self.backend(),
            &format!(
                "SELECT {bucket} AS point, namespace_id, MAX(key_count) AS key_count, MAX(size_bytes) AS size_bytes"
            ),
        );
        inner.push_sql(&self.rollups_where(range, now, &scope));
        inner.push(" AND operation = ").bind(STORAGE).push(" GROUP BY 1, 2");
        let mut sql = Sql::new(
            self.backend(),
            "SELECT point, CAST(SUM(key_count) AS BIGINT) AS key_count, CAST(SUM(size_bytes) AS BIGINT) AS size_bytes FROM (",
        );
        sql.push_sql(&inner).push(") samples GROUP BY point ORDER BY point");
        let storage = self
            .conn
            .query_all_raw(sql.statement())
            .await?
            .iter()
            .map(|row| {
                Ok(StoragePoint {
                    start: get_int(row, "point")?,
                    key_count: count(get_opt_sum(row, "key_count")?),
                    size_bytes: count(get_opt_sum(row, "size_bytes")?),
                })
            })
            .collect::<DomainResult<Vec<_>>>()?;

        // Surfaces, and (admins) services.
        let surfaces = self.usage_by(range, now, &scope, "surface", None).await?;
        let services = if actor.is_admin() {
            Some(self.usage_by(range, now, &scope, "service", Some(crate::actor::Source::Kevi.as_str())).await?)
        } else {
            None
        };

        let (key_count, size_bytes, top_namespaces, largest) = match (&scope, current) {
            (Scope::One(_), Some((keys, bytes))) => (keys, bytes, Vec::new(), Vec::new()),
            _ => {
                let hidden = match &scope {
                    Scope::AllBut(hidden) => hidden.clone(),
                    Scope::One(_) => Vec::new(),
                };
                let (keys, bytes) = self.catalog_totals(&hidden).await?;
                let top = self.busiest(range, now, &scope).await?;
                let largest = self.largest(range, now, &scope, &hidden).await?;
                (keys, bytes, top, largest)
            }
        };

        Ok(UsageView {
            range,
            from,
            to,
            step,
            namespace_id: namespace_id.map(str::to_owned),
            ops,
            totals,
            storage,
            key_count,
            size_bytes,
            top_namespaces,
            largest,
            services,
            surfaces,
        })
    }

    /// Operations grouped by `column` (`surface` or `service`), most first, at most [`TOP`];
    /// only of `surface` when given.
    async fn usage_by(
        &self,
        range: Range,
        now: i64,
        scope: &Scope,
        column: &str,
        surface: Option<&str>,
    ) -> DomainResult<Vec<Usage>> {
        let mut sql = Sql::new(self.backend(), &format!("SELECT {column} AS name, {SUMS}"));
        sql.push_sql(&self.rollups_where(range, now, scope));
        sql.push(" AND operation <> ").bind(STORAGE);
        if let Some(surface) = surface {
            sql.push(" AND surface = ").bind(surface);
        }
        sql.push(" GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ").push(&TOP.to_string());
        let mut usage = Vec::new();
        for row in self.conn.query_all_raw(sql.statement()).await? {
            let counts = counts_of(&row)?;
            if counts.operations > 0 {
                usage.push(Usage { name: get(&row, "name")?, operations: counts.operations, errors: counts.errors });
            }
        }
        Ok(usage)
    }

    /// Keys and bytes of every namespace but `hidden`, now.
    async fn catalog_totals(&self, hidden: &[String]) -> DomainResult<(u64, u64)> {
        let mut sql = Sql::new(
            self.backend(),
            "SELECT CAST(SUM(key_count) AS BIGINT) AS key_count, CAST(SUM(size_bytes) AS BIGINT) AS size_bytes FROM namespaces",
        );
        if !hidden.is_empty() {
            sql.push(" WHERE id NOT IN ").bind_list(hidden);
        }
        let row = self.conn.query_one_raw(sql.statement()).await?;
        Ok(match row {
            Some(row) => (count(get_opt_sum(&row, "key_count")?), count(get_opt_sum(&row, "size_bytes")?)),
            None => (0, 0),
        })
    }

    /// The catalog's rows of these namespaces.
    async fn namespaces(&self, ids: &[String]) -> DomainResult<HashMap<String, NamespaceRow>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut sql = Sql::new(self.backend(), "SELECT id, title, key_count, size_bytes FROM namespaces WHERE id IN ");
        sql.bind_list(ids);
        self.conn
            .query_all_raw(sql.statement())
            .await?
            .iter()
            .map(|row| {
                Ok((
                    get(row, "id")?,
                    NamespaceRow {
                        title: get(row, "title")?,
                        key_count: count(get_int(row, "key_count")?),
                        size_bytes: count(get_int(row, "size_bytes")?),
                    },
                ))
            })
            .collect()
    }

    /// The namespaces with the most operations over the range.
    async fn busiest(&self, range: Range, now: i64, scope: &Scope) -> DomainResult<Vec<NamespaceUsage>> {
        let mut sql = Sql::new(self.backend(), &format!("SELECT namespace_id, {SUMS}"));
        sql.push_sql(&self.rollups_where(range, now, scope));
        sql.push(" AND operation <> ").bind(STORAGE).push(" AND namespace_id <> ").bind("");
        sql.push(" GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ").push(&TOP.to_string());
        let rows = self.conn.query_all_raw(sql.statement()).await?;
        let mut busiest = Vec::with_capacity(rows.len());
        for row in &rows {
            let counts = counts_of(row)?;
            if counts.operations > 0 {
                busiest.push(NamespaceUsage {
                    id: get(row, "namespace_id")?,
                    operations: counts.operations,
                    errors: counts.errors,
                    ..Default::default()
                });
            }
        }
        let ids: Vec<String> = busiest.iter().map(|n| n.id.clone()).collect();
        let catalog = self.namespaces(&ids).await?;
        for usage in &mut busiest {
            if let Some(ns) = catalog.get(&usage.id) {
                usage.title = Some(ns.title.clone());
                usage.key_count = ns.key_count;
                usage.size_bytes = ns.size_bytes;
            }
        }
        Ok(busiest)
    }

    /// The namespaces with the most bytes now, with their storage over the range.
    async fn largest(
        &self,
        range: Range,
        now: i64,
        scope: &Scope,
        hidden: &[String],
    ) -> DomainResult<Vec<NamespaceUsage>> {
        let mut sql = Sql::new(self.backend(), "SELECT id, title, key_count, size_bytes FROM namespaces");
        if !hidden.is_empty() {
            sql.push(" WHERE id NOT IN ").bind_list(hidden);
        }
        sql.push(" ORDER BY size_bytes DESC, id LIMIT ").push(&TOP.to_string());
        let mut largest = self
            .conn
            .query_all_raw(sql.statement())
            .await?
            .iter()
            .map(|row| {
                Ok(NamespaceUsage {
                    id: get(row, "id")?,
                    title: Some(get(row, "title")?),
                    key_count: count(get_int(row, "key_count")?),
                    size_bytes: count(get_int(row, "size_bytes")?),
                    ..Default::default()
                })
            })
            .collect::<DomainResult<Vec<_>>>()?;
        if largest.is_empty() {
            return Ok(largest);
        }
        let ids: Vec<String> = largest.iter().map(|n| n.id.clone()).collect();
        let step = range.step();
        let mut sql = Sql::new(
            self.backend(),
            &format!(
                "SELECT (bucket_start - (bucket_start % {step})) AS point, namespace_id, MAX(key_count) AS key_count, \
                 MAX(size_bytes) AS size_bytes"
            ),
        );
        sql.push_sql(&self.rollups_where(range, now, scope));
        sql.push(" AND operation = ").bind(STORAGE).push(" AND namespace_id IN ").bind_list(&ids);
        sql.push(" GROUP BY 1, 2 ORDER BY 2, 1");
        let mut trends: HashMap<String, Vec<StoragePoint>> = HashMap::new();
        for row in self.conn.query_all_raw(sql.statement()).await? {
            trends.entry(get(&row, "namespace_id")?).or_default().push(StoragePoint {
                start: get_int(&row, "point")?,
                key_count: count(get_int(&row, "key_count")?),
                size_bytes: count(get_int(&row, "size_bytes")?),
            });
        }
        for usage in &mut largest {
            usage.trend = trends.remove(&usage.id).unwrap_or_default();
            if let Some(first) = usage.trend.first() {
                usage.key_change = signed(usage.key_count).saturating_sub(signed(first.key_count));
                usage.byte_change = signed(usage.size_bytes).saturating_sub(signed(first.size_bytes));
            }
        }
        // Their operations over the range.
        let mut sql = Sql::new(self.backend(), &format!("SELECT namespace_id, {SUMS}"));
        sql.push_sql(&self.rollups_where(range, now, scope));
        sql.push(" AND operation <> ").bind(STORAGE).push(" AND namespace_id IN ").bind_list(&ids);
        sql.push(" GROUP BY 1");
        for row in self.conn.query_all_raw(sql.statement()).await? {
            let id: String = get(&row, "namespace_id")?;
            let counts = counts_of(&row)?;
            if let Some(usage) = largest.iter_mut().find(|u| u.id == id) {
                usage.operations = counts.operations;
                usage.errors = counts.errors;
            }
        }
        Ok(largest)
    }

    /// The health panel as of `now`; admins only (403 for anyone else).
    pub async fn health(&self, actor: &Actor, now: i64) -> DomainResult<Health> {
        if !actor.is_admin() {
            return Err(DomainError::forbidden("only an admin can see the health panel"));
        }
        let hidden = self.kv.hidden_namespaces(actor).await?;

        // Failed jobs in the last day: how many, and the newest few.
        let mut failed_where = Sql::new(self.backend(), " FROM jobs WHERE status = ");
        failed_where.bind("failed").push(" AND finished_at >= ").bind(now.saturating_sub(86_400));
        if !hidden.is_empty() {
            failed_where.push(" AND namespace_id NOT IN ").bind_list(&hidden);
        }
        let mut sql = Sql::new(self.backend(), "SELECT COUNT(*) AS n");
        sql.push_sql(&failed_where);
        let failed_jobs = match self.conn.query_one_raw(sql.statement()).await? {
            Some(row) => count(get_int(&row, "n")?),
            None => 0,
        };
        let mut sql = Sql::new(self.backend(), "SELECT id");
        sql.push_sql(&failed_where).push(" ORDER BY finished_at DESC, id LIMIT ").push(&NAMES_LISTED.to_string());
        let failed_job_ids: Vec<String> = self
            .conn
            .query_all_raw(sql.statement())
            .await?
            .iter()
            .map(|row| get(row, "id"))
            .collect::<Result<_, _>>()?;

        // Threshold rules breached now.
        let rules = self.alerts.list(actor).await?;
        let breached: Vec<_> = rules
            .into_iter()
            .filter(|r| r.kind == THRESHOLD && r.enabled && r.breached && !hidden.contains(&r.namespace_id))
            .collect();
        let ids: Vec<String> = breached.iter().map(|r| r.namespace_id.clone()).collect();
        let titles = self.namespaces(&ids).await?;
        let breaches = breached
            .into_iter()
            .map(|r| Breach {
                namespace_title: titles.get(&r.namespace_id).map(|ns| ns.title.clone()),
                rule_id: r.id,
                namespace_id: r.namespace_id,
                metric: r.metric.unwrap_or_default(),
                threshold: r.threshold.unwrap_or_default(),
                value: r.last_value,
                since: r.breached_at,
            })
            .collect();

        // Namespaces no running plan covers: none when a running plan covers every namespace.
        let plans = self.jobs.list_plans(actor).await?;
        let running: Vec<_> = plans.iter().filter(|p| !p.paused).collect();
        let (without_backup, without_backup_names) = if running.iter().any(|p| p.namespace_id.is_none()) {
            (0, Vec::new())
        } else {
            let mut covered: Vec<String> = running.iter().filter_map(|p| p.namespace_id.clone()).collect();
            covered.extend(hidden.iter().cloned());
            let mut sql = Sql::new(self.backend(), "SELECT COUNT(*) AS n FROM namespaces");
            let mut names = Sql::new(self.backend(), "SELECT id, title FROM namespaces");
            if !covered.is_empty() {
                sql.push(" WHERE id NOT IN ").bind_list(&covered);
                names.push(" WHERE id NOT IN ").bind_list(&covered);
            }
            names.push(" ORDER BY title, id LIMIT ").push(&NAMES_LISTED.to_string());
            let n = match self.conn.query_one_raw(sql.statement()).await? {
                Some(row) => count(get_int(&row, "n")?),
                None => 0,
            };
            let listed = self
                .conn
                .query_all_raw(names.statement())
                .await?
                .iter()
                .map(|row| Ok(Named { id: get(row, "id")?, name: get(row, "title")? }))
                .collect::<DomainResult<Vec<_>>>()?;
            (n, listed)
        };

        let failing_webhooks = self
            .webhooks
            .list(actor)
            .await?
            .into_iter()
            .filter(|e| e.enabled && (e.failures > 0 || e.paused_reason.is_some()))
            .map(|e| FailingEndpoint {
                id: e.id,
                url: e.url,
                failures: e.failures,
                paused_reason: e.paused_reason,
                pending: e.pending,
            })
            .collect();

        let expiring = self
            .alerts
            .expiring(actor, now, EXPIRING_LISTED)
            .await?
            .into_iter()
            .filter(|k| !hidden.contains(&k.namespace_id))
            .collect();

        Ok(Health {
            failed_jobs,
            failed_job_ids,
            breaches,
            without_backup,
            without_backup_names,
            failing_webhooks,
            expiring,
        })
    }
}

/// Whose rollups a view reads.
enum Scope {
    One(String),
    AllBut(Vec<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_from_their_names_and_end_on_a_whole_step_holding_now() {
        for range in Range::ALL {
            assert_eq!(Range::parse(range.as_str()).unwrap(), range);
            let (from, to) = range.bounds(1_000_000_123);
            assert_eq!(to - from, range.seconds());
            assert_eq!(to % range.step(), 0);
            assert!(from < 1_000_000_123 && 1_000_000_123 < to);
            assert_eq!(range.seconds() % range.step(), 0, "{range:?}: whole points");
            assert!(range.seconds() / range.step() <= 100, "{range:?}: at most 100 points");
        }
        let err = Range::parse("2h").unwrap_err().to_string();
        assert!(err.contains("range"), "{err}");
    }
}
