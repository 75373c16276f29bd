//! Alert rules, checked by one instance at a time (a lease) every few minutes, with the time
//! handed in so tests can move it:
//! - **Expiry**: keys of a namespace (optionally under a prefix, with a tag) expiring within a
//!   window, found through the search index; each key fires `keys.expiring` once per rule (and
//!   expiration: a key whose expiration is moved on fires again when the new one nears).
//! - **Thresholds** on a namespace: its storage bytes or key count (its counters), operations in
//!   the last hour or their p99 latency (the minute rollups). A breach fires
//!   `threshold.breached` once, again at most once per cooldown while it lasts, and
//!   `threshold.resolved` when it clears; both are audited as the `system` user.
//!
//! Events go through the outbox like every other ([`crate::events`], delivered by the webhooks module), in the transaction that
//! records the rule's new state, so a fired alert is never lost nor sent twice for one state.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, Role, Source};
use crate::error::{DomainError, DomainResult};
use crate::events::{EventItem, KEYS_EXPIRING, THRESHOLD_BREACHED, THRESHOLD_RESOLVED};
use crate::kv::Kv;
use crate::metrics::{Counts, Resolution, STORAGE};
use crate::model::SearchQuery;
use crate::sql::{Sql, get, get_flag, get_int, get_opt_int};
use crate::write::WriteTxn;

pub const EXPIRY: &str = "expiry";
pub const THRESHOLD: &str = "threshold";
/// What a threshold rule measures.
pub const METRICS: &[&str] = &["storage_bytes", "key_count", "ops_per_hour", "p99_ms"];
/// Rules one server keeps at most.
pub const MAX_RULES: usize = 200;
const MIN_WINDOW_SECS: i64 = 60;
const MAX_WINDOW_SECS: i64 = 365 * 86_400;
const MIN_COOLDOWN_SECS: i64 = 60;
const MAX_COOLDOWN_SECS: i64 = 30 * 86_400;
const DEFAULT_COOLDOWN_SECS: i64 = 3600;
/// Keys one expiry rule fires for in one check at most (the rest, on the next check).
const MAX_FIRED_PER_CHECK: usize = 5_000;
const LEASE: &str = "alerts";
/// Seconds the checking instance holds the lease without renewing it: three of the server's
/// one-minute checks, so another instance takes over within three minutes of its death.
pub const LEASE_SECS: i64 = 180;

/// A rule as stored and listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRule {
    pub id: String,
    /// [`EXPIRY`] or [`THRESHOLD`].
    pub kind: String,
    pub namespace_id: String,
    pub prefix: Option<String>,
    pub tag: Option<String>,
    /// Expiry: the window, in seconds.
    pub within_secs: Option<i64>,
    /// Threshold: one of [`METRICS`].
    pub metric: Option<String>,
    /// Threshold: breached when the value is above it.
    pub threshold: Option<f64>,
    pub cooldown_secs: i64,
    pub enabled: bool,
    /// Threshold: breached as of the last check.
    pub breached: bool,
    /// Threshold: the value at the last check.
    pub last_value: Option<f64>,
    pub breached_at: Option<i64>,
    pub last_fired_at: Option<i64>,
    pub checked_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an admin sets on a rule.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RuleInput {
    pub kind: String,
    pub namespace_id: String,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub within_secs: Option<i64>,
    #[serde(default)]
    pub metric: Option<String>,
    #[serde(default)]
    pub threshold: Option<f64>,
    #[serde(default)]
    pub cooldown_secs: Option<i64>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// A key an expiry rule fired for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiringKey {
    pub rule_id: String,
    pub namespace_id: String,
    pub key: String,
    pub expiration: i64,
    pub fired_at: i64,
}

/// What one check did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckSummary {
    /// False when another instance holds the lease (nothing was checked).
    pub leader: bool,
    pub expiring_fired: u64,
    pub breached: u64,
    pub repeated: u64,
    pub resolved: u64,
}

#[derive(Clone)]
pub struct Alerts {
    kv: Kv,
    conn: DatabaseConnection,
    instance_id: String,
}

fn system() -> Actor {
    Actor::new("system", Source::Job, Role::Admin)
}

fn require_admin(actor: &Actor) -> DomainResult<()> {
    if actor.is_admin() { Ok(()) } else { Err(DomainError::forbidden("only an admin can manage alert rules")) }
}

impl Alerts {
    pub fn new(kv: Kv, conn: DatabaseConnection, instance_id: impl Into<String>) -> Self {
        Self { kv, conn, instance_id: instance_id.into() }
    }

    fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    pub async fn list(&self, actor: &Actor) -> DomainResult<Vec<AlertRule>> {
        require_admin(actor)?;
        let sql = Sql::new(self.backend(), "SELECT * FROM alert_rules ORDER BY created_at, id");
        let rows = self.conn.query_all_raw(sql.statement()).await?;
        rows.iter().map(rule_row).collect()
    }

    async fn find(&self, id: &str) -> DomainResult<AlertRule> {
        let mut sql = Sql::new(self.backend(), "SELECT * FROM alert_rules WHERE id = ");
        sql.bind(id);
        match self.conn.query_one_raw(sql.statement()).await? {
            Some(row) => rule_row(&row),
            None => Err(DomainError::not_found("id", format!("id: no alert rule {id:?}"))),
        }
    }

    pub async fn get(&self, actor: &Actor, id: &str) -> DomainResult<AlertRule> {
        require_admin(actor)?;
        self.find(id).await
    }

    async fn validate(&self, actor: &Actor, input: &RuleInput) -> DomainResult<RuleInput> {
        let namespace_id = input.namespace_id.trim();
        if namespace_id.is_empty() {
            return Err(DomainError::invalid("namespace_id", "namespace_id: choose the namespace the rule watches"));
        }
        self.kv.get_namespace(actor, namespace_id).await.map_err(|err| match err {
            DomainError::NotFound { .. } => {
                DomainError::invalid("namespace_id", format!("namespace_id: no namespace {namespace_id:?}"))
            }
            other => other,
        })?;
        let cooldown = input.cooldown_secs.unwrap_or(DEFAULT_COOLDOWN_SECS);
        if !(MIN_COOLDOWN_SECS..=MAX_COOLDOWN_SECS).contains(&cooldown) {
            return Err(DomainError::invalid(
                "cooldown_secs",
                format!("cooldown_secs: between {MIN_COOLDOWN_SECS} and {MAX_COOLDOWN_SECS} seconds"),
            ));
        }
        let prefix = input.prefix.clone().filter(|p| !p.is_empty());
        if prefix.as_ref().is_some_and(|p| p.len() > 512) {
            return Err(DomainError::invalid("prefix", "prefix: at most 512 bytes"));
        }
        let tag = input.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
        if tag.as_ref().is_some_and(|t| t.chars().count() > 64) {
            return Err(DomainError::invalid("tag", "tag: at most 64 characters"));
        }
        let mut out = RuleInput {
            kind: input.kind.trim().to_owned(),
            namespace_id: namespace_id.to_owned(),
            prefix,
            tag,
            within_secs: None,
            metric: None,
            threshold: None,
            cooldown_secs: Some(cooldown),
            enabled: input.enabled,
        };
        match out.kind.as_str() {
            EXPIRY => {
                let within = input.within_secs.ok_or_else(|| {
                    DomainError::invalid("within_secs", "within_secs: how long before expiry to warn, in seconds")
                })?;
                if !(MIN_WINDOW_SECS..=MAX_WINDOW_SECS).contains(&within) {
                    return Err(DomainError::invalid(
                        "within_secs",
                        format!("within_secs: between {MIN_WINDOW_SECS} and {MAX_WINDOW_SECS} seconds"),
                    ));
                }
                out.within_secs = Some(within);
            }
            THRESHOLD => {
                let metric = input.metric.as_deref().map(str::trim).unwrap_or_default();
                if !METRICS.contains(&metric) {
                    return Err(DomainError::invalid(
                        "metric",
                        format!("metric: {metric:?} is not one of {}", METRICS.join(", ")),
                    ));
                }
                let threshold = input.threshold.filter(|t| t.is_finite() && *t >= 0.0).ok_or_else(|| {
                    DomainError::invalid("threshold", "threshold: a number, zero or more, the value may not exceed")
                })?;
                if out.prefix.is_some() || out.tag.is_some() {
                    return Err(DomainError::invalid(
                        "prefix",
                        "prefix: thresholds watch a whole namespace; prefix and tag are for expiry rules",
                    ));
                }
                out.metric = Some(metric.to_owned());
                out.threshold = Some(threshold);
            }
            other => {
                return Err(DomainError::invalid(
                    "kind",
                    format!("kind: {other:?} is not a rule kind; choose {EXPIRY} or {THRESHOLD}"),
                ));
            }
        }
        Ok(out)
    }

    pub async fn create(&self, actor: &Actor, input: RuleInput) -> DomainResult<AlertRule> {
        require_admin(actor)?;
        let input = self.validate(actor, &input).await?;
        let id = format!("alr_{}", ulid::Ulid::new().to_string().to_lowercase());
        let txn = WriteTxn::begin(&self.conn, crate::now_unix()).await?;
        let count = {
            let sql = Sql::new(self.backend(), "SELECT COUNT(*) AS n FROM alert_rules");
            let row = txn.conn().query_one_raw(sql.statement()).await?.ok_or_else(|| DomainError::internal("count"))?;
            get::<i64>(&row, "n")?
        };
        if count >= MAX_RULES as i64 {
            return Err(DomainError::conflict(
                "kind",
                format!("kind: at most {MAX_RULES} alert rules; delete one first"),
            ));
        }
        let mut sql = Sql::new(
            self.backend(),
            "INSERT INTO alert_rules (id, kind, namespace_id, prefix, tag, within_secs, metric, threshold, cooldown_secs, enabled, breached, created_by, created_at, updated_at) VALUES (",
        );
        sql.bind(id.as_str()).push(", ").bind(input.kind.as_str()).push(", ").bind(input.namespace_id.as_str());
        sql.push(", ").bind(input.prefix.clone()).push(", ").bind(input.tag.clone()).push(", ").bind(input.within_secs);
        sql.push(", ").bind(input.metric.clone()).push(", ").bind(input.threshold).push(", ");
        sql.bind(input.cooldown_secs.unwrap_or(DEFAULT_COOLDOWN_SECS)).push(", ").bind(input.enabled).push(", ");
        sql.bind(false).push(", ").bind(actor.user.as_str()).push(", ").bind(txn.now()).push(", ").bind(txn.now());
        sql.push(")");
        txn.conn().execute_raw(sql.statement()).await?;
        txn.audit_namespace(actor, "alert.create", &input.namespace_id, audit_details(&id, &input)).await?;
        txn.commit().await?;
        self.find(&id).await
    }

    /// Changes a rule; a threshold rule starts again from "not breached".
    pub async fn update(&self, actor: &Actor, id: &str, input: RuleInput) -> DomainResult<AlertRule> {
        require_admin(actor)?;
        self.find(id).await?;
        let input = self.validate(actor, &input).await?;
        let txn = WriteTxn::begin(&self.conn, crate::now_unix()).await?;
        let mut sql = Sql::new(self.backend(), "UPDATE alert_rules SET kind = ");
        sql.bind(input.kind.as_str()).push(", namespace_id = ").bind(input.namespace_id.as_str());
        sql.push(", prefix = ").bind(input.prefix.clone()).push(", tag = ").bind(input.tag.clone());
        sql.push(", within_secs = ").bind(input.within_secs).push(", metric = ").bind(input.metric.clone());
        sql.push(", threshold = ").bind(input.threshold).push(", cooldown_secs = ");
        sql.bind(input.cooldown_secs.unwrap_or(DEFAULT_COOLDOWN_SECS)).push(", enabled = ").bind(input.enabled);
        sql.push(", breached = ").bind(false).push(", breached_at = NULL, last_fired_at = NULL, updated_at = ");
        sql.bind(txn.now()).push(" WHERE id = ").bind(id);
        txn.conn().execute_raw(sql.statement()).await?;
        txn.audit_namespace(actor, "alert.update", &input.namespace_id, audit_details(id, &input)).await?;
        txn.commit().await?;
        self.find(id).await
    }

    pub async fn delete(&self, actor: &Actor, id: &str) -> DomainResult<()> {
        require_admin(actor)?;
        let rule = self.find(id).await?;
        let txn = WriteTxn::begin(&self.conn, crate::now_unix()).await?;
        let mut sql = Sql::new(self.backend(), "DELETE FROM alert_fired WHERE rule_id = ");
        sql.bind(id);
        txn.conn().execute_raw(sql.statement()).await?;
        let mut sql = Sql::new(self.backend(), "DELETE FROM alert_rules WHERE id = ");
        sql.bind(id);
        txn.conn().execute_raw(sql.statement()).await?;
        let details = serde_json::json!({ "rule_id": id, "kind": rule.kind });
        txn.audit_namespace(actor, "alert.delete", &rule.namespace_id, details).await?;
        txn.commit().await
    }

    /// Keys expiry rules fired for whose expiration is still ahead of `now`, soonest first.
    pub async fn expiring(&self, actor: &Actor, now: i64, limit: u64) -> DomainResult<Vec<ExpiringKey>> {
        require_admin(actor)?;
        let mut sql = Sql::new(self.backend(), "SELECT * FROM alert_fired WHERE expiration > ");
        sql.bind(now).push(" ORDER BY expiration, key_name LIMIT ").push(&limit.min(1000).to_string());
        let rows = self.conn.query_all_raw(sql.statement()).await?;
        rows.iter()
            .map(|row| {
                Ok(ExpiringKey {
                    rule_id: get(row, "rule_id")?,
                    namespace_id: get(row, "namespace_id")?,
                    key: get(row, "key_name")?,
                    expiration: get(row, "expiration")?,
                    fired_at: get(row, "fired_at")?,
                })
            })
            .collect()
    }

    /// Runs the check every `interval` until the process ends.
    pub fn spawn(&self, interval: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            loop {
                tick.tick().await;
                if let Err(err) = this.check(crate::now_unix()).await {
                    tracing::warn!(%err, "checking alert rules failed");
                }
            }
        })
    }

    /// Checks every enabled rule as of `now`, when this instance holds the lease.
    pub async fn check(&self, now: i64) -> DomainResult<CheckSummary> {
        let mut summary = CheckSummary::default();
        if !crate::write::hold_lease(&self.conn, LEASE, &self.instance_id, now, LEASE_SECS).await? {
            return Ok(summary);
        }
        summary.leader = true;
        let mut sql = Sql::new(self.backend(), "SELECT * FROM alert_rules WHERE enabled = ");
        sql.bind(true).push(" ORDER BY id");
        let rules: Vec<AlertRule> =
            self.conn.query_all_raw(sql.statement()).await?.iter().map(rule_row).collect::<DomainResult<_>>()?;
        for rule in rules {
            let checked = match rule.kind.as_str() {
                EXPIRY => self.check_expiry(&rule, now).await.map(|n| summary.expiring_fired += n),
                _ => self.check_threshold(&rule, now, &mut summary).await,
            };
            if let Err(err) = checked {
                // A namespace deleted since, say: the other rules are still checked.
                tracing::warn!(rule = %rule.id, %err, "an alert rule could not be checked");
            }
        }
        Ok(summary)
    }

    async fn check_expiry(&self, rule: &AlertRule, now: i64) -> DomainResult<u64> {
        let within = rule.within_secs.unwrap_or(MIN_WINDOW_SECS);
        let mut found: Vec<(String, i64)> = Vec::new();
        let mut cursor = None;
        loop {
            let query = SearchQuery {
                prefix: rule.prefix.clone(),
                namespace_ids: vec![rule.namespace_id.clone()],
                tags: rule.tag.iter().cloned().collect(),
                has_expiration: Some(true),
                expires_before: Some(now.saturating_add(within)),
                limit: Some(1000),
                cursor,
                ..Default::default()
            };
            let page = self.kv.search_keys(&system(), query).await?;
            found.extend(
                page.results.into_iter().filter_map(|hit| hit.expiration.filter(|e| *e > now).map(|e| (hit.key, e))),
            );
            match page.cursor {
                Some(next) if found.len() < MAX_FIRED_PER_CHECK => cursor = Some(next),
                _ => break,
            }
        }
        if found.is_empty() {
            return Ok(0);
        }
        found.truncate(MAX_FIRED_PER_CHECK);
        let mut txn = WriteTxn::begin(&self.conn, now).await?;
        let mut fired: Vec<(String, i64)> = Vec::new();
        for (key, expiration) in found {
            let mut sql = Sql::new(
                self.backend(),
                "INSERT INTO alert_fired (rule_id, key_name, expiration, namespace_id, fired_at) VALUES (",
            );
            sql.bind(rule.id.as_str()).push(", ").bind(key.as_str()).push(", ").bind(expiration).push(", ");
            sql.bind(rule.namespace_id.as_str()).push(", ").bind(now);
            sql.push(") ON CONFLICT (rule_id, key_name, expiration) DO NOTHING");
            if txn.conn().execute_raw(sql.statement()).await?.rows_affected() == 1 {
                fired.push((key, expiration));
            }
        }
        let count = fired.len() as u64;
        if !fired.is_empty() {
            let items = fired
                .into_iter()
                .map(|(key, expiration)| EventItem {
                    data: Some(serde_json::json!({
                        "rule_id": rule.id,
                        "expiration": expiration,
                        "expires_at": crate::rfc3339(expiration),
                        "within_secs": within,
                    })),
                    ..EventItem::key(KEYS_EXPIRING, &key)
                })
                .collect();
            txn.emit(self.kv.events(), &system(), Some(&rule.namespace_id), items).await?;
            let mut sql = Sql::new(self.backend(), "UPDATE alert_rules SET last_fired_at = ");
            sql.bind(now).push(" WHERE id = ").bind(rule.id.as_str());
            txn.conn().execute_raw(sql.statement()).await?;
        }
        // Keys fired for whose expiration has passed are forgotten.
        let mut sql = Sql::new(self.backend(), "DELETE FROM alert_fired WHERE rule_id = ");
        sql.bind(rule.id.as_str()).push(" AND expiration <= ").bind(now);
        txn.conn().execute_raw(sql.statement()).await?;
        txn.commit().await?;
        Ok(count)
    }

    /// The value a threshold rule measures, as of `now`.
    pub async fn measure(&self, namespace_id: &str, metric: &str, now: i64) -> DomainResult<f64> {
        match metric {
            "storage_bytes" | "key_count" => {
                let ns = self.kv.get_namespace(&system(), namespace_id).await?;
                Ok(if metric == "storage_bytes" { ns.size_bytes as f64 } else { ns.key_count as f64 })
            }
            _ => {
                let rows = self
                    .kv
                    .metrics()
                    .rollups(Resolution::Minute, now.saturating_sub(3600), now.saturating_add(1))
                    .await?;
                let mut counts = Counts::default();
                for row in rows.iter().filter(|r| r.namespace_id == namespace_id && r.operation != STORAGE) {
                    counts.add(&row.counts);
                }
                Ok(if metric == "ops_per_hour" {
                    counts.operations as f64
                } else {
                    counts.percentile_ms(99.0).map(|ms| if ms.is_finite() { ms } else { 1000.0 }).unwrap_or(0.0)
                })
            }
        }
    }

    async fn check_threshold(&self, rule: &AlertRule, now: i64, summary: &mut CheckSummary) -> DomainResult<()> {
        let metric = rule.metric.as_deref().unwrap_or("key_count");
        let threshold = rule.threshold.unwrap_or(f64::INFINITY);
        let value = self.measure(&rule.namespace_id, metric, now).await?;
        let over = value > threshold;
        let cooled = rule.last_fired_at.is_none_or(|at| now.saturating_sub(at) >= rule.cooldown_secs);
        let fire = match (rule.breached, over) {
            (false, true) => Some(THRESHOLD_BREACHED),
            (true, true) if cooled => Some(THRESHOLD_BREACHED),
            (true, false) => Some(THRESHOLD_RESOLVED),
            _ => None,
        };
        let mut txn = WriteTxn::begin(&self.conn, now).await?;
        let mut sql = Sql::new(self.backend(), "UPDATE alert_rules SET last_value = ");
        sql.bind(value).push(", checked_at = ").bind(now).push(", breached = ").bind(over);
        if fire.is_some() {
            sql.push(", last_fired_at = ").bind(now);
        }
        match (rule.breached, over) {
            (false, true) => {
                sql.push(", breached_at = ").bind(now);
            }
            (_, false) => {
                sql.push(", breached_at = NULL");
            }
            _ => {}
        }
        sql.push(" WHERE id = ").bind(rule.id.as_str());
        txn.conn().execute_raw(sql.statement()).await?;
        if let Some(kind) = fire {
            let repeat = rule.breached && over;
            let data = serde_json::json!({
                "rule_id": rule.id,
                "metric": metric,
                "threshold": threshold,
                "value": value,
                "since": if rule.breached { rule.breached_at } else { Some(now) },
                "repeat": repeat,
            });
            let operation = if kind == THRESHOLD_BREACHED { "alert.breached" } else { "alert.resolved" };
            txn.audit_namespace(&system(), operation, &rule.namespace_id, data.clone()).await?;
            txn.emit(self.kv.events(), &system(), Some(&rule.namespace_id), vec![EventItem::with_data(kind, data)])
                .await?;
            match (kind == THRESHOLD_BREACHED, repeat) {
                (true, false) => summary.breached += 1,
                (true, true) => summary.repeated += 1,
                (false, _) => summary.resolved += 1,
            }
        }
        txn.commit().await
    }
}

fn audit_details(id: &str, input: &RuleInput) -> serde_json::Value {
    serde_json::json!({
        "rule_id": id,
        "kind": input.kind,
        "prefix": input.prefix,
        "tag": input.tag,
        "within_secs": input.within_secs,
        "metric": input.metric,
        "threshold": input.threshold,
        "cooldown_secs": input.cooldown_secs,
        "enabled": input.enabled,
    })
}

fn rule_row(row: &QueryResult) -> DomainResult<AlertRule> {
    Ok(AlertRule {
        id: get(row, "id")?,
        kind: get(row, "kind")?,
        namespace_id: get(row, "namespace_id")?,
        prefix: get(row, "prefix")?,
        tag: get(row, "tag")?,
        within_secs: get_opt_int(row, "within_secs")?,
        metric: get(row, "metric")?,
        threshold: get(row, "threshold")?,
        cooldown_secs: get_int(row, "cooldown_secs")?,
        enabled: get_flag(row, "enabled")?,
        breached: get_flag(row, "breached")?,
        last_value: get(row, "last_value")?,
        breached_at: get_opt_int(row, "breached_at")?,
        last_fired_at: get_opt_int(row, "last_fired_at")?,
        checked_at: get_opt_int(row, "checked_at")?,
        created_by: get(row, "created_by")?,
        created_at: get_int(row, "created_at")?,
        updated_at: get_int(row, "updated_at")?,
    })
}
