//! Server functions: the script API and what the console calls. Each is `POST /api/<name>` with a
//! JSON object in and JSON out, and a thin adapter over `domain::Kv`.

pub mod alerts;
pub mod audit;
pub mod backups;
pub mod catalog;
pub mod dashboard;
pub mod jobs;
pub mod keys;
pub mod namespaces;
pub mod services;
pub mod tokens;
pub mod webhooks;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use domain::{Actor, Kv, Role, Source};
    use leptos::prelude::*;

    use crate::dto::*;
    use crate::error::AppError;
    use crate::state::AppState;

    /// The KV service from the server's state.
    pub fn kv() -> Result<Kv, AppError> {
        use_context::<AppState>().map(|state| state.kv).ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            AppError::internal()
        })
    }

    /// Who is calling, as the identity middleware recorded it. Every request through the router
    /// has one; anything else is treated as an anonymous reader.
    pub fn actor() -> Actor {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Actor>().cloned())
            .unwrap_or_else(|| Actor::new("anonymous", Source::Console, Role::ReadOnly))
    }

    impl From<domain::Namespace> for NamespaceDto {
        fn from(n: domain::Namespace) -> Self {
            Self {
                id: n.id,
                title: n.title,
                key_count: n.key_count,
                size_bytes: n.size_bytes,
                created_at: domain::rfc3339(n.created_at),
                last_accessed: domain::rfc3339(n.last_accessed),
            }
        }
    }

    impl From<domain::NamespacePage> for NamespacePageDto {
        fn from(p: domain::NamespacePage) -> Self {
            Self {
                namespaces: p.namespaces.into_iter().map(Into::into).collect(),
                total: p.total,
                page: p.page,
                per_page: p.per_page,
            }
        }
    }

    impl From<domain::KeyPage> for KeyListDto {
        fn from(p: domain::KeyPage) -> Self {
            Self {
                keys: p
                    .keys
                    .into_iter()
                    .map(|k| KeyEntryDto {
                        name: k.name,
                        expiration: k.expiration,
                        metadata: k.metadata,
                        size: k.size,
                        tags: Vec::new(),
                    })
                    .collect(),
                cursor: p.cursor,
                list_complete: p.list_complete,
            }
        }
    }

    /// Text when the bytes are UTF-8, base64 otherwise.
    fn text_or_base64(bytes: Vec<u8>) -> (Option<String>, Option<String>) {
        use base64::Engine;
        match String::from_utf8(bytes) {
            Ok(text) => (Some(text), None),
            Err(err) => (None, Some(base64::engine::general_purpose::STANDARD.encode(err.as_bytes()))),
        }
    }

    impl From<domain::KeyDetails> for KeyDetailsDto {
        fn from(d: domain::KeyDetails) -> Self {
            Self {
                tags: d.tags,
                custom_metadata: d.custom_metadata,
                created_at: d.created_at.map(domain::rfc3339),
                updated_at: d.updated_at.map(domain::rfc3339),
            }
        }
    }

    impl From<domain::TagCount> for TagCountDto {
        fn from(t: domain::TagCount) -> Self {
            Self { tag: t.tag, count: t.count }
        }
    }

    impl From<domain::SearchPage> for SearchPageDto {
        fn from(p: domain::SearchPage) -> Self {
            Self {
                results: p
                    .results
                    .into_iter()
                    .map(|h| SearchResultDto {
                        namespace_id: h.namespace_id,
                        namespace_title: h.namespace_title,
                        key: h.key,
                        tags: h.tags,
                        size: h.size,
                        expiration: h.expiration,
                        updated_at: domain::rfc3339(h.updated_at),
                    })
                    .collect(),
                cursor: p.cursor,
                total: p.total,
            }
        }
    }

    impl From<domain::VersionInfo> for VersionDto {
        fn from(v: domain::VersionInfo) -> Self {
            Self {
                version: v.version,
                size: v.size,
                operation: v.operation,
                created_at: domain::rfc3339(v.created_at),
                created_by: v.created_by,
            }
        }
    }

    impl From<domain::VersionValue> for KeyVersionDto {
        fn from(v: domain::VersionValue) -> Self {
            let size = v.value.len() as u64;
            let (value, value_base64) = text_or_base64(v.value);
            Self { version: v.version, value, value_base64, size, metadata: v.metadata, expiration: v.expiration }
        }
    }

    impl From<domain::KeyValue> for KeyDto {
        fn from(k: domain::KeyValue) -> Self {
            let size = k.value.len() as u64;
            let (value, value_base64) = text_or_base64(k.value);
            Self {
                name: k.name,
                value,
                value_base64,
                size,
                metadata: k.metadata,
                expiration: k.expiration,
                version: k.version,
            }
        }
    }

    impl From<domain::RewindCounts> for crate::dto::RewindCountsDto {
        fn from(c: domain::RewindCounts) -> Self {
            Self {
                created: c.created,
                changed: c.changed,
                deleted: c.deleted,
                unchanged: c.unchanged,
                incomplete: c.incomplete,
            }
        }
    }

    impl From<domain::jobs::BulkPreview> for crate::dto::BulkPreviewDto {
        fn from(p: domain::jobs::BulkPreview) -> Self {
            let c = p.counts;
            Self {
                job_type: p.job_type,
                counts: crate::dto::PlanCountsDto {
                    created: c.created,
                    changed: c.changed,
                    deleted: c.deleted,
                    skipped: c.skipped,
                },
                created: p.created,
                changed: p.changed,
                deleted: p.deleted,
                skipped: p.skipped,
                changes: p.changes.into_iter().map(Into::into).collect(),
            }
        }
    }

    impl From<domain::UndoPreview> for crate::dto::UndoPreviewDto {
        fn from(p: domain::UndoPreview) -> Self {
            Self {
                job_id: p.job_id,
                job_type: p.job_type,
                counts: p.counts.into(),
                created: p.created,
                changed: p.changed,
                deleted: p.deleted,
                incomplete: p.incomplete,
                changed_since_count: p.changed_since_count,
                changed_since: p.changed_since,
                changes: p.changes.into_iter().map(Into::into).collect(),
                complete: p.complete,
            }
        }
    }

    impl From<domain::RewindPreview> for crate::dto::RewindPreviewDto {
        fn from(p: domain::RewindPreview) -> Self {
            Self {
                namespace_id: p.namespace_id,
                prefix: p.prefix,
                at: p.at,
                counts: p.counts.into(),
                created: p.created,
                changed: p.changed,
                deleted: p.deleted,
                incomplete: p.incomplete,
                complete: p.complete,
                changes: p.changes.into_iter().map(Into::into).collect(),
            }
        }
    }

    impl From<domain::ValueChange> for crate::dto::ValueChangeDto {
        fn from(c: domain::ValueChange) -> Self {
            Self {
                name: c.name,
                before: c.before,
                after: c.after,
                before_bytes: c.before_bytes,
                after_bytes: c.after_bytes,
                cut: c.cut,
                value_differs: c.value_differs,
                also: c.also,
            }
        }
    }

    impl From<domain::jobs::BackupEntry> for BackupDto {
        fn from(b: domain::jobs::BackupEntry) -> Self {
            Self {
                backup_id: b.backup_id,
                status: b.status,
                namespace_id: b.namespace_id,
                namespace_title: b.namespace_title,
                prefix: b.prefix,
                key_count: b.key_count,
                bytes: b.bytes,
                snapshot_at: b.snapshot_at,
                sha256: b.sha256,
            }
        }
    }

    impl From<domain::jobs::BackupPlan> for BackupPlanDto {
        fn from(p: domain::jobs::BackupPlan) -> Self {
            Self {
                id: p.id,
                namespace_id: p.namespace_id,
                prefix: p.prefix,
                cron: p.cron,
                target: p.target,
                keep_last: p.keep_last,
                keep_days: p.keep_days,
                paused: p.paused,
                next_run_at: p.next_run_at,
                last_run_at: p.last_run_at,
                last_job_ids: p.last_job_ids,
                last_error: p.last_error,
                created_by: p.created_by,
                created_at: p.created_at,
                updated_at: p.updated_at,
            }
        }
    }

    impl From<domain::jobs::RestorePreview> for RestorePreviewDto {
        fn from(p: domain::jobs::RestorePreview) -> Self {
            let c = p.counts;
            Self {
                backup_id: p.backup_id,
                namespace_id: p.namespace_id,
                prefix: p.prefix,
                mode: p.mode.map(|m| m.as_str().to_owned()).unwrap_or_default(),
                counts: RestoreCountsDto {
                    created: c.created,
                    changed: c.changed,
                    deleted: c.deleted,
                    unchanged: c.unchanged,
                    kept: c.kept,
                    expired: c.expired,
                    failed: c.failed,
                },
                created: p.created,
                changed: p.changed,
                deleted: p.deleted,
                unchanged: p.unchanged,
                kept: p.kept,
                expired: p.expired,
                failed: p.failed,
                changes: p.changes.into_iter().map(Into::into).collect(),
            }
        }
    }

    /// A job just started or resumed: its id, status and where its progress streams.
    impl From<domain::jobs::Job> for JobStartedDto {
        fn from(job: domain::jobs::Job) -> Self {
            Self { ws_url: format!("/api/jobs/{}/ws", job.id), status: job.status.as_str().into(), job_id: job.id }
        }
    }

    impl From<domain::jobs::Job> for JobDto {
        fn from(j: domain::jobs::Job) -> Self {
            Self {
                id: j.id,
                job_type: j.job_type,
                namespace_id: j.namespace_id,
                target_namespace_id: j.target_namespace_id,
                status: j.status.as_str().to_owned(),
                total: j.total,
                processed: j.processed,
                errors: j.errors,
                skipped: j.skipped,
                current_key: j.current_key,
                percentage: j.percentage,
                error_message: j.error_message,
                created_by: j.created_by,
                created_at: j.created_at,
                started_at: j.started_at,
                finished_at: j.finished_at,
                updated_at: j.updated_at,
                params: j.params,
                result: j.result,
                failures: j.failures.into_iter().map(|f| KeyFailureDto { key: f.key, reason: f.reason }).collect(),
            }
        }
    }

    impl From<domain::jobs::JobPage> for JobPageDto {
        fn from(p: domain::jobs::JobPage) -> Self {
            Self { jobs: p.jobs.into_iter().map(Into::into).collect(), cursor: p.cursor }
        }
    }

    impl From<domain::jobs::JobEvent> for JobEventDto {
        fn from(e: domain::jobs::JobEvent) -> Self {
            Self { id: e.id, job_id: e.job_id, event: e.event, details: e.details, created_at: e.created_at }
        }
    }

    impl From<domain::audit::AuditEntry> for AuditEntryDto {
        fn from(e: domain::audit::AuditEntry) -> Self {
            Self {
                id: e.id,
                at: e.at,
                user: e.user,
                source: e.source,
                operation: e.operation,
                namespace_id: e.namespace_id,
                namespace_title: e.namespace_title,
                key: e.key,
                details: e.details,
                request_id: e.request_id,
            }
        }
    }

    impl From<domain::audit::AuditPage> for AuditPageDto {
        fn from(p: domain::audit::AuditPage) -> Self {
            Self { entries: p.entries.into_iter().map(Into::into).collect(), cursor: p.cursor }
        }
    }
}
