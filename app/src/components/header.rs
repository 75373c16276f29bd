use leptos::prelude::*;
use leptos_router::components::A;

use super::theme::ThemeToggle;

/// Bumped when a page starts a job or sees one end, so the header's count follows at once.
#[derive(Clone, Copy)]
pub struct JobsChanged(pub RwSignal<u32>);

/// A function that tells the header jobs changed; take it while the component is created.
pub fn jobs_notifier() -> impl Fn() + Copy + Send + Sync + 'static {
    let changed = use_context::<JobsChanged>();
    move || {
        if let Some(JobsChanged(n)) = changed {
            n.try_update(|n| *n += 1);
        }
    }
}

/// How often the header asks how many jobs run.
#[cfg(target_arch = "wasm32")]
const RUNNING_POLL: std::time::Duration = std::time::Duration::from_secs(4);

/// The top bar: name, navigation (with the number of running jobs) and the theme control.
#[component]
pub fn Header() -> impl IntoView {
    let viewer = super::viewer::use_viewer();
    // Counted in the browser only: the server renders the plain link.
    let running = RwSignal::new(0usize);
    #[cfg(target_arch = "wasm32")]
    {
        let changed = use_context::<JobsChanged>();
        // A plain call that reads only the length of the list: the job shapes stay out of the
        // first load's code.
        let count = move || {
            leptos::task::spawn_local(async move {
                #[derive(serde::Deserialize)]
                struct Page {
                    jobs: Vec<serde::de::IgnoredAny>,
                }
                let body = wasm_bindgen::JsValue::from_str(r#"{"status":"running","limit":100}"#);
                if let Ok((200, text)) = crate::browser::fetch_text("POST", "/api/list_jobs", Some(&body)).await
                    && let Ok(page) = serde_json::from_str::<Page>(&text)
                {
                    running.try_set(page.jobs.len());
                }
            });
        };
        Effect::new(move |_| {
            if let Some(JobsChanged(n)) = changed {
                n.track();
            }
            count();
        });
        if let Ok(handle) = set_interval_with_handle(count, RUNNING_POLL) {
            on_cleanup(move || handle.clear());
        }
    }
    view! {
        <header class="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <div class="mx-auto flex max-w-6xl flex-wrap items-center gap-x-4 gap-y-2 px-3 py-3 sm:px-6">
                <a href="/" class="text-lg font-bold tracking-tight">
                    "KV Manager"
                </a>
                <MainNav running is_admin=viewer.is_admin />
                <div class="ml-auto flex items-center gap-3 text-sm">
                    <SignedIn viewer=viewer.clone() />
                    <ThemeToggle />
                </div>
            </div>
            <super::palette::Shortcuts is_admin=viewer.is_admin />
        </header>
    }
}

/// The pages; "Jobs" carries the number of running jobs, and the admin pages show for admins.
#[component]
fn MainNav(running: RwSignal<usize>, is_admin: bool) -> impl IntoView {
    let link = "rounded-md px-2 py-1 hover:bg-slate-200 dark:hover:bg-slate-800 aria-[current=page]:font-semibold aria-[current=page]:underline";
    let jobs_label = move || match running.get() {
        0 => None,
        n => Some(format!("Jobs ({n} running)")),
    };
    view! {
        <nav aria-label="Main" class="flex flex-wrap gap-1 text-sm">
            <A href="/" exact=true attr:class=link>
                "Namespaces"
            </A>
            <A href="/dashboard" attr:class=link>
                "Dashboard"
            </A>
            <A href="/search" attr:class=link>
                "Search"
            </A>
            <A href="/jobs" attr:class=link attr:aria-label=jobs_label>
                "Jobs"
                <Show when=move || { running.get() > 0 }>
                    <span
                        aria-hidden="true"
                        data-testid="running-jobs"
                        class="ml-1 rounded-full bg-indigo-600 px-1.5 text-xs font-semibold text-white"
                    >
                        {move || running.get()}
                    </span>
                </Show>
            </A>
            <A href="/backups" attr:class=link>
                "Backups"
            </A>
            <A href="/audit" attr:class=link>
                "Audit log"
            </A>
            {is_admin
                .then(|| {
                    view! {
                        <A href="/tokens" attr:class=link>
                            "API tokens"
                        </A>
                        <A href="/services" attr:class=link>
                            "Services"
                        </A>
                        <A href="/webhooks" attr:class=link>
                            "Webhooks"
                        </A>
                    }
                })}
        </nav>
    }
}

/// Who is signed in (and "read-only" for a reader), and "Log out" where there is one.
#[component]
fn SignedIn(viewer: super::viewer::Viewer) -> impl IntoView {
    view! {
    {(!viewer.user.is_empty())
        .then(|| {
            view! {
                <span data-testid="signed-in-user" class="text-slate-600 dark:text-slate-300">
                    {viewer.user.clone()}
                    {(!viewer.can_write)
                        .then(|| {
                            view! {
                                <span class="ml-1 rounded bg-amber-100 px-1.5 text-xs font-semibold text-amber-900 dark:bg-amber-900 dark:text-amber-100">
                                    "read-only"
                                </span>
                            }
                        })}
                </span>
            }
        })}
    {viewer
        .logout_url
        .clone()
        .map(|url| {
            view! {
                <a href=url rel="external" class="underline hover:no-underline">
                    "Log out"
                </a>
            }
        })}
    }
}
