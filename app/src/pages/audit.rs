//! `/audit`: the audit log with filters (kept in the URL), cursor paging, each entry's details,
//! and a CSV export of what the filters match.

use leptos::prelude::*;

use crate::components::filters::{filter_input, filter_select, namespace_options};
use leptos::Params;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query};
use leptos_router::params::Params;

use crate::components::cursor_list::{CursorPages, LoadMore};
use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::modal::BUTTON_SECONDARY;
use crate::components::text::{Hint, MUTED};
use crate::dto::{AuditEntryDto, AuditPageDto};
use crate::error::AppError;
use crate::format;
use crate::pages::with_query;
use crate::serverfns::audit::list_audit;
use crate::serverfns::namespaces::list_namespaces;

const PAGE_SIZE: u32 = 100;
const OPERATIONS: [&str; 26] = [
    "namespace.create",
    "namespace.rename",
    "namespace.delete",
    "key.create",
    "key.update",
    "key.delete",
    "key.restore",
    "key.details",
    "key.tags",
    "key.ttl",
    "keys.put",
    "keys.delete",
    "keys.tags",
    "keys.ttl",
    "job.start",
    "job.completed",
    "job.failed",
    "job.cancelled",
    "token.create",
    "token.revoke",
    "backup_plan.create",
    "backup_plan.update",
    "backup_plan.pause",
    "backup_plan.resume",
    "backup_plan.run",
    "backup_plan.delete",
];
const SOURCES: [&str; 6] = ["console", "script", "cf-api", "kevi", "cli", "job"];

/// The address's query.
#[derive(Params, Clone, Debug, PartialEq)]
struct AuditQuery {
    namespace: Option<String>,
    user: Option<String>,
    operation: Option<String>,
    source: Option<String>,
    prefix: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl From<&AuditQuery> for Filters {
    fn from(q: &AuditQuery) -> Self {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        Self {
            namespace: text(&q.namespace),
            user: text(&q.user),
            operation: text(&q.operation),
            source: text(&q.source),
            prefix: text(&q.prefix),
            from: text(&q.from),
            to: text(&q.to),
        }
    }
}

/// The log's filters as the URL holds them.
#[derive(Clone, Debug, Default, PartialEq)]
struct Filters {
    namespace: String,
    user: String,
    operation: String,
    source: String,
    prefix: String,
    /// `YYYY-MM-DD`, UTC; the first day shown.
    from: String,
    /// `YYYY-MM-DD`, UTC; the last day shown (inclusive).
    to: String,
}

impl Filters {
    fn url(&self) -> String {
        with_query(
            "/audit",
            &[
                ("namespace", &self.namespace),
                ("user", &self.user),
                ("operation", &self.operation),
                ("source", &self.source),
                ("prefix", &self.prefix),
                ("from", &self.from),
                ("to", &self.to),
            ],
        )
    }

    /// The date range as unix seconds: `from` at the start of its day, `to` at the end of its.
    fn range(&self) -> Result<(Option<i64>, Option<i64>), AppError> {
        let day = |text: &str, field: &str, end: bool| -> Result<Option<i64>, AppError> {
            if text.is_empty() {
                return Ok(None);
            }
            format::parse_datetime_local(&format!("{}T00:00", text.trim()))
                .map(|start| Some(if end { start + 86_399 } else { start }))
                .ok_or_else(|| AppError::invalid(field, format!("{field}: enter a date")))
        };
        Ok((day(&self.from, "from", false)?, day(&self.to, "to", true)?))
    }

    /// `/api/audit.csv` with the same filters.
    fn csv_url(&self) -> String {
        let (from, to) = self.range().unwrap_or_default();
        let (from, to) =
            (from.map(|f| f.to_string()).unwrap_or_default(), to.map(|t| t.to_string()).unwrap_or_default());
        with_query(
            "/api/audit.csv",
            &[
                ("namespace_ids", &self.namespace),
                ("users", &self.user),
                ("operations", &self.operation),
                ("sources", &self.source),
                ("key_prefix", &self.prefix),
                ("from", &from),
                ("to", &to),
            ],
        )
    }

    async fn load(self, cursor: Option<String>) -> Result<AuditPageDto, AppError> {
        let (from, to) = self.range()?;
        let list = |s: &str| Some(vec![s.to_owned()]).filter(|_| !s.is_empty());
        list_audit(
            list(&self.namespace),
            list(&self.user),
            list(&self.operation),
            list(&self.source),
            Some(self.prefix.clone()).filter(|p| !p.is_empty()),
            from,
            to,
            Some(PAGE_SIZE),
            cursor,
        )
        .await
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query::<AuditQuery>();
    let filters = Memo::new(move |_| query.read().as_ref().map(Filters::from).unwrap_or_default());
    let first_page = Resource::new(move || filters.get(), |f| f.load(None));
    let namespaces = Resource::new(|| (), |_| list_namespaces(Some(1), Some(1000), None));
    let navigate = use_navigate();
    let apply = move |change: Box<dyn FnOnce(&mut Filters)>| {
        let mut next = filters.get_untracked();
        change(&mut next);
        navigate(&next.url(), NavigateOptions { replace: true, scroll: false, ..Default::default() });
    };
    let select = {
        let apply = apply.clone();
        move |label: &'static str,
              options: Vec<(String, String)>,
              get: fn(&Filters) -> String,
              set: fn(&mut Filters, String)| { filter_select(filters, apply.clone(), label, options, get, set) }
    };
    let field = {
        let apply = apply.clone();
        move |label: &'static str, kind: &'static str, get: fn(&Filters) -> String, set: fn(&mut Filters, String)| {
            filter_input(filters, apply.clone(), label, kind, get, set)
        }
    };
    let any = |text: &str| ("".to_owned(), text.to_owned());
    let operation_options: Vec<(String, String)> = std::iter::once(any("Any operation"))
        .chain(OPERATIONS.iter().map(|o| (o.to_string(), o.to_string())))
        .collect();
    let source_options: Vec<(String, String)> =
        std::iter::once(any("Any source")).chain(SOURCES.iter().map(|s| (s.to_string(), s.to_string()))).collect();
    let select_ns = select.clone();
    view! {
        <section class="space-y-4">
            <div class="flex flex-wrap items-center gap-3">
                <h1 class="text-2xl font-semibold">"Audit log"</h1>
                <a class=format!("{BUTTON_SECONDARY} ml-auto") href=move || filters.get().csv_url() download="audit.csv">
                    "Export CSV"
                </a>
            </div>
            <form class="grid gap-3 sm:grid-cols-3 lg:grid-cols-4" role="search" aria-label="Filter the audit log" on:submit=|ev| ev.prevent_default()>
                <Suspense fallback=|| ()>
                    {move || {
                        let select_ns = select_ns.clone();
                        Suspend::new(async move {
                            let options = namespace_options(namespaces.await);
                            select_ns("Namespace", options, |f| f.namespace.clone(), |f, v| f.namespace = v)
                        })
                    }}
                </Suspense>
                {field("User", "text", |f| f.user.clone(), |f, v| f.user = v)}
                {select("Operation", operation_options, |f| f.operation.clone(), |f, v| f.operation = v)}
                {select("Source", source_options, |f| f.source.clone(), |f, v| f.source = v)}
                {field("Key prefix", "text", |f| f.prefix.clone(), |f, v| f.prefix = v)}
                {field("From", "date", |f| f.from.clone(), |f, v| f.from = v)}
                {field("To", "date", |f| f.to.clone(), |f, v| f.to = v)}
            </form>
            <Hint>"Dates are UTC; “To” includes the whole day."</Hint>
            <Transition fallback=|| view! { <p>"Loading the audit log…"</p> }>
                {move || Suspend::new(async move {
                    match first_page.await {
                        Ok(first) => view! { <AuditTable first filters /> }.into_any(),
                        Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

const AUDIT_COLUMNS: &[Column] = &[
    Column::new("Time"),
    Column::new("User"),
    Column::new("Source"),
    Column::new("Operation"),
    Column::new("Namespace"),
    Column::new("Key"),
    Column::hidden("Details"),
];

#[component]
fn AuditTable(first: AuditPageDto, filters: Memo<Filters>) -> impl IntoView {
    let empty = first.entries.is_empty();
    let pages = CursorPages::new(first);
    let load = move |cursor| filters.get_untracked().load(cursor);
    let now = format::now_unix();
    view! {
        <Show when=move || empty>
            <EmptyNote>"No entries match. Every change to namespaces and keys shows up here."</EmptyNote>
        </Show>
        <DataTable label="Audit entries" columns=AUDIT_COLUMNS>
            {pages.rows(move |entry: AuditEntryDto| view! { <AuditRow entry now /> })}
        </DataTable>
        <LoadMore pages load />
    }
}

/// One entry, and under it (once expanded) its details JSON and request id.
#[component]
fn AuditRow(entry: AuditEntryDto, now: i64) -> impl IntoView {
    let open = RwSignal::new(false);
    let details_id = format!("audit-details-{}", entry.id);
    let details = serde_json::to_string_pretty(&entry.details).unwrap_or_default();
    let request_id = entry.request_id.clone().unwrap_or_else(|| "—".to_owned());
    let namespace = entry.namespace_title.clone().or(entry.namespace_id.clone()).unwrap_or_default();
    view! {
        <tr class="border-t border-slate-200 dark:border-slate-800" data-audit=entry.id.to_string()>
            <td class="p-2 whitespace-nowrap">
                <time title=format::utc_seconds(entry.at)>{format::utc_seconds(entry.at)}</time>
                <div class=format!("text-xs {MUTED}")>{format::ago(entry.at, now)}</div>
            </td>
            <td class="p-2 break-all">{entry.user.clone()}</td>
            <td class="p-2">{entry.source.clone()}</td>
            <td class="p-2 font-mono text-xs">{entry.operation.clone()}</td>
            <td class="p-2 break-all">{namespace}</td>
            <td class="p-2 font-mono text-xs break-all">{entry.key.clone().unwrap_or_default()}</td>
            <td class="p-2 text-right">
                <button
                    type="button"
                    class=BUTTON_SECONDARY
                    aria-expanded=move || if open.get() { "true" } else { "false" }
                    aria-controls=details_id.clone()
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    "Details"
                </button>
            </td>
        </tr>
        <tr id=details_id class="bg-slate-50 dark:bg-slate-950" hidden=move || !open.get()>
            <td colspan="7" class="p-2">
                <pre class="overflow-x-auto rounded-md bg-slate-100 p-2 font-mono text-xs dark:bg-slate-800" aria-label="Details JSON">{details}</pre>
                <p class=format!("mt-1 text-xs {MUTED}")>"Request id: " <span class="font-mono">{request_id}</span></p>
            </td>
        </tr>
    }
}
