//! A background job's live progress: the dialog a page opens when it starts a job, fed by the
//! job's WebSocket, or by polling `GET /api/jobs/{id}` while the socket cannot be opened.

use leptos::prelude::*;

use crate::components::text::{Hint, MUTED};

use crate::components::modal::{BUTTON_DANGER, BUTTON_SECONDARY, Modal};
use crate::dto::JobDto;
use crate::format;

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
    let now = RwSignal::new(0i64);
    #[cfg(target_arch = "wasm32")]
    {
        now.set(crate::browser::now());
        let tick = set_interval_with_handle(move || now.set(crate::browser::now()), std::time::Duration::from_secs(1));
        if let Ok(tick) = tick {
            on_cleanup(move || tick.clear());
        }
    }
    let finished = move || job.with(|j| j.as_ref().is_some_and(|j| is_final(&j.status)));
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
        if finished() {
            dismiss();
        } else {
            open.set(false);
        }
    });
    let cancel_error = RwSignal::new(None::<String>);
    let cancelling = RwSignal::new(false);
    let cancel = {
        let job_id = StoredValue::new(job_id.clone());
        move |_| {
            cancelling.set(true);
            cancel_error.set(None);
            let job_id = job_id.get_value();
            leptos::task::spawn_local(async move {
                match crate::serverfns::jobs::cancel_job(job_id).await {
                    Ok(updated) => {
                        if !job.with_untracked(|j| j.as_ref().is_some_and(|j| is_final(&j.status))) {
                            job.set(Some(updated));
                        }
                    }
                    Err(err) => {
                        cancel_error.set(Some(err.message));
                        cancelling.set(false);
                    }
                }
            });
        }
    };
    let history = format!("/jobs?job={}", crate::pages::encode_query(&job_id));
    let title = format!("Progress: {operation}");
    let percent = move || job.with(|j| j.as_ref().map(|j| j.percentage).unwrap_or(0.0)).clamp(0.0, 100.0);
    let number = move |pick: fn(&JobDto) -> u64| job.with(|j| j.as_ref().map(pick).unwrap_or(0)).to_string();
    let elapsed = move || {
        job.with(|j| {
            let j = j.as_ref()?;
            let start = j.started_at?;
            Some(j.finished_at.unwrap_or(now.get().max(start)) - start)
        })
    };
    let left = move || {
        job.with(|j| {
            let j = j.as_ref()?;
            if is_final(&j.status) || j.processed == 0 || j.total <= j.processed {
                return None;
            }
            let spent = elapsed()? as f64;
            Some((spent * (j.total - j.processed) as f64 / j.processed as f64).ceil() as i64)
        })
    };
    let row = |label: &'static str, value: AnyView| {
        view! {
            <div class="flex justify-between gap-2 border-b border-slate-100 py-1 dark:border-slate-800">
                <dt class=MUTED>{label}</dt>
                <dd class="text-right tabular-nums break-all">{value}</dd>
            </div>
        }
    };
    let (op, namespace, history, title) =
        (StoredValue::new(operation), StoredValue::new(namespace), StoredValue::new(history), StoredValue::new(title));
    view! {
        <Show when=move || open.get()>
            <Modal title=title.get_value() on_close=close>
                <div class="space-y-4 text-sm">
                    <dl class="grid gap-x-6 sm:grid-cols-2">
                        {row("Operation", op.get_value().into_any())}
                        {row("Namespace", namespace.get_value().into_any())}
                        {row(
                            "Status",
                            view! {
                                <span data-testid="job-status" class="font-medium">
                                    {move || job.with(|j| j.as_ref().map(|j| j.status.clone()).unwrap_or_else(|| "queued".to_owned()))}
                                </span>
                            }
                                .into_any(),
                        )}
                        {row(
                            "Updates",
                            view! {
                                <span data-testid="job-channel" title="Live: over a WebSocket. Polling: asked every second.">
                                    {move || channel.get().label()}
                                </span>
                            }
                                .into_any(),
                        )}
                    </dl>
                    <div class="flex items-center gap-3">
                        <div
                            role="progressbar"
                            aria-label="Job progress"
                            aria-valuemin="0"
                            aria-valuemax="100"
                            aria-valuenow=move || format!("{:.0}", percent().floor())
                            class="h-3 flex-1 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800"
                        >
                            <div
                                class="h-full bg-indigo-600 transition-[width]"
                                style:width=move || format!("{:.1}%", percent())
                            ></div>
                        </div>
                        <span class="w-12 text-right tabular-nums" data-testid="job-percentage">
                            {move || format!("{:.0}%", percent().floor())}
                        </span>
                    </div>
                    <dl class="grid grid-cols-2 gap-x-6 sm:grid-cols-4">
                        {row("Total", view! { <span data-testid="job-total">{move || number(|j| j.total)}</span> }.into_any())}
                        {row("Processed", view! { <span data-testid="job-processed">{move || number(|j| j.processed)}</span> }.into_any())}
                        {row("Skipped", view! { <span data-testid="job-skipped">{move || number(|j| j.skipped)}</span> }.into_any())}
                        {row("Errors", view! { <span data-testid="job-errors">{move || number(|j| j.errors)}</span> }.into_any())}
                    </dl>
                    <dl class="grid gap-x-6 sm:grid-cols-3">
                        {row(
                            "Current key",
                            view! {
                                <span class="font-mono">
                                    {move || job.with(|j| j.as_ref().and_then(|j| j.current_key.clone()).unwrap_or_else(|| "—".to_owned()))}
                                </span>
                            }
                                .into_any(),
                        )}
                        {row("Elapsed", (move || elapsed().map(format::duration).unwrap_or_else(|| "—".to_owned())).into_any())}
                        {row("Time left", (move || left().map(|s| format!("about {}", format::duration(s))).unwrap_or_else(|| "—".to_owned())).into_any())}
                    </dl>
                    {move || {
                        job.with(|j| j.as_ref().and_then(|j| j.error_message.clone()))
                            .map(|message| {
                                view! {
                                    <p role="alert" class="rounded-md bg-red-50 p-2 text-red-700 dark:bg-red-950 dark:text-red-300">
                                        {message}
                                    </p>
                                }
                            })
                    }}
                    <FailureList job />
                    {move || cancel_error.get().map(|m| view! { <p role="alert" class="text-red-600">{m}</p> })}
                    <div class="flex flex-wrap items-center justify-end gap-2">
                        <a class="mr-auto text-indigo-600 underline dark:text-indigo-400" href=history.get_value()>
                            "View in job history"
                        </a>
                        <button
                            type="button"
                            class=BUTTON_DANGER
                            disabled=move || finished() || cancelling.get()
                            on:click=cancel
                        >
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
                </div>
            </Modal>
        </Show>
    }
}

/// The keys a job failed on, with the reasons.
#[component]
pub fn FailureList(#[prop(into)] job: Signal<Option<JobDto>>) -> impl IntoView {
    view! {
        {move || {
            job.with(|j| {
                let j = j.as_ref().filter(|j| !j.failures.is_empty())?;
                let more = j.errors.saturating_sub(j.failures.len() as u64);
                Some(view! {
                    <div>
                        <h3 class="font-medium">"Failed keys"</h3>
                        <ul class="mt-1 max-h-40 overflow-y-auto rounded-md border border-slate-200 dark:border-slate-800" aria-label="Failed keys">
                            {j
                                .failures
                                .iter()
                                .map(|f| {
                                    view! {
                                        <li class="border-b border-slate-100 px-2 py-1 last:border-0 dark:border-slate-800">
                                            <span class="font-mono break-all">{f.key.clone()}</span>
                                            ": "
                                            <span class="text-red-700 dark:text-red-400">{f.reason.clone()}</span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                        {(more > 0).then(|| view! { <Hint>{format!("and {more} more")}</Hint> })}
                    </div>
                })
            })
        }}
    }
}

#[cfg(target_arch = "wasm32")]
mod live {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    use leptos::leptos_dom::helpers::{
        IntervalHandle, TimeoutHandle, set_interval_with_handle, set_timeout_with_handle,
    };
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;

    use super::{Channel, is_final};
    use crate::dto::JobDto;

    type Handler = Closure<dyn FnMut(web_sys::Event)>;

    struct Inner {
        id: String,
        job: RwSignal<Option<JobDto>>,
        channel: RwSignal<Channel>,
        /// Finished, or the page went away.
        stopped: bool,
        /// Reconnections tried since the socket last opened.
        attempts: u32,
        socket: Option<web_sys::WebSocket>,
        handlers: Vec<Handler>,
        poll: Option<IntervalHandle>,
        retry: Option<TimeoutHandle>,
        ping: Option<IntervalHandle>,
    }

    /// A job's subscription; dropping it stops everything.
    pub struct Watch(Rc<RefCell<Inner>>);

    impl Drop for Watch {
        fn drop(&mut self) {
            stop(&self.0);
        }
    }

    impl Watch {
        pub fn start(id: String, job: RwSignal<Option<JobDto>>, channel: RwSignal<Channel>) -> Self {
            let inner = Rc::new(RefCell::new(Inner {
                id,
                job,
                channel,
                stopped: false,
                attempts: 0,
                socket: None,
                handlers: Vec::new(),
                poll: None,
                retry: None,
                ping: None,
            }));
            connect(&inner);
            Self(inner)
        }
    }

    fn stop(inner: &Rc<RefCell<Inner>>) {
        let mut s = inner.borrow_mut();
        s.stopped = true;
        if let Some(socket) = s.socket.take() {
            socket.set_onopen(None);
            socket.set_onmessage(None);
            socket.set_onclose(None);
            socket.set_onerror(None);
            let _ = socket.close();
        }
        if let Some(h) = s.poll.take() {
            h.clear();
        }
        if let Some(h) = s.ping.take() {
            h.clear();
        }
        if let Some(h) = s.retry.take() {
            h.clear();
        }
        // Breaks the cycle between the state and the handlers that hold it; later, since one of
        // them may be the caller.
        let handlers = std::mem::take(&mut s.handlers);
        leptos::prelude::set_timeout(move || drop(handlers), Duration::ZERO);
    }

    /// Shows a new state of the job; a final one ends the subscription.
    fn apply(inner: &Rc<RefCell<Inner>>, job: JobDto) {
        let (signal, done) = {
            let s = inner.borrow();
            if s.stopped {
                return;
            }
            (s.job, is_final(&job.status))
        };
        signal.try_set(Some(job));
        if done {
            stop(inner);
        }
    }

    fn connect(inner: &Rc<RefCell<Inner>>) {
        if inner.borrow().stopped {
            return;
        }
        let id = inner.borrow().id.clone();
        let socket = crate::browser::websocket_url(&format!("/api/jobs/{}/ws", crate::pages::encode_query(&id)))
            .and_then(|url| web_sys::WebSocket::new(&url).ok());
        let Some(socket) = socket else {
            lost(inner);
            return;
        };
        let on_open: Handler = {
            let inner = inner.clone();
            Closure::new(move |_: web_sys::Event| {
                let mut s = inner.borrow_mut();
                s.attempts = 0;
                s.channel.try_set(Channel::Live);
                if let Some(h) = s.poll.take() {
                    h.clear();
                }
                let socket = s.socket.clone();
                s.ping = set_interval_with_handle(
                    move || {
                        if let Some(socket) = &socket {
                            let _ = socket.send_with_str(r#"{"type":"ping"}"#);
                        }
                    },
                    Duration::from_secs(20),
                )
                .ok();
            })
        };
        let on_message: Handler = {
            let inner = inner.clone();
            Closure::new(move |ev: web_sys::Event| {
                let Some(text) = ev.dyn_ref::<web_sys::MessageEvent>().and_then(|m| m.data().as_string()) else {
                    return;
                };
                #[derive(serde::Deserialize)]
                struct Frame {
                    job: Option<JobDto>,
                }
                if let Ok(Frame { job: Some(job) }) = serde_json::from_str::<Frame>(&text) {
                    apply(&inner, job);
                }
            })
        };
        let on_close: Handler = {
            let inner = inner.clone();
            Closure::new(move |_: web_sys::Event| {
                {
                    let mut s = inner.borrow_mut();
                    if s.stopped {
                        return;
                    }
                    s.socket = None;
                    if let Some(h) = s.ping.take() {
                        h.clear();
                    }
                }
                lost(&inner);
            })
        };
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let mut s = inner.borrow_mut();
        s.handlers.extend([on_open, on_message, on_close]);
        s.socket = Some(socket);
    }

    /// The socket could not be opened or dropped before the end: poll every second meanwhile,
    /// and try the socket again after 0.5, 1, 2, 4… (at most 30) seconds.
    fn lost(inner: &Rc<RefCell<Inner>>) {
        let delay = {
            let mut s = inner.borrow_mut();
            if s.stopped {
                return;
            }
            s.attempts += 1;
            500u64.saturating_mul(1 << (s.attempts - 1).min(6)).min(30_000)
        };
        start_polling(inner);
        let again = inner.clone();
        let retry = set_timeout_with_handle(
            move || {
                if !again.borrow().stopped {
                    again.borrow_mut().retry = None;
                    connect(&again);
                }
            },
            Duration::from_millis(delay),
        )
        .ok();
        inner.borrow_mut().retry = retry;
    }

    fn start_polling(inner: &Rc<RefCell<Inner>>) {
        {
            let s = inner.borrow();
            if s.poll.is_some() {
                return;
            }
            s.channel.try_set(Channel::Polling);
        }
        poll_once(inner.clone());
        let polling = inner.clone();
        let poll = set_interval_with_handle(move || poll_once(polling.clone()), Duration::from_secs(1)).ok();
        inner.borrow_mut().poll = poll;
    }

    fn poll_once(inner: Rc<RefCell<Inner>>) {
        let url = format!("/api/jobs/{}", crate::pages::encode_query(&inner.borrow().id));
        leptos::task::spawn_local(async move {
            if let Ok((200, text)) = crate::browser::fetch_text("GET", &url, None).await
                && let Ok(job) = serde_json::from_str::<JobDto>(&text)
            {
                apply(&inner, job);
            }
        });
    }
}
