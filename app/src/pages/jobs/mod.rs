//! `/jobs`: the job history with filters (kept in the URL), cursor paging, and the chosen job's
//! details and timeline.

mod detail;
mod table;
mod undo;

use leptos::Params;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query};
use leptos_router::params::Params;

use crate::components::filters::{filter_input, filter_select, namespace_options};
use crate::components::form_action::on_success;
use crate::components::job_progress::job_label;
use crate::dto::{JobPageDto, NamespacePageDto};
use crate::error::AppError;
use crate::format;
use crate::pages::with_query;
use crate::serverfns::jobs::{cancel_job, list_jobs, resume_job};
use crate::serverfns::namespaces::list_namespaces;
use detail::JobDetail;
use table::JobTable;

const PAGE_SIZE: u32 = 50;
const STATUSES: [&str; 6] = ["queued", "running", "completed", "failed", "cancelled", "interrupted"];
const TYPES: [&str; 11] = [
    "bulk_delete",
    "bulk_copy",
    "bulk_move",
    "bulk_ttl",
    "bulk_tag",
    "export",
    "import",
    "rewind",
    "backup",
    "restore",
    "undo",
];

/// The address's query: the filters and the job whose details are open.
#[derive(Params, Clone, Debug, PartialEq)]
struct JobsQuery {
    status: Option<String>,
    r#type: Option<String>,
    ns: Option<String>,
    from: Option<String>,
    to: Option<String>,
    user: Option<String>,
    errors: Option<String>,
    sort: Option<String>,
    job: Option<String>,
}

impl From<&JobsQuery> for Filters {
    fn from(q: &JobsQuery) -> Self {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        Self {
            status: text(&q.status),
            job_type: text(&q.r#type),
            namespace: text(&q.ns),
            from: text(&q.from),
            to: text(&q.to),
            user: text(&q.user),
            errors: q.errors.as_deref() == Some("1"),
            sort: text(&q.sort),
        }
    }
}

/// The history's filters as the URL holds them.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Filters {
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

/// What the details' buttons do to a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JobControl {
    Cancel,
    Resume,
}

/// Cancels or resumes a job.
type ControlAction = Action<(JobControl, String), Result<(), AppError>>;

#[component]
pub fn JobsPage() -> impl IntoView {
    let query = use_query::<JobsQuery>();
    let filters = Memo::new(move |_| query.read().as_ref().map(Filters::from).unwrap_or_default());
    let selected = Memo::new(move |_| query.read().as_ref().ok().and_then(|q| q.job.clone()).filter(|j| !j.is_empty()));
    let first_page = Resource::new(move || filters.get(), |f| f.load(None));
    let control: ControlAction = Action::new(|(op, id): &(JobControl, String)| {
        let (op, id) = (*op, id.clone());
        async move {
            match op {
                JobControl::Cancel => cancel_job(id).await.map(drop),
                JobControl::Resume => resume_job(id).await.map(drop),
            }
        }
    });
    // The list is read again once a job is cancelled or resumed.
    on_success(control, move |_| first_page.refetch());
    let namespaces = Resource::new(|| (), |_| list_namespaces(Some(1), Some(1000), None));
    view! {
        <section class="space-y-4">
            <h1 class="text-2xl font-semibold">"Jobs"</h1>
            <JobFilters filters namespaces />
            {move || {
                selected
                    .get()
                    .map(|id| view! { <JobDetail job_id=id filters control /> })
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

/// The filters; each change goes to the address.
#[component]
fn JobFilters(filters: Memo<Filters>, namespaces: Resource<Result<NamespacePageDto, AppError>>) -> impl IntoView {
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
    view! {
            <form class="grid gap-3 sm:grid-cols-3 lg:grid-cols-4" role="search" aria-label="Filter jobs" on:submit=|ev| ev.prevent_default()>
                {select("Status", status_options, |f| f.status.clone(), |f, v| f.status = v)}
                {select("Type", type_options, |f| f.job_type.clone(), |f, v| f.job_type = v)}
                <Suspense fallback=|| ()>
                    {move || {
                        let select_ns = select_ns.clone();
                        Suspend::new(async move {
                            let options = namespace_options(namespaces.await);
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
    }
}
