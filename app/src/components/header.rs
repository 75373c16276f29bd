use leptos::prelude::*;
use leptos_router::components::A;

use super::theme::ThemeToggle;

/// The top bar: name, navigation and the theme control.
#[component]
pub fn Header() -> impl IntoView {
    let link = "rounded-md px-2 py-1 hover:bg-slate-200 dark:hover:bg-slate-800 aria-[current=page]:font-semibold aria-[current=page]:underline";
    view! {
        <header class="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <div class="mx-auto flex max-w-6xl flex-wrap items-center gap-x-4 gap-y-2 px-3 py-3 sm:px-6">
                <a href="/" class="text-lg font-bold tracking-tight">
                    "KV Manager"
                </a>
                <nav aria-label="Main" class="flex flex-wrap gap-1 text-sm">
                    <A href="/" exact=true attr:class=link>
                        "Namespaces"
                    </A>
                    <A href="/search" attr:class=link>
                        "Search"
                    </A>
                    <A href="/jobs" attr:class=link>
                        "Jobs"
                    </A>
                    <A href="/audit" attr:class=link>
                        "Audit log"
                    </A>
                </nav>
                <div class="ml-auto">
                    <ThemeToggle />
                </div>
            </div>
        </header>
    }
}
