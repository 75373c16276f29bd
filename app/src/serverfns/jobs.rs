//! Background jobs from the console and scripts: each starter returns at once with
//! `{job_id, status, ws_url}`; progress comes over the WebSocket or `GET /api/jobs/{id}`.

// One argument per JSON field of the script API: `list_jobs` has ten filters.
#![allow(clippy::too_many_arguments)]

use crate::error::Json;
use leptos::prelude::*;

use crate::dto::{BulkDto, JobDto, JobEventDto, JobPageDto, JobStartedDto, RewindDto, UndoDto};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::serverfns::ssr::actor;

#[cfg(feature = "ssr")]
pub(super) fn jobs() -> Result<domain::jobs::Jobs, AppError> {
    use_context::<crate::state::AppState>().map(|state| state.jobs).ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::internal()
    })
}

#[cfg(feature = "ssr")]
fn selection(keys: Option<Vec<String>>, prefix: Option<String>) -> domain::jobs::Selection {
    domain::jobs::Selection { keys, prefix }
}

#[cfg(feature = "ssr")]
pub(super) async fn start(spec: domain::jobs::JobSpec) -> Result<JobStartedDto, AppError> {
    Ok(jobs()?.start(&actor(), spec).await?.into())
}

/// A bulk job started, or with `dry_run` its preview (nothing written).
#[cfg(feature = "ssr")]
async fn start_or_preview(spec: domain::jobs::JobSpec, dry_run: Option<bool>) -> Result<BulkDto, AppError> {
    if dry_run.unwrap_or(false) {
        return Ok(BulkDto::Preview(jobs()?.preview_bulk(&actor(), &spec).await?.into()));
    }
    Ok(BulkDto::Started(start(spec).await?))
}

/// Deletes the listed keys, or every key with the prefix. With `dry_run: true` nothing is
/// written and the answer is the preview (as for every bulk job): counts of keys created,
/// changed, deleted and skipped, the first 20 names of each, value comparisons of changed keys.
#[server(endpoint = "bulk_delete", input = Json)]
pub async fn bulk_delete(
    namespace_id: String,
    keys: Option<Vec<String>>,
    prefix: Option<String>,
    dry_run: Option<bool>,
) -> Result<BulkDto, AppError> {
    start_or_preview(domain::jobs::JobSpec::BulkDelete { namespace_id, selection: selection(keys, prefix) }, dry_run)
        .await
}

/// Copies keys with their value, metadata, expiration, tags and custom metadata.
#[server(endpoint = "bulk_copy", input = Json)]
pub async fn bulk_copy(
    namespace_id: String,
    keys: Option<Vec<String>>,
    prefix: Option<String>,
    target_namespace_id: String,
    overwrite: Option<bool>,
    dry_run: Option<bool>,
) -> Result<BulkDto, AppError> {
    let selection = selection(keys, prefix);
    let overwrite = overwrite.unwrap_or(false);
    start_or_preview(
        domain::jobs::JobSpec::BulkCopy { namespace_id, selection, target_namespace_id, overwrite },
        dry_run,
    )
    .await
}

/// Copies keys, then deletes the source keys that were copied.
#[server(endpoint = "bulk_move", input = Json)]
pub async fn bulk_move(
    namespace_id: String,
    keys: Option<Vec<String>>,
    prefix: Option<String>,
    target_namespace_id: String,
    overwrite: Option<bool>,
    dry_run: Option<bool>,
) -> Result<BulkDto, AppError> {
    let selection = selection(keys, prefix);
    let overwrite = overwrite.unwrap_or(false);
    start_or_preview(
        domain::jobs::JobSpec::BulkMove { namespace_id, selection, target_namespace_id, overwrite },
        dry_run,
    )
    .await
}

/// Sets a TTL (`expiration_ttl`) or an absolute `expiration`, or with `remove: true` removes
/// the expiration; values and metadata are never rewritten.
#[server(endpoint = "bulk_ttl", input = Json)]
pub async fn bulk_ttl(
    namespace_id: String,
    keys: Option<Vec<String>>,
    prefix: Option<String>,
    expiration_ttl: Option<i64>,
    expiration: Option<i64>,
    remove: Option<bool>,
    dry_run: Option<bool>,
) -> Result<BulkDto, AppError> {
    use domain::jobs::TtlChange;
    let change = match (expiration_ttl, expiration, remove.unwrap_or(false)) {
        (Some(ttl), None, false) => TtlChange::Ttl(ttl),
        (None, Some(at), false) => TtlChange::At(at),
        (None, None, true) => TtlChange::Remove,
        _ => {
            return Err(AppError::invalid(
                "expiration_ttl",
                "expiration_ttl: give exactly one of expiration_ttl, expiration or remove: true",
            ));
        }
    };
    start_or_preview(
        domain::jobs::JobSpec::BulkTtl { namespace_id, selection: selection(keys, prefix), change },
        dry_run,
    )
    .await
}

/// Rewinds the namespace (or the keys with `prefix`) to the moment `at` (unix seconds) from the
/// versions kept: keys changed since get their value, metadata and expiration back, keys deleted
/// since come back, keys created since are deleted. With `dry_run: true` nothing is written and
/// the answer is the preview (counts of created, changed, deleted, unchanged and incomplete keys,
/// the first 20 names of each); otherwise a job starts. The job plans each batch again from the
/// versions as they are then, so keys written after the preview are still brought back to `at`.
#[server(endpoint = "rewind", input = Json)]
pub async fn rewind(
    namespace_id: String,
    prefix: Option<String>,
    at: i64,
    dry_run: Option<bool>,
) -> Result<RewindDto, AppError> {
    if dry_run.unwrap_or(false) {
        let preview = jobs()?.preview_rewind(&actor(), &namespace_id, prefix.as_deref(), at).await?;
        return Ok(RewindDto::Preview(preview.into()));
    }
    Ok(RewindDto::Started(start(domain::jobs::JobSpec::Rewind { namespace_id, prefix, at }).await?))
}

/// Undoes a finished job (bulk delete, copy, move or TTL, import, rewind, restore, or an undo):
/// every key it wrote goes back to its state before it, from the versions kept, except keys
/// changed again since, which are left alone and named. With `dry_run: true` nothing is written
/// and the answer is the preview (counts, the first 20 names of each class, the keys changed
/// since); otherwise a job starts. Its owner or an admin may undo it.
#[server(endpoint = "undo_job", input = Json)]
pub async fn undo_job(job_id: String, dry_run: Option<bool>) -> Result<UndoDto, AppError> {
    let jobs = jobs()?;
    if dry_run.unwrap_or(false) {
        return Ok(UndoDto::Preview(jobs.preview_undo(&actor(), &job_id).await?.into()));
    }
    Ok(UndoDto::Started(jobs.start_undo(&actor(), &job_id).await?.into()))
}

/// Adds, removes or replaces tags (`operation`: add, remove or replace).
#[server(endpoint = "bulk_tag", input = Json)]
pub async fn bulk_tag(
    namespace_id: String,
    keys: Option<Vec<String>>,
    prefix: Option<String>,
    tags: Vec<String>,
    operation: String,
    dry_run: Option<bool>,
) -> Result<BulkDto, AppError> {
    use domain::catalog::TagOperation;
    let operation = match operation.as_str() {
        "add" => TagOperation::Add,
        "remove" => TagOperation::Remove,
        "replace" => TagOperation::Replace,
        other => {
            return Err(AppError::invalid(
                "operation",
                format!("operation: {other:?} is not one of add, remove, replace"),
            ));
        }
    };
    let spec = domain::jobs::JobSpec::BulkTag { namespace_id, selection: selection(keys, prefix), tags, operation };
    start_or_preview(spec, dry_run).await
}

/// Exports a namespace (or the keys with a prefix) to a file: `format` json or ndjson.
#[server(endpoint = "start_export", input = Json)]
pub async fn start_export(
    namespace_id: String,
    format: Option<String>,
    prefix: Option<String>,
) -> Result<JobStartedDto, AppError> {
    use domain::jobs::ExportFormat;
    let format = match format.as_deref().unwrap_or("ndjson") {
        "json" => ExportFormat::Json,
        "ndjson" => ExportFormat::Ndjson,
        other => {
            return Err(AppError::invalid("format", format!("format: {other:?} is not one of json, ndjson")));
        }
    };
    start(domain::jobs::JobSpec::Export { namespace_id, format, prefix }).await
}

/// The job history, newest first (`sort: "oldest"` for the other way), filtered and paged.
#[server(endpoint = "list_jobs", input = Json)]
pub async fn list_jobs(
    status: Option<String>,
    r#type: Option<String>,
    namespace_id: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    created_by: Option<String>,
    min_errors: Option<u64>,
    sort: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
) -> Result<JobPageDto, AppError> {
    let query = domain::jobs::JobQuery {
        status,
        job_type: r#type,
        namespace_id,
        from,
        to,
        created_by,
        min_errors,
        sort,
        limit,
        cursor,
        ..Default::default()
    };
    Ok(jobs()?.list(&actor(), &query).await?.into())
}

/// One job, with the keys it failed on and why.
#[server(endpoint = "get_job", input = Json)]
pub async fn get_job(job_id: String) -> Result<JobDto, AppError> {
    Ok(jobs()?.visible(&actor(), &job_id).await?.into())
}

/// Asks a job to stop; it stops between batches, keeping what it wrote.
#[server(endpoint = "cancel_job", input = Json)]
pub async fn cancel_job(job_id: String) -> Result<JobDto, AppError> {
    Ok(jobs()?.cancel(&actor(), &job_id).await?.into())
}

/// Resumes an interrupted job after its last committed batch.
#[server(endpoint = "resume_job", input = Json)]
pub async fn resume_job(job_id: String) -> Result<JobStartedDto, AppError> {
    Ok(jobs()?.resume(&actor(), &job_id).await?.into())
}

/// A job's lifecycle events, oldest first.
#[server(endpoint = "job_events", input = Json)]
pub async fn job_events(job_id: String) -> Result<Vec<JobEventDto>, AppError> {
    let jobs = jobs()?;
    jobs.visible(&actor(), &job_id).await?;
    Ok(jobs.events(&job_id).await?.into_iter().map(Into::into).collect())
}
