//! "Usage (24 h)" on a namespace's keys page: a collapsed panel that, once opened, reads the
//! namespace's dashboard of the last 24 hours (its totals and a small operations chart), with
//! "Open in dashboard" for the whole of it.

use leptos::prelude::*;

use crate::components::text::MUTED;
use crate::pages::dashboard::charts::OpsChart;
use crate::pages::dashboard::totals::TotalsList;
use crate::pages::with_query;
use crate::serverfns::dashboard::get_dashboard;

#[component]
pub(super) fn UsagePanel(namespace_id: Memo<String>) -> impl IntoView {
    // Read once the panel is first opened, and again for another namespace.
    let opened = RwSignal::new(false);
    let usage = Resource::new(
        move || (namespace_id.get(), opened.get()),
        |(id, opened)| async move {
            if opened { get_dashboard(Some("24h".to_owned()), Some(id)).await.map(Some) } else { Ok(None) }
        },
    );
    let on_toggle = move |ev: leptos::ev::Event| {
        if event_target::<web_sys::HtmlDetailsElement>(&ev).open() {
            opened.set(true);
        }
    };
    let href = move || with_query("/dashboard", &[("namespace", &namespace_id.get())]);
    view! {
        <details
            class="rounded-md border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900"
            on:toggle=on_toggle
        >
            <summary class="cursor-pointer px-3 py-2 text-sm font-medium">"Usage (24 h)"</summary>
            <div class="space-y-3 px-3 pb-3">
                <Suspense fallback=|| view! { <p class=format!("text-sm {MUTED}")>"Loading the usage…"</p> }>
                    {move || Suspend::new(async move {
                        match usage.await {
                            Ok(Some(dashboard)) => {
                                view! {
                                    <TotalsList dashboard=dashboard.clone() compact=true />
                                    <OpsChart dashboard id="usage-ops" />
                                }
                                    .into_any()
                            }
                            Ok(None) => ().into_any(),
                            Err(err) => view! { <p role="alert" class="text-red-600 dark:text-red-400">{err.message}</p> }.into_any(),
                        }
                    })}
                </Suspense>
                <a class="inline-block text-sm text-indigo-700 hover:underline dark:text-indigo-300" href=href>
                    "Open in dashboard"
                </a>
            </div>
        </details>
    }
}
