//! Backup plans (issue 17, schedules): a backup of one namespace, or of every namespace, on a
//! cron expression (UTC), to a target, with a retention (the last N backups and/or N days).
//!
//! Plans live in the database. [`Jobs::tick`] takes the time from its caller (the server's
//! scheduler loop passes the clock; tests move it): every unpaused plan whose `next_run_at` has
//! come is claimed with one conditional update that moves `next_run_at` to the next occurrence
//! after now, and only the instance whose update changed the row starts the backup jobs. That
//! update is the lease: instances sharing one database run each occurrence once. A run missed
//! while no server was up is due at the next tick (at start-up) and runs once; the next one is
//! computed from now, so a long outage does not start a burst of catch-up runs.
//!
//! A plan's backups carry its id (in the job's spec and in the manifest). When one completes, the
//! same job prunes that plan's older complete backups of that namespace beyond `keep_last` or
//! older than `keep_days` (each rule that is set prunes on its own); backups without the plan's
//! id (manual ones, another plan's) are never touched.

use std::time::Duration;

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use super::backup::{self, BackupId, BackupStore};
use super::{Ctx, Job, JobSpec, Jobs};
use crate::actor::{Actor, Role, Source};
use crate::entity::backup_plan;
use crate::error::{DomainError, DomainResult};
use crate::model::NamespaceQuery;
use crate::now_unix;
use crate::write::WriteTxn;

/// Longest cron expression accepted.
pub const MAX_CRON_CHARS: usize = 200;
/// Largest `keep_last`.
pub const MAX_KEEP_LAST: i64 = 10_000;
/// Largest `keep_days` (ten years).
pub const MAX_KEEP_DAYS: i64 = 3650;
/// How often the server looks for due plans by default (`KVM_SCHEDULE_INTERVAL_SECS`).
pub const DEFAULT_SCHEDULE_INTERVAL_SECS: u64 = 30;
/// Longest `last_error` kept.
const MAX_ERROR_CHARS: usize = 2000;

/// A backup plan as clients see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupPlan {
    pub id: String,
    /// `None`: every namespace (those its creator could see), one backup job each.
    pub namespace_id: Option<String>,
    pub prefix: Option<String>,
    /// Five fields (minute, hour, day of month, month, day of week) or `@daily` and the like, UTC.
    pub cron: String,
    pub target: String,
    /// The newest backups kept (older ones of the plan are pruned); `None`: no count rule.
    pub keep_last: Option<u32>,
    /// Days a backup is kept (by its `snapshot_at`); `None`: no age rule.
    pub keep_days: Option<u32>,
    pub paused: bool,
    /// When it runs next (unix seconds).
    pub next_run_at: i64,
    /// When it last ran (scheduled or "run now").
    pub last_run_at: Option<i64>,
    /// The jobs its last run started.
    pub last_job_ids: Vec<String>,
    /// Why its last run could not start a job, if it could not.
    pub last_error: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A plan as made or edited: every field is checked (400 naming it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInput {
    /// `None`: every namespace.
    pub namespace_id: Option<String>,
    pub prefix: Option<String>,
    pub cron: String,
    /// `None`: `local`.
    pub target: Option<String>,
    /// 1 to 10,000.
    pub keep_last: Option<i64>,
    /// 1 to 3,650.
    pub keep_days: Option<i64>,
    /// `None`: unpaused for a new plan, unchanged for an edit.
    pub paused: Option<bool>,
}

impl From<backup_plan::Model> for BackupPlan {
    fn from(m: backup_plan::Model) -> Self {
        Self {
            id: m.id,
            namespace_id: m.namespace_id,
            prefix: m.prefix,
            cron: m.cron,
            target: m.target,
            keep_last: m.keep_last.and_then(|n| u32::try_from(n).ok()),
            keep_days: m.keep_days.and_then(|n| u32::try_from(n).ok()),
            paused: m.paused,
            next_run_at: m.next_run_at,
            last_run_at: m.last_run_at,
            last_job_ids: m.last_job_ids.and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default(),
            last_error: m.last_error,
            created_by: m.created_by,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A cron expression: five fields (no seconds, no year) or a nickname (`@daily`), read in UTC.
fn parse_cron(text: &str) -> DomainResult<Cron> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_CRON_CHARS {
        return Err(DomainError::invalid(
            "cron",
            format!("cron: give a cron expression of 1 to {MAX_CRON_CHARS} characters (such as \"0 3 * * *\")"),
        ));
    }
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
        .parse(text)
        .map_err(|e| DomainError::invalid("cron", format!("cron: {text:?} is not a cron expression: {e}")))
}

/// The first occurrence of `cron` strictly after `after` (unix seconds, UTC).
pub fn next_occurrence(cron: &str, after: i64) -> DomainResult<i64> {
    let parsed = parse_cron(cron)?;
    let start = chrono::DateTime::from_timestamp(after, 0)
        .ok_or_else(|| DomainError::invalid("cron", format!("cron: {after} is not a moment")))?;
    parsed
        .find_next_occurrence(&start, false)
        .map(|next| next.timestamp())
        .map_err(|e| DomainError::invalid("cron", format!("cron: {cron:?} has no next occurrence: {e}")))
}

/// A retention number within `1..=max`, as stored.
fn check_keep(field: &str, value: Option<i64>, max: i64) -> DomainResult<Option<i32>> {
    match value {
        None => Ok(None),
        Some(n) if (1..=max).contains(&n) => {
            i32::try_from(n).map(Some).map_err(|_| DomainError::invalid(field, format!("{field}: 1 to {max}")))
        }
        Some(n) => Err(DomainError::invalid(field, format!("{field}: {n} is not between 1 and {max}"))),
    }
}

fn require_admin(actor: &Actor) -> DomainResult<()> {
    if !actor.is_admin() {
        return Err(DomainError::forbidden("backup plans are managed by admins (KVM_ADMINS)"));
    }
    Ok(())
}

fn plan_not_found(id: &str) -> DomainError {
    DomainError::not_found("plan_id", format!("plan_id: no backup plan {id:?}"))
}

/// A checked [`PlanInput`], as the columns store it.
struct Checked {
    namespace_id: Option<String>,
    prefix: Option<String>,
    cron: String,
    target: String,
    keep_last: Option<i32>,
    keep_days: Option<i32>,
}

impl Jobs {
    /// Checks every field of a plan `actor` makes or edits.
    async fn check_plan(&self, actor: &Actor, input: &PlanInput) -> DomainResult<Checked> {
        let namespace_id = input.namespace_id.clone().filter(|id| !id.is_empty());
        if let Some(id) = &namespace_id {
            self.kv().get_namespace(actor, id).await?;
        }
        let prefix = input.prefix.clone().filter(|p| !p.is_empty());
        if let Some(prefix) = &prefix {
            super::ops::check_prefix(prefix)?;
        }
        let cron = input.cron.trim().to_owned();
        next_occurrence(&cron, now_unix())?;
        let target = input.target.clone().filter(|t| !t.is_empty()).unwrap_or_else(super::default_target);
        self.backup_store(&target)?;
        let keep_last = check_keep("keep_last", input.keep_last, MAX_KEEP_LAST)?;
        let keep_days = check_keep("keep_days", input.keep_days, MAX_KEEP_DAYS)?;
        Ok(Checked { namespace_id, prefix, cron, target, keep_last, keep_days })
    }

    /// A plan `actor` may see: an admin's, not on a namespace hidden from them; else 404.
    async fn visible_plan(&self, actor: &Actor, id: &str) -> DomainResult<backup_plan::Model> {
        require_admin(actor)?;
        let row = backup_plan::Entity::find_by_id(id.to_owned()).one(&self.inner.conn).await?;
        let row = row.ok_or_else(|| plan_not_found(id))?;
        let hidden = self.kv().hidden_namespaces(actor).await?;
        if row.namespace_id.as_ref().is_some_and(|ns| hidden.contains(ns)) {
            return Err(plan_not_found(id));
        }
        Ok(row)
    }

    /// Every backup plan (admins only), oldest first; none on namespaces hidden from `actor`.
    pub async fn list_plans(&self, actor: &Actor) -> DomainResult<Vec<BackupPlan>> {
        require_admin(actor)?;
        let hidden = self.kv().hidden_namespaces(actor).await?;
        let rows = backup_plan::Entity::find()
            .order_by_asc(backup_plan::Column::CreatedAt)
            .order_by_asc(backup_plan::Column::Id)
            .all(&self.inner.conn)
            .await?;
        Ok(rows
            .into_iter()
            .filter(|row| !row.namespace_id.as_ref().is_some_and(|ns| hidden.contains(ns)))
            .map(BackupPlan::from)
            .collect())
    }

    /// One backup plan (admins only).
    pub async fn get_plan(&self, actor: &Actor, id: &str) -> DomainResult<BackupPlan> {
        Ok(self.visible_plan(actor, id).await?.into())
    }

    /// Makes a plan (`id` `None`) or edits one (admins only). Its next run is the cron's first
    /// occurrence after now; an edit keeps the next run unless the cron changes or the plan is
    /// unpaused.
    pub async fn save_plan(&self, actor: &Actor, id: Option<&str>, input: &PlanInput) -> DomainResult<BackupPlan> {
        require_admin(actor)?;
        let old = match id {
            Some(id) => Some(self.visible_plan(actor, id).await?),
            None => None,
        };
        let c = self.check_plan(actor, input).await?;
        let now = now_unix();
        let paused = input.paused.or(old.as_ref().map(|o| o.paused)).unwrap_or(false);
        // An edit that keeps the cron (and does not unpause) leaves the schedule's columns to
        // the database: a run claimed meanwhile is not undone.
        let keep_schedule = old.as_ref().is_some_and(|o| o.cron == c.cron && (paused || !o.paused));
        let next_run_at = match &old {
            Some(o) if keep_schedule => o.next_run_at,
            _ => next_occurrence(&c.cron, now)?,
        };
        let row = backup_plan::Model {
            id: old
                .as_ref()
                .map_or_else(|| format!("plan-{}", ulid::Ulid::new().to_string().to_lowercase()), |o| o.id.clone()),
            namespace_id: c.namespace_id,
            prefix: c.prefix,
            cron: c.cron,
            target: c.target,
            keep_last: c.keep_last,
            keep_days: c.keep_days,
            paused,
            next_run_at,
            last_run_at: old.as_ref().and_then(|o| o.last_run_at),
            last_job_ids: old.as_ref().and_then(|o| o.last_job_ids.clone()),
            last_error: old.as_ref().and_then(|o| o.last_error.clone()),
            created_by: old.as_ref().map_or_else(|| actor.user.clone(), |o| o.created_by.clone()),
            created_at: old.as_ref().map_or(now, |o| o.created_at),
            updated_at: now,
        };
        let txn = WriteTxn::begin(&self.inner.conn, now).await?;
        let mut active = row.clone().into_active_model().reset_all();
        if old.is_some() {
            (active.last_run_at, active.last_job_ids, active.last_error) = (NotSet, NotSet, NotSet);
            if keep_schedule {
                active.next_run_at = NotSet;
            }
            backup_plan::Entity::update(active).exec(txn.conn()).await?;
        } else {
            backup_plan::Entity::insert(active).exec_without_returning(txn.conn()).await?;
        }
        let plan = read_plan(&txn, &row.id).await?;
        let name = if old.is_some() { "backup_plan.update" } else { "backup_plan.create" };
        audit_plan(&txn, actor, name, &plan).await?;
        txn.commit().await?;
        Ok(plan)
    }

    /// Pauses a plan (it does not run) or resumes it (its next run is the cron's first
    /// occurrence after now: runs missed while paused are not made up).
    pub async fn set_plan_paused(&self, actor: &Actor, id: &str, paused: bool) -> DomainResult<BackupPlan> {
        let old = self.visible_plan(actor, id).await?;
        let now = now_unix();
        let next_run_at = if paused { old.next_run_at } else { next_occurrence(&old.cron, now)? };
        let row = backup_plan::ActiveModel {
            id: Set(old.id.clone()),
            paused: Set(paused),
            next_run_at: if paused { NotSet } else { Set(next_run_at) },
            updated_at: Set(now),
            ..Default::default()
        };
        let txn = WriteTxn::begin(&self.inner.conn, now).await?;
        backup_plan::Entity::update(row).exec(txn.conn()).await?;
        let plan = read_plan(&txn, &old.id).await?;
        let name = if paused { "backup_plan.pause" } else { "backup_plan.resume" };
        audit_plan(&txn, actor, name, &plan).await?;
        txn.commit().await?;
        Ok(plan)
    }

    /// Deletes a plan; its backups stay (and are no longer pruned).
    pub async fn delete_plan(&self, actor: &Actor, id: &str) -> DomainResult<BackupPlan> {
        let plan = BackupPlan::from(self.visible_plan(actor, id).await?);
        let txn = WriteTxn::begin(&self.inner.conn, now_unix()).await?;
        backup_plan::Entity::delete_by_id(plan.id.clone()).exec(txn.conn()).await?;
        audit_plan(&txn, actor, "backup_plan.delete", &plan).await?;
        txn.commit().await?;
        Ok(plan)
    }

    /// Starts a plan's backup job(s) now, its schedule unchanged. Fails when no job could start
    /// (the namespace is gone, say), with the first reason.
    pub async fn run_plan_now(&self, actor: &Actor, id: &str) -> DomainResult<Vec<Job>> {
        let row = self.visible_plan(actor, id).await?;
        let txn = WriteTxn::begin(&self.inner.conn, now_unix()).await?;
        audit_plan(&txn, actor, "backup_plan.run", &BackupPlan::from(row.clone())).await?;
        txn.commit().await?;
        let (jobs, mut errors) = self.run_plan(&row, now_unix()).await;
        if jobs.is_empty() && !errors.is_empty() {
            return Err(errors.swap_remove(0));
        }
        Ok(jobs)
    }

    /// Runs every unpaused plan due at `now` (unix seconds, from the caller: the scheduler passes
    /// the clock). Each due plan is claimed with one conditional update (`next_run_at` moved to
    /// the cron's next occurrence after `now`, where it still holds the value read); only when it
    /// changed the row does this instance start the plan's jobs. Answers the jobs started here.
    pub async fn tick(&self, now: i64) -> DomainResult<Vec<Job>> {
        let due = backup_plan::Entity::find()
            .filter(backup_plan::Column::Paused.eq(false))
            .filter(backup_plan::Column::NextRunAt.lte(now))
            .order_by_asc(backup_plan::Column::NextRunAt)
            .all(&self.inner.conn)
            .await?;
        let mut started = Vec::new();
        for plan in due {
            if !self.claim(&plan, now).await? {
                continue;
            }
            let (jobs, errors) = self.run_plan(&plan, now).await;
            for err in &errors {
                tracing::warn!(%err, plan = %plan.id, "a backup plan's run could not start a job");
            }
            started.extend(jobs);
        }
        Ok(started)
    }

    /// The lease of one occurrence: true when this call moved the plan's `next_run_at` on. A
    /// cron without a next occurrence pauses the plan instead (with the reason).
    async fn claim(&self, plan: &backup_plan::Model, now: i64) -> DomainResult<bool> {
        let next = next_occurrence(&plan.cron, now);
        let mut update = backup_plan::Entity::update_many()
            .col_expr(backup_plan::Column::LastRunAt, Expr::value(Some(now)))
            .filter(backup_plan::Column::Id.eq(plan.id.as_str()))
            .filter(backup_plan::Column::NextRunAt.eq(plan.next_run_at))
            .filter(backup_plan::Column::Paused.eq(false));
        update = match &next {
            Ok(next) => update.col_expr(backup_plan::Column::NextRunAt, Expr::value(*next)),
            Err(err) => update
                .col_expr(backup_plan::Column::Paused, Expr::value(true))
                .col_expr(backup_plan::Column::LastError, Expr::value(Some(err.to_string()))),
        };
        let claimed = update.exec(&self.inner.conn).await?.rows_affected == 1;
        if claimed && let Err(err) = next {
            tracing::warn!(%err, plan = %plan.id, "a backup plan has no next run: paused");
            return Ok(false);
        }
        Ok(claimed)
    }

    /// Starts the plan's backup job(s) as its creator (an admin when they made it), one per
    /// namespace for a plan of every namespace, and records them on the plan. Answers the jobs
    /// started and why the others did not.
    async fn run_plan(&self, plan: &backup_plan::Model, now: i64) -> (Vec<Job>, Vec<DomainError>) {
        let (mut jobs, mut errors) = (Vec::new(), Vec::new());
        match self.plan_namespaces(plan).await {
            Ok(namespaces) => {
                let actor = Actor::new(plan.created_by.clone(), Source::Job, Role::Admin);
                for namespace_id in namespaces {
                    let spec = JobSpec::Backup {
                        namespace_id,
                        prefix: plan.prefix.clone(),
                        target: plan.target.clone(),
                        plan_id: Some(plan.id.clone()),
                        batch: Vec::new(),
                    };
                    match self.start_checked(&actor, spec).await {
                        Ok(job) => jobs.push(job),
                        Err(err) => errors.push(err),
                    }
                }
            }
            Err(err) => errors.push(err),
        }
        let ids: Vec<&str> = jobs.iter().map(|job| job.id.as_str()).collect();
        let error = (!errors.is_empty()).then(|| {
            let text = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            text.chars().take(MAX_ERROR_CHARS).collect::<String>()
        });
        let recorded = backup_plan::Entity::update_many()
            .col_expr(backup_plan::Column::LastRunAt, Expr::value(Some(now)))
            .col_expr(backup_plan::Column::LastJobIds, Expr::value(serde_json::json!(ids).to_string()))
            .col_expr(backup_plan::Column::LastError, Expr::value(error))
            .filter(backup_plan::Column::Id.eq(plan.id.as_str()))
            .exec(&self.inner.conn)
            .await;
        if let Err(err) = recorded {
            tracing::warn!(%err, plan = %plan.id, "could not record a backup plan's run");
        }
        (jobs, errors)
    }

    /// The namespaces a run backs up: the plan's, or every namespace its creator could see from
    /// the console (protected ones are left out).
    async fn plan_namespaces(&self, plan: &backup_plan::Model) -> DomainResult<Vec<String>> {
        if let Some(id) = &plan.namespace_id {
            return Ok(vec![id.clone()]);
        }
        let viewer = Actor::new(plan.created_by.clone(), Source::Console, Role::Admin);
        let per_page = crate::limits::MAX_PER_PAGE;
        let mut all = Vec::new();
        let mut page = 1u32;
        loop {
            let query = NamespaceQuery { page: Some(page), per_page: Some(per_page), ..Default::default() };
            let listed = self.kv().list_namespaces(&viewer, query).await?;
            let done = listed.namespaces.len() < per_page as usize;
            all.extend(listed.namespaces.into_iter().map(|ns| ns.id));
            match page.checked_add(1) {
                Some(next) if !done => page = next,
                _ => return Ok(all),
            }
        }
    }

    /// Looks for due plans with [`Jobs::tick`] at once (runs missed while the server was down)
    /// and then every `every`, until the process ends. Errors are logged.
    pub fn spawn_scheduler(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let jobs = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match jobs.tick(now_unix()).await {
                    Ok(started) if !started.is_empty() => {
                        tracing::info!(jobs = started.len(), "backup plans started their backups");
                    }
                    Ok(_) => {}
                    Err(err) => tracing::warn!(%err, "looking for due backup plans failed"),
                }
            }
        })
    }
}

/// A plan as written in `txn`.
async fn read_plan(txn: &WriteTxn, id: &str) -> DomainResult<BackupPlan> {
    let row = backup_plan::Entity::find_by_id(id.to_owned()).one(txn.conn()).await?;
    row.map(BackupPlan::from).ok_or_else(|| plan_not_found(id))
}

/// The audit row of a change to a plan (on its namespace, when it has one).
async fn audit_plan(txn: &WriteTxn, actor: &Actor, operation: &str, plan: &BackupPlan) -> DomainResult<()> {
    let details = serde_json::json!({
        "plan_id": plan.id,
        "cron": plan.cron,
        "prefix": plan.prefix,
        "target": plan.target,
        "keep_last": plan.keep_last,
        "keep_days": plan.keep_days,
        "paused": plan.paused,
        "all_namespaces": plan.namespace_id.is_none(),
    });
    match &plan.namespace_id {
        Some(namespace_id) => txn.audit_namespace(actor, operation, namespace_id, details).await,
        None => txn.audit(actor, operation, None, None, details).await,
    }
}

/// The retention of plan `plan_id` after its backup `made` of `namespace_id` completed: the
/// plan's other complete backups of that namespace beyond `keep_last` (newest kept) or older
/// than `keep_days` are deleted, manifest first. Answers the ones deleted. A plan deleted
/// meanwhile prunes nothing; `made` is never pruned.
pub(super) async fn prune_after(
    ctx: &Ctx,
    store: &dyn BackupStore,
    plan_id: &str,
    namespace_id: &str,
    made: &BackupId,
) -> DomainResult<Vec<BackupId>> {
    let Some(plan) = backup_plan::Entity::find_by_id(plan_id.to_owned()).one(ctx.conn()).await? else {
        return Ok(Vec::new());
    };
    if plan.keep_last.is_none() && plan.keep_days.is_none() {
        return Ok(Vec::new());
    }
    let mut backups = backup::plan_backups(store, plan_id, namespace_id).await?;
    backups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    let cutoff = plan.keep_days.map(|days| now_unix().saturating_sub(i64::from(days).saturating_mul(86_400)));
    let keep_last = plan.keep_last.and_then(|n| usize::try_from(n).ok());
    let mut pruned = Vec::new();
    for (rank, (id, snapshot_at)) in backups.into_iter().enumerate() {
        let beyond = keep_last.is_some_and(|n| rank >= n);
        let old = cutoff.is_some_and(|cutoff| snapshot_at < cutoff);
        if id == *made || !(beyond || old) {
            continue;
        }
        backup::delete_backup(store, &id).await?;
        tracing::info!(backup = %id, plan = plan_id, "a backup past its plan's retention was deleted");
        pruned.push(id);
    }
    Ok(pruned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_occurrence_is_strictly_after_the_moment() {
        // 2026-11-30T00:00:00Z
        let midnight = 1_795_996_800;
        assert_eq!(next_occurrence("0 * * * *", midnight).unwrap(), midnight + 3600);
        assert_eq!(next_occurrence("0 * * * *", midnight - 1).unwrap(), midnight);
        assert_eq!(next_occurrence("@daily", midnight).unwrap(), midnight + 86_400);
        assert_eq!(next_occurrence("30 3 * * *", midnight).unwrap(), midnight + 3 * 3600 + 1800);
    }

    /// Odd patterns and moments answer an occurrence or an error naming `cron`, never a panic.
    #[test]
    fn odd_patterns_and_moments_never_panic() {
        let patterns = [
            "L L L L L",
            "0 0 L * *",
            "0 0 LW * *",
            "0 0 15W * *",
            "0 0 * * 5#5",
            "0 0 * * 5L",
            "*/0 * * * *",
            "0-59/60 * * * *",
            "59-0 * * * *",
            "0 0 ? * ?",
            "@reboot",
            "@yearly",
            "@annually",
            "@weekly",
            "0 0 29 2 *",
            "0 0 31 4 *",
            "0 0 * * 7",
            "0 0 * * 8",
            "0 0 0 * *",
            "0 0 * 0 *",
            "0 0 * 13 *",
            "#",
            "@",
            "- - - - -",
            "1,,2 * * * *",
            "0 0 1-31/2 * MON-FRI",
            "0 0 * * SUN#1",
            "\u{663} * * * *",
            "0 0 30 2 *",
            "0 0 * * 0#9",
            "4294967296 * * * *",
            "-1 * * * *",
            "/ * * * *",
            "*/ * * * *",
        ];
        for pattern in patterns {
            for after in [0, 1_795_996_800, -86_400, 95_617_584_000, i64::MAX, i64::MIN] {
                if let Err(err) = next_occurrence(pattern, after) {
                    assert_eq!(err.field(), Some("cron"), "{pattern}: {err}");
                }
            }
        }
    }

    #[test]
    fn bad_cron_expressions_name_the_field() {
        for bad in ["", "* * *", "61 * * * *", "0 0 * * * *", "every day", &"*".repeat(300)] {
            let err = next_occurrence(bad, 0).expect_err(bad);
            assert_eq!(err.field(), Some("cron"), "{bad}: {err}");
        }
    }
}
