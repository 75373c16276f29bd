//! Backups and restores (issue 17): start a backup job, list the backups of the server's
//! backup target, preview (`dry_run`) or start a restore job.

#[cfg(feature = "ssr")]
use crate::serverfns::ssr::actor;
use leptos::prelude::*;

use crate::dto::{BackupListDto, JobStartedDto, RestoreDto};
use crate::error::{AppError, Json};

#[cfg(feature = "ssr")]
use crate::serverfns::jobs::{jobs, start};

#[cfg(feature = "ssr")]
fn target(target: Option<String>) -> String {
    target.unwrap_or_else(domain::jobs::default_target)
}

/// Backs up the namespace (or the keys with `prefix`) to the server's backup target (`local`,
/// its backup directory): gzip-compressed NDJSON in the export's format, then a manifest with
/// the data's SHA-256. Answers the job; its `result` names the backup (`backup_id`).
#[server(endpoint = "start_backup", input = Json)]
pub async fn start_backup(
    namespace_id: String,
    prefix: Option<String>,
    target: Option<String>,
) -> Result<JobStartedDto, AppError> {
    start(domain::jobs::JobSpec::Backup { namespace_id, prefix, target: self::target(target) }).await
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
#[allow(clippy::too_many_arguments)]
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

/// The server's backup targets, `local` first: each one's name (what `target` takes) and
/// location (the backup directory, or `s3://bucket/prefix`).
#[server(endpoint = "list_backup_targets", input = Json)]
pub async fn list_backup_targets() -> Result<crate::dto::BackupTargetsDto, AppError> {
    use crate::dto::BackupTargetDto;
    let targets = jobs()?.backup_targets().into_iter().map(|(name, location)| BackupTargetDto { name, location });
    Ok(crate::dto::BackupTargetsDto { targets: targets.collect() })
}
