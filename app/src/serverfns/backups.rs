//! Backups and restores (issue 17): start a backup job, list the backups of the server's
//! backup target, preview (`dry_run`) or start a restore job; backup plans (schedules, for
//! admins): list, save, pause, run now, delete.

// A server function's arguments are its JSON body's fields.
#![allow(clippy::too_many_arguments)]

#[cfg(feature = "ssr")]
use crate::serverfns::ssr::actor;
use leptos::prelude::*;

use crate::dto::{BackupListDto, BackupPlanDto, BackupPlanListDto, BackupPlanRunDto, JobStartedDto, RestoreDto};
use crate::error::{AppError, Json};

#[cfg(feature = "ssr")]
use crate::serverfns::jobs::{jobs, start};

#[cfg(feature = "ssr")]
fn target(target: Option<String>) -> String {
    target.unwrap_or_else(domain::jobs::default_target)
}

/// Backs up a namespace (`namespace_id`), or several in one job (`namespace_ids`, up to 100;
/// one backup each), or the keys with `prefix` of each, to one of the server's backup targets
/// (`local`, its backup directory, unless `target` names another): gzip-compressed NDJSON in
/// the export's format, then a manifest with the data's SHA-256. Answers the job; its `result`
/// names the backup (`backup_id`), or a batch's backups (`backups`).
#[server(endpoint = "start_backup", input = Json)]
pub async fn start_backup(
    namespace_id: Option<String>,
    namespace_ids: Option<Vec<String>>,
    prefix: Option<String>,
    target: Option<String>,
) -> Result<JobStartedDto, AppError> {
    let mut ids = namespace_id.into_iter().chain(namespace_ids.unwrap_or_default());
    let Some(namespace_id) = ids.next() else {
        return Err(AppError::invalid("namespace_ids", "namespace_ids: choose at least one namespace"));
    };
    let batch = ids.collect();
    start(domain::jobs::JobSpec::Backup { namespace_id, prefix, target: self::target(target), plan_id: None, batch })
        .await
}

/// The backups of the target (`local` unless named), newest first: namespace, prefix, key
/// count, bytes, the moment each stands for and its status (`complete`; `incomplete` ones,
/// without a manifest, are listed to admins only).
#[server(endpoint = "list_backups", input = Json)]
pub async fn list_backups(target: Option<String>) -> Result<BackupListDto, AppError> {
    let backups = jobs()?.list_backups(&actor(), &self::target(target)).await?;
    Ok(BackupListDto { backups: backups.into_iter().map(Into::into).collect() })
}

/// Restores a backup into an existing namespace (`namespace_id`) or a new one
/// (`new_namespace_title`), the whole backup or the keys with `prefix`, in `mode`: `add` (only
/// the keys the namespace lacks), `overwrite` (every key of the backup) or `equal` (also deletes
/// the keys within the prefix that the backup lacks). Refused (400, `backup_id`) when the data
/// does not match its manifest's SHA-256. With `dry_run: true` nothing is written (no namespace
/// is made) and the answer is the preview: counts of keys created, changed, deleted, unchanged,
/// kept, expired and failed, with the first 20 names of each. Otherwise a `restore` job starts;
/// it compares each batch again as it runs.
#[server(endpoint = "restore_backup", input = Json)]
pub async fn restore_backup(
    backup_id: String,
    namespace_id: Option<String>,
    new_namespace_title: Option<String>,
    prefix: Option<String>,
    mode: Option<String>,
    dry_run: Option<bool>,
    target: Option<String>,
) -> Result<RestoreDto, AppError> {
    use domain::jobs::{RestoreInto, RestoreMode};
    let into = match (namespace_id, new_namespace_title) {
        (Some(id), None) => RestoreInto::Namespace(id),
        (None, Some(title)) => RestoreInto::NewNamespace(title),
        (Some(_), Some(_)) => {
            return Err(AppError::invalid(
                "namespace_id",
                "namespace_id: give namespace_id or new_namespace_title, not both",
            ));
        }
        (None, None) => {
            return Err(AppError::invalid(
                "namespace_id",
                "namespace_id: give the namespace to restore into (or new_namespace_title)",
            ));
        }
    };
    let mode = RestoreMode::parse(mode.as_deref().unwrap_or("add"))?;
    let target = self::target(target);
    let jobs = jobs()?;
    if dry_run.unwrap_or(false) {
        let preview = jobs.preview_restore(&actor(), &backup_id, &into, prefix.as_deref(), mode, &target).await?;
        return Ok(RestoreDto::Preview(Box::new(preview.into())));
    }
    Ok(RestoreDto::Started(jobs.start_restore(&actor(), &backup_id, &into, prefix, mode, &target).await?.into()))
}

/// The backup plans (admins only; 403 otherwise), oldest first.
#[server(endpoint = "list_backup_plans", input = Json)]
pub async fn list_backup_plans() -> Result<BackupPlanListDto, AppError> {
    let plans = jobs()?.list_plans(&actor()).await?;
    Ok(BackupPlanListDto { plans: plans.into_iter().map(Into::into).collect() })
}

/// Makes a backup plan (without `plan_id`) or edits one (admins only): `cron` (five fields or
/// `@daily` and the like, UTC), `namespace_id` (absent: every namespace, one backup job each),
/// `prefix`, `target` (`local` unless named), `keep_last` (1 to 10,000) and `keep_days` (1 to
/// 3,650): a completed run deletes the plan's older backups of that namespace beyond either.
/// Each field is checked (400 naming it).
#[server(endpoint = "save_backup_plan", input = Json)]
pub async fn save_backup_plan(
    plan_id: Option<String>,
    namespace_id: Option<String>,
    prefix: Option<String>,
    cron: String,
    target: Option<String>,
    keep_last: Option<i64>,
    keep_days: Option<i64>,
    paused: Option<bool>,
) -> Result<BackupPlanDto, AppError> {
    let input = domain::jobs::PlanInput { namespace_id, prefix, cron, target, keep_last, keep_days, paused };
    Ok(jobs()?.save_plan(&actor(), plan_id.as_deref(), &input).await?.into())
}

/// Pauses a plan, or resumes it (its next run is then the first one from now).
#[server(endpoint = "set_backup_plan_paused", input = Json)]
pub async fn set_backup_plan_paused(plan_id: String, paused: bool) -> Result<BackupPlanDto, AppError> {
    Ok(jobs()?.set_plan_paused(&actor(), &plan_id, paused).await?.into())
}

/// Starts a plan's backup job(s) now; its schedule is unchanged.
#[server(endpoint = "run_backup_plan_now", input = Json)]
pub async fn run_backup_plan_now(plan_id: String) -> Result<BackupPlanRunDto, AppError> {
    let started = jobs()?.run_plan_now(&actor(), &plan_id).await?;
    Ok(BackupPlanRunDto { jobs: started.into_iter().map(Into::into).collect() })
}

/// Deletes a plan; its backups stay (and are no longer pruned). Answers the plan as it was.
#[server(endpoint = "delete_backup_plan", input = Json)]
pub async fn delete_backup_plan(plan_id: String) -> Result<BackupPlanDto, AppError> {
    Ok(jobs()?.delete_plan(&actor(), &plan_id).await?.into())
}

/// The server's backup targets, `local` first: each one's name (what `target` takes) and, for
/// admins, its location (the backup directory, or `s3://bucket/prefix`; empty for others: a path
/// on the server is not theirs to know).
#[server(endpoint = "list_backup_targets", input = Json)]
pub async fn list_backup_targets() -> Result<crate::dto::BackupTargetsDto, AppError> {
    use crate::dto::BackupTargetDto;
    let admin = actor().is_admin();
    let targets = jobs()?
        .backup_targets()
        .into_iter()
        .map(|(name, location)| BackupTargetDto { name, location: if admin { location } else { String::new() } });
    Ok(crate::dto::BackupTargetsDto { targets: targets.collect() })
}
