use leptos::prelude::*;

/// A key's tags as small chips.
#[component]
pub fn TagChips(tags: Vec<String>) -> impl IntoView {
    view! {
        <span class="flex flex-wrap gap-1">
            {tags
                .into_iter()
                .map(|t| view! { <span class="rounded-full bg-slate-200 px-1.5 text-xs dark:bg-slate-700">{t}</span> })
                .collect_view()}
        </span>
    }
}
