//! `/jobs`: the job history with filters (kept in the URL), cursor paging, and the chosen job's
//! details and timeline.

use leptos::prelude::*;

use crate::components::filters::{filter_input, filter_select};
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::components::cursor_list::{CursorPages, LoadMore};
use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::field_error::{FormError, run_submit};
use crate::components::job_progress::{FailureList, is_final, job_label};
use crate::components::modal::{BUTTON, BUTTON_SECONDARY};
use crate::components::text::MUTED;
use crate::components::viewer::can_write;
use crate::dto::{JobDto, JobEventDto, JobPageDto};
use crate::error::AppError;
use crate::format;
use crate::pages::with_query;
use crate::serverfns::jobs::{cancel_job, get_job, job_events, list_jobs, resume_job};
use crate::serverfns::namespaces::list_namespaces;

const PAGE_SIZE: u32 = 50;
const STATUSES: [&str; 6] = ["queued", "running", "completed", "failed", "cancelled", "interrupted"];
const TYPES: [&str; 7] = ["bulk_delete", "bulk_copy", "bulk_move", "bulk_ttl", "bulk_tag", "export", "import"];

/// The history's filters as the URL holds them.
#[derive(Clone, Debug, Default, PartialEq)]
struct Filters {
    status: String,
    job_type: String,
    namespace: String,
    /// `YYYY-MM-DDTHH:MM`, UTC.
    from: String,
    to: String,
    user: String,
    errors: bool,
    /// "" (newest first) or "oldest".
    sort: String,
}

impl Filters {
    fn url(&self, job: Option<&str>) -> String {
        with_query(
            "/jobs",
            &[
                ("status", &self.status),
                ("type", &self.job_type),
                ("ns", &self.namespace),
                ("from", &self.from),
                ("to", &self.to),
                ("user", &self.user),
                ("errors", if self.errors { "1" } else { "" }),
                ("sort", &self.sort),
                ("job", job.unwrap_or_default()),
            ],
        )
    }

    async fn load(self, cursor: Option<String>) -> Result<JobPageDto, AppError> {
        let time = |text: &str, field: &str| -> Result<Option<i64>, AppError> {
            if text.is_empty() {
                return Ok(None);
            }
            format::parse_datetime_local(text)
                .map(Some)
                .ok_or_else(|| AppError::invalid(field, format!("{field}: enter a date and time")))
        };
        let text = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        list_jobs(
            text(&self.status),
            text(&self.job_type),
            text(&self.namespace),
            time(&self.from, "from")?,
            time(&self.to, "to")?,
            text(&self.user),
            self.errors.then_some(1),
            Some(if self.sort == "oldest" { "oldest" } else { "newest" }.to_owned()),
            Some(PAGE_SIZE),
            cursor,
        )
        .await
    }
}

#[component]
pub fn JobsPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let q = query.read();
        Filters {
            status: q.get("status").unwrap_or_default(),
            job_type: q.get("type").unwrap_or_default(),
            namespace: q.get("ns").unwrap_or_default(),
            from: q.get("from").unwrap_or_default(),
            to: q.get("to").unwrap_or_default(),
            user: q.get("user").unwrap_or_default(),
            errors: q.get("errors").is_some_and(|e| e == "1"),
            sort: q.get("sort").unwrap_or_default(),
        }
    });
    let selected = Memo::new(move |_| query.read().get("job").filter(|j| !j.is_empty()));
    let reload = RwSignal::new(0u32);
    let first_page = Resource::new(move || (filters.get(), reload.get()), |(f, _)| f.load(None));
    let namespaces = Resource::new(|| (), |_| list_namespaces(Some(1), Some(1000), None));
    let navigate = use_navigate();
    let apply = move |change: Box<dyn FnOnce(&mut Filters)>| {
        let mut next = filters.get_untracked();
        change(&mut next);
        navigate(&next.url(None), NavigateOptions { replace: true, scroll: false, ..Default::default() });
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
    let status_options: Vec<(String, String)> = std::iter::once(("".to_owned(), "Any status".to_owned()))
        .chain(STATUSES.iter().map(|s| (s.to_string(), s.to_string())))
        .collect();
    let type_options: Vec<(String, String)> = std::iter::once(("".to_owned(), "Any type".to_owned()))
        .chain(TYPES.iter().map(|t| (t.to_string(), job_label(t).to_owned())))
        .collect();
    let sort_options =
        vec![("".to_owned(), "Newest first".to_owned()), ("oldest".to_owned(), "Oldest first".to_owned())];
    let select_ns = select.clone();
    let apply_errors = apply.clone();
    let on_changed = Callback::new(move |_: ()| reload.update(|n| *n += 1));
    view! {
        <section class="space-y-4">
            <h1 class="text-2xl font-semibold">"Jobs"</h1>
            <form class="grid gap-3 sm:grid-cols-3 lg:grid-cols-4" role="search" aria-label="Filter jobs" on:submit=|ev| ev.prevent_default()>
                {select("Status", status_options, |f| f.status.clone(), |f, v| f.status = v)}
                {select("Type", type_options, |f| f.job_type.clone(), |f, v| f.job_type = v)}
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
                {field("From (UTC)", "datetime-local", |f| f.from.clone(), |f, v| f.from = v)}
                {field("To (UTC)", "datetime-local", |f| f.to.clone(), |f, v| f.to = v)}
                {field("User", "text", |f| f.user.clone(), |f, v| f.user = v)}
                {select("Sort", sort_options, |f| f.sort.clone(), |f, v| f.sort = v)}
                <label class="flex items-center gap-2 self-end text-sm font-medium">
                    <input
                        type="checkbox"
                        prop:checked=move || filters.get().errors
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            apply_errors(Box::new(move |f| f.errors = on));
                        }
                    />
                    "Has errors"
                </label>
            </form>
            {move || {
                selected
                    .get()
                    .map(|id| view! { <JobDetail job_id=id filters on_changed /> })
            }}
            <Transition fallback=|| view! { <p>"Loading jobs…"</p> }>
                {move || Suspend::new(async move {
                    let titles: Vec<(String, String)> = namespaces
                        .await
                        .map(|p| p.namespaces.into_iter().map(|n| (n.id, n.title)).collect())
                        .unwrap_or_default();
                    match first_page.await {
                        Ok(first) => view! { <JobTable first filters titles selected /> }.into_any(),
                        Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

const JOB_COLUMNS: &[Column] = &[
    Column::new("Type"),
    Column::new("Namespace"),
    Column::new("Status"),
    Column::new("Progress"),
    Column::new("Created"),
    Column::new("User"),
    Column::right("Errors"),
];

#[component]
fn JobTable(
    first: JobPageDto,
    filters: Memo<Filters>,
    titles: Vec<(String, String)>,
    selected: Memo<Option<String>>,
) -> impl IntoView {
    let empty = first.jobs.is_empty();
    let pages = CursorPages::new(first);
    let load = move |cursor| filters.get_untracked().load(cursor);
    let titles = StoredValue::new(titles);
    let row = move |job: JobDto| view! { <JobRow job titles=titles.get_value() filters selected /> };
    view! {
        <Show when=move || empty>
            <EmptyNote>"No jobs match. Bulk actions, imports and exports show up here."</EmptyNote>
        </Show>
        <DataTable label="Jobs" columns=JOB_COLUMNS>
            {pages.rows(row)}
        </DataTable>
        <LoadMore pages load />
    }
}

#[component]
fn JobRow(
    job: JobDto,
    titles: Vec<(String, String)>,
    filters: Memo<Filters>,
    selected: Memo<Option<String>>,
) -> impl IntoView {
    let namespace = titles
        .iter()
        .find(|(id, _)| *id == job.namespace_id)
        .map(|(_, t)| t.clone())
        .unwrap_or(job.namespace_id.clone());
    let href = filters.get_untracked().url(Some(&job.id));
    let id = job.id.clone();
    view! {
        <tr
            class="border-t border-slate-200 dark:border-slate-800"
            class=("bg-indigo-50", move || selected.get().as_deref() == Some(id.as_str()))
            class=("dark:bg-indigo-950", move || selected.get().is_some())
            data-job=job.id.clone()
        >
            <td class="p-2">
                <A href=href attr:class="text-indigo-700 hover:underline dark:text-indigo-300">
                    {job_label(&job.job_type)}
                </A>
            </td>
            <td class="p-2 break-all">{namespace}</td>
            <td class="p-2">{job.status.clone()}</td>
            <td class="p-2 tabular-nums whitespace-nowrap">{format!("{:.0}% ({} / {})", job.percentage.floor(), job.processed, job.total)}</td>
            <td class="p-2 whitespace-nowrap">{format::utc(job.created_at)}</td>
            <td class="p-2">{job.created_by.clone()}</td>
            <td class="p-2 text-right tabular-nums">{job.errors}</td>
        </tr>
    }
}

/// One job's counts, failures and timeline; "Cancel" for its creator and viewers who may write,
/// "Resume" for the latter.
#[component]
fn JobDetail(job_id: String, filters: Memo<Filters>, on_changed: Callback<()>) -> impl IntoView {
    let writer = can_write();
    let revision = RwSignal::new(0u32);
    let id = job_id.clone();
    let loaded = Resource::new(
        move || revision.get(),
        move |_| {
            let id = id.clone();
            async move {
                let job = get_job(id.clone()).await?;
                let events = job_events(id).await?;
                Ok::<_, AppError>((job, events))
            }
        },
    );
    let error = RwSignal::new(None::<AppError>);
    let pending = RwSignal::new(false);
    let done = move || {
        revision.update(|r| *r += 1);
        on_changed.run(());
    };
    let close = filters.get_untracked().url(None);
    view! {
        <section class="space-y-3 rounded-md border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900" aria-label="Job details">
            <div class="flex flex-wrap items-center gap-2">
                <h2 class="text-lg font-semibold">"Job details"</h2>
                <span class=format!("font-mono text-xs {MUTED} break-all")>{job_id.clone()}</span>
                <button type="button" class=format!("{BUTTON_SECONDARY} ml-auto") on:click=move |_| revision.update(|r| *r += 1)>
                    "Refresh"
                </button>
                <A href=close attr:class=BUTTON_SECONDARY>"Close details"</A>
            </div>
            <FormError error fields=&[] />
            <Transition fallback=|| view! { <p>"Loading the job…"</p> }>
                {move || Suspend::new(async move {
                    match loaded.await {
                        Ok((job, events)) => {
                            let id = job.id.clone();
                            let (cancel_id, resume_id) = (id.clone(), id.clone());
                            // Anyone may stop their own job (a reader's export, say); resuming writes.
                            let own = job.created_by == crate::components::viewer::use_viewer().user;
                            let running = (writer || own) && !is_final(&job.status);
                            let interrupted = writer && job.status == "interrupted";
                            let download = (job.job_type == "export" && job.status == "completed")
                                .then(|| job.result.as_ref().and_then(|r| r.get("download_url")).and_then(|u| u.as_str()).map(str::to_owned))
                                .flatten();
                            let count = |label: &'static str, value: String| view! {
                                <div class="rounded-md bg-slate-100 p-2 dark:bg-slate-800">
                                    <dt class="text-xs text-slate-600 dark:text-slate-300">{label}</dt>
                                    <dd class="tabular-nums">{value}</dd>
                                </div>
                            };
                            let failures = Signal::derive({
                                let job = job.clone();
                                move || Some(job.clone())
                            });
                            view! {
                                <dl class="grid grid-cols-2 gap-2 text-sm sm:grid-cols-4">
                                    {count("Type", job_label(&job.job_type).to_owned())}
                                    {count("Status", job.status.clone())}
                                    {count("Progress", format!("{:.0}%", job.percentage.floor()))}
                                    {count("Total", job.total.to_string())}
                                    {count("Processed", job.processed.to_string())}
                                    {count("Skipped", job.skipped.to_string())}
                                    {count("Errors", job.errors.to_string())}
                                    {count("User", job.created_by.clone())}
                                </dl>
                                {job.error_message.clone().map(|m| view! {
                                    <p role="alert" class="rounded-md bg-red-50 p-2 text-sm text-red-700 dark:bg-red-950 dark:text-red-300">{m}</p>
                                })}
                                <div class="text-sm"><FailureList job=failures /></div>
                                <div class="flex flex-wrap gap-2">
                                    <Show when=move || running>
                                        <button
                                            type="button"
                                            class=BUTTON_SECONDARY
                                            disabled=move || pending.get()
                                            on:click={
                                                let cancel_id = cancel_id.clone();
                                                move |_| run_submit(pending, error, cancel_job(cancel_id.clone()), move |_| done())
                                            }
                                        >
                                            "Cancel"
                                        </button>
                                    </Show>
                                    <Show when=move || interrupted>
                                        <button
                                            type="button"
                                            class=BUTTON
                                            disabled=move || pending.get()
                                            on:click={
                                                let resume_id = resume_id.clone();
                                                move |_| run_submit(pending, error, resume_job(resume_id.clone()), move |_| done())
                                            }
                                        >
                                            "Resume"
                                        </button>
                                    </Show>
                                    {download.map(|href| view! { <a class=BUTTON href=href download="">"Download"</a> })}
                                </div>
                                <Timeline events />
                            }
                                .into_any()
                        }
                        Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// A job's events, oldest first, with relative and UTC times.
#[component]
fn Timeline(events: Vec<JobEventDto>) -> impl IntoView {
    let now = format::now_unix();
    view! {
        <div>
            <h3 class="font-medium">"Timeline"</h3>
            <ol class="mt-2 space-y-2 border-l border-slate-300 pl-4 text-sm dark:border-slate-700" aria-label="Timeline">
                {events
                    .into_iter()
                    .map(|e| {
                        let reason = e.details.get("reason").and_then(|r| r.as_str()).map(str::to_owned);
                        let details = describe(&e);
                        view! {
                            <li data-event=e.event.clone()>
                                <span class="font-medium">{e.event.clone()}</span>
                                " · "
                                <time title=format::utc_seconds(e.created_at)>{format::ago(e.created_at, now)}</time>
                                " · "
                                <span class=MUTED>{format::utc_seconds(e.created_at)}</span>
                                {details.map(|d| view! { <div class=format!("text-xs {MUTED}")>{d}</div> })}
                                {reason.map(|r| view! { <div class="text-xs text-red-700 dark:text-red-400">{format!("Reason: {r}")}</div> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </div>
    }
}

/// The counts an event carries, in words.
fn describe(e: &JobEventDto) -> Option<String> {
    let d = &e.details;
    let n = |k: &str| d.get(k).and_then(|v| v.as_u64());
    let mut parts = Vec::new();
    if let Some(by) = d.get("by").and_then(|v| v.as_str()) {
        parts.push(format!("by {by}"));
    }
    if let (Some(p), Some(t)) = (n("processed"), n("total")) {
        parts.push(format!("{p} of {t} processed"));
    }
    if let Some(s) = n("skipped").filter(|s| *s > 0) {
        parts.push(format!("{s} skipped"));
    }
    if let Some(s) = n("errors").filter(|s| *s > 0) {
        parts.push(format!("{s} errors"));
    }
    if let Some(r) = n("resumed_from").filter(|r| *r > 0) {
        parts.push(format!("resumed after {r}"));
    }
    if let Some(w) = d.get("while").and_then(|v| v.as_str()) {
        parts.push(format!("while {w}"));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}
