//! The chosen job: its counts, failures, timeline, and "Cancel", "Resume", "Download" or "Undo…".

use leptos::prelude::*;
use leptos_router::components::A;

use super::undo::{UndoDialog, undoable};
use super::{ControlAction, Filters, JobControl};
use crate::components::field_error::FormError;
use crate::components::form_action::form_error;
use crate::components::job_progress::{FailureList, is_final, job_label};
use crate::components::modal::{BUTTON, BUTTON_SECONDARY};
use crate::components::text::MUTED;
use crate::components::viewer::can_write;
use crate::dto::{JobDto, JobEventDto, JobStartedDto};
use crate::error::AppError;
use crate::format;
use crate::serverfns::jobs::{get_job, job_events};

/// One job's counts, failures and timeline; "Cancel" for its creator and viewers who may write,
/// "Resume" for the latter.
#[component]
pub(super) fn JobDetail(job_id: String, filters: Memo<Filters>, control: ControlAction) -> impl IntoView {
    let writer = can_write();
    let id = job_id.clone();
    // Read again after "Cancel" or "Resume" (the action's version), or on "Refresh".
    let loaded = Resource::new(
        move || control.version().get(),
        move |_| {
            let id = id.clone();
            async move {
                let job = get_job(id.clone()).await?;
                let events = job_events(id).await?;
                Ok::<_, AppError>((job, events))
            }
        },
    );
    let error = form_error(control, RwSignal::new(None));
    let close = filters.get_untracked().url(None);
    view! {
        <section class="space-y-3 rounded-md border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900" aria-label="Job details">
            <div class="flex flex-wrap items-center gap-2">
                <h2 class="text-lg font-semibold">"Job details"</h2>
                <span class=format!("font-mono text-xs {MUTED} break-all")>{job_id.clone()}</span>
                <button type="button" class=format!("{BUTTON_SECONDARY} ml-auto") on:click=move |_| loaded.refetch()>
                    "Refresh"
                </button>
                <A href=close attr:class=BUTTON_SECONDARY>"Close details"</A>
            </div>
            <FormError error fields=&[] />
            <Transition fallback=|| view! { <p>"Loading the job…"</p> }>
                {move || Suspend::new(async move {
                    match loaded.await {
                        Ok((job, events)) => view! { <JobSummary job events writer control filters /> }.into_any(),
                        Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// A loaded job: counts, its error, failing keys, the buttons that apply and its timeline.
#[component]
fn JobSummary(
    job: JobDto,
    events: Vec<JobEventDto>,
    writer: bool,
    control: ControlAction,
    filters: Memo<Filters>,
) -> impl IntoView {
    let pending = control.pending();
    let id = job.id.clone();
    let (cancel_id, resume_id) = (id.clone(), id.clone());
    // Anyone may stop their own job (a reader's export, say); resuming writes.
    let own = job.created_by == crate::components::viewer::use_viewer().user;
    let running = (writer || own) && !is_final(&job.status);
    let interrupted = writer && job.status == "interrupted";
    // Seen here, the job is the viewer's own or the viewer is an admin: both may undo it.
    let can_undo = writer && undoable(&job.job_type, &job.status);
    let undoing = RwSignal::new(false);
    let undo_id = StoredValue::new(id.clone());
    let navigate = leptos_router::hooks::use_navigate();
    // The undo's own job opens in its place.
    let undo_started = Callback::new(move |started: JobStartedDto| {
        navigate(&filters.get_untracked().url(Some(&started.job_id)), Default::default());
    });
    let download = (job.job_type == "export" && job.status == "completed")
        .then(|| job.result.as_ref().and_then(|r| r.get("download_url")).and_then(|u| u.as_str()).map(str::to_owned))
        .flatten();
    let count = |label: &'static str, value: String| {
        view! {
            <div class="rounded-md bg-slate-100 p-2 dark:bg-slate-800">
                <dt class="text-xs text-slate-600 dark:text-slate-300">{label}</dt>
                <dd class="tabular-nums">{value}</dd>
            </div>
        }
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
                        move |_| {
                            control.dispatch((JobControl::Cancel, cancel_id.clone()));
                        }
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
                        move |_| {
                            control.dispatch((JobControl::Resume, resume_id.clone()));
                        }
                    }
                >
                    "Resume"
                </button>
            </Show>
            {download.map(|href| view! { <a class=BUTTON href=href download="">"Download"</a> })}
            <Show when=move || can_undo>
                <button type="button" class=BUTTON_SECONDARY on:click=move |_| undoing.set(true)>
                    "Undo…"
                </button>
            </Show>
        </div>
        <Show when=move || undoing.get()>
            <UndoDialog
                job_id=undo_id.get_value()
                on_close=Callback::new(move |_| undoing.set(false))
                on_started=undo_started
            />
        </Show>
        <Timeline events />
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
