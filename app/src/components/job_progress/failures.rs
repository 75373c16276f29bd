//! The keys a job failed on.

use leptos::prelude::*;

use crate::components::text::Hint;
use crate::dto::JobDto;

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
