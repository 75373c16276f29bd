//! A background job's live progress: the dialog a page opens when it starts a job, fed by the
//! job's WebSocket, or by polling `GET /api/jobs/{id}` while the socket cannot be opened.

mod failures;
mod figures;
#[cfg(target_arch = "wasm32")]
mod live;

use leptos::prelude::*;

use crate::components::form_action::{form_error, on_success};
use crate::components::modal::{BUTTON_DANGER, BUTTON_SECONDARY, Modal};
use crate::dto::JobDto;
use crate::serverfns::jobs::CancelJob;
pub use failures::FailureList;
use figures::JobFigures;

/// The statuses a job ends in.
pub fn is_final(status: &str) -> bool {
    matches!(status, "completed" | "failed" | "cancelled" | "interrupted")
}

/// What a job type does, in the console's words.
pub fn job_label(job_type: &str) -> &'static str {
    match job_type {
        "bulk_delete" => "Delete keys",
        "bulk_copy" => "Copy keys",
        "bulk_move" => "Move keys",
        "bulk_ttl" => "Update TTL",
        "bulk_tag" => "Apply tags",
        "export" => "Export",
        "import" => "Import",
        "rewind" => "Rewind",
        "backup" => "Backup",
        "restore" => "Restore",
        "undo" => "Undo",
        _ => "Job",
    }
}

/// How the progress reaches the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Connecting,
    /// The WebSocket.
    Live,
    /// `GET /api/jobs/{id}` every second.
    Polling,
}

impl Channel {
    pub fn label(self) -> &'static str {
        match self {
            Self::Connecting => "Connecting",
            Self::Live => "Live",
            Self::Polling => "Polling",
        }
    }
}

/// A job a page started and follows.
#[derive(Clone, Debug, PartialEq)]
pub struct WatchedJob {
    pub job_id: String,
    /// What the job does, e.g. "Apply tags".
    pub operation: String,
    /// The namespace's title.
    pub namespace: String,
}

/// Follows a job until it ends or the calling owner is dropped. In the browser only; on the
/// server the signals stay as they start.
pub fn watch_job(job_id: String) -> (RwSignal<Option<JobDto>>, RwSignal<Channel>) {
    let job = RwSignal::new(None::<JobDto>);
    let channel = RwSignal::new(Channel::Connecting);
    #[cfg(target_arch = "wasm32")]
    {
        let watch = live::Watch::start(job_id, job, channel);
        // Dropped with the owner: closes the socket and stops the timers.
        StoredValue::new_local(watch);
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = job_id;
    (job, channel)
}

/// The progress dialog, a separate chunk of the release bundle loaded when a job first starts.
#[lazy]
pub fn job_progress(watched: WatchedJob, on_finished: Callback<JobDto>, on_dismiss: Callback<String>) -> AnyView {
    view! { <JobProgress watched on_finished on_dismiss /> }.into_any()
}

/// Follows one job and shows it in a dialog until the user sends it to the background; calls
/// `on_finished` once when the job ends (an export's file is downloaded then), and
/// `on_dismiss` when the dialog is closed after the end, or the job ends in the background.
/// "Cancel" is always there: the dialog follows a job its viewer started.
#[component]
pub fn JobProgress(watched: WatchedJob, on_finished: Callback<JobDto>, on_dismiss: Callback<String>) -> impl IntoView {
    let WatchedJob { job_id, operation, namespace } = watched;
    let (job, channel) = watch_job(job_id.clone());
    let open = RwSignal::new(true);
    let notified = StoredValue::new(false);
    let finished = Signal::derive(move || job.with(|j| j.as_ref().is_some_and(|j| is_final(&j.status))));
    let dismiss = {
        let job_id = job_id.clone();
        // Later, not from inside the effect or handler that the removal disposes.
        move || {
            let job_id = job_id.clone();
            set_timeout(move || on_dismiss.run(job_id), std::time::Duration::ZERO);
        }
    };
    let dismiss_done = dismiss.clone();
    Effect::new(move |_| {
        let Some(done) = job.get().filter(|j| is_final(&j.status)) else { return };
        if notified.get_value() {
            return;
        }
        notified.set_value(true);
        #[cfg(target_arch = "wasm32")]
        if done.job_type == "export"
            && done.status == "completed"
            && let Some(url) = done.result.as_ref().and_then(|r| r.get("download_url")).and_then(|u| u.as_str())
        {
            crate::browser::download(url);
        }
        on_finished.run(done);
        if !open.get_untracked() {
            dismiss_done();
        }
    });
    let close = Callback::new(move |_: ()| {
        if finished.get_untracked() {
            dismiss();
        } else {
            open.set(false);
        }
    });
    let title = StoredValue::new(format!("Progress: {operation}"));
    let (operation, namespace, job_id) =
        (StoredValue::new(operation), StoredValue::new(namespace), StoredValue::new(job_id));
    view! {
        <Show when=move || open.get()>
            <Modal title=title.get_value() on_close=close>
                <div class="space-y-4 text-sm">
                    <JobFigures job channel operation=operation.get_value() namespace=namespace.get_value() />
                    <FailureList job />
                    <JobActions job_id=job_id.get_value() job finished open />
                </div>
            </Modal>
        </Show>
    }
}

/// "View in job history", "Cancel" (while the job runs) and "Run in background".
#[component]
fn JobActions(
    job_id: String,
    job: RwSignal<Option<JobDto>>,
    finished: Signal<bool>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let history = format!("/jobs?job={}", crate::pages::encode_query(&job_id));
    let cancel = ServerAction::<CancelJob>::new();
    let cancelled = RwSignal::new(false);
    on_success(*cancel, move |updated: &JobDto| {
        cancelled.set(true);
        if !job.with_untracked(|j| j.as_ref().is_some_and(|j| is_final(&j.status))) {
            job.set(Some(updated.clone()));
        }
    });
    let cancel_error = form_error(*cancel, RwSignal::new(None));
    let cancelling = move || cancel.pending().get() || cancelled.get();
    let cancel_job = move |_| {
        cancel.dispatch(CancelJob { job_id: job_id.clone() });
    };
    view! {
        {move || cancel_error.get().map(|e| view! { <p role="alert" class="text-red-600">{e.message}</p> })}
        <div class="flex flex-wrap items-center justify-end gap-2">
            <a class="mr-auto text-indigo-600 underline dark:text-indigo-400" href=history>
                "View in job history"
            </a>
            <button type="button" class=BUTTON_DANGER disabled=move || finished.get() || cancelling() on:click=cancel_job>
                "Cancel"
            </button>
            <button
                type="button"
                class=BUTTON_SECONDARY
                disabled=finished
                title="Close this dialog; the job goes on"
                on:click=move |_| open.set(false)
            >
                "Run in background"
            </button>
        </div>
    }
}
