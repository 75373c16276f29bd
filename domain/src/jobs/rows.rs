//! The `jobs`, `job_events` and `job_failures` tables.

use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult};

use super::{Job, JobEvent, JobPage, JobQuery, JobSpec, JobStatus, KeyFailure, MAX_FAILURES_KEPT, STALE_AFTER_SECONDS};
use crate::error::{DomainError, DomainResult};
use crate::sql::{Sql, get as col};
use crate::sql::{decode_time_cursor, encode_time_cursor};

const COLUMNS: &str = "id, job_type, namespace_id, target_namespace_id, params, status, total, processed, errors, \
     skipped, current_key, error_message, result, created_by, created_at, started_at, finished_at, updated_at";

fn job_from_row(row: &QueryResult) -> DomainResult<Job> {
    let params: String = col(row, "params")?;
    let result: Option<String> = col(row, "result")?;
    let mut job = Job {
        id: col(row, "id")?,
        job_type: col(row, "job_type")?,
        namespace_id: col(row, "namespace_id")?,
        target_namespace_id: col(row, "target_namespace_id")?,
        status: JobStatus::parse(&col::<String>(row, "status")?)?,
        total: col::<i64>(row, "total")? as u64,
        processed: col::<i64>(row, "processed")? as u64,
        errors: col::<i64>(row, "errors")? as u64,
        skipped: col::<i64>(row, "skipped")? as u64,
        current_key: col(row, "current_key")?,
        percentage: 0.0,
        error_message: col(row, "error_message")?,
        created_by: col(row, "created_by")?,
        created_at: col(row, "created_at")?,
        started_at: col(row, "started_at")?,
        finished_at: col(row, "finished_at")?,
        updated_at: col(row, "updated_at")?,
        params: summarized(serde_json::from_str(&params).unwrap_or_default()),
        result: result.and_then(|r| serde_json::from_str(&r).ok()),
        failures: Vec::new(),
    };
    job.compute_percentage();
    Ok(job)
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
    let mut sql = Sql::new(conn.get_database_backend(), "SELECT params, key_list FROM jobs WHERE id = ");
    sql.bind(id);
    let row = conn.query_one_raw(sql.statement()).await?.ok_or_else(|| not_found(id))?;
    let params: String = col(&row, "params")?;
    let list: Option<String> = col(&row, "key_list")?;
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
    let mut sql = Sql::new(
        conn.get_database_backend(),
        "INSERT INTO jobs (id, job_type, namespace_id, target_namespace_id, params, key_list, status, created_by, \
         created_at, updated_at, instance_id, heartbeat_at) VALUES (",
    );
    sql.bind(id).push(", ").bind(spec.job_type()).push(", ").bind(spec.namespace_id()).push(", ");
    sql.bind(spec.target_namespace_id().map(str::to_owned)).push(", ").bind(params).push(", ");
    sql.bind(key_list).push(", 'queued', ");
    sql.bind(created_by).push(", ").bind(now).push(", ").bind(now).push(", ").bind(instance_id).push(", ").bind(now);
    sql.push(")");
    conn.execute_raw(sql.statement()).await?;
    get_job(conn, id).await
}

async fn get_job(conn: &impl ConnectionTrait, id: &str) -> DomainResult<Job> {
    let mut sql = Sql::new(conn.get_database_backend(), &format!("SELECT {COLUMNS} FROM jobs WHERE id = "));
    sql.bind(id);
    match conn.query_one_raw(sql.statement()).await? {
        Some(row) => job_from_row(&row),
        None => Err(not_found(id)),
    }
}

pub async fn get(conn: &impl ConnectionTrait, id: &str) -> DomainResult<Job> {
    get_job(conn, id).await
}

pub async fn event(
    conn: &impl ConnectionTrait,
    job_id: &str,
    event: &str,
    details: serde_json::Value,
    now: i64,
) -> DomainResult<()> {
    let mut sql =
        Sql::new(conn.get_database_backend(), "INSERT INTO job_events (job_id, event, details, created_at) VALUES (");
    sql.bind(job_id).push(", ").bind(event).push(", ").bind(details.to_string()).push(", ").bind(now).push(")");
    conn.execute_raw(sql.statement()).await?;
    Ok(())
}

pub async fn events(conn: &DatabaseConnection, job_id: &str) -> DomainResult<Vec<JobEvent>> {
    let mut sql = Sql::new(
        conn.get_database_backend(),
        "SELECT id, job_id, event, details, created_at FROM job_events WHERE job_id = ",
    );
    sql.bind(job_id).push(" ORDER BY id");
    conn.query_all_raw(sql.statement())
        .await?
        .iter()
        .map(|row| {
            Ok(JobEvent {
                id: col(row, "id")?,
                job_id: col(row, "job_id")?,
                event: col(row, "event")?,
                details: serde_json::from_str(&col::<String>(row, "details")?).unwrap_or_default(),
                created_at: col(row, "created_at")?,
            })
        })
        .collect()
}

pub async fn failures(conn: &DatabaseConnection, job_id: &str) -> DomainResult<Vec<KeyFailure>> {
    let mut sql = Sql::new(conn.get_database_backend(), "SELECT key_name, reason FROM job_failures WHERE job_id = ");
    sql.bind(job_id).push(" ORDER BY id LIMIT ").push(&MAX_FAILURES_KEPT.to_string());
    conn.query_all_raw(sql.statement())
        .await?
        .iter()
        .map(|row| Ok(KeyFailure { key: col(row, "key_name")?, reason: col(row, "reason")? }))
        .collect()
}

pub use crate::write::add_job_failures as add_failures;

fn push_progress(sql: &mut Sql, job: &Job, checkpoint: Option<&str>) {
    sql.push("total = ").bind(job.total as i64).push(", processed = ").bind(job.processed as i64);
    sql.push(", errors = ").bind(job.errors as i64).push(", skipped = ").bind(job.skipped as i64);
    sql.push(", current_key = ").bind(job.current_key.clone()).push(", updated_at = ").bind(job.updated_at);
    sql.push(", heartbeat_at = ").bind(job.updated_at);
    if let Some(checkpoint) = checkpoint {
        sql.push(", checkpoint = ").bind(checkpoint);
    }
}

pub async fn save_progress(conn: &DatabaseConnection, job: &Job, checkpoint: Option<&str>) -> DomainResult<()> {
    let mut sql = Sql::new(conn.get_database_backend(), "UPDATE jobs SET ");
    push_progress(&mut sql, job, checkpoint);
    sql.push(" WHERE id = ").bind(job.id.as_str());
    conn.execute_raw(sql.statement()).await?;
    Ok(())
}

pub async fn save_final(conn: &impl ConnectionTrait, job: &Job, checkpoint: Option<&str>) -> DomainResult<()> {
    let mut sql = Sql::new(conn.get_database_backend(), "UPDATE jobs SET ");
    push_progress(&mut sql, job, checkpoint);
    sql.push(", status = ").bind(job.status.as_str()).push(", finished_at = ").bind(job.finished_at);
    sql.push(", error_message = ").bind(job.error_message.clone());
    sql.push(", result = ").bind(job.result.as_ref().map(|r| r.to_string()));
    sql.push(" WHERE id = ").bind(job.id.as_str());
    conn.execute_raw(sql.statement()).await?;
    Ok(())
}

pub async fn mark_running(conn: &DatabaseConnection, id: &str, instance_id: &str, now: i64) -> DomainResult<bool> {
    let mut sql = Sql::new(conn.get_database_backend(), "UPDATE jobs SET status = 'running', started_at = ");
    sql.bind(now).push(", updated_at = ").bind(now).push(", heartbeat_at = ").bind(now);
    sql.push(", instance_id = ").bind(instance_id).push(" WHERE id = ").bind(id).push(" AND status = 'queued'");
    Ok(conn.execute_raw(sql.statement()).await?.rows_affected() == 1)
}

/// Puts an interrupted job back in the queue; false when it was not interrupted any more.
pub async fn requeue(conn: &impl ConnectionTrait, id: &str, instance_id: &str, now: i64) -> DomainResult<bool> {
    let mut sql = Sql::new(conn.get_database_backend(), "UPDATE jobs SET status = 'queued', finished_at = NULL, ");
    sql.push("error_message = NULL, cancel_requested = ").bind(false).push(", updated_at = ").bind(now);
    sql.push(", heartbeat_at = ").bind(now).push(", instance_id = ").bind(instance_id);
    sql.push(" WHERE id = ").bind(id).push(" AND status = 'interrupted'");
    Ok(conn.execute_raw(sql.statement()).await?.rows_affected() == 1)
}

pub async fn request_cancel(conn: &DatabaseConnection, id: &str) -> DomainResult<()> {
    let mut sql = Sql::new(conn.get_database_backend(), "UPDATE jobs SET cancel_requested = ");
    sql.bind(true).push(" WHERE id = ").bind(id);
    conn.execute_raw(sql.statement()).await?;
    Ok(())
}

/// Ends a job still waiting in the queue as cancelled; false when it had started or ended.
pub async fn cancel_queued(conn: &impl ConnectionTrait, id: &str, now: i64) -> DomainResult<bool> {
    let mut sql = Sql::new(conn.get_database_backend(), "UPDATE jobs SET status = 'cancelled', finished_at = ");
    sql.bind(now).push(", updated_at = ").bind(now).push(" WHERE id = ").bind(id).push(" AND status = 'queued'");
    Ok(conn.execute_raw(sql.statement()).await?.rows_affected() == 1)
}

/// The jobs among `ids` whose cancellation was asked for.
pub async fn cancel_requested(conn: &DatabaseConnection, ids: &[String]) -> DomainResult<Vec<String>> {
    let mut sql = Sql::new(conn.get_database_backend(), "SELECT id FROM jobs WHERE cancel_requested = ");
    sql.bind(true).push(" AND id IN ").bind_list(ids);
    conn.query_all_raw(sql.statement()).await?.iter().map(|row| col(row, "id")).collect()
}

pub async fn heartbeat(conn: &DatabaseConnection, ids: &[String], now: i64) -> DomainResult<()> {
    let mut sql = Sql::new(conn.get_database_backend(), "UPDATE jobs SET heartbeat_at = ");
    sql.bind(now).push(" WHERE id IN ").bind_list(ids);
    conn.execute_raw(sql.statement()).await?;
    Ok(())
}

pub async fn checkpoint(conn: &DatabaseConnection, id: &str) -> DomainResult<Option<String>> {
    let mut sql = Sql::new(conn.get_database_backend(), "SELECT checkpoint FROM jobs WHERE id = ");
    sql.bind(id);
    match conn.query_one_raw(sql.statement()).await? {
        Some(row) => col(&row, "checkpoint"),
        None => Err(not_found(id)),
    }
}

/// Jobs that can no longer be making progress: queued or running without a recent heartbeat
/// from the instance that owns them.
pub async fn find_orphans(conn: &DatabaseConnection, now: i64) -> DomainResult<Vec<String>> {
    let mut sql = Sql::new(
        conn.get_database_backend(),
        "SELECT id FROM jobs WHERE status IN ('queued', 'running') AND (heartbeat_at IS NULL OR heartbeat_at < ",
    );
    sql.bind(now - STALE_AFTER_SECONDS).push(")");
    conn.query_all_raw(sql.statement()).await?.iter().map(|r| col(r, "id")).collect()
}

/// Marks a job interrupted (with its event) unless it has moved on; true when it did.
pub async fn interrupt(conn: &DatabaseConnection, id: &str, now: i64) -> DomainResult<bool> {
    let mut sql = Sql::new(
        conn.get_database_backend(),
        "UPDATE jobs SET status = 'interrupted', error_message = 'the server stopped while the job was running; resume it to continue', finished_at = ",
    );
    sql.bind(now).push(", updated_at = ").bind(now);
    sql.push(" WHERE id = ").bind(id).push(" AND status IN ('queued', 'running')");
    if conn.execute_raw(sql.statement()).await?.rows_affected() == 0 {
        return Ok(false);
    }
    event(
        conn,
        id,
        "interrupted",
        serde_json::json!({ "reason": "the server stopped while the job was running" }),
        now,
    )
    .await?;
    Ok(true)
}

/// This instance's unfinished jobs, at start-up (none of them can be running yet).
pub async fn own_unfinished(conn: &DatabaseConnection, instance_id: &str) -> DomainResult<Vec<String>> {
    let mut sql = Sql::new(
        conn.get_database_backend(),
        "SELECT id FROM jobs WHERE status IN ('queued', 'running') AND instance_id = ",
    );
    sql.bind(instance_id);
    conn.query_all_raw(sql.statement()).await?.iter().map(|r| col(r, "id")).collect()
}

pub async fn list(conn: &DatabaseConnection, query: &JobQuery) -> DomainResult<JobPage> {
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
    let mut sql = Sql::new(conn.get_database_backend(), &format!("SELECT {COLUMNS} FROM jobs WHERE 1 = 1"));
    if let Some(status) = query.status.as_deref().filter(|s| !s.is_empty()) {
        sql.push(" AND status = ").bind(JobStatus::parse(status)?.as_str());
    }
    if let Some(job_type) = query.job_type.as_deref().filter(|s| !s.is_empty()) {
        if !super::JOB_TYPES.contains(&job_type) {
            return Err(DomainError::invalid(
                "type",
                format!("type: {job_type:?} is not one of {}", super::JOB_TYPES.join(", ")),
            ));
        }
        sql.push(" AND job_type = ").bind(job_type);
    }
    if let Some(ns) = query.namespace_id.as_deref().filter(|s| !s.is_empty()) {
        crate::limits::check_namespace_id(ns)?;
        sql.push(" AND (namespace_id = ").bind(ns).push(" OR target_namespace_id = ").bind(ns).push(")");
    }
    if let Some(from) = query.from {
        sql.push(" AND created_at >= ").bind(from);
    }
    if let Some(to) = query.to {
        sql.push(" AND created_at <= ").bind(to);
    }
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(DomainError::invalid("from", "from: must not be after to"));
    }
    if let Some(user) = query.created_by.as_deref().filter(|s| !s.is_empty()) {
        sql.push(" AND created_by = ").bind(user);
    }
    if !query.exclude_namespace_ids.is_empty() {
        let hidden = &query.exclude_namespace_ids;
        sql.push(" AND namespace_id NOT IN ").bind_list(hidden);
        sql.push(" AND (target_namespace_id IS NULL OR target_namespace_id NOT IN ").bind_list(hidden).push(")");
    }
    if let Some(min) = query.min_errors {
        sql.push(" AND errors >= ").bind(crate::limits::to_i64("min_errors", min)?);
    }
    if let Some(cursor) = query.cursor.as_deref().filter(|c| !c.is_empty()) {
        let (at, id) = decode_time_cursor(cursor)?;
        let op = if newest { "<" } else { ">" };
        sql.push(&format!(" AND (created_at {op} ")).bind(at);
        sql.push(" OR (created_at = ").bind(at).push(&format!(" AND id {op} ")).bind(id).push("))");
    }
    let dir = if newest { "DESC" } else { "ASC" };
    sql.push(&format!(" ORDER BY created_at {dir}, id {dir} LIMIT {}", limit + 1));
    let rows = conn.query_all_raw(sql.statement()).await?;
    let mut jobs = rows.iter().map(job_from_row).collect::<DomainResult<Vec<_>>>()?;
    let more = jobs.len() > limit as usize;
    jobs.truncate(limit as usize);
    let cursor = if more { jobs.last().map(|j| encode_time_cursor(j.created_at, &j.id)) } else { None };
    Ok(JobPage { jobs, cursor })
}
