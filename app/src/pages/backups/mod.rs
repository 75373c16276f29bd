//! `/backups`: "Back up now" for a namespace (or the keys with a prefix), the backups of the
//! chosen target, and "Restore…" on each complete one: a preview first, then the restore as a
//! job, with a link to the namespace restored into once it ends. Below them, the backup plans
//! (scheduled backups, for admins).

mod plans;
mod restore;
mod start;
mod table;

use leptos::prelude::*;

use crate::components::header::jobs_notifier;
use crate::components::job_progress::{WatchedJob, job_progress};
use crate::components::modal::{INPUT, LABEL};
use crate::components::viewer::can_write;
use crate::dto::{BackupDto, JobDto, NamespaceDto, NamespacePageDto};
use crate::error::AppError;
use crate::serverfns::backups::list_backups;
use crate::serverfns::namespaces::list_namespaces;
use plans::BackupPlans;
use restore::RestoreDialog;
use start::BackupNowForm;
use table::BackupTable;

/// The target every backup goes to unless another is chosen.
const LOCAL: &str = "local";

/// A restore that ended: where it wrote, and how it ended.
#[derive(Clone, Debug, PartialEq)]
struct Restored {
    namespace_id: String,
    title: String,
    status: String,
}

#[component]
pub fn BackupsPage() -> impl IntoView {
    let writer = can_write();
    let target = RwSignal::new(LOCAL.to_owned());
    let namespaces = Resource::new(|| (), |_| list_namespaces(Some(1), Some(1000), None));
    let backups = Resource::new(move || target.get(), |target| list_backups(Some(target)));
    let restoring = RwSignal::new(None::<BackupDto>);
    let restored = RwSignal::new(None::<Restored>);
    let watching = RwSignal::new(None::<WatchedJob>);
    let jobs_changed = jobs_notifier();
    let on_started = Callback::new(move |job: WatchedJob| {
        restored.set(None);
        watching.set(Some(job));
        jobs_changed();
    });
    // A backup that ends is listed; a restore that ends links to its namespace.
    let on_finished = Callback::new(move |job: JobDto| {
        match job.job_type.as_str() {
            "backup" => backups.refetch(),
            "restore" => {
                let title =
                    watching.with_untracked(|w| w.as_ref().filter(|w| w.job_id == job.id).map(|w| w.namespace.clone()));
                let title = title.unwrap_or_else(|| job.namespace_id.clone());
                restored.set(Some(Restored { namespace_id: job.namespace_id.clone(), title, status: job.status }));
                namespaces.refetch();
            }
            _ => {}
        }
        jobs_changed();
    });
    view! {
        <section class="space-y-4">
            <h1 class="text-2xl font-semibold">"Backups"</h1>
            <BackupNowForm namespaces target on_started />
            <RestoredNote restored />
            <Transition fallback=|| view! { <p>"Loading backups…"</p> }>
                {move || Suspend::new(async move {
                    match backups.await {
                        Ok(list) => view! { <BackupTable list writer restoring /> }.into_any(),
                        Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
            <BackupPlans namespaces on_started />
            <PageDialogs namespaces target restoring watching on_started on_finished />
        </section>
    }
}

/// The restore dialog (for the backup chosen) and the progress of the last job started here,
/// rendered in the browser only.
#[component]
fn PageDialogs(
    namespaces: Resource<Result<NamespacePageDto, AppError>>,
    target: RwSignal<String>,
    restoring: RwSignal<Option<BackupDto>>,
    watching: RwSignal<Option<WatchedJob>>,
    on_started: Callback<WatchedJob>,
    on_finished: Callback<JobDto>,
) -> impl IntoView {
    let in_browser = RwSignal::new(false);
    Effect::new(move |_| in_browser.set(true));
    let on_dismiss = Callback::new(move |id: String| {
        if watching.with_untracked(|w| w.as_ref().is_some_and(|j| j.job_id == id)) {
            watching.set(None);
        }
    });
    let on_close = Callback::new(move |_| restoring.set(None));
    view! {
        {move || {
            restoring
                .get()
                .filter(|_| in_browser.get())
                .map(|backup| {
                    let list = namespaces.get_untracked().and_then(Result::ok).map(|p| p.namespaces).unwrap_or_default();
                    let target = target.get_untracked();
                    view! { <RestoreDialog backup target namespaces=list on_close on_started /> }
                })
        }}
        {move || {
            watching
                .get()
                .filter(|_| in_browser.get())
                .map(|job| {
                    view! { <Suspense fallback=|| ()>{Suspend::new(job_progress(job, on_finished, on_dismiss))}</Suspense> }
                })
        }}
    }
}

/// Where the last restore started here wrote, once it has ended.
#[component]
fn RestoredNote(restored: RwSignal<Option<Restored>>) -> impl IntoView {
    view! {
        <div role="status" data-testid="restore-outcome">
            {move || {
                restored
                    .get()
                    .map(|r| {
                        let outcome = if r.status == "completed" {
                            "Restore completed into".to_owned()
                        } else {
                            format!("Restore {} (some keys may be written) into", r.status)
                        };
                        view! {
                            <p class="rounded-md border border-slate-200 bg-white p-3 text-sm dark:border-slate-800 dark:bg-slate-900">
                                {outcome} " "
                                <a class="font-medium text-indigo-700 underline dark:text-indigo-300" href=format!("/namespaces/{}", r.namespace_id)>
                                    {r.title}
                                </a>
                            </p>
                        }
                    })
            }}
        </div>
    }
}

/// A select of namespaces by title, bound to `value` (an id; empty: none chosen yet).
#[component]
fn NamespaceSelect(
    label: &'static str,
    value: RwSignal<String>,
    namespaces: Vec<NamespaceDto>,
    /// Classes of the label around it.
    #[prop(default = LABEL)]
    class: &'static str,
) -> impl IntoView {
    view! {
        <label class=class>
            {label}
            <select class=INPUT required aria-label=label on:change=move |ev| value.set(event_target_value(&ev))>
                <option value="" selected=move || value.with(String::is_empty)>
                    "Choose a namespace"
                </option>
                {namespaces
                    .into_iter()
                    .map(|n| {
                        let id = n.id.clone();
                        view! {
                            <option value=n.id selected=move || value.with(|v| *v == id)>
                                {n.title}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}
