//! Saved searches on `/search`: the viewer's own, each a link that runs it (and can be shared
//! as one), with "Delete"; and, for a search in the address, a form to save it under a name.

use leptos::prelude::*;

use super::Filters;
use crate::components::field_error::{FieldError, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::modal::{BUTTON, BUTTON_SECONDARY, INPUT, LABEL};
use crate::components::text::MUTED;
use crate::serverfns::catalog::{DeleteSavedSearch, SaveSearch, list_saved_searches};

#[component]
pub(super) fn SavedSearches(filters: Memo<Filters>) -> impl IntoView {
    let saved = Resource::new(|| (), |_| list_saved_searches());
    let save = ServerAction::<SaveSearch>::new();
    let remove = ServerAction::<DeleteSavedSearch>::new();
    let name = RwSignal::new(String::new());
    on_success(*save, move |_| {
        name.set(String::new());
        saved.refetch();
    });
    on_success(*remove, move |_| saved.refetch());
    let error = form_error(*save, RwSignal::new(None));
    let remove_error = form_error(*remove, RwSignal::new(None));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(SaveSearch { name: name.get_untracked(), query: filters.get_untracked().to_query() });
    };
    view! {
        <section aria-label="Saved searches" class="space-y-2 rounded-md border border-slate-200 bg-white p-3 text-sm dark:border-slate-800 dark:bg-slate-900">
            <h2 class="font-semibold">"Saved searches"</h2>
            <FormError error=remove_error fields=&[] />
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match saved.await {
                        Ok(list) if list.is_empty() => view! { <p class=MUTED>"None yet: run a search, then save it here."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="flex flex-wrap gap-2">
                                {list
                                    .into_iter()
                                    .map(|s| {
                                        let id = s.id.clone();
                                        view! {
                                            <li class="flex items-center gap-1 rounded-md border border-slate-200 px-2 py-1 dark:border-slate-700">
                                                <a class="text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/search?{}", s.query)>{s.name.clone()}</a>
                                                <button
                                                    type="button"
                                                    class="rounded px-1 text-xs text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"
                                                    aria-label=format!("Delete saved search {}", s.name)
                                                    on:click=move |_| {
                                                        remove.dispatch(DeleteSavedSearch { id: id.clone() });
                                                    }
                                                >
                                                    "Delete"
                                                </button>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any(),
                        Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
            <Show when=move || !filters.get().is_empty()>
                <form class="flex flex-wrap items-end gap-2" aria-label="Save this search" on:submit=submit>
                    <label class=format!("{LABEL} min-w-48 flex-1")>
                        "Name"
                        <input class=INPUT type="text" required maxlength="100" placeholder="Pro plan users" bind:value=name />
                    </label>
                    <button type="submit" class=BUTTON disabled=move || save.pending().get()>"Save search"</button>
                    <a class=BUTTON_SECONDARY href=move || filters.get().to_url()>"Link to this search"</a>
                </form>
                <FormError error fields=&["name", "query"] />
                <FieldError error field="name" />
            </Show>
        </section>
    }
}
