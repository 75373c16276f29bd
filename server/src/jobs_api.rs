//! The plain HTTP surface of background jobs: polling, event replay, cancel, resume, export
//! download, WebSocket progress, and import uploads streamed to disk.

use std::time::Duration;

use app::error::AppError;
use app::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Extension, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::jobs::{Collision, ImportFormat, Job, JobSpec, Jobs};
use domain::{Actor, DomainError};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::json;
use tokio::io::AsyncWriteExt;

/// The largest import upload, in bytes (`--max-upload-bytes`).
#[derive(Clone, Copy)]
struct UploadLimit(u64);

pub fn router(max_upload_bytes: u64) -> Router<AppState> {
    Router::new()
        .route("/api/jobs/{id}", get(get_job))
        .route("/api/jobs/{id}/events", get(events))
        .route("/api/jobs/{id}/cancel", post(cancel))
        .route("/api/jobs/{id}/resume", post(resume))
        .route("/api/jobs/{id}/download", get(download))
        .route("/api/jobs/{id}/ws", get(websocket))
        .route("/api/import/{namespace_id}", post(import))
        .route("/api/audit.csv", get(audit_csv))
        .layer(Extension(UploadLimit(max_upload_bytes)))
}

#[derive(Deserialize)]
struct AuditCsvQuery {
    /// Comma-separated lists, as in `list_audit`.
    namespace_ids: Option<String>,
    users: Option<String>,
    operations: Option<String>,
    sources: Option<String>,
    key_prefix: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
}

fn list(text: Option<String>) -> Vec<String> {
    text.map(|t| t.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect()).unwrap_or_default()
}

/// `GET /api/audit.csv`: the filtered audit log as RFC 4180 CSV, streamed page by page.
async fn audit_csv(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(query): Query<AuditCsvQuery>,
) -> Response {
    use domain::audit::{AuditQuery, CSV_HEADER, csv_record};
    let filter = AuditQuery {
        namespace_ids: list(query.namespace_ids),
        users: list(query.users),
        operations: list(query.operations),
        sources: list(query.sources),
        key_prefix: query.key_prefix,
        from: query.from,
        to: query.to,
        limit: Some(1000),
        ..Default::default()
    };
    let mut filter = match state.kv.audit_scope(&actor, filter).await {
        Ok(filter) => filter,
        Err(err) => return error_response(err),
    };
    let audit = state.audit.clone();
    // The first page is read before answering, so a bad filter is a 400 and not a broken file.
    let first = match audit.list(&filter).await {
        Ok(page) => page,
        Err(err) => return error_response(err),
    };
    let (mut writer, reader) = tokio::io::duplex(256 * 1024);
    tokio::spawn(async move {
        let mut page = first;
        if writer.write_all(CSV_HEADER.as_bytes()).await.is_err() {
            return;
        }
        loop {
            let chunk: String = page.entries.iter().map(csv_record).collect();
            if writer.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
            let Some(cursor) = page.cursor.take() else { return };
            filter.cursor = Some(cursor);
            match audit.list(&filter).await {
                Ok(next) => page = next,
                Err(err) => {
                    tracing::error!(%err, "audit CSV stopped");
                    return;
                }
            }
        }
    });
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(reader)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"audit.csv\""));
    response
}

/// A domain error as the console's JSON error, with its status: the same [`AppError`] the server
/// functions answer with.
pub fn error_response(err: DomainError) -> Response {
    AppError::from(err).into_response()
}

/// What a started job answers with.
pub fn started(job: &Job) -> serde_json::Value {
    json!({ "job_id": job.id, "status": job.status, "ws_url": format!("/api/jobs/{}/ws", job.id), "job": job })
}

async fn get_job(State(jobs): State<Jobs>, Extension(actor): Extension<Actor>, Path(id): Path<String>) -> Response {
    match jobs.visible(&actor, &id).await {
        Ok(job) => axum::Json(job).into_response(),
        Err(err) => error_response(err),
    }
}

async fn events(State(jobs): State<Jobs>, Extension(actor): Extension<Actor>, Path(id): Path<String>) -> Response {
    if let Err(err) = jobs.visible(&actor, &id).await {
        return error_response(err);
    }
    match jobs.events(&id).await {
        Ok(events) => axum::Json(json!({ "events": events })).into_response(),
        Err(err) => error_response(err),
    }
}

async fn cancel(State(jobs): State<Jobs>, Extension(actor): Extension<Actor>, Path(id): Path<String>) -> Response {
    match jobs.cancel(&actor, &id).await {
        Ok(job) => axum::Json(job).into_response(),
        Err(err) => error_response(err),
    }
}

async fn resume(State(jobs): State<Jobs>, Extension(actor): Extension<Actor>, Path(id): Path<String>) -> Response {
    match jobs.resume(&actor, &id).await {
        Ok(job) => axum::Json(started(&job)).into_response(),
        Err(err) => error_response(err),
    }
}

async fn download(State(jobs): State<Jobs>, Extension(actor): Extension<Actor>, Path(id): Path<String>) -> Response {
    if let Err(err) = jobs.visible(&actor, &id).await {
        return error_response(err);
    }
    let file = match jobs.export_file(&id).await {
        Ok(file) => file,
        Err(err) => return error_response(err),
    };
    let handle = match tokio::fs::File::open(&file.path).await {
        Ok(handle) => handle,
        Err(_) => {
            return error_response(DomainError::gone("job_id", "job_id: the export file has expired; export again"));
        }
    };
    let length = handle.metadata().await.map(|m| m.len()).unwrap_or(0);
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(handle, 256 * 1024));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(file.content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    let disposition = format!("attachment; filename=\"{}\"", file.filename.replace('"', "_"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[derive(Deserialize)]
struct ImportQuery {
    collision: Option<String>,
    format: Option<String>,
}

/// `POST /api/import/{namespace_id}`: the body is the file. It is streamed to disk, never held
/// whole in memory, then imported by a job.
async fn import(
    State(jobs): State<Jobs>,
    Extension(actor): Extension<Actor>,
    Extension(UploadLimit(limit)): Extension<UploadLimit>,
    Path(namespace_id): Path<String>,
    Query(query): Query<ImportQuery>,
    request: Request,
) -> Response {
    let collision = match query.collision.as_deref().unwrap_or("skip") {
        "skip" => Collision::Skip,
        "overwrite" => Collision::Overwrite,
        "fail" => Collision::Fail,
        other => {
            return error_response(DomainError::invalid(
                "collision",
                format!("collision: {other:?} is not one of skip, overwrite, fail"),
            ));
        }
    };
    let format = match query.format.as_deref().unwrap_or("auto") {
        "auto" => ImportFormat::Auto,
        "json" => ImportFormat::Json,
        "ndjson" => ImportFormat::Ndjson,
        other => {
            return error_response(DomainError::invalid(
                "format",
                format!("format: {other:?} is not one of auto, json, ndjson"),
            ));
        }
    };
    if let Err(err) = domain::limits::check_namespace_id(&namespace_id) {
        return error_response(err);
    }
    // Refused before a byte of the upload is read: a namespace that does not exist (or that
    // this user may not see or change), and a body that says it is larger than the limit.
    if let Err(err) = jobs.kv().require_namespace(&actor, &namespace_id, domain::kv::Need::Write).await {
        return error_response(err);
    }
    let too_large = || {
        DomainError::too_large(
            "file",
            format!("file: the upload is over the limit of {limit} bytes (--max-upload-bytes, KVM_MAX_UPLOAD_BYTES)"),
        )
    };
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return error_response(too_large());
    }
    let (relative, path) = match jobs.new_upload().await {
        Ok(upload) => upload,
        Err(err) => return error_response(err),
    };
    let written = async {
        let mut file = tokio::fs::File::create(&path).await.map_err(DomainError::internal)?;
        let mut body = request.into_body();
        let mut bytes = 0u64;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| DomainError::invalid("file", format!("file: the upload broke off: {e}")))?;
            if let Ok(data) = frame.into_data() {
                // Counted before it is written: the file never grows past the limit.
                bytes = bytes.saturating_add(data.len() as u64);
                if bytes > limit {
                    return Err(too_large());
                }
                file.write_all(&data).await.map_err(DomainError::internal)?;
            }
        }
        file.flush().await.map_err(DomainError::internal)?;
        if bytes == 0 {
            return Err(DomainError::invalid("file", "file: the upload is empty"));
        }
        Ok(())
    }
    .await;
    if let Err(err) = written {
        let _ = tokio::fs::remove_file(&path).await;
        return error_response(err);
    }
    let spec = JobSpec::Import { namespace_id, file: relative, collision, format };
    match jobs.start(&actor, spec).await {
        Ok(job) => (StatusCode::ACCEPTED, axum::Json(started(&job))).into_response(),
        Err(err) => {
            let _ = tokio::fs::remove_file(&path).await;
            error_response(err)
        }
    }
}

async fn websocket(
    State(jobs): State<Jobs>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(err) = jobs.visible(&actor, &id).await {
        return error_response(err);
    }
    upgrade.on_upgrade(move |socket| progress(socket, jobs, id, actor))
}

/// Resolves once a shutdown has stopped the jobs (see `Jobs::shutdown`).
async fn shutting_down(mut closing: tokio::sync::watch::Receiver<bool>) {
    let seen = closing.wait_for(|closing| *closing).await.is_ok();
    if !seen {
        // The engine is gone without a shutdown: nothing to announce.
        std::future::pending::<()>().await;
    }
}

/// Sends the job on every change (at most ten messages a second), then its final state, and
/// answers `ping` and `cancel`. A job running on another instance is followed in the database.
async fn progress(mut socket: WebSocket, jobs: Jobs, id: String, actor: Actor) {
    let mut last: Option<Job> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut ticks = 0u64;
    let send = |job: &Job, kind: &str| Message::Text(json!({ "type": kind, "job": job }).to_string().into());
    let closing = shutting_down(jobs.closing());
    tokio::pin!(closing);
    loop {
        tokio::select! {
            // A shutdown has stopped the jobs: the job as it now stands (`interrupted` when the
            // shutdown stopped it), then a close frame saying why (1001, going away).
            () = &mut closing => {
                if let Ok(job) = jobs.peek(&id).await {
                    let kind = if job.status.is_final() { job.status.as_str() } else { "progress" };
                    let _ = socket.send(send(&job, kind)).await;
                }
                let frame = CloseFrame { code: close_code::AWAY, reason: "the server is shutting down".into() };
                let _ = socket.send(Message::Close(Some(frame))).await;
                return;
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let kind = serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned));
                    match kind.as_deref() {
                        Some("ping") => {
                            let pong = Message::Text(json!({ "type": "pong" }).to_string().into());
                            let sent = socket.send(pong).await;
                            if sent.is_err() {
                                return;
                            }
                        }
                        Some("cancel") => {
                            if let Err(err) = jobs.cancel(&actor, &id).await {
                                let body = json!({ "type": "error", "error": { "code": err.code(), "message": err.to_string() } });
                                let _ = socket.send(Message::Text(body.to_string().into())).await;
                            }
                        }
                        _ => {}
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = tick.tick() => {
                ticks += 1;
                // This instance's jobs are read from memory; others' from the database, twice a second.
                let local = jobs.subscribe(&id).map(|rx| rx.borrow().clone());
                let job = match local {
                    Some(job) => job,
                    None if ticks % 5 == 1 || last.is_none() => match jobs.peek(&id).await {
                        Ok(job) => job,
                        Err(_) => return,
                    },
                    None => continue,
                };
                if job.status.is_final() {
                    let _ = socket.send(send(&job, job.status.as_str())).await;
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                if last.as_ref() != Some(&job) {
                    if socket.send(send(&job, "progress")).await.is_err() {
                        return;
                    }
                    last = Some(job);
                }
            }
        }
    }
}
