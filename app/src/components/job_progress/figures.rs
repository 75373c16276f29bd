//! What the progress dialog says about the job: what it is, its status, the bar, its counts and
//! timing, and its error.

use leptos::prelude::*;

use super::{Channel, is_final};
use crate::components::text::MUTED;
use crate::dto::JobDto;
use crate::format;

/// A label and its value, one line of a `<dl>`.
fn row(label: &'static str, value: AnyView) -> impl IntoView {
    view! {
        <div class="flex justify-between gap-2 border-b border-slate-100 py-1 dark:border-slate-800">
            <dt class=MUTED>{label}</dt>
            <dd class="text-right tabular-nums break-all">{value}</dd>
        </div>
    }
}

#[component]
pub(super) fn JobFigures(
    job: RwSignal<Option<JobDto>>,
    channel: RwSignal<Channel>,
    operation: String,
    namespace: String,
) -> impl IntoView {
    let percent = move || job.with(|j| j.as_ref().map(|j| j.percentage).unwrap_or(0.0)).clamp(0.0, 100.0);
    let number = move |pick: fn(&JobDto) -> u64| job.with(|j| j.as_ref().map(pick).unwrap_or(0)).to_string();
    view! {
        <dl class="grid gap-x-6 sm:grid-cols-2">
            {row("Operation", operation.into_any())}
            {row("Namespace", namespace.into_any())}
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
                <div class="h-full bg-indigo-600 transition-[width]" style:width=move || format!("{:.1}%", percent())></div>
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
        <JobTiming job />
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
    }
}

/// The key being worked on, the time spent and (while it runs) the time left, ticking each
/// second in the browser.
#[component]
fn JobTiming(job: RwSignal<Option<JobDto>>) -> impl IntoView {
    let now = RwSignal::new(0i64);
    #[cfg(target_arch = "wasm32")]
    {
        now.set(crate::browser::now());
        let tick = set_interval_with_handle(move || now.set(crate::browser::now()), std::time::Duration::from_secs(1));
        if let Ok(tick) = tick {
            on_cleanup(move || tick.clear());
        }
    }
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
    view! {
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
    }
}
