//! The endpoints, oldest first, with "Edit", "Disable" or "Enable", "Resume" (when paused),
//! "Send test event", "Delivery log" and "Delete" on each.

use leptos::prelude::*;

use super::{EndpointActions, Open, namespace_label};
use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::modal::BUTTON_SECONDARY;
use crate::components::text::{MUTED, Muted};
use crate::dto::{NamespaceDto, WebhookDto};
use crate::format;
use crate::pages::with_query;
use crate::serverfns::webhooks::{ResumeWebhook, UpdateWebhook};

const ENDPOINT_COLUMNS: &[Column] = &[
    Column::new("Endpoint"),
    Column::new("Events"),
    Column::new("Filter"),
    Column::new("State"),
    Column::right("Pending"),
    Column::new("Last delivered"),
    Column::right("Failures"),
    Column::hidden("Actions"),
];

/// Classes of a link that looks like a secondary button.
const LINK_BUTTON: &str = "inline-block rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 aria-[current=true]:bg-slate-200 dark:border-slate-700 dark:hover:bg-slate-800 dark:aria-[current=true]:bg-slate-700";

#[component]
pub(super) fn EndpointTable(
    endpoints: Vec<WebhookDto>,
    /// The namespaces by title.
    namespaces: Vec<NamespaceDto>,
    /// The endpoint whose delivery log is open.
    log_id: Memo<Option<String>>,
    actions: EndpointActions,
) -> impl IntoView {
    let empty = endpoints.is_empty();
    let now = format::now_unix();
    view! {
        <Show when=move || empty>
            <EmptyNote>"No endpoints yet. “New endpoint” sends the events you choose to a URL of yours."</EmptyNote>
        </Show>
        <DataTable label="Webhook endpoints" columns=ENDPOINT_COLUMNS>
            {endpoints
                .into_iter()
                .map(|endpoint| {
                    let namespace = namespace_label(endpoint.namespace_id.as_deref(), &namespaces);
                    view! { <EndpointRow endpoint namespace now log_id actions /> }
                })
                .collect_view()}
        </DataTable>
    }
}

#[component]
fn EndpointRow(
    endpoint: WebhookDto,
    /// Its namespace filter, by title.
    namespace: String,
    now: i64,
    log_id: Memo<Option<String>>,
    actions: EndpointActions,
) -> impl IntoView {
    let last_delivered = match endpoint.last_delivered_at {
        Some(at) => view! {
            <time class="whitespace-nowrap" title=format::utc_seconds(at)>
                {format::ago(at, now)}
            </time>
        }
        .into_any(),
        None => view! { <Muted>"never"</Muted> }.into_any(),
    };
    let row_id = endpoint.id.clone();
    let state = endpoint.clone();
    view! {
        <tr class="border-t border-slate-200 align-top dark:border-slate-800" data-webhook=row_id>
            <th scope="row" class="p-2 font-medium">
                <span class="font-mono text-xs break-all">{endpoint.url.clone()}</span>
                {(!endpoint.description.is_empty())
                    .then(|| view! { <div class=format!("text-xs font-normal {MUTED}")>{endpoint.description.clone()}</div> })}
                <div class=format!("font-mono text-xs font-normal {MUTED}")>{endpoint.id.clone()}</div>
            </th>
            <td class="p-2">
                <ul class="font-mono text-xs">
                    {endpoint.events.iter().map(|event| view! { <li>{event.clone()}</li> }).collect_view()}
                </ul>
            </td>
            <td class="p-2">
                <div class="break-words">{namespace}</div>
                {match endpoint.prefix.clone() {
                    Some(prefix) => {
                        view! {
                            <div class="text-xs">
                                "keys starting with " <code class="font-mono break-all">{prefix}</code>
                            </div>
                        }
                            .into_any()
                    }
                    None => view! { <div class=format!("text-xs {MUTED}")>"every key"</div> }.into_any(),
                }}
            </td>
            <td class="p-2" data-testid="webhook-state">
                <EndpointState endpoint=state />
            </td>
            <td class="p-2 text-right tabular-nums" data-testid="webhook-pending">{endpoint.pending}</td>
            <td class="p-2">{last_delivered}</td>
            <td class="p-2 text-right tabular-nums">{endpoint.failures}</td>
            <td class="p-2">
                <EndpointButtons endpoint log_id actions />
            </td>
        </tr>
    }
}

/// Delivering (and when it retries after a failure), paused with the reason and what "Resume"
/// does, or disabled.
#[component]
fn EndpointState(endpoint: WebhookDto) -> impl IntoView {
    if !endpoint.enabled {
        return view! { <span class=format!("font-medium {MUTED}")>"disabled"</span> }.into_any();
    }
    if let Some(reason) = endpoint.paused_reason {
        return view! {
            <span class="font-medium text-amber-800 dark:text-amber-300">"paused"</span>
            <p class="text-xs break-words">{reason}</p>
            <p class=format!("text-xs {MUTED}")>
                {format!(
                    "Its queue keeps what it missed: “Resume” delivers the {} waiting, in order, then what comes next.",
                    format::count(endpoint.pending.max(0) as u64, "change"),
                )}
            </p>
        }
        .into_any();
    }
    let retry = endpoint.next_attempt_at.filter(|_| endpoint.failures > 0).map(|at| {
        view! {
            <p class="text-xs text-amber-800 dark:text-amber-300">
                {format!("retrying at {}", format::utc_seconds(at))}
            </p>
        }
    });
    view! {
        <span class="font-medium text-emerald-700 dark:text-emerald-400">"delivering"</span>
        {retry}
    }
    .into_any()
}

/// The row's buttons; each that sends a request is disabled while its own request for this
/// endpoint runs.
#[component]
fn EndpointButtons(endpoint: WebhookDto, log_id: Memo<Option<String>>, actions: EndpointActions) -> impl IntoView {
    let EndpointActions { toggle, resume, test, open, .. } = actions;
    let id = StoredValue::new(endpoint.id.clone());
    let toggling = move || toggle.input().with(|sent| sent.as_ref().is_some_and(|s| id.with_value(|id| s.id == *id)));
    let resuming = move || resume.input().with(|sent| sent.as_ref().is_some_and(|s| id.with_value(|id| s.id == *id)));
    let testing = move || test.input().with(|sent| sent.as_ref().is_some_and(|(s, _)| id.with_value(|id| s == id)));
    let (enabled, paused, pending) = (endpoint.enabled, endpoint.paused_reason.is_some(), endpoint.pending);
    let flip = {
        let endpoint = endpoint.clone();
        move |_| {
            if enabled && pending > 0 {
                open.set(Some(Open::Disable(endpoint.clone())));
            } else {
                toggle.dispatch(UpdateWebhook {
                    id: id.get_value(),
                    url: None,
                    description: None,
                    events: None,
                    namespace_id: None,
                    prefix: None,
                    enabled: Some(!enabled),
                    secret: None,
                });
            }
        }
    };
    let send_test = {
        let url = endpoint.url.clone();
        move |_| {
            test.dispatch((id.get_value(), url.clone()));
        }
    };
    let log_href = with_query("/webhooks", &[("log", &endpoint.id)]);
    let showing_log = move || id.with_value(|id| log_id.with(|open| open.as_deref() == Some(id.as_str())));
    let (edited, deleted) = (endpoint.clone(), endpoint);
    view! {
        <div class="flex flex-wrap justify-end gap-1">
            <button type="button" class=BUTTON_SECONDARY on:click=move |_| open.set(Some(Open::Edit(edited.clone())))>
                "Edit"
            </button>
            <button type="button" class=BUTTON_SECONDARY disabled=toggling on:click=flip>
                {if enabled { "Disable" } else { "Enable" }}
            </button>
            {(enabled && paused)
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class=BUTTON_SECONDARY
                            disabled=resuming
                            on:click=move |_| {
                                resume.dispatch(ResumeWebhook { id: id.get_value() });
                            }
                        >
                            "Resume"
                        </button>
                    }
                })}
            <button type="button" class=BUTTON_SECONDARY disabled=testing on:click=send_test>
                "Send test event"
            </button>
            <a class=LINK_BUTTON href=log_href aria-current=move || showing_log().then_some("true")>
                "Delivery log"
            </a>
            <button type="button" class=BUTTON_SECONDARY on:click=move |_| open.set(Some(Open::Delete(deleted.clone())))>
                "Delete"
            </button>
        </div>
    }
}
