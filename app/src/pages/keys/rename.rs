//! "Rename" in the key editor: a new name for the open key, within its namespace, with its
//! value, metadata, expiration, tags, custom metadata and history.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::field_error::{FieldError, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::modal::{BUTTON, BUTTON_SECONDARY, INPUT, LABEL};
use crate::serverfns::keys::rename_key;

#[component]
pub(super) fn RenameKey(
    namespace_id: String,
    key: String,
    /// The version the editor holds: a rename of a key changed meanwhile fails (409).
    version: Signal<Option<String>>,
    /// Opens the key under its new name.
    on_renamed: Callback<String>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let new_name = RwSignal::new(key.clone());
    let overwrite = RwSignal::new(false);
    let action = Action::new(move |(name, overwrite): &(String, bool)| {
        rename_key(namespace_id.clone(), key.clone(), name.clone(), Some(*overwrite), version.get_untracked())
    });
    let checked = RwSignal::new(None);
    let error = form_error(action, checked);
    let pending = action.pending();
    on_success(action, move |_| on_renamed.run(new_name.get_untracked()));
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        action.dispatch((new_name.get_untracked(), overwrite.get_untracked()));
    };
    view! {
        <Show
            when=move || open.get()
            fallback=move || view! {
                <button type="button" class=BUTTON_SECONDARY on:click=move |_| open.set(true)>
                    "Rename"
                </button>
            }
        >
            <form class="flex flex-wrap items-end gap-2" aria-label="Rename key" on:submit=submit>
                <label class=format!("{LABEL} min-w-48 flex-1")>
                    "New name"
                    <input class=format!("{INPUT} font-mono") type="text" autocomplete="off" bind:value=new_name />
                </label>
                <label class="flex items-center gap-1 text-sm">
                    <input type="checkbox" bind:checked=overwrite />
                    "Replace a key of that name"
                </label>
                <button type="submit" class=BUTTON disabled=move || pending.get()>
                    "Rename key"
                </button>
                <button type="button" class=BUTTON_SECONDARY on:click=move |_| open.set(false)>
                    "Cancel"
                </button>
                <div class="basis-full">
                    <FieldError error field="new_name" />
                    <FieldError error field="version" />
                    <FormError error fields=&["new_name", "version"] />
                </div>
            </form>
        </Show>
    }
}
