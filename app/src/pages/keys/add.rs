//! "Add key": a new key's name, value, metadata and expiration.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::ttl::{TtlFields, TtlMode, metadata_input, metadata_size, ttl_inputs};
use crate::components::field_error::{DialogButtons, FieldError, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::modal::{INPUT, LABEL, Modal};
use crate::components::text::Hint;
use crate::error::AppError;
use crate::serverfns::keys::PutKey;

#[component]
pub(super) fn AddKeyDialog(namespace_id: String, on_close: Callback<()>, on_done: Callback<()>) -> impl IntoView {
    let key = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    let metadata = RwSignal::new(String::new());
    let mode = RwSignal::new(TtlMode::None);
    let seconds = RwSignal::new(String::new());
    let at = RwSignal::new(String::new());
    let put = ServerAction::<PutKey>::new();
    // What the browser's check of the metadata and expiration found.
    let checked = RwSignal::new(None::<AppError>);
    let error = form_error(*put, checked);
    let pending = put.pending();
    on_success(*put, move |_| {
        on_done.run(());
        on_close.run(());
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let inputs = metadata_input(&metadata.get_untracked()).and_then(|m| {
            ttl_inputs(mode.get_untracked(), &seconds.get_untracked(), &at.get_untracked()).map(|t| (m, t))
        });
        let (metadata, (expiration, expiration_ttl)) = match inputs {
            Ok(v) => v,
            Err(err) => return checked.set(Some(err)),
        };
        checked.set(None);
        put.dispatch(PutKey {
            namespace_id: namespace_id.clone(),
            key: key.get_untracked(),
            value: Some(value.get_untracked()),
            value_base64: None,
            metadata,
            expiration,
            expiration_ttl,
            version: None,
            create_only: None,
        });
    };
    view! {
        <Modal title="Add key".to_owned() on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=&["key", "value", "metadata", "expiration", "expiration_ttl"] />
                <label class=LABEL>
                    "Key"
                    <input class=INPUT type="text" required bind:value=key autocomplete="off" />
                </label>
                <FieldError error field="key" />
                <label class=LABEL>
                    "Value"
                    <textarea class=format!("{INPUT} font-mono") rows="6" bind:value=value></textarea>
                </label>
                <FieldError error field="value" />
                <label class=LABEL>
                    "Metadata (JSON)"
                    <textarea class=format!("{INPUT} font-mono") rows="3" bind:value=metadata></textarea>
                </label>
                <Hint>{move || metadata_size(&metadata.get())}</Hint>
                <FieldError error field="metadata" />
                <TtlFields mode seconds at error />
                <DialogButtons on_cancel=on_close label="Save" pending />
            </form>
        </Modal>
    }
}
