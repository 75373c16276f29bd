//! `/dashboard`: how the namespaces are used over a range (the last hour, 24 hours, 7, 30 or 90
//! days, chosen with plain links, so it works without JavaScript), of every namespace the viewer
//! sees or of one (`?namespace=<id>`, chosen in a form): the totals (operations by kind, errors,
//! latency percentiles, keys and bytes now), charts of operations, latency and storage over the
//! range, the busiest and the largest namespaces, the busiest `/v1/kv` services (admins) and the
//! operations per surface. Admins also see the health panel (what needs looking at, each item
//! linked to where it is fixed) and the alert rules.

mod alerts;
pub(crate) mod charts;
mod health;
mod tables;
pub(crate) mod totals;

use leptos::Params;
use leptos::prelude::*;
use leptos_router::hooks::use_query;
use leptos_router::params::Params;

use crate::components::modal::{BUTTON_SECONDARY, INPUT, LABEL};
use crate::components::text::MUTED;
use crate::components::viewer::use_viewer;
use crate::dto::{DashboardDto, NamespaceDto, NamespacePageDto};
use crate::error::AppError;
use crate::pages::with_query;
use crate::serverfns::dashboard::get_dashboard;
use crate::serverfns::namespaces::list_namespaces;
use alerts::AlertRules;
use charts::{LatencyChart, OpsChart, StorageCharts};
use health::HealthPanel;
use tables::{BusiestNamespaces, LargestNamespaces, SERVICE_COLUMNS, SURFACE_COLUMNS, UsageTable};
use totals::TotalsList;

/// The ranges, shortest first: their name in the address and on their link.
const RANGES: [(&str, &str); 5] =
    [("1h", "1 hour"), ("24h", "24 hours"), ("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days")];

/// The range shown when the address names none.
const DEFAULT_RANGE: &str = "24h";

/// Classes of a range link; the current one is marked.
const RANGE_LINK: &str = "rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 aria-[current=page]:border-indigo-600 aria-[current=page]:bg-indigo-600 aria-[current=page]:text-white dark:border-slate-700 dark:hover:bg-slate-800 dark:aria-[current=page]:border-indigo-400 dark:aria-[current=page]:bg-indigo-400 dark:aria-[current=page]:text-slate-950";

/// The address's query: the range and the namespace shown.
#[derive(Params, Clone, Debug, PartialEq)]
struct DashboardQuery {
    range: Option<String>,
    namespace: Option<String>,
}

/// A range in words: "the last 24 hours".
pub(crate) fn range_words(range: &str) -> String {
    match RANGES.iter().find(|(name, _)| *name == range) {
        Some(("1h", _)) => "the last hour".to_owned(),
        Some((_, label)) => format!("the last {label}"),
        None => format!("the range {range}"),
    }
}

/// A namespace's title, or its id when it is gone or hidden.
fn namespace_title(id: &str, namespaces: &[NamespaceDto]) -> String {
    namespaces.iter().find(|n| n.id == id).map_or_else(|| id.to_owned(), |n| n.title.clone())
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let admin = use_viewer().is_admin;
    let query = use_query::<DashboardQuery>();
    let range = Memo::new(move |_| {
        query
            .read()
            .as_ref()
            .ok()
            .and_then(|q| q.range.clone())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| DEFAULT_RANGE.to_owned())
    });
    let namespace =
        Memo::new(move |_| query.read().as_ref().ok().and_then(|q| q.namespace.clone()).filter(|id| !id.is_empty()));
    let dashboard = Resource::new(move || (range.get(), namespace.get()), |(range, id)| get_dashboard(Some(range), id));
    let namespaces = Resource::new(|| (), |_| list_namespaces(Some(1), Some(1000), None));
    view! {
        <section class="space-y-6">
            <div class="space-y-1">
                <h1 class="text-2xl font-semibold">"Dashboard"</h1>
                <p class=format!("text-sm {MUTED}")>
                    "Operations on keys (from the console, scripts, the /v1/kv and Cloudflare APIs, the CLI and jobs), their latency and the storage they use. Times are UTC."
                </p>
            </div>
            <div class="flex flex-wrap items-end justify-between gap-3">
                <RangeLinks range namespace />
                <NamespaceChoice range namespace namespaces />
            </div>
            <Transition fallback=|| view! { <p>"Loading the dashboard…"</p> }>
                {move || Suspend::new(async move {
                    let known = namespaces.await.map(|page| page.namespaces).unwrap_or_default();
                    match dashboard.await {
                        Ok(dashboard) => view! { <DashboardView dashboard namespaces=known /> }.into_any(),
                        Err(err) => view! { <p role="alert" class="text-red-600 dark:text-red-400">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
            {admin.then(|| view! { <AlertRules namespace namespaces /> })}
        </section>
    }
}

/// The ranges as links; the one shown is marked `aria-current`.
#[component]
fn RangeLinks(range: Memo<String>, namespace: Memo<Option<String>>) -> impl IntoView {
    view! {
        <nav aria-label="Range" class="flex flex-wrap gap-1">
            {RANGES
                .iter()
                .map(|&(name, label)| {
                    let href = move || {
                        with_query("/dashboard", &[("range", name), ("namespace", namespace.get().as_deref().unwrap_or_default())])
                    };
                    view! {
                        <a href=href class=RANGE_LINK aria-current=move || (range.get() == name).then_some("page")>
                            {label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// "All namespaces" or one, as a plain GET form (it keeps the range): the page is loaded anew,
/// with or without JavaScript.
#[component]
fn NamespaceChoice(
    range: Memo<String>,
    namespace: Memo<Option<String>>,
    namespaces: Resource<Result<NamespacePageDto, AppError>>,
) -> impl IntoView {
    view! {
        <form method="get" action="/dashboard" class="flex flex-wrap items-end gap-2" aria-label="Namespace shown">
            <input type="hidden" name="range" value=move || range.get() />
            <label class=LABEL>
                "Namespace"
                <Suspense fallback=move || view! { <NamespaceSelect namespace namespaces=Vec::new() /> }>
                    {move || Suspend::new(async move {
                        let known = namespaces.await.map(|page| page.namespaces).unwrap_or_default();
                        view! { <NamespaceSelect namespace namespaces=known /> }
                    })}
                </Suspense>
            </label>
            <button type="submit" class=BUTTON_SECONDARY>
                "Show"
            </button>
        </form>
    }
}

/// "All namespaces" and each namespace by title; the one shown is chosen.
#[component]
fn NamespaceSelect(namespace: Memo<Option<String>>, namespaces: Vec<NamespaceDto>) -> impl IntoView {
    view! {
        <select name="namespace" class=INPUT>
            <option value="" selected=move || namespace.get().is_none()>
                "All namespaces"
            </option>
            {namespaces
                .into_iter()
                .map(|ns| {
                    let id = ns.id.clone();
                    view! {
                        <option value=ns.id selected=move || namespace.get().as_deref() == Some(id.as_str())>
                            {ns.title}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

/// Everything the dashboard read, in sections.
#[component]
fn DashboardView(dashboard: DashboardDto, namespaces: Vec<NamespaceDto>) -> impl IntoView {
    let one = dashboard.namespace_id.clone();
    let scope = match &one {
        Some(id) => {
            let href = format!("/namespaces/{id}");
            view! {
                <p class="text-sm">
                    "Namespace "
                    <a class="font-medium text-indigo-700 hover:underline dark:text-indigo-300" href=href>
                        {namespace_title(id, &namespaces)}
                    </a> ", " {range_words(&dashboard.range)} "."
                </p>
            }
            .into_any()
        }
        None => {
            view! { <p class="text-sm">{format!("Every namespace, {}.", range_words(&dashboard.range))}</p> }.into_any()
        }
    };
    let health = dashboard.health.clone().map(|health| view! { <HealthPanel health namespaces=namespaces.clone() /> });
    let services = dashboard.services.clone().map(|services| {
        view! {
            <UsageTable
                heading="Busiest /v1/kv services"
                columns=SERVICE_COLUMNS
                rows=services
                empty="No /v1/kv service was used in this range."
            />
        }
    });
    let across = one.is_none().then(|| {
        view! {
            <BusiestNamespaces rows=dashboard.top_namespaces.clone() />
            <LargestNamespaces rows=dashboard.largest.clone() range=dashboard.range.clone() />
        }
    });
    view! {
        {scope}
        <TotalsList dashboard=dashboard.clone() />
        {health}
        <div class="grid gap-4 lg:grid-cols-2">
            <OpsChart dashboard=dashboard.clone() id="ops" />
            <LatencyChart dashboard=dashboard.clone() />
            <StorageCharts dashboard=dashboard.clone() />
        </div>
        {across}
        <div class="grid gap-4 lg:grid-cols-2">
            {services}
            <UsageTable
                heading="Operations per surface"
                columns=SURFACE_COLUMNS
                rows=dashboard.surfaces
                empty="No operations in this range."
            />
        </div>
    }
}
