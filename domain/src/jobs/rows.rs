//! The `jobs`, `job_events` and `job_failures` tables, through their SeaORM entities.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Select,
};

use super::{Job, JobEvent, JobPage, JobQuery, JobSpec, JobStatus, KeyFailure, MAX_FAILURES_KEPT, STALE_AFTER_SECONDS};
use crate::entity::{job, job_event, job_failure};
use crate::error::{DomainError, DomainResult};
use crate::sql::{decode_time_cursor, encode_time_cursor};

/// A job as listed, fetched and watched: every column but the list of keys and the checkpoint,
/// which only the job's runner reads.
#[derive(FromQueryResult)]
struct JobRow {
    id: String,
    job_type: String,
    namespace_id: String,
    target_namespace_id: Option<String>,
    params: String,
    status: String,
    total: i64,
    processed: i64,
    errors: i64,
    skipped: i64,
    current_key: Option<String>,
    error_message: Option<String>,
    result: Option<String>,
    created_by: String,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    updated_at: i64,
}

/// The jobs table, selecting what [`JobRow`] holds.
fn select_jobs() -> Select<job::Entity> {
    use job::Column as C;
    job::Entity::find().select_only().columns([
        C::Id,
        C::JobType,
        C::NamespaceId,
        C::TargetNamespaceId,
        C::Params,
        C::Status,
        C::Total,
        C::Processed,
        C::Errors,
        C::Skipped,
        C::CurrentKey,
        C::ErrorMessage,
        C::Result,
        C::CreatedBy,
        C::CreatedAt,
        C::StartedAt,
        C::FinishedAt,
        C::UpdatedAt,
    ])
}

fn job_from_row(row: JobRow) -> DomainResult<Job> {
    let mut job = Job {
        status: JobStatus::parse(&row.status)?,
        total: row.total as u64,
        processed: row.processed as u64,
        errors: row.errors as u64,
        skipped: row.skipped as u64,
        percentage: 0.0,
        params: summarized(serde_json::from_str(&row.params).unwrap_or_default()),
        result: row.result.and_then(|r| serde_json::from_str(&r).ok()),
        failures: Vec::new(),
        id: row.id,
        job_type: row.job_type,
        namespace_id: row.namespace_id,
        target_namespace_id: row.target_namespace_id,
        current_key: row.current_key,
        error_message: row.error_message,
        created_by: row.created_by,
        created_at: row.created_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
        updated_at: row.updated_at,
    };
    job.compute_percentage();
    Ok(job)
}

/// Jobs still waiting or running.
fn unfinished() -> Condition {
    Condition::all().add(job::Column::Status.is_in(["queued", "running"]))
}

/// A job's parameters as shown: a list of keys is replaced by its length (`key_count`), so that
/// listing, fetching and watching a job never carries thousands of names. Rows written before
/// lists had a column of their own still hold theirs in `params`; they are shown the same way.
fn summarized(mut params: serde_json::Value) -> serde_json::Value {
    if let Some(selection) = params.get_mut("selection").and_then(serde_json::Value::as_object_mut)
        && let Some(keys) = selection.remove("keys")
    {
        let count = keys.as_array().map_or(0, Vec::len);
        selection.insert("key_count".into(), count.into());
    }
    params
}

/// A spec as stored: its parameters without the list of keys (with the list's length instead),
/// and the list apart, as JSON.
fn split_spec(spec: &JobSpec) -> DomainResult<(String, Option<String>)> {
    let mut spec = spec.clone();
    let keys = spec.selection_mut().and_then(|selection| selection.keys.take());
    let mut params = serde_json::to_value(&spec).map_err(DomainError::internal)?;
    let list = match keys {
        Some(keys) => {
            if let Some(selection) = params.get_mut("selection").and_then(serde_json::Value::as_object_mut) {
                selection.insert("key_count".into(), keys.len().into());
            }
            Some(serde_json::to_string(&keys).map_err(DomainError::internal)?)
        }
        None => None,
    };
    Ok((params.to_string(), list))
}

/// The whole spec of a job, its list of keys included: what the job's runner needs (and only it).
pub async fn spec(conn: &DatabaseConnection, id: &str) -> DomainResult<JobSpec> {
    let row: Option<(String, Option<String>)> = job::Entity::find_by_id(id.to_owned())
        .select_only()
        .columns([job::Column::Params, job::Column::KeyList])
        .into_tuple()
        .one(conn)
        .await?;
    let (params, list) = row.ok_or_else(|| not_found(id))?;
    let mut spec: JobSpec = serde_json::from_str(&params).map_err(DomainError::internal)?;
    if let Some(list) = list {
        let keys: Vec<String> = serde_json::from_str(&list).map_err(DomainError::internal)?;
        if let Some(selection) = spec.selection_mut() {
            selection.keys = Some(keys);
        }
    }
    Ok(spec)
}

pub(crate) fn not_found(job_id: &str) -> DomainError {
    DomainError::not_found("job_id", format!("job_id: no job has the id {job_id:?}"))
}

pub async fn insert(
    conn: &impl ConnectionTrait,
    id: &str,
    spec: &JobSpec,
    created_by: &str,
    instance_id: &str,
    now: i64,
) -> DomainResult<Job> {
    let (params, key_list) = split_spec(spec)?;
    let row = job::ActiveModel {
        id: Set(id.to_owned()),
        job_type: Set(spec.job_type().to_owned()),
        namespace_id: Set(spec.namespace_id().to_owned()),
        target_namespace_id: Set(spec.target_namespace_id().map(str::to_owned)),
        params: Set(params),
        key_list: Set(key_list),
        status: Set(JobStatus::Queued.as_str().to_owned()),
        created_by: Set(created_by.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        instance_id: Set(Some(instance_id.to_owned())),
        heartbeat_at: Set(Some(now)),
        ..Default::default()
    };
    job::Entity::insert(row).exec_without_returning(conn).await?;
    get(conn, id).await
}

pub async fn get(conn: &impl ConnectionTrait, id: &str) -> DomainResult<Job> {
    let row = select_jobs().filter(job::Column::Id.eq(id)).into_model::<JobRow>().one(conn).await?;
    job_from_row(row.ok_or_else(|| not_found(id))?)
}

pub async fn event(
    conn: &impl ConnectionTrait,
    job_id: &str,
    event: &str,
    details: serde_json::Value,
    now: i64,
) -> DomainResult<()> {
    let row = job_event::ActiveModel {
        job_id: Set(job_id.to_owned()),
        event: Set(event.to_owned()),
        details: Set(details.to_string()),
        created_at: Set(now),
        ..Default::default()
    };
    job_event::Entity::insert(row).exec_without_returning(conn).await?;
    Ok(())
}

pub async fn events(conn: &DatabaseConnection, job_id: &str) -> DomainResult<Vec<JobEvent>> {
    let rows = job_event::Entity::find()
        .filter(job_event::Column::JobId.eq(job_id))
        .order_by_asc(job_event::Column::Id)
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| JobEvent {
            id: row.id,
            job_id: row.job_id,
            event: row.event,
            details: serde_json::from_str(&row.details).unwrap_or_default(),
            created_at: row.created_at,
        })
        .collect())
}

pub async fn failures(conn: &DatabaseConnection, job_id: &str) -> DomainResult<Vec<KeyFailure>> {
    let rows: Vec<(String, String)> = job_failure::Entity::find()
        .select_only()
        .columns([job_failure::Column::KeyName, job_failure::Column::Reason])
        .filter(job_failure::Column::JobId.eq(job_id))
        .order_by_asc(job_failure::Column::Id)
        .limit(MAX_FAILURES_KEPT)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|(key, reason)| KeyFailure { key, reason }).collect())
}

pub use crate::write::add_job_failures as add_failures;

/// The progress columns of `job` (and its checkpoint, when given) in an update.
fn progress(job: &Job, checkpoint: Option<&str>) -> job::ActiveModel {
    job::Progress {
        total: job.total,
        processed: job.processed,
        errors: job.errors,
        skipped: job.skipped,
        current_key: job.current_key.clone(),
        at: job.updated_at,
        checkpoint: checkpoint.map(str::to_owned),
    }
    .into()
}

/// Sets `row`'s columns on the job `id` (nothing when the job is gone).
async fn update(conn: &impl ConnectionTrait, id: &str, row: job::ActiveModel) -> DomainResult<()> {
    job::Entity::update_many().set(row).filter(job::Column::Id.eq(id)).exec(conn).await?;
    Ok(())
}

pub async fn save_progress(conn: &DatabaseConnection, job: &Job, checkpoint: Option<&str>) -> DomainResult<()> {
    update(conn, &job.id, progress(job, checkpoint)).await
}

pub async fn save_final(conn: &impl ConnectionTrait, job: &Job, checkpoint: Option<&str>) -> DomainResult<()> {
    let mut row = progress(job, checkpoint);
    row.status = Set(job.status.as_str().to_owned());
    row.finished_at = Set(job.finished_at);
    row.error_message = Set(job.error_message.clone());
    row.result = Set(job.result.as_ref().map(|r| r.to_string()));
    update(conn, &job.id, row).await
}

/// Sets `row`'s columns on the job `id` while its status is `status`; true when it was.
async fn update_if(
    conn: &impl ConnectionTrait,
    id: &str,
    status: &[&str],
    row: job::ActiveModel,
) -> DomainResult<bool> {
    let result = job::Entity::update_many()
        .set(row)
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::Status.is_in(status.iter().copied()))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn mark_running(conn: &DatabaseConnection, id: &str, instance_id: &str, now: i64) -> DomainResult<bool> {
    let row = job::ActiveModel {
        status: Set(JobStatus::Running.as_str().to_owned()),
        started_at: Set(Some(now)),
        updated_at: Set(now),
        heartbeat_at: Set(Some(now)),
        instance_id: Set(Some(instance_id.to_owned())),
        ..Default::default()
    };
    update_if(conn, id, &["queued"], row).await
}

/// Puts an interrupted job back in the queue; false when it was not interrupted any more.
pub async fn requeue(conn: &impl ConnectionTrait, id: &str, instance_id: &str, now: i64) -> DomainResult<bool> {
    let row = job::ActiveModel {
        status: Set(JobStatus::Queued.as_str().to_owned()),
        finished_at: Set(None),
        error_message: Set(None),
        cancel_requested: Set(false),
        updated_at: Set(now),
        heartbeat_at: Set(Some(now)),
        instance_id: Set(Some(instance_id.to_owned())),
        ..Default::default()
    };
    update_if(conn, id, &["interrupted"], row).await
}

pub async fn request_cancel(conn: &DatabaseConnection, id: &str) -> DomainResult<()> {
    job::Entity::update_many()
        .col_expr(job::Column::CancelRequested, Expr::value(true))
        .filter(job::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends a job still waiting in the queue as cancelled; false when it had started or ended.
pub async fn cancel_queued(conn: &impl ConnectionTrait, id: &str, now: i64) -> DomainResult<bool> {
    let row = job::ActiveModel {
        status: Set(JobStatus::Cancelled.as_str().to_owned()),
        finished_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    };
    update_if(conn, id, &["queued"], row).await
}

/// The jobs among `ids` whose cancellation was asked for.
pub async fn cancel_requested(conn: &DatabaseConnection, ids: &[String]) -> DomainResult<Vec<String>> {
    Ok(job::Entity::find()
        .select_only()
        .column(job::Column::Id)
        .filter(job::Column::CancelRequested.eq(true))
        .filter(job::Column::Id.is_in(ids.iter().map(String::as_str)))
        .into_tuple()
        .all(conn)
        .await?)
}

pub async fn heartbeat(conn: &DatabaseConnection, ids: &[String], now: i64) -> DomainResult<()> {
    job::Entity::update_many()
        .col_expr(job::Column::HeartbeatAt, Expr::value(now))
        .filter(job::Column::Id.is_in(ids.iter().map(String::as_str)))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn checkpoint(conn: &DatabaseConnection, id: &str) -> DomainResult<Option<String>> {
    let row: Option<Option<String>> = job::Entity::find_by_id(id.to_owned())
        .select_only()
        .column(job::Column::Checkpoint)
        .into_tuple()
        .one(conn)
        .await?;
    row.ok_or_else(|| not_found(id))
}

/// Jobs that can no longer be making progress: queued or running without a recent heartbeat
/// from the instance that owns them.
pub async fn find_orphans(conn: &DatabaseConnection, now: i64) -> DomainResult<Vec<String>> {
    let stale = Condition::any()
        .add(job::Column::HeartbeatAt.is_null())
        .add(job::Column::HeartbeatAt.lt(now - STALE_AFTER_SECONDS));
    Ok(job::Entity::find()
        .select_only()
        .column(job::Column::Id)
        .filter(unfinished())
        .filter(stale)
        .into_tuple()
        .all(conn)
        .await?)
}

/// Marks a job interrupted (with its event) unless it has moved on; true when it did.
/// Why a job left running by a process that died is `interrupted`.
pub const CRASH_REASON: &str = "the server stopped while the job was running; resume it to continue";

/// Marks a queued or running job `interrupted` with `reason`; false when it was neither.
pub async fn interrupt(conn: &DatabaseConnection, id: &str, now: i64, reason: &str) -> DomainResult<bool> {
    let row = job::ActiveModel {
        status: Set(JobStatus::Interrupted.as_str().to_owned()),
        error_message: Set(Some(reason.to_owned())),
        finished_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    };
    if !update_if(conn, id, &["queued", "running"], row).await? {
        return Ok(false);
    }
    event(conn, id, "interrupted", serde_json::json!({ "reason": reason }), now).await?;
    Ok(true)
}

/// This instance's unfinished jobs, at start-up (none of them can be running yet).
pub async fn own_unfinished(conn: &DatabaseConnection, instance_id: &str) -> DomainResult<Vec<String>> {
    Ok(job::Entity::find()
        .select_only()
        .column(job::Column::Id)
        .filter(unfinished())
        .filter(job::Column::InstanceId.eq(instance_id))
        .into_tuple()
        .all(conn)
        .await?)
}

pub async fn list(conn: &DatabaseConnection, query: &JobQuery) -> DomainResult<JobPage> {
    use job::Column as C;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(DomainError::invalid("limit", format!("limit: {limit} is not between 1 and 200")));
    }
    let newest = match query.sort.as_deref().unwrap_or("newest") {
        "newest" => true,
        "oldest" => false,
        other => {
            return Err(DomainError::invalid("sort", format!("sort: {other:?} is not one of newest, oldest")));
        }
    };
    let mut select = select_jobs();
    if let Some(status) = query.status.as_deref().filter(|s| !s.is_empty()) {
        select = select.filter(C::Status.eq(JobStatus::parse(status)?.as_str()));
    }
    if let Some(job_type) = query.job_type.as_deref().filter(|s| !s.is_empty()) {
        if !super::JOB_TYPES.contains(&job_type) {
            return Err(DomainError::invalid(
                "type",
                format!("type: {job_type:?} is not one of {}", super::JOB_TYPES.join(", ")),
            ));
        }
        select = select.filter(C::JobType.eq(job_type));
    }
    if let Some(ns) = query.namespace_id.as_deref().filter(|s| !s.is_empty()) {
        crate::limits::check_namespace_id(ns)?;
        select = select.filter(Condition::any().add(C::NamespaceId.eq(ns)).add(C::TargetNamespaceId.eq(ns)));
    }
    if let Some(from) = query.from {
        select = select.filter(C::CreatedAt.gte(from));
    }
    if let Some(to) = query.to {
        select = select.filter(C::CreatedAt.lte(to));
    }
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(DomainError::invalid("from", "from: must not be after to"));
    }
    if let Some(user) = query.created_by.as_deref().filter(|s| !s.is_empty()) {
        select = select.filter(C::CreatedBy.eq(user));
    }
    if !query.exclude_namespace_ids.is_empty() {
        let hidden = || query.exclude_namespace_ids.iter().map(String::as_str);
        select = select
            .filter(C::NamespaceId.is_not_in(hidden()))
            .filter(Condition::any().add(C::TargetNamespaceId.is_null()).add(C::TargetNamespaceId.is_not_in(hidden())));
    }
    if let Some(min) = query.min_errors {
        select = select.filter(C::Errors.gte(crate::limits::to_i64("min_errors", min)?));
    }
    if let Some(cursor) = query.cursor.as_deref().filter(|c| !c.is_empty()) {
        let (at, id) = decode_time_cursor(cursor)?;
        let beyond = if newest {
            Condition::any().add(C::CreatedAt.lt(at)).add(Condition::all().add(C::CreatedAt.eq(at)).add(C::Id.lt(id)))
        } else {
            Condition::any().add(C::CreatedAt.gt(at)).add(Condition::all().add(C::CreatedAt.eq(at)).add(C::Id.gt(id)))
        };
        select = select.filter(beyond);
    }
    let order = if newest { sea_orm::Order::Desc } else { sea_orm::Order::Asc };
    let rows = select
        .order_by(C::CreatedAt, order.clone())
        .order_by(C::Id, order)
        .limit(u64::from(limit) + 1)
        .into_model::<JobRow>()
        .all(conn)
        .await?;
    let mut jobs = rows.into_iter().map(job_from_row).collect::<DomainResult<Vec<_>>>()?;
    let more = jobs.len() > limit as usize;
    jobs.truncate(limit as usize);
    let cursor = if more { jobs.last().map(|j| encode_time_cursor(j.created_at, &j.id)) } else { None };
    Ok(JobPage { jobs, cursor })
}
