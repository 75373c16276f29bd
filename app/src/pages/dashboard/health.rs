//! The health panel (admins, every namespace): what needs looking at, each item linked to where
//! it is fixed: jobs that failed in the last 24 hours, threshold rules breached now, namespaces
//! no running backup plan covers, webhook endpoints failing or paused, and keys that expiry
//! rules warned about. "All clear" when there is none.

use leptos::prelude::*;

use super::alerts::{metric_label, metric_value};
use super::namespace_title;
use crate::components::text::MUTED;
use crate::dto::{BreachDto, ExpiringKeyDto, FailingWebhookDto, HealthDto, NamespaceDto};
use crate::format;
use crate::pages::{encode_query, with_query};

/// Classes of a link in the panel.
const LINK: &str = "text-indigo-700 underline hover:no-underline dark:text-indigo-300";

/// Classes of one item of the panel.
const ITEM: &str =
    "space-y-1 rounded-md border border-amber-300 bg-amber-50 p-3 dark:border-amber-700 dark:bg-amber-950";

#[component]
pub(super) fn HealthPanel(health: HealthDto, namespaces: Vec<NamespaceDto>) -> impl IntoView {
    let now = format::now_unix();
    let clear = health.failed_jobs == 0
        && health.breaches.is_empty()
        && health.without_backup == 0
        && health.failing_webhooks.is_empty()
        && health.expiring.is_empty();
    let body = if clear {
        view! {
            <p
                class="rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm text-emerald-900 dark:border-emerald-700 dark:bg-emerald-950 dark:text-emerald-100"
                data-testid="health-all-clear"
            >
                <strong>"All clear. "</strong>
                "No job failed in the last 24 hours, no threshold is breached, a backup plan covers every namespace, every webhook endpoint is delivering and no key is about to expire."
            </p>
        }
        .into_any()
    } else {
        view! {
            <ul class="space-y-2 text-sm">
                {(health.failed_jobs > 0).then(|| view! { <FailedJobs count=health.failed_jobs ids=health.failed_job_ids.clone() /> })}
                {health.breaches.into_iter().map(|breach| view! { <Breach breach now /> }).collect_view()}
                {(health.without_backup > 0)
                    .then(|| {
                        view! {
                            <WithoutBackup
                                count=health.without_backup
                                names=health.without_backup_names.iter().map(|n| n.name.clone()).collect()
                            />
                        }
                    })}
                {health.failing_webhooks.into_iter().map(|endpoint| view! { <FailingWebhook endpoint /> }).collect_view()}
                {(!health.expiring.is_empty()).then(|| view! { <Expiring keys=health.expiring namespaces now /> })}
            </ul>
        }
        .into_any()
    };
    view! {
        <section aria-labelledby="health-heading" class="space-y-2">
            <h2 id="health-heading" class="text-lg font-semibold">
                "Health"
            </h2>
            {body}
        </section>
    }
}

#[component]
fn FailedJobs(count: u64, ids: Vec<String>) -> impl IntoView {
    let shown = ids.len() as u64;
    view! {
        <li class=ITEM data-testid="health-failed-jobs">
            <p>
                <strong>{format!("{} failed in the last 24 hours. ", format::count(count, "job"))}</strong>
                <a class=LINK href="/jobs?status=failed">
                    "See the failed jobs"
                </a>
            </p>
            <p class="flex flex-wrap gap-x-3 text-xs">
                {ids
                    .into_iter()
                    .map(|id| {
                        let href = with_query("/jobs", &[("job", &id)]);
                        view! {
                            <a class=format!("font-mono {LINK}") href=href>
                                {id}
                            </a>
                        }
                    })
                    .collect_view()}
                {(count > shown).then(|| view! { <span class=MUTED>{format!("and {} more", count - shown)}</span> })}
            </p>
        </li>
    }
}

#[component]
fn Breach(breach: BreachDto, now: i64) -> impl IntoView {
    let title = breach.namespace_title.clone().unwrap_or_else(|| breach.namespace_id.clone());
    let value = breach.value.map_or_else(|| "unknown".to_owned(), |v| metric_value(&breach.metric, v));
    let since = breach.since.map(|at| format!(", since {}", format::ago(at, now))).unwrap_or_default();
    view! {
        <li class=ITEM data-testid="health-breach">
            <p>
                <strong>"Threshold breached: "</strong>
                <a class=LINK href=format!("/namespaces/{}", breach.namespace_id)>
                    {title}
                </a>
                {format!(
                    ", {} is {value}, above {}{since}.",
                    metric_label(&breach.metric).to_lowercase(),
                    metric_value(&breach.metric, breach.threshold),
                )}
            </p>
        </li>
    }
}

#[component]
fn WithoutBackup(count: u64, names: Vec<String>) -> impl IntoView {
    let more = count.saturating_sub(names.len() as u64);
    let listed = if more > 0 { format!("{}, and {more} more", names.join(", ")) } else { names.join(", ") };
    let verb = if count == 1 { "has" } else { "have" };
    view! {
        <li class=ITEM data-testid="health-without-backup">
            <p>
                <strong>{format!("{} {verb} no backup plan: ", format::count(count, "namespace"))}</strong>
                {listed}
                ". "
                <a class=LINK href="/backups">
                    "Plan backups"
                </a>
            </p>
        </li>
    }
}

#[component]
fn FailingWebhook(endpoint: FailingWebhookDto) -> impl IntoView {
    let state = match &endpoint.paused_reason {
        Some(reason) => format!("paused: {reason}"),
        None => format!("{} since its last delivery", format::count(endpoint.failures.max(0) as u64, "failed attempt")),
    };
    let href = with_query("/webhooks", &[("log", &endpoint.id)]);
    view! {
        <li class=ITEM data-testid="health-webhook">
            <p>
                <strong>"Webhook endpoint "</strong>
                <span class="font-mono break-all">{endpoint.url.clone()}</span>
                {format!(", {state}; {} waiting. ", format::count(endpoint.pending.max(0) as u64, "change"))}
                <a class=LINK href=href>
                    "Delivery log"
                </a>
            </p>
        </li>
    }
}

#[component]
fn Expiring(keys: Vec<ExpiringKeyDto>, namespaces: Vec<NamespaceDto>, now: i64) -> impl IntoView {
    view! {
        <li class=ITEM data-testid="health-expiring">
            <p>
                <strong>"Keys expiring soon"</strong>
                " (expiry rules warned about them):"
            </p>
            <ul class="space-y-0.5">
                {keys
                    .into_iter()
                    .map(|key| {
                        let title = namespace_title(&key.namespace_id, &namespaces);
                        let href = format!("/namespaces/{}?key={}", key.namespace_id, encode_query(&key.key));
                        let when = if key.expiration > now {
                            format!("in {}", format::duration(key.expiration - now))
                        } else {
                            "now".to_owned()
                        };
                        view! {
                            <li>
                                <a class=LINK href=format!("/namespaces/{}", key.namespace_id)>
                                    {title}
                                </a>
                                " / "
                                <a class=format!("font-mono break-all {LINK}") href=href>
                                    {key.key}
                                </a>
                                " expires "
                                <time title=format::utc_seconds(key.expiration)>{format!("{when} ({})", format::utc(key.expiration))}</time>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </li>
    }
}
