//! `/audit`: the audit log with filters (kept in the URL), cursor paging, each entry's details,
//! and a CSV export of what the filters match.

use leptos::prelude::*;

use crate::components::filters::{filter_input, filter_select};
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::components::field_error::{FormError, run_submit};
use crate::components::modal::BUTTON_SECONDARY;
use crate::dto::{AuditEntryDto, AuditPageDto};
use crate::error::AppError;
use crate::format;
use crate::pages::with_query;
use crate::serverfns::audit::list_audit;
use crate::serverfns::namespaces::list_namespaces;

const PAGE_SIZE: u32 = 100;
const OPERATIONS: [&str; 20] = [
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
];
const SOURCES: [&str; 6] = ["console", "script", "cf-api", "kevi", "cli", "job"];

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
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let q = query.read();
        Filters {
            namespace: q.get("namespace").unwrap_or_default(),
            user: q.get("user").unwrap_or_default(),
            operation: q.get("operation").unwrap_or_default(),
            source: q.get("source").unwrap_or_default(),
            prefix: q.get("prefix").unwrap_or_default(),
            from: q.get("from").unwrap_or_default(),
            to: q.get("to").unwrap_or_default(),
        }
    });
    let first_page = Resource::new(move || filters.get(), |f| f.load(None));
    let more_pages = RwSignal::new(Vec::<AuditPageDto>::new());
    Effect::watch(move || filters.get(), move |_, _, _| more_pages.set(Vec::new()), false);
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
                            let options: Vec<(String, String)> = std::iter::once(("".to_owned(), "Any namespace".to_owned()))
                                .chain(namespaces.await.map(|p| p.namespaces).unwrap_or_default().into_iter().map(|n| (n.id, n.title)))
                                .collect();
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
            <p class="text-xs text-slate-500 dark:text-slate-400">"Dates are UTC; “To” includes the whole day."</p>
            <Transition fallback=|| view! { <p>"Loading the audit log…"</p> }>
                {move || Suspend::new(async move {
                    match first_page.await {
                        Ok(first) => view! { <AuditTable first more_pages filters /> }.into_any(),
                        Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AuditTable(first: AuditPageDto, more_pages: RwSignal<Vec<AuditPageDto>>, filters: Memo<Filters>) -> impl IntoView {
    let first_cursor = first.cursor.clone();
    let next_cursor = move || more_pages.with(|p| p.last().map(|p| p.cursor.clone()).unwrap_or(first_cursor.clone()));
    let empty = first.entries.is_empty();
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let next = next_cursor.clone();
    let load_more = move |_| {
        let call = filters.get_untracked().load(next());
        run_submit(loading, error, call, move |page| more_pages.update(|p| p.push(page)));
    };
    let now = format::now_unix();
    let row = move |entry: AuditEntryDto| view! { <AuditRow entry now /> };
    view! {
        <Show when=move || empty>
            <p class="rounded-md border border-dashed border-slate-300 p-6 text-center dark:border-slate-700">
                "No entries match. Every change to namespaces and keys shows up here."
            </p>
        </Show>
        <div class="overflow-x-auto rounded-md border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <table class="w-full text-left text-sm" aria-label="Audit entries">
                <thead class="bg-slate-100 dark:bg-slate-800">
                    <tr>
                        <th scope="col" class="p-2">"Time"</th>
                        <th scope="col" class="p-2">"User"</th>
                        <th scope="col" class="p-2">"Source"</th>
                        <th scope="col" class="p-2">"Operation"</th>
                        <th scope="col" class="p-2">"Namespace"</th>
                        <th scope="col" class="p-2">"Key"</th>
                        <th scope="col" class="p-2"><span class="sr-only">"Details"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {first.entries.into_iter().map(row).collect_view()}
                    {move || more_pages.get().into_iter().flat_map(|p| p.entries).map(row).collect_view()}
                </tbody>
            </table>
        </div>
        <div class="flex items-center gap-3 text-sm">
            <Show when=move || next_cursor().is_some()>
                <button type="button" class=BUTTON_SECONDARY disabled=move || loading.get() on:click=load_more.clone()>
                    "Load more"
                </button>
            </Show>
            <FormError error fields=&[] />
        </div>
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
                <div class="text-xs text-slate-500 dark:text-slate-400">{format::ago(entry.at, now)}</div>
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
                <p class="mt-1 text-xs text-slate-500 dark:text-slate-400">"Request id: " <span class="font-mono">{request_id}</span></p>
            </td>
        </tr>
    }
}
