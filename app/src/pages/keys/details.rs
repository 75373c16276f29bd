//! The key editor's "Tags & metadata" and "History" tabs (a version compared with another or the
//! current value: `compare.rs`).

use leptos::prelude::*;

use super::compare::VersionCompare;
use crate::components::field_error::{FieldError, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::modal::{BUTTON, BUTTON_SECONDARY, INPUT, LABEL};
use crate::components::tag_chips::TagChips;
use crate::components::text::{Hint, Muted};
use crate::components::viewer::can_write;
use crate::dto::{KeyDetailsDto, KeyVersionDto, VersionDto};
use crate::error::AppError;
use crate::format;
use crate::serverfns::catalog::{
    PutKeyDetails, get_key_details, get_key_version, list_key_versions, list_tags, restore_key_version,
};

/// Tags (with suggestions from the tags in use) and the custom JSON object of a key: a form for
/// viewers who may write, plain text for the others.
#[component]
pub fn DetailsPanel(namespace_id: String, key: String) -> impl IntoView {
    let writer = can_write();
    let loaded = {
        let (namespace_id, key) = (namespace_id.clone(), key.clone());
        Resource::new(|| (), move |_| get_key_details(namespace_id.clone(), key.clone()))
    };
    // Suggestions are for the form only.
    let suggestions = Resource::new(
        || (),
        move |_| async move { if writer { list_tags(None, None, None).await.ok() } else { None } },
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let (namespace_id, key) = (namespace_id.clone(), key.clone());
                Suspend::new(async move {
                    let suggested: Vec<String> =
                        suggestions.await.map(|t| t.tags.into_iter().map(|t| t.tag).collect()).unwrap_or_default();
                    match loaded.await {
                        Ok(details) if writer => view! { <DetailsForm namespace_id key details suggested /> }.into_any(),
                        Ok(details) => view! { <DetailsView details /> }.into_any(),
                        Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// A key's tags and custom metadata, for reading only.
#[component]
fn DetailsView(details: KeyDetailsDto) -> impl IntoView {
    let no_tags = details.tags.is_empty();
    let custom = details
        .custom_metadata
        .as_object()
        .is_some_and(|o| !o.is_empty())
        .then(|| serde_json::to_string_pretty(&details.custom_metadata).unwrap_or_default());
    view! {
        <dl class="space-y-3 text-sm">
            <div>
                <dt class="font-medium">"Tags"</dt>
                <dd class="mt-1" data-testid="tags-view">
                    {if no_tags {
                        view! { <Muted>"No tags"</Muted> }.into_any()
                    } else {
                        view! { <TagChips tags=details.tags /> }.into_any()
                    }}
                </dd>
            </div>
            <div>
                <dt class="font-medium">"Custom metadata (JSON)"</dt>
                <dd class="mt-1" data-testid="custom-metadata-view">
                    {match custom {
                        Some(text) => view! { <pre class="max-h-60 overflow-auto rounded-md bg-slate-100 p-2 font-mono text-xs whitespace-pre-wrap break-all dark:bg-slate-800">{text}</pre> }.into_any(),
                        None => view! { <Muted>"None"</Muted> }.into_any(),
                    }}
                </dd>
            </div>
        </dl>
    }
}

fn parse_custom(text: &str) -> Result<serde_json::Value, AppError> {
    if text.trim().is_empty() {
        return Ok(serde_json::json!({}));
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) if value.is_object() => Ok(value),
        Ok(_) => Err(AppError::invalid(
            "custom_metadata",
            "custom_metadata: must be a JSON object, like {\"owner\": \"ops\"}",
        )),
        Err(err) => Err(AppError::invalid("custom_metadata", format!("custom_metadata: not valid JSON: {err}"))),
    }
}

#[component]
fn DetailsForm(namespace_id: String, key: String, details: KeyDetailsDto, suggested: Vec<String>) -> impl IntoView {
    let tags = RwSignal::new(details.tags);
    let custom = RwSignal::new(serde_json::to_string_pretty(&details.custom_metadata).unwrap_or_default());
    let save_details = ServerAction::<PutKeyDetails>::new();
    // What the browser's check of the custom metadata found.
    let checked = RwSignal::new(None::<AppError>);
    let error = form_error(*save_details, checked);
    let pending = save_details.pending();
    let saved = RwSignal::new(false);
    on_success(*save_details, move |stored: &KeyDetailsDto| {
        tags.set(stored.tags.clone());
        saved.set(true);
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let custom = match parse_custom(&custom.get_untracked()) {
            Ok(value) => value,
            Err(err) => return checked.set(Some(err)),
        };
        checked.set(None);
        save_details.dispatch(PutKeyDetails {
            namespace_id: namespace_id.clone(),
            key: key.clone(),
            tags: Some(tags.get_untracked()),
            custom_metadata: Some(custom),
        });
    };
    let custom_status = move || match parse_custom(&custom.get()) {
        Ok(_) => "Valid JSON object".to_owned(),
        Err(err) => err.message,
    };
    view! {
        <form class="space-y-3" on:submit=save>
            <FormError error fields=&["tags", "custom_metadata"] />
            <TagEditor tags suggested error />
            <label class=LABEL>
                "Custom metadata (JSON)"
                <textarea class=format!("{INPUT} font-mono") rows="6" bind:value=custom>
                    {custom.get_untracked()}
                </textarea>
            </label>
            <Hint>{custom_status}</Hint>
            <FieldError error field="custom_metadata" />
            <div class="flex items-center justify-end gap-2">
                <Show when=move || saved.get()>
                    <span role="status" class="mr-auto text-sm text-green-700 dark:text-green-400">"Details saved"</span>
                </Show>
                <button type="submit" class=BUTTON disabled=move || pending.get()>
                    "Save details"
                </button>
            </div>
        </form>
    }
}

/// The key's tags, each with a remove button, and a field to add one (suggesting tags in use).
#[component]
fn TagEditor(tags: RwSignal<Vec<String>>, suggested: Vec<String>, error: Signal<Option<AppError>>) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let add_tag = move || {
        let tag = draft.get_untracked().trim().to_owned();
        if !tag.is_empty() && !tags.get_untracked().iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
            tags.update(|t| t.push(tag));
        }
        draft.set(String::new());
    };
    view! {
        <div>
            <span class=LABEL>"Tags"</span>
            <ul class="mt-1 flex flex-wrap gap-1" aria-label="Tags">
                <For each=move || tags.get() key=|t| t.clone() let:tag>
                    <li class="flex items-center gap-1 rounded-full bg-indigo-100 px-2 py-0.5 text-sm text-indigo-900 dark:bg-indigo-900 dark:text-indigo-100">
                        {tag.clone()}
                        <button
                            type="button"
                            aria-label=format!("Remove tag {tag}")
                            class="leading-none"
                            on:click={
                                let tag = tag.clone();
                                move |_| tags.update(|t| t.retain(|x| x != &tag))
                            }
                        >
                            "×"
                        </button>
                    </li>
                </For>
            </ul>
            <div class="mt-2 flex gap-2">
                <input
                    class=INPUT
                    list="tag-suggestions"
                    aria-label="Add tag"
                    placeholder="Add a tag"
                    bind:value=draft
                    on:keydown=move |ev: web_sys::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            add_tag();
                        }
                    }
                />
                <button type="button" class=BUTTON_SECONDARY on:click=move |_| add_tag()>
                    "Add tag"
                </button>
            </div>
            <datalist id="tag-suggestions">
                {suggested.into_iter().map(|t| view! { <option value=t></option> }).collect_view()}
            </datalist>
            <FieldError error field="tags" />
        </div>
    }
}

/// What the history's buttons do with a version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum VersionOp {
    View,
    Restore,
}

/// What a [`VersionOp`] gave.
#[derive(Clone, Debug)]
enum VersionAnswer {
    Viewed(KeyVersionDto),
    Restored(i64),
}

async fn version_call(
    namespace_id: String,
    key: String,
    op: VersionOp,
    version: i64,
) -> Result<VersionAnswer, AppError> {
    match op {
        VersionOp::View => get_key_version(namespace_id, key, version).await.map(VersionAnswer::Viewed),
        VersionOp::Restore => {
            restore_key_version(namespace_id, key, version).await?;
            Ok(VersionAnswer::Restored(version))
        }
    }
}

/// Earlier states of a key: view one, or (for viewers who may write) restore it.
#[component]
pub fn HistoryPanel(namespace_id: String, key: String, on_restored: Callback<()>) -> impl IntoView {
    let writer = can_write();
    let versions = {
        let (namespace_id, key) = (namespace_id.clone(), key.clone());
        Resource::new(|| (), move |_| list_key_versions(namespace_id.clone(), key.clone(), None, None))
    };
    let viewing = RwSignal::new(None::<KeyVersionDto>);
    let restored = RwSignal::new(None::<i64>);
    let (compare_ns, compare_key) = (namespace_id.clone(), key.clone());
    let history = Action::new(move |(op, version): &(VersionOp, i64)| {
        version_call(namespace_id.clone(), key.clone(), *op, *version)
    });
    let error = form_error(history, RwSignal::new(None));
    let pending = history.pending();
    on_success(history, move |answer| match answer {
        VersionAnswer::Viewed(v) => viewing.set(Some(v.clone())),
        VersionAnswer::Restored(version) => {
            restored.set(Some(*version));
            viewing.set(None);
            versions.refetch();
            on_restored.run(());
        }
    });
    let listed = Signal::derive(move || {
        versions.get().and_then(Result::ok).map(|l| l.versions.iter().map(|v| v.version).collect()).unwrap_or_default()
    });
    let view_version = move |version: i64| {
        history.dispatch((VersionOp::View, version));
    };
    let restore = move |version: i64| {
        history.dispatch((VersionOp::Restore, version));
    };
    view! {
        <div class="space-y-3">
            <FormError error fields=&[] />
            {move || restored.get().map(|v| view! { <p role="status" class="text-sm text-green-700 dark:text-green-400">{format!("Version {v} restored")}</p> })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    Suspend::new(async move {
                        match versions.await {
                            Ok(list) if list.versions.is_empty() => view! {
                                <p class="text-sm text-slate-600 dark:text-slate-400">
                                    "No earlier versions yet: every overwrite and delete will keep the value it replaces here."
                                </p>
                            }
                                .into_any(),
                            Ok(list) => view! { <VersionTable versions=list.versions view_version restore pending writer /> }.into_any(),
                            Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                        }
                    })
                }}
            </Transition>
            {move || {
                viewing
                    .get()
                    .map(|v| {
                        let shown = v.value.clone().or(v.value_base64.clone().map(|b| format!("(base64) {b}"))).unwrap_or_default();
                        let (label, heading) = (format!("Version {}", v.version), format!("Version {} · {}", v.version, format::bytes(v.size)));
                        view! {
                            <section aria-label=label class="rounded-md border border-slate-200 p-2 dark:border-slate-800">
                                <h3 class="text-sm font-medium">{heading}</h3>
                                <pre class="mt-1 max-h-60 overflow-auto text-xs whitespace-pre-wrap break-all" data-testid="version-value">{shown}</pre>
                                <VersionCompare namespace_id=compare_ns.clone() key=compare_key.clone() shown=v versions=listed />
                            </section>
                        }
                    })
            }}
        </div>
    }
}

#[component]
fn VersionTable<V, R>(
    versions: Vec<VersionDto>,
    view_version: V,
    restore: R,
    pending: Memo<bool>,
    /// Shows "Restore".
    writer: bool,
) -> impl IntoView
where
    V: Fn(i64) + Clone + Send + Sync + 'static,
    R: Fn(i64) + Clone + Send + Sync + 'static,
{
    view! {
        <div class="overflow-x-auto">
            <table class="w-full text-left text-sm">
                <thead>
                    <tr>
                        <th scope="col" class="p-1">"Version"</th>
                        <th scope="col" class="p-1">"When"</th>
                        <th scope="col" class="p-1">"By"</th>
                        <th scope="col" class="p-1 text-right">"Size"</th>
                        <th scope="col" class="p-1">"Replaced by"</th>
                        <th scope="col" class="p-1"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {versions
                        .into_iter()
                        .map(|v| {
                            let (view_version, restore) = (view_version.clone(), restore.clone());
                            let version = v.version;
                            view! {
                                <tr class="border-t border-slate-200 dark:border-slate-800" data-version=version>
                                    <td class="p-1 tabular-nums">{version}</td>
                                    <td class="p-1 whitespace-nowrap">{v.created_at.replace('T', " ").replace('Z', " UTC")}</td>
                                    <td class="p-1 break-all">{v.created_by}</td>
                                    <td class="p-1 text-right tabular-nums">{format::bytes(v.size)}</td>
                                    <td class="p-1">{v.operation}</td>
                                    <td class="flex gap-1 p-1">
                                        <button type="button" class=BUTTON_SECONDARY on:click=move |_| view_version(version)>
                                            "View"
                                        </button>
                                        {writer
                                            .then(|| {
                                                view! {
                                                    <button type="button" class=BUTTON_SECONDARY disabled=move || pending.get() on:click=move |_| restore(version)>
                                                        "Restore"
                                                    </button>
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
