//! The filters (prefix, tag) and the buttons above the keys: "Sync now" and "Add key".

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::Form;
use leptos_router::hooks::use_navigate;

use super::keys_url;
use crate::components::form_action::on_success;
use crate::components::modal::{BUTTON, BUTTON_SECONDARY, INPUT};
use crate::components::viewer::use_viewer;
use crate::dto::TagsDto;
use crate::error::AppError;
use crate::pages::debounce;
use crate::serverfns::namespaces::SyncNamespace;

/// The prefix filter (applied as typing pauses), the tag filter and the page's buttons.
#[component]
#[allow(clippy::too_many_arguments)]
pub(super) fn KeyToolbar(
    namespace_id: Memo<String>,
    prefix: Memo<String>,
    tag: Memo<String>,
    tags_in_use: Resource<Result<TagsDto, AppError>>,
    adding: RwSignal<bool>,
    rewinding: RwSignal<bool>,
    refresh: Callback<()>,
    writer: bool,
) -> impl IntoView {
    let navigate = use_navigate();
    let later = debounce(300);
    let on_prefix = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let navigate = navigate.clone();
        let id = namespace_id.get_untracked();
        let tag = tag.get_untracked();
        later(Box::new(move || {
            navigate(
                &keys_url(&id, &value, &tag, None),
                NavigateOptions { replace: true, scroll: false, ..Default::default() },
            );
        }));
    };
    view! {
            <div class="flex flex-wrap items-end gap-3">
                <Form method="GET" action="" attr:class="flex min-w-0 flex-1 gap-2" attr:role="search">
                    <label class="min-w-0 flex-1 text-sm font-medium">
                        "Filter by prefix"
                        <input
                            type="search"
                            name="prefix"
                            class=INPUT
                            autocomplete="off"
                            value=prefix.get_untracked()
                            prop:value=move || prefix.get()
                            on:input=on_prefix
                        />
                    </label>
                </Form>
                <TagFilter namespace_id prefix tag tags_in_use />
                {(writer && use_viewer().remote_store).then(|| view! { <SyncButton namespace_id refresh /> })}
                // The versions a rewind reads are the local store's own.
                {(writer && !use_viewer().remote_store)
                    .then(|| {
                        view! {
                            <button type="button" class=BUTTON_SECONDARY on:click=move |_| rewinding.set(true)>
                                "Rewind…"
                            </button>
                        }
                    })}
                {writer
                    .then(|| {
                        view! {
                            <button type="button" class=BUTTON on:click=move |_| adding.set(true)>
                                "Add key"
                            </button>
                        }
                    })}
            </div>
    }
}

/// The tags in use in the namespace, to list only the keys with one.
#[component]
fn TagFilter(
    namespace_id: Memo<String>,
    prefix: Memo<String>,
    tag: Memo<String>,
    tags_in_use: Resource<Result<TagsDto, AppError>>,
) -> impl IntoView {
    let on_tag = {
        let navigate = use_navigate();
        move |ev: leptos::ev::Event| {
            let url = keys_url(&namespace_id.get_untracked(), &prefix.get_untracked(), &event_target_value(&ev), None);
            navigate(&url, NavigateOptions { replace: true, scroll: false, ..Default::default() });
        }
    };
    view! {
                <Suspense fallback=|| ()>
                    {move || {
                        let on_tag = on_tag.clone();
                        Suspend::new(async move {
                            let tags = tags_in_use.await.map(|t| t.tags).unwrap_or_default();
                            let current = tag.get_untracked();
                            view! {
                                <label class="text-sm font-medium">
                                    "Filter by tag"
                                    <select class=INPUT on:change=on_tag>
                                        <option value="" selected=current.is_empty()>"All keys"</option>
                                        {tags
                                            .into_iter()
                                            .map(|t| {
                                                let selected = t.tag.eq_ignore_ascii_case(&current);
                                                view! {
                                                    <option value=t.tag.clone() selected=selected>
                                                        {format!("{} ({})", t.tag, t.count)}
                                                    </option>
                                                }
                                            })
                                            .collect_view()}
                                    </select>
                                </label>
                            }
                        })
                    }}
                </Suspense>
    }
}

/// "Sync now" (Cloudflare backend): takes in keys written on Cloudflare by others and drops
/// keys deleted there, then reloads the listing; says what changed.
#[component]
pub(super) fn SyncButton(namespace_id: Memo<String>, refresh: Callback<()>) -> impl IntoView {
    let sync = ServerAction::<SyncNamespace>::new();
    let outcome = move || {
        sync.value().get().map(|result| match result {
            Ok(done) => format!("Synced: {} key(s) taken in, {} dropped", done.taken, done.dropped),
            Err(err) => err.message,
        })
    };
    on_success(*sync, move |_| refresh.run(()));
    view! {
        <span role="status" class="text-sm text-gray-600 dark:text-gray-300">{outcome}</span>
        <button
            type="button"
            class=BUTTON_SECONDARY
            title="Bring this namespace's key index in line with Cloudflare"
            disabled=move || sync.pending().get()
            on:click=move |_| {
                sync.dispatch(SyncNamespace { namespace_id: namespace_id.get_untracked() });
            }
        >
            {move || if sync.pending().get() { "Syncing…" } else { "Sync now" }}
        </button>
    }
}
