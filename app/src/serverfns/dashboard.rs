//! The dashboard: usage over a range (operations by kind and their latency, storage, the
//! busiest namespaces, services and surfaces) of every namespace the caller sees or of one, and
//! for admins the health panel. Anyone signed in may read the usage; services and the health
//! panel are for admins. A `range` other than `1h`, `24h`, `7d`, `30d` or `90d` is a 400 naming it.

use leptos::prelude::*;

use crate::dto::DashboardDto;
use crate::error::{AppError, Json};

#[cfg(feature = "ssr")]
mod ssr {
    use domain::dashboard::{
        Breach, FailingEndpoint, Health, Named, NamespaceUsage, OpsPoint, StoragePoint, Totals, Usage,
    };

    use crate::dto::*;

    impl From<OpsPoint> for OpsPointDto {
        fn from(p: OpsPoint) -> Self {
            Self {
                start: p.start,
                reads: p.reads,
                writes: p.writes,
                deletes: p.deletes,
                lists: p.lists,
                errors: p.errors,
                p50_ms: p.p50_ms,
                p90_ms: p.p90_ms,
                p99_ms: p.p99_ms,
            }
        }
    }

    impl From<StoragePoint> for StoragePointDto {
        fn from(p: StoragePoint) -> Self {
            Self { start: p.start, key_count: p.key_count, size_bytes: p.size_bytes }
        }
    }

    impl From<NamespaceUsage> for NamespaceUsageDto {
        fn from(n: NamespaceUsage) -> Self {
            Self {
                id: n.id,
                title: n.title,
                key_count: n.key_count,
                size_bytes: n.size_bytes,
                operations: n.operations,
                errors: n.errors,
                trend: n.trend.into_iter().map(Into::into).collect(),
                key_change: n.key_change,
                byte_change: n.byte_change,
            }
        }
    }

    impl From<Usage> for UsageDto {
        fn from(u: Usage) -> Self {
            Self { name: u.name, operations: u.operations, errors: u.errors }
        }
    }

    impl From<Totals> for TotalsDto {
        fn from(t: Totals) -> Self {
            Self {
                reads: t.reads,
                writes: t.writes,
                deletes: t.deletes,
                lists: t.lists,
                errors: t.errors,
                p50_ms: t.p50_ms,
                p90_ms: t.p90_ms,
                p99_ms: t.p99_ms,
            }
        }
    }

    impl From<Named> for NamedDto {
        fn from(n: Named) -> Self {
            Self { id: n.id, name: n.name }
        }
    }

    impl From<Breach> for BreachDto {
        fn from(b: Breach) -> Self {
            Self {
                rule_id: b.rule_id,
                namespace_id: b.namespace_id,
                namespace_title: b.namespace_title,
                metric: b.metric,
                threshold: b.threshold,
                value: b.value,
                since: b.since,
            }
        }
    }

    impl From<FailingEndpoint> for FailingWebhookDto {
        fn from(e: FailingEndpoint) -> Self {
            Self { id: e.id, url: e.url, failures: e.failures, paused_reason: e.paused_reason, pending: e.pending }
        }
    }

    impl From<Health> for HealthDto {
        fn from(h: Health) -> Self {
            Self {
                failed_jobs: h.failed_jobs,
                failed_job_ids: h.failed_job_ids,
                breaches: h.breaches.into_iter().map(Into::into).collect(),
                without_backup: h.without_backup,
                without_backup_names: h.without_backup_names.into_iter().map(Into::into).collect(),
                failing_webhooks: h.failing_webhooks.into_iter().map(Into::into).collect(),
                expiring: h
                    .expiring
                    .into_iter()
                    .map(|k| ExpiringKeyDto {
                        rule_id: k.rule_id,
                        namespace_id: k.namespace_id,
                        key: k.key,
                        expiration: k.expiration,
                        fired_at: k.fired_at,
                    })
                    .collect(),
            }
        }
    }
}

/// The dashboard over `range` (default `24h`) ending now: of `namespace_id` when given (404 as
/// for a namespace that does not exist when the caller cannot read it), else of every namespace
/// the caller sees, with the health panel for admins. Its numbers reach up to this moment.
#[server(endpoint = "get_dashboard", input = Json)]
pub async fn get_dashboard(range: Option<String>, namespace_id: Option<String>) -> Result<DashboardDto, AppError> {
    use domain::dashboard::Range;
    let state = use_context::<crate::state::AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::internal()
    })?;
    let actor = crate::serverfns::ssr::actor();
    let range = Range::parse(range.as_deref().filter(|r| !r.is_empty()).unwrap_or("24h"))?;
    let namespace_id = namespace_id.filter(|id| !id.is_empty());
    // This instance's counts not yet written are written first, so the numbers reach up to
    // this moment (other instances' within their flush interval).
    if let Err(err) = state.kv.metrics().flush().await {
        tracing::warn!(%err, "writing metric rollups before the dashboard failed; it shows what was written");
    }
    let now = domain::now_unix();
    let usage = state.dashboard.usage(&actor, range, namespace_id.as_deref(), now).await?;
    let health = match namespace_id {
        None if actor.is_admin() => Some(state.dashboard.health(&actor, now).await?.into()),
        _ => None,
    };
    Ok(DashboardDto {
        range: range.as_str().to_owned(),
        from: usage.from,
        to: usage.to,
        step: usage.step,
        namespace_id: usage.namespace_id,
        ops: usage.ops.into_iter().map(Into::into).collect(),
        totals: usage.totals.into(),
        storage: usage.storage.into_iter().map(Into::into).collect(),
        key_count: usage.key_count,
        size_bytes: usage.size_bytes,
        top_namespaces: usage.top_namespaces.into_iter().map(Into::into).collect(),
        largest: usage.largest.into_iter().map(Into::into).collect(),
        services: usage.services.map(|s| s.into_iter().map(Into::into).collect()),
        surfaces: usage.surfaces.into_iter().map(Into::into).collect(),
        health,
    })
}
