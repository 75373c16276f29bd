//! A console page that only admins use: its heading and what it is for, shown to everyone; its
//! tools for admins, and for anyone else who to ask.

use leptos::prelude::*;

use crate::components::data_table::EmptyNote;
use crate::components::viewer::use_viewer;

#[component]
pub fn AdminPage(
    title: &'static str,
    /// What the page is for, under the heading.
    #[prop(into)]
    intro: ViewFnOnce,
    /// What a viewer who is not an admin reads instead of the tools.
    refusal: &'static str,
    /// The tools.
    children: Children,
) -> impl IntoView {
    let admin = use_viewer().is_admin;
    view! {
            <section class="space-y-4">
                <h1 class="text-2xl font-semibold">{title}</h1>
                <p class="text-sm text-slate-600 dark:text-slate-400">{intro.run()}</p>
                {if admin {
                    children().into_any()
                } else {
    view! { <EmptyNote>{refusal}</EmptyNote> }.into_any()
                }}
            </section>
        }
}
