//! The editor's value tab for viewers who may write: value, metadata, expiration, save and delete.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::conflict::{Conflict, ConflictPanel, Resolve};
use super::rename::RenameKey;
use super::ttl::{TtlFields, TtlMode, metadata_input, metadata_size, ttl_inputs};
use crate::components::field_error::{FieldError, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::modal::{BUTTON, BUTTON_DANGER, BUTTON_SECONDARY, INPUT, LABEL};
use crate::components::text::MUTED;
use crate::components::value_viewer::{ImagePreview, JsonTree, json_state};
use crate::dto::KeyDto;
use crate::error::AppError;
use crate::format;
use crate::serverfns::keys::{delete_key, get_key, put_key};

/// What the editor sends: the key's new value, metadata and expiration, or its deletion.
#[derive(Clone, Debug)]
enum KeyChange {
    Save {
        value: Option<String>,
        value_base64: Option<String>,
        metadata: Option<serde_json::Value>,
        expiration: Option<i64>,
        expiration_ttl: Option<i64>,
    },
    Delete,
}

/// What a [`KeyChange`] did.
#[derive(Clone, Debug, PartialEq)]
enum KeyChanged {
    /// Saved: the key's version now.
    Saved(String),
    Deleted,
    /// Not saved: the key is not at the version the editor based its edit on. The server's
    /// account of it, and the key as it is now (`None`: deleted meanwhile).
    Conflict {
        message: String,
        current: Option<Box<KeyDto>>,
    },
}

/// The state of the key a save expects: the version the editor read, or (after the key was
/// deleted meanwhile and the user chose to create it again) that it does not exist.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Expect {
    Version(Option<String>),
    Absent,
}

/// Sends a change. A save carries the version the editor loaded (or last saved): if the key
/// changed meanwhile the server refuses it (409) and the answer is the key as it is now.
async fn send(namespace_id: String, key: String, expect: Expect, change: KeyChange) -> Result<KeyChanged, AppError> {
    match change {
        KeyChange::Save { value, value_base64, metadata, expiration, expiration_ttl } => {
            let (version, create_only) = match expect {
                Expect::Version(version) => (version, None),
                Expect::Absent => (None, Some(true)),
            };
            let written = put_key(
                namespace_id.clone(),
                key.clone(),
                value,
                value_base64,
                metadata,
                expiration,
                expiration_ttl,
                version,
                create_only,
            )
            .await;
            match written {
                Ok(written) => Ok(KeyChanged::Saved(written.version)),
                Err(err) if err.code == "conflict" && err.field.as_deref() == Some("version") => {
                    let current = match get_key(namespace_id, key).await {
                        Ok(found) => Some(Box::new(found)),
                        Err(gone) if gone.code == "not_found" => None,
                        Err(other) => return Err(other),
                    };
                    Ok(KeyChanged::Conflict { message: err.message, current })
                }
                Err(err) => Err(err),
            }
        }
        KeyChange::Delete => {
            delete_key(namespace_id, key).await?;
            Ok(KeyChanged::Deleted)
        }
    }
}

#[component]
pub(super) fn EditorForm(
    namespace_id: String,
    loaded: KeyDto,
    on_close: Callback<()>,
    on_change: Callback<()>,
    /// Reads the key again and shows it as it is now (dropping the edit).
    on_reload: Callback<()>,
    /// Opens the key under the name it was renamed to.
    on_renamed: Callback<String>,
) -> impl IntoView {
    let binary = loaded.value_base64.is_some();
    let value = RwSignal::new(loaded.value.clone().or(loaded.value_base64.clone()).unwrap_or_default());
    let metadata = RwSignal::new(
        loaded.metadata.as_ref().map(|m| serde_json::to_string_pretty(m).unwrap_or_default()).unwrap_or_default(),
    );
    let mode = RwSignal::new(if loaded.expiration.is_some() { TtlMode::At } else { TtlMode::None });
    let seconds = RwSignal::new(String::new());
    let at = RwSignal::new(loaded.expiration.map(format::datetime_local).unwrap_or_default());
    // The date field shows minutes only: an untouched field keeps the key's exact expiration.
    let original_expiration = loaded.expiration.map(|t| (format::datetime_local(t), t));
    let saved = RwSignal::new(false);
    let key = loaded.name.clone();
    let download = loaded.value_base64.clone().map(|b64| format!("data:application/octet-stream;base64,{b64}"));
    // The version this editor's value is based on: as loaded, then as last saved (or as a
    // conflict showed it, when the user chose to overwrite).
    let expect = RwSignal::new(Expect::Version(loaded.version.clone()));
    let conflict = RwSignal::new(None::<Conflict>);
    // The last save sent, to send again when the user overwrites after a conflict.
    let last_save = StoredValue::new(None::<KeyChange>);
    let change = {
        let (namespace_id, key) = (namespace_id.clone(), key.clone());
        Action::new(move |change: &KeyChange| {
            send(namespace_id.clone(), key.clone(), expect.get_untracked(), change.clone())
        })
    };
    // What the browser's check of the metadata and expiration found.
    let checked = RwSignal::new(None::<AppError>);
    let error = form_error(change, checked);
    let pending = change.pending();
    on_success(change, move |done| match done {
        KeyChanged::Saved(now) => {
            on_change.run(());
            expect.set(Expect::Version(Some(now.clone())));
            conflict.set(None);
            saved.set(true);
        }
        KeyChanged::Deleted => {
            on_change.run(());
            on_close.run(());
        }
        KeyChanged::Conflict { message, current } => {
            // The edit the panel compares is the save just refused.
            if let Some(KeyChange::Save { value, value_base64, metadata, .. }) = last_save.get_value() {
                conflict.set(Some(Conflict {
                    message: message.clone(),
                    current: current.as_deref().cloned(),
                    binary: value_base64.is_some(),
                    mine: value.or(value_base64).unwrap_or_default(),
                    metadata,
                }));
            }
        }
    });
    let on_resolve = Callback::new(move |how: Resolve| match how {
        Resolve::Reload => on_reload.run(()),
        Resolve::Overwrite => {
            let Some(found) = conflict.get_untracked() else { return };
            // Guarded by the version just shown: a third writer meanwhile is caught again.
            expect.set(match found.current {
                Some(current) => Expect::Version(current.version),
                None => Expect::Absent,
            });
            conflict.set(None);
            if let Some(save) = last_save.get_value() {
                change.dispatch(save);
            }
        }
    });
    let fields = EditorFields { value, metadata, mode, seconds, at };
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        match fields.change(binary, original_expiration.as_ref()) {
            Ok(next) => {
                checked.set(None);
                conflict.set(None);
                last_save.set_value(Some(next.clone()));
                change.dispatch(next);
            }
            Err(err) => checked.set(Some(err)),
        }
    };
    let held_version = Signal::derive(move || match expect.get() {
        Expect::Version(version) => version,
        Expect::Absent => None,
    });
    let rename_ns = namespace_id.clone();
    // Text that looks like JSON and does not parse keeps Save off, unless saved as text anyway.
    let json = Memo::new(move |_| if binary { None } else { value.with(|text| json_state(text)) });
    let as_text = RwSignal::new(false);
    let invalid = move || matches!(json.get(), Some(Err(_)));
    let (image_text, image_b64) = (loaded.value.clone(), loaded.value_base64.clone());
    view! {
        <div class="space-y-3">
        <form class="space-y-3" on:submit=save>
            <FormError error fields=&["value", "value_base64", "metadata", "expiration", "expiration_ttl"] />
            <label class=LABEL>
                {if binary { "Value (base64: not UTF-8 text)" } else { "Value" }}
                <textarea class=format!("{INPUT} font-mono") rows="10" aria-label="Value" bind:value=value>
                    {value.get_untracked()}
                </textarea>
            </label>
            <ValueTools value json binary size=loaded.size download name=key.clone() />
            <Show when=invalid>
                <label class="flex items-center gap-2 text-sm">
                    <input type="checkbox" bind:checked=as_text />
                    "Save as text anyway"
                </label>
            </Show>
            <ImagePreview text=image_text base64=image_b64 name=key.clone() />
            <FieldError error field="value" />
            <FieldError error field="value_base64" />
            <MetadataField metadata error />
            <TtlFields mode seconds at error />
            {move || conflict.get().map(|conflict| view! { <ConflictPanel conflict on_resolve /> })}
            <div class="flex flex-wrap items-center justify-end gap-2">
                <Show when=move || saved.get()>
                    <span role="status" class="mr-auto text-sm text-green-700 dark:text-green-400">"Saved"</span>
                </Show>
                <DeleteKey change />
                <button type="submit" class=BUTTON disabled=move || pending.get() || (invalid() && !as_text.get())>
                    "Save"
                </button>
            </div>
        </form>
        <RenameKey namespace_id=rename_ns key=key.clone() version=held_version on_renamed />
        </div>
    }
}

/// The editor's inputs.
#[derive(Clone, Copy)]
struct EditorFields {
    value: RwSignal<String>,
    metadata: RwSignal<String>,
    mode: RwSignal<TtlMode>,
    seconds: RwSignal<String>,
    at: RwSignal<String>,
}

impl EditorFields {
    /// The save the inputs ask for, checked in the browser. `original` is the key's expiration
    /// as the date field shows it (minutes) and exactly: an untouched field keeps the exact one.
    fn change(&self, binary: bool, original: Option<&(String, i64)>) -> Result<KeyChange, AppError> {
        let metadata = metadata_input(&self.metadata.get_untracked())?;
        let mode = self.mode.get_untracked();
        let at = self.at.get_untracked();
        let (expiration, expiration_ttl) = ttl_inputs(mode, &self.seconds.get_untracked(), &at)?;
        let expiration = match original {
            Some((shown, exact)) if mode == TtlMode::At && at == *shown => Some(*exact),
            _ => expiration,
        };
        let text = self.value.get_untracked();
        let (value, value_base64) = if binary { (None, Some(text)) } else { (Some(text), None) };
        Ok(KeyChange::Save { value, value_base64, metadata, expiration, expiration_ttl })
    }
}

/// The metadata as JSON, its size against the limit, and its error.
#[component]
fn MetadataField(metadata: RwSignal<String>, error: Signal<Option<AppError>>) -> impl IntoView {
    view! {
        <label class=LABEL>
            "Metadata (JSON)"
            <textarea class=format!("{INPUT} font-mono") rows="4" bind:value=metadata>
                {metadata.get_untracked()}
            </textarea>
        </label>
        <p class=format!("text-xs {MUTED}") data-testid="metadata-size">{move || metadata_size(&metadata.get())}</p>
        <FieldError error field="metadata" />
    }
}

/// The value's size, whether it is valid JSON, "Format", "Minify" and a tree for a JSON value,
/// and "Download value" for a binary one.
#[component]
fn ValueTools(
    value: RwSignal<String>,
    /// What the value is as JSON (see [`json_state`]).
    json: Memo<Option<Result<(), String>>>,
    binary: bool,
    /// The stored size, shown for a binary value (its text here is base64).
    size: u64,
    download: Option<String>,
    name: String,
) -> impl IntoView {
    let is_json = move || matches!(json.get(), Some(Ok(())));
    let tree = RwSignal::new(false);
    let reformat = move |pretty: bool| {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&value.get_untracked()) {
            let text = if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) };
            if let Ok(text) = text {
                value.set(text);
            }
        }
    };
    let shown_size = move || {
        let text = value.get();
        if binary { size } else { text.len() as u64 }
    };
    view! {
        <div class=format!("flex flex-wrap items-center gap-2 text-xs {MUTED}")>
            <span>{move || format::bytes(shown_size())}</span>
            <span aria-live="polite" data-testid="json-state">
                {move || match json.get() {
                    Some(Ok(())) => view! { <span class="text-green-700 dark:text-green-400">"Valid JSON"</span> }.into_any(),
                    Some(Err(why)) => view! { <span class="text-red-700 dark:text-red-400">{format!("Not valid JSON: {why}")}</span> }.into_any(),
                    None => ().into_any(),
                }}
            </span>
            <Show when=is_json>
                <button type="button" class=BUTTON_SECONDARY on:click=move |_| reformat(true)>
                    "Format"
                </button>
                <button type="button" class=BUTTON_SECONDARY on:click=move |_| reformat(false)>
                    "Minify"
                </button>
                <button type="button" class=BUTTON_SECONDARY aria-pressed=move || tree.get().to_string() on:click=move |_| tree.update(|t| *t = !*t)>
                    "Tree"
                </button>
            </Show>
            {download.map(|href| view! { <a class="underline" href=href download=name.clone()>"Download value"</a> })}
        </div>
        {move || {
            (tree.get() && is_json())
                .then(|| serde_json::from_str::<serde_json::Value>(&value.get()).ok())
                .flatten()
                .map(|value| view! { <JsonTree value /> })
        }}
    }
}

/// "Delete", then "Confirm delete" or "Keep".
#[component]
fn DeleteKey(change: Action<KeyChange, Result<KeyChanged, AppError>>) -> impl IntoView {
    let confirm_delete = RwSignal::new(false);
    let pending = change.pending();
    let remove = move |_| {
        change.dispatch(KeyChange::Delete);
    };
    view! {
        <Show
            when=move || confirm_delete.get()
            fallback=move || view! {
                <button type="button" class=BUTTON_SECONDARY on:click=move |_| confirm_delete.set(true)>
                    "Delete"
                </button>
            }
        >
            <span class="text-sm">"Delete this key?"</span>
            <button type="button" class=BUTTON_DANGER disabled=move || pending.get() on:click=remove>
                "Confirm delete"
            </button>
            <button type="button" class=BUTTON_SECONDARY on:click=move |_| confirm_delete.set(false)>
                "Keep"
            </button>
        </Show>
    }
}
