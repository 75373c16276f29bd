//! The delivery log of one endpoint, newest first, 50 attempts a page: when, what came of it,
//! the events sent (count, first and last id), the receiver's status, the error or the start of
//! its answer, and when a failed delivery is tried again.

use leptos::prelude::*;

use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::modal::BUTTON_SECONDARY;
use crate::components::text::{Hint, MUTED, Muted};
use crate::dto::{WebhookAttemptDto, WebhookAttemptPageDto, WebhookListDto};
use crate::error::AppError;
use crate::format;
use crate::pages::with_query;

const LINK: &str = "rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800";

const ATTEMPT_COLUMNS: &[Column] = &[
    Column::new("Time"),
    Column::new("Outcome"),
    Column::right("Events"),
    Column::new("Event ids"),
    Column::new("Status"),
    Column::new("Error or response"),
    Column::new("Retry at"),
];

#[component]
pub(super) fn DeliveryLog(
    /// The endpoint's id.
    id: String,
    endpoints: Resource<Result<WebhookListDto, AppError>>,
    /// The page of the log the address asks for.
    attempts: Resource<Result<Option<WebhookAttemptPageDto>, AppError>>,
    /// Where the page shown starts (none: the newest).
    before: Memo<Option<i64>>,
    /// Bumped by "Refresh".
    refresh: RwSignal<usize>,
) -> impl IntoView {
    let id = StoredValue::new(id);
    view! {
        <section
            aria-labelledby="delivery-log-heading"
            class="space-y-3 rounded-md border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900"
        >
            <div class="flex flex-wrap items-center gap-2">
                <h2 id="delivery-log-heading" class="text-lg font-semibold break-all">
                    <Transition fallback=|| "Delivery log">
                        {move || Suspend::new(async move {
                            let url = endpoints
                                .await
                                .ok()
                                .and_then(|list| list.endpoints.into_iter().find(|e| id.with_value(|id| e.id == *id)))
                                .map(|e| e.url);
                            match url {
                                Some(url) => format!("Delivery log of {url}"),
                                None => "Delivery log".to_owned(),
                            }
                        })}
                    </Transition>
                </h2>
                <div class="ml-auto flex gap-2">
                    <button type="button" class=BUTTON_SECONDARY on:click=move |_| refresh.update(|n| *n += 1)>
                        "Refresh"
                    </button>
                    <a class=LINK href="/webhooks">
                        "Close"
                    </a>
                </div>
            </div>
            <Hint>
                "Each attempt to deliver the endpoint’s queued events, and each test event. A failed delivery is tried again with the same events (and event ids) at the time shown."
            </Hint>
            <Transition fallback=|| view! { <p>"Loading the delivery log…"</p> }>
                {move || Suspend::new(async move {
                    match attempts.await {
                        Ok(Some(page)) => {
                            let paged = before.get_untracked().is_some();
                            view! { <AttemptTable id=id.get_value() page paged /> }.into_any()
                        }
                        Ok(None) => ().into_any(),
                        Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AttemptTable(
    id: String,
    page: WebhookAttemptPageDto,
    /// Whether this is an older page (not the newest).
    paged: bool,
) -> impl IntoView {
    if page.attempts.is_empty() {
        return view! { <EmptyNote>"No deliveries yet. Events the endpoint wants are sent as they happen; “Send test event” sends one now."</EmptyNote> }
            .into_any();
    }
    let older =
        page.next_before.map(|before| with_query("/webhooks", &[("log", &id), ("before", &before.to_string())]));
    let newest = paged.then(|| with_query("/webhooks", &[("log", &id)]));
    let pages = (older.is_some() || paged).then(|| {
        view! {
            <nav aria-label="Delivery log pages" class="flex gap-2">
                {newest
                    .map(|href| {
                        view! {
                            <a class=LINK href=href>
                                "Newest"
                            </a>
                        }
                    })}
                {older
                    .map(|href| {
                        view! {
                            <a class=LINK href=href>
                                "Older"
                            </a>
                        }
                    })}
            </nav>
        }
    });
    view! {
        <DataTable label="Delivery attempts" columns=ATTEMPT_COLUMNS bare=true>
            {page.attempts.into_iter().map(|attempt| view! { <AttemptRow attempt /> }).collect_view()}
        </DataTable>
        {pages}
    }
    .into_any()
}

/// An attempt's outcome in words, and its colour.
fn outcome(outcome: &str) -> (&'static str, &'static str) {
    match outcome {
        "delivered" => ("delivered", "text-emerald-700 dark:text-emerald-400"),
        "test_delivered" => ("test delivered", "text-emerald-700 dark:text-emerald-400"),
        "test_failed" => ("test failed", "text-red-700 dark:text-red-400"),
        "dropped" => ("dropped (too old)", "text-amber-700 dark:text-amber-400"),
        _ => ("failed", "text-red-700 dark:text-red-400"),
    }
}

#[component]
fn AttemptRow(attempt: WebhookAttemptDto) -> impl IntoView {
    let (label, colour) = outcome(&attempt.outcome);
    let ids = match (attempt.first_event.clone(), attempt.last_event.clone()) {
        (Some(first), Some(last)) if first != last => format!("{first} … {last}"),
        (Some(one), _) | (None, Some(one)) => one,
        (None, None) => String::new(),
    };
    let status = match attempt.status_code {
        Some(status) => view! { <span class="tabular-nums">{status}</span> }.into_any(),
        None => view! { <Muted>"no answer"</Muted> }.into_any(),
    };
    let retry = match attempt.retry_at {
        Some(at) => view! { <time class="whitespace-nowrap">{format::utc_seconds(at)}</time> }.into_any(),
        None => view! { <Muted>"—"</Muted> }.into_any(),
    };
    view! {
        <tr class="border-t border-slate-200 align-top dark:border-slate-800" data-attempt=attempt.id>
            <td class="p-2 whitespace-nowrap">
                <time>{format::utc_seconds(attempt.at)}</time>
            </td>
            <td class=format!("p-2 font-medium whitespace-nowrap {colour}") data-testid="attempt-outcome">
                {label}
            </td>
            <td class="p-2 text-right tabular-nums">{attempt.events}</td>
            <td class="p-2 font-mono text-xs break-all">{ids}</td>
            <td class="p-2" data-testid="attempt-status">
                {status}
                <div class=format!("text-xs whitespace-nowrap {MUTED}")>{format!("{} ms", attempt.duration_ms)}</div>
            </td>
            <td class="p-2 text-xs">
                {attempt.error.map(|error| view! { <p class="break-words text-red-700 dark:text-red-400">{error}</p> })}
                {attempt
                    .response
                    .map(|response| {
                        view! { <p class=format!("max-w-xs font-mono break-all {MUTED}")>{response}</p> }
                    })}
            </td>
            <td class="p-2">{retry}</td>
        </tr>
    }
}
