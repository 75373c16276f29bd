use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::{A, Form};
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::components::cursor_list::{CursorPages, LoadMore};
use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::field_error::{DialogButtons, FieldError, FormError, run_submit};
use crate::components::header::jobs_notifier;
use crate::components::job_progress::{WatchedJob, job_progress};
use crate::components::modal::{BUTTON, BUTTON_DANGER, BUTTON_SECONDARY, INPUT, LABEL, Modal};
use crate::components::radio_group::RadioGroup;
use crate::components::tag_chips::TagChips;
use crate::components::text::{Hint, MUTED, Muted};
use crate::components::viewer::{can_write, use_viewer};
use crate::dto::{JobDto, KeyDto, KeyEntryDto, KeyListDto};
use crate::error::AppError;
use crate::format;
use crate::pages::bulk::{BulkContext, Selection, bulk_bar};
use crate::pages::key_details::{DetailsPanel, HistoryPanel};
use crate::pages::{debounce, encode_query, with_query};
use crate::serverfns::catalog::{list_tags, search_keys};
use crate::serverfns::keys::{delete_key, get_key, list_keys, put_key};
use crate::serverfns::namespaces::{get_namespace, sync_namespace};

const PAGE_SIZE: u32 = 500;
const MAX_METADATA_BYTES: usize = 1024;

/// `/namespaces/{id}`: the keys of one namespace, a prefix filter, paging and the key editor.
/// Viewers who may not write see no "Add key", no row checkboxes (so no bulk bar) and a key
/// viewer instead of the editor.
#[component]
pub fn KeysPage() -> impl IntoView {
    let writer = can_write();
    let params = use_params_map();
    let query = use_query_map();
    let namespace_id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let prefix = Memo::new(move |_| query.read().get("prefix").unwrap_or_default());
    let tag = Memo::new(move |_| query.read().get("tag").unwrap_or_default());
    let open_key = Memo::new(move |_| query.read().get("key"));
    // Effects run only in the browser, after hydration.
    let in_browser = RwSignal::new(false);
    Effect::new(move |_| in_browser.set(true));
    let reload = RwSignal::new(0u32);
    let namespace = Resource::new(move || (namespace_id.get(), reload.get()), |(id, _)| get_namespace(id));
    let first_page = Resource::new(
        move || (namespace_id.get(), prefix.get(), tag.get(), reload.get()),
        |(id, prefix, tag, _)| load_keys(id, prefix, tag, None),
    );
    let tags_in_use =
        Resource::new(move || (namespace_id.get(), reload.get()), |(id, _)| list_tags(Some(id), None, None));
    // A key opened by its address (`?key=`) is shown read-only in the page by the server, so it
    // reads without JavaScript; in the browser the editor dialog takes over once hydrated (the
    // read view's data travels with the page, so hydration asks for nothing).
    let read_view = Resource::new(
        move || (namespace_id.get(), open_key.get(), in_browser.get()),
        |(id, key, browser)| async move {
            match key {
                Some(key) if !browser => get_key(id, key).await.map(Some),
                _ => Ok(None),
            }
        },
    );
    // The rows chosen for a bulk action; a new listing starts with none.
    let selection = RwSignal::new(Selection::default());
    Effect::watch(
        move || (namespace_id.get(), prefix.get(), tag.get(), reload.get()),
        move |_, _, _| selection.set(Selection::default()),
        false,
    );
    let adding = RwSignal::new(false);
    let refresh = Callback::new(move |_: ()| reload.update(|n| *n += 1));
    let jobs_changed = jobs_notifier();
    // The last job started here, followed until it ends (its dialog may be in the background).
    let watching = RwSignal::new(None::<WatchedJob>);
    let key_count = Signal::derive(move || namespace.get().and_then(Result::ok).map(|n| n.key_count));
    let bulk = BulkContext {
        namespace_id,
        namespace_title: Signal::derive(move || {
            namespace.get().and_then(Result::ok).map(|n| n.title).unwrap_or_default()
        }),
        key_count,
        prefix,
        selection,
        on_started: Callback::new(move |job: WatchedJob| {
            watching.set(Some(job));
            jobs_changed();
        }),
    };
    let has_selection = Memo::new(move |_| !selection.with(Selection::is_empty));
    let on_finished = Callback::new(move |job: JobDto| {
        let id = namespace_id.get_untracked();
        if job.namespace_id == id || job.target_namespace_id.as_deref() == Some(id.as_str()) {
            reload.update(|n| *n += 1);
        }
        jobs_changed();
    });
    let on_dismiss = Callback::new(move |id: String| {
        if watching.with_untracked(|w| w.as_ref().is_some_and(|j| j.job_id == id)) {
            watching.set(None);
        }
    });
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
    let on_tag = {
        let navigate = use_navigate();
        move |ev: leptos::ev::Event| {
            let url = keys_url(&namespace_id.get_untracked(), &prefix.get_untracked(), &event_target_value(&ev), None);
            navigate(&url, NavigateOptions { replace: true, scroll: false, ..Default::default() });
        }
    };
    let close_editor = Callback::new({
        let navigate = use_navigate();
        move |_: ()| {
            let id = namespace_id.get_untracked();
            let p = prefix.get_untracked();
            let url = if p.is_empty() {
                format!("/namespaces/{id}")
            } else {
                format!("/namespaces/{id}?prefix={}", encode_query(&p))
            };
            navigate(&url, NavigateOptions { scroll: false, ..Default::default() });
        }
    });

    view! {
        <section class="space-y-4">
            <p class="text-sm">
                <A href="/" attr:class="text-indigo-600 hover:underline dark:text-indigo-400">
                    "← Namespaces"
                </A>
            </p>
            <Transition fallback=|| view! { <h1 class="text-2xl font-semibold">"Namespace"</h1> }>
                {move || Suspend::new(async move {
                    match namespace.await {
                        Ok(ns) => view! {
                            <div class="flex flex-wrap items-baseline gap-x-4 gap-y-1">
                                <h1 class="text-2xl font-semibold break-all">{ns.title}</h1>
                                <span class=format!("font-mono text-xs {MUTED}")>{ns.id.clone()}</span>
                                <span class="text-sm tabular-nums">
                                    {format!("{} keys · {}", ns.key_count, format::bytes(ns.size_bytes))}
                                </span>
                                <a class="text-sm text-indigo-600 hover:underline dark:text-indigo-400" href=format!("/audit?namespace={}", ns.id)>
                                    "Audit log"
                                </a>
                            </div>
                        }
                            .into_any(),
                        Err(err) => view! { <h1 class="text-2xl font-semibold">"Namespace not found"</h1><p role="alert">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
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
                {(writer && use_viewer().remote_store).then(|| view! { <SyncButton namespace_id refresh /> })}
                {writer
                    .then(|| {
                        view! {
                            <button type="button" class=BUTTON on:click=move |_| adding.set(true)>
                                "Add key"
                            </button>
                        }
                    })}
            </div>
            <Transition fallback=|| view! { <p>"Loading keys…"</p> }>
                {move || Suspend::new(async move {
                    match first_page.await {
                        Ok(first) => view! { <KeyTable first namespace_id prefix tag selection key_count writer /> }.into_any(),
                        Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
            // The bulk bar and its dialogs are a chunk of their own, loaded at the first selection.
            {move || {
                (writer && in_browser.get() && has_selection.get())
                    .then(|| view! { <Suspense fallback=|| ()>{Suspend::new(bulk_bar(bulk))}</Suspense> })
            }}
            {move || {
                watching
                    .get()
                    .filter(|_| in_browser.get())
                    .map(|job| {
                        view! { <Suspense fallback=|| ()>{Suspend::new(job_progress(job, on_finished, on_dismiss))}</Suspense> }
                    })
            }}
            <Show when=move || writer && adding.get()>
                <AddKeyDialog
                    namespace_id=namespace_id.get_untracked()
                    on_close=Callback::new(move |_| adding.set(false))
                    on_done=refresh
                />
            </Show>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let close = format!("/namespaces/{}", namespace_id.get_untracked());
                    match read_view.await {
                        Ok(Some(key)) => Some({
                            let label = format!("Key {}", key.name);
                            let name = key.name.clone();
                            view! {
                            <section
                                aria-label=label
                                class="space-y-3 rounded-md border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900"
                            >
                                <div class="flex items-center gap-2">
                                    <h2 class="mr-auto text-lg font-semibold break-all">{name}</h2>
                                    <a class=BUTTON_SECONDARY href=close>"Close"</a>
                                </div>
                                <KeyView loaded=key />
                            </section>
                            }.into_any()
                        }),
                        Ok(None) => None,
                        Err(err) => Some(view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any()),
                    }
                })}
            </Suspense>
            {move || {
                open_key
                    .get()
                    .filter(|_| in_browser.get())
                    .map(|key| {
                        let namespace_id = namespace_id.get_untracked();
                        // The editor is a separate chunk of the release bundle, fetched when a key
                        // is first opened; it is a dialog for the browser, so the server leaves it out.
                        view! {
                            <Suspense fallback=|| ()>
                                {Suspend::new(key_editor(namespace_id, key, close_editor, refresh))}
                            </Suspense>
                        }
                    })
            }}
        </section>
    }
}

const KEY_COLUMNS: &[Column] = &[
    Column::new("Key"),
    Column::new("Tags"),
    Column::new("Expiration"),
    Column::right("Size"),
    Column::new("Metadata"),
];

#[component]
fn KeyTable(
    first: KeyListDto,
    namespace_id: Memo<String>,
    prefix: Memo<String>,
    tag: Memo<String>,
    selection: RwSignal<Selection>,
    key_count: Signal<Option<u64>>,
    /// Rows get checkboxes (for the bulk bar) only when the viewer may write.
    writer: bool,
) -> impl IntoView {
    let empty = first.keys.is_empty();
    let pages = CursorPages::new(first);
    let load =
        move |cursor| load_keys(namespace_id.get_untracked(), prefix.get_untracked(), tag.get_untracked(), cursor);
    let shown_names = move || pages.with(|keys| keys.iter().map(|k| k.name.clone()).collect::<Vec<_>>());
    let all_shown = Memo::new(move |_| {
        let names = shown_names();
        !names.is_empty() && selection.with(|s| s.all_matching || names.iter().all(|n| s.keys.contains(n)))
    });
    let toggle_all = move |ev: leptos::ev::Event| {
        if event_target_checked(&ev) {
            let names = shown_names();
            selection.update(|s| s.keys.extend(names));
        } else {
            selection.set(Selection::default());
        }
    };
    let more_match = move || all_shown.get() && !pages.complete() && tag.with(String::is_empty);
    let select_matching_label = move || {
        let p = prefix.get();
        match (p.is_empty(), key_count.get()) {
            (true, Some(n)) => format!("Select all {n} matching"),
            (true, None) => "Select all matching keys".to_owned(),
            (false, _) => format!("Select all keys matching the prefix \"{p}\""),
        }
    };
    let select_all = move || {
        writer.then(|| {
            view! {
                <th scope="col" class="w-8 p-2">
                    <input type="checkbox" aria-label="Select all" prop:checked=move || all_shown.get() on:change=toggle_all />
                </th>
            }
        })
    };
    view! {
        <Show when=move || empty>
            <EmptyNote>
                {if writer { "No keys match. Add a key, or clear the prefix filter." } else { "No keys match. Clear the prefix filter." }}
            </EmptyNote>
        </Show>
        <DataTable columns=KEY_COLUMNS lead=select_all>
            {pages.rows(move |k| view! { <KeyRow entry=k prefix tag selection writer /> })}
        </DataTable>
        <Show when=move || writer && more_match()>
            <p class="flex flex-wrap items-center gap-2 text-sm">
                {move || {
                    if selection.with(|s| s.all_matching) {
                        view! { <span role="status">"Every matching key is selected, beyond the rows shown."</span> }.into_any()
                    } else {
                        view! {
                            <span>"Every row shown is selected."</span>
                            <button
                                type="button"
                                class=BUTTON_SECONDARY
                                on:click=move |_| selection.update(|s| s.all_matching = true)
                            >
                                {select_matching_label}
                            </button>
                        }
                            .into_any()
                    }
                }}
            </p>
        </Show>
        <LoadMore pages load>
            <span data-testid="key-count">{move || format!("{} keys shown", pages.len())}</span>
        </LoadMore>
    }
}

#[component]
fn KeyRow(
    entry: KeyEntryDto,
    prefix: Memo<String>,
    tag: Memo<String>,
    selection: RwSignal<Selection>,
    writer: bool,
) -> impl IntoView {
    let href = keys_url("", &prefix.get_untracked(), &tag.get_untracked(), Some(&entry.name));
    let metadata = entry.metadata.as_ref().map(|m| m.to_string());
    let name = entry.name.clone();
    let checked = {
        let name = name.clone();
        move || selection.with(|s| s.all_matching || s.keys.contains(&name))
    };
    let on_check = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        let name = name.clone();
        selection.update(|s| {
            // Unticking a row turns "every matching key" back into the rows ticked.
            s.all_matching = false;
            if on {
                s.keys.insert(name);
            } else {
                s.keys.remove(&name);
            }
        });
    };
    // The row is named by its cells, not by its checkbox ("Select …").
    let cell = encode_query(&entry.name);
    let ids = ["key", "tags", "exp", "size"].map(|c| format!("{c}-{cell}"));
    view! {
        <tr class="border-t border-slate-200 dark:border-slate-800" aria-labelledby=ids.join(" ")>
            {writer
                .then(|| {
                    view! {
                        <td class="w-8 p-2">
                            <input type="checkbox" aria-label=format!("Select {}", entry.name) prop:checked=checked on:change=on_check />
                        </td>
                    }
                })}
            <td class="p-2 font-mono break-all" id=ids[0].clone()>
                <a href=href class="text-indigo-700 hover:underline dark:text-indigo-300">
                    {entry.name.clone()}
                </a>
            </td>
            <td class="p-2" id=ids[1].clone()>
                <TagChips tags=entry.tags.clone() />
            </td>
            <td class="p-2 whitespace-nowrap" id=ids[2].clone()>
                {entry.expiration.map(format::utc).unwrap_or_else(|| "—".to_owned())}
            </td>
            <td class="p-2 text-right tabular-nums" id=ids[3].clone()>
                {format::bytes(entry.size)}
            </td>
            <td class="p-2">
                {metadata
                    .map(|m| {
                        view! {
                            <span title=m class="rounded bg-slate-200 px-1.5 text-xs dark:bg-slate-700">
                                "{ }"
                            </span>
                        }
                    })}
            </td>
        </tr>
    }
}

/// The keys page's address: `/namespaces/{id}` with its filters and the open key. An empty `id`
/// gives a relative `?…` link for the current namespace.
fn keys_url(id: &str, prefix: &str, tag: &str, key: Option<&str>) -> String {
    let base = if id.is_empty() { String::new() } else { format!("/namespaces/{id}") };
    with_query(&base, &[("prefix", prefix), ("tag", tag), ("key", key.unwrap_or_default())])
}

/// One page of keys: a plain listing, or a search within the namespace when a tag is chosen.
async fn load_keys(
    namespace_id: String,
    prefix: String,
    tag: String,
    cursor: Option<String>,
) -> Result<KeyListDto, AppError> {
    let prefix = Some(prefix).filter(|p| !p.is_empty());
    if tag.is_empty() {
        return list_keys(namespace_id, prefix, cursor, Some(PAGE_SIZE)).await;
    }
    let page = search_keys(
        None,
        prefix,
        Some(vec![namespace_id]),
        Some(vec![tag]),
        None,
        None,
        None,
        None,
        None,
        Some(PAGE_SIZE),
        cursor,
    )
    .await?;
    Ok(KeyListDto {
        list_complete: page.cursor.is_none(),
        cursor: page.cursor,
        keys: page
            .results
            .into_iter()
            .map(|hit| KeyEntryDto {
                name: hit.key,
                expiration: hit.expiration,
                metadata: None,
                size: hit.size,
                tags: hit.tags,
            })
            .collect(),
    })
}

/// How the editor expresses expiration.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TtlMode {
    None,
    Seconds,
    At,
}

/// Turns the form's TTL fields into `(expiration, expiration_ttl)`.
fn ttl_inputs(mode: TtlMode, seconds: &str, at: &str) -> Result<(Option<i64>, Option<i64>), AppError> {
    match mode {
        TtlMode::None => Ok((None, None)),
        TtlMode::Seconds => seconds
            .trim()
            .parse::<i64>()
            .map(|s| (None, Some(s)))
            .map_err(|_| AppError::invalid("expiration_ttl", "expiration_ttl: enter a whole number of seconds")),
        TtlMode::At => format::parse_datetime_local(at)
            .map(|t| (Some(t), None))
            .ok_or_else(|| AppError::invalid("expiration", "expiration: enter a date and time")),
    }
}

/// Parses the metadata box: empty means none.
fn metadata_input(text: &str) -> Result<Option<serde_json::Value>, AppError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str(text)
        .map(Some)
        .map_err(|err| AppError::invalid("metadata", format!("metadata: not valid JSON: {err}")))
}

fn metadata_size(text: &str) -> String {
    if text.trim().is_empty() {
        return format!("0 / {MAX_METADATA_BYTES} bytes");
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => format!("{} / {MAX_METADATA_BYTES} bytes", v.to_string().len()),
        Err(_) => "not valid JSON".to_owned(),
    }
}

#[component]
fn TtlFields(
    mode: RwSignal<TtlMode>,
    seconds: RwSignal<String>,
    at: RwSignal<String>,
    error: RwSignal<Option<AppError>>,
) -> impl IntoView {
    view! {
        <fieldset class="space-y-2">
            <legend class=LABEL>"Expiration"</legend>
            <div class="flex flex-wrap gap-4 text-sm">
                <RadioGroup
                    name="ttl-mode"
                    value=mode
                    options=vec![(TtlMode::None, "Never"), (TtlMode::Seconds, "After seconds"), (TtlMode::At, "At a date and time")]
                    class="flex items-center gap-1"
                />
            </div>
            <Show when=move || mode.get() == TtlMode::Seconds>
                <label class=LABEL>
                    "TTL (seconds)"
                    <input class=INPUT type="number" min="60" value=seconds.get_untracked() bind:value=seconds />
                </label>
            </Show>
            <Show when=move || mode.get() == TtlMode::At>
                <label class=LABEL>
                    "Expires at (UTC)"
                    <input class=INPUT type="datetime-local" value=at.get_untracked() bind:value=at />
                </label>
            </Show>
            <FieldError error field="expiration_ttl" />
            <FieldError error field="expiration" />
        </fieldset>
    }
}

#[component]
fn AddKeyDialog(namespace_id: String, on_close: Callback<()>, on_done: Callback<()>) -> impl IntoView {
    let key = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    let metadata = RwSignal::new(String::new());
    let mode = RwSignal::new(TtlMode::None);
    let seconds = RwSignal::new(String::new());
    let at = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    let pending = RwSignal::new(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let inputs = metadata_input(&metadata.get_untracked()).and_then(|m| {
            ttl_inputs(mode.get_untracked(), &seconds.get_untracked(), &at.get_untracked()).map(|t| (m, t))
        });
        let (meta, (expiration, expiration_ttl)) = match inputs {
            Ok(v) => v,
            Err(err) => return error.set(Some(err)),
        };
        let call = put_key(
            namespace_id.clone(),
            key.get_untracked(),
            Some(value.get_untracked()),
            None,
            meta,
            expiration,
            expiration_ttl,
        );
        run_submit(pending, error, call, move |_| {
            on_done.run(());
            on_close.run(());
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum EditorTab {
    Value,
    Details,
    History,
}

#[lazy]
fn key_editor(namespace_id: String, key: String, on_close: Callback<()>, on_change: Callback<()>) -> AnyView {
    view! { <KeyEditor namespace_id key on_close on_change /> }.into_any()
}

/// "Sync now" (Cloudflare backend): takes in keys written on Cloudflare by others and drops
/// keys deleted there, then reloads the listing; says what changed.
#[component]
fn SyncButton(namespace_id: Memo<String>, refresh: Callback<()>) -> impl IntoView {
    let sync = Action::new(move |id: &String| sync_namespace(id.clone()));
    let outcome = move || {
        sync.value().get().map(|result| match result {
            Ok(done) => format!("Synced: {} key(s) taken in, {} dropped", done.taken, done.dropped),
            Err(err) => err.message,
        })
    };
    Effect::new(move |_| {
        if let Some(Ok(_)) = sync.value().get() {
            refresh.run(());
        }
    });
    view! {
        <span role="status" class="text-sm text-gray-600 dark:text-gray-300">{outcome}</span>
        <button
            type="button"
            class=BUTTON_SECONDARY
            title="Bring this namespace's key index in line with Cloudflare"
            disabled=move || sync.pending().get()
            on:click=move |_| {
                sync.dispatch(namespace_id.get_untracked());
            }
        >
            {move || if sync.pending().get() { "Syncing…" } else { "Sync now" }}
        </button>
    }
}

/// The open key: its value, details and history in tabs. Viewers who may write edit them here;
/// the others read them (no save, delete, tag editing or restore).
#[component]
fn KeyEditor(namespace_id: String, key: String, on_close: Callback<()>, on_change: Callback<()>) -> impl IntoView {
    let writer = can_write();
    // Bumped by a restore, so the value tab shows the restored state.
    let revision = RwSignal::new(0u32);
    let loaded = {
        let namespace_id = namespace_id.clone();
        let key = key.clone();
        Resource::new(move || revision.get(), move |_| get_key(namespace_id.clone(), key.clone()))
    };
    let tab = RwSignal::new(EditorTab::Value);
    let tab_button = move |which: EditorTab, label: &'static str| {
        view! {
            <button
                type="button"
                role="tab"
                aria-selected=move || (tab.get() == which).to_string()
                class="border-b-2 px-3 py-1.5 text-sm aria-selected:border-indigo-600 aria-selected:font-semibold border-transparent"
                on:click=move |_| tab.set(which)
            >
                {label}
            </button>
        }
    };
    let on_restored = Callback::new(move |_: ()| {
        revision.update(|r| *r += 1);
        on_change.run(());
    });
    let (details_ns, details_key) = (namespace_id.clone(), key.clone());
    let (history_ns, history_key) = (namespace_id.clone(), key.clone());
    view! {
        <Modal title=if writer { format!("Edit {key}") } else { format!("View {key}") } on_close>
            <div role="tablist" aria-label="Key editor" class="mb-3 flex gap-1 border-b border-slate-200 dark:border-slate-800">
                {tab_button(EditorTab::Value, "Value")}
                {tab_button(EditorTab::Details, "Tags & metadata")}
                {tab_button(EditorTab::History, "History")}
            </div>
            <div role="tabpanel" hidden=move || tab.get() != EditorTab::Value>
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {
                        let namespace_id = namespace_id.clone();
                        move || {
                            let namespace_id = namespace_id.clone();
                            Suspend::new(async move {
                                match loaded.await {
                                    Ok(k) if writer => view! { <EditorForm namespace_id loaded=k on_close on_change /> }.into_any(),
                                    Ok(k) => view! { <KeyView loaded=k /> }.into_any(),
                                    Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                                }
                            })
                        }
                    }
                </Transition>
            </div>
            <Show when=move || tab.get() == EditorTab::Details>
                <div role="tabpanel">
                    <DetailsPanel namespace_id=details_ns.clone() key=details_key.clone() />
                </div>
            </Show>
            <Show when=move || tab.get() == EditorTab::History>
                <div role="tabpanel">
                    <HistoryPanel namespace_id=history_ns.clone() key=history_key.clone() on_restored />
                </div>
            </Show>
        </Modal>
    }
}

/// A key's value, metadata and expiration, for reading only.
#[component]
fn KeyView(loaded: KeyDto) -> impl IntoView {
    let binary = loaded.value_base64.is_some();
    let value = loaded.value.clone().or(loaded.value_base64.clone()).unwrap_or_default();
    let metadata = loaded.metadata.as_ref().map(|m| serde_json::to_string_pretty(m).unwrap_or_default());
    let expiration = loaded.expiration.map(format::utc).unwrap_or_else(|| "Never".to_owned());
    let download = loaded.value_base64.clone().map(|b64| format!("data:application/octet-stream;base64,{b64}"));
    let name = loaded.name.clone();
    view! {
        <div class="space-y-3">
            <label class=LABEL>
                {if binary { "Value (base64: not UTF-8 text)" } else { "Value" }}
                <textarea class=format!("{INPUT} font-mono") rows="10" aria-label="Value" readonly=true>
                    {value}
                </textarea>
            </label>
            <div class=format!("flex flex-wrap items-center gap-2 text-xs {MUTED}")>
                <span>{format::bytes(loaded.size)}</span>
                {download.map(|href| view! { <a class="underline" href=href download=name>"Download value"</a> })}
            </div>
            <dl class="space-y-2 text-sm">
                <div>
                    <dt class="font-medium">"Metadata (JSON)"</dt>
                    <dd data-testid="metadata-view">
                        {match metadata {
                            Some(m) => view! { <pre class="mt-1 max-h-60 overflow-auto rounded-md bg-slate-100 p-2 font-mono text-xs whitespace-pre-wrap break-all dark:bg-slate-800">{m}</pre> }.into_any(),
                            None => view! { <Muted>"None"</Muted> }.into_any(),
                        }}
                    </dd>
                </div>
                <div>
                    <dt class="font-medium">"Expiration"</dt>
                    <dd data-testid="expiration-view">{expiration}</dd>
                </div>
            </dl>
        </div>
    }
}

#[component]
fn EditorForm(namespace_id: String, loaded: KeyDto, on_close: Callback<()>, on_change: Callback<()>) -> impl IntoView {
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
    let error = RwSignal::new(None::<AppError>);
    let pending = RwSignal::new(false);
    let saved = RwSignal::new(false);
    let confirm_delete = RwSignal::new(false);
    let key = loaded.name.clone();
    let is_json = move || {
        let text = value.get();
        let t = text.trim_start();
        !binary
            && (t.starts_with('{') || t.starts_with('['))
            && serde_json::from_str::<serde_json::Value>(&text).is_ok()
    };
    let reformat = move |pretty: bool| {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&value.get_untracked()) {
            let text = if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) };
            if let Ok(text) = text {
                value.set(text);
            }
        }
    };
    let save = {
        let namespace_id = namespace_id.clone();
        let key = key.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            saved.set(false);
            let inputs = metadata_input(&metadata.get_untracked()).and_then(|m| {
                ttl_inputs(mode.get_untracked(), &seconds.get_untracked(), &at.get_untracked()).map(|t| (m, t))
            });
            let (meta, (expiration, expiration_ttl)) = match inputs {
                Ok(v) => v,
                Err(err) => return error.set(Some(err)),
            };
            let expiration = match &original_expiration {
                Some((shown, exact)) if mode.get_untracked() == TtlMode::At && at.get_untracked() == *shown => {
                    Some(*exact)
                }
                _ => expiration,
            };
            let (text, base64) =
                if binary { (None, Some(value.get_untracked())) } else { (Some(value.get_untracked()), None) };
            let call = put_key(namespace_id.clone(), key.clone(), text, base64, meta, expiration, expiration_ttl);
            run_submit(pending, error, call, move |_| {
                saved.set(true);
                on_change.run(());
            });
        }
    };
    let remove = {
        let namespace_id = namespace_id.clone();
        let key = key.clone();
        move |_| {
            run_submit(pending, error, delete_key(namespace_id.clone(), key.clone()), move |_| {
                on_change.run(());
                on_close.run(());
            });
        }
    };
    let size = move || {
        let text = value.get();
        if binary { loaded.size } else { text.len() as u64 }
    };
    let download = loaded.value_base64.clone().map(|b64| format!("data:application/octet-stream;base64,{b64}"));
    view! {
        <form class="space-y-3" on:submit=save>
            <FormError error fields=&["value", "value_base64", "metadata", "expiration", "expiration_ttl"] />
            <label class=LABEL>
                {if binary { "Value (base64: not UTF-8 text)" } else { "Value" }}
                <textarea class=format!("{INPUT} font-mono") rows="10" aria-label="Value" bind:value=value>
                    {value.get_untracked()}
                </textarea>
            </label>
            <div class=format!("flex flex-wrap items-center gap-2 text-xs {MUTED}")>
                <span>{move || format::bytes(size())}</span>
                <Show when=is_json>
                    <button type="button" class=BUTTON_SECONDARY on:click=move |_| reformat(true)>
                        "Format"
                    </button>
                    <button type="button" class=BUTTON_SECONDARY on:click=move |_| reformat(false)>
                        "Minify"
                    </button>
                </Show>
                {download.map(|href| view! { <a class="underline" href=href download=key.clone()>"Download value"</a> })}
            </div>
            <FieldError error field="value" />
            <FieldError error field="value_base64" />
            <label class=LABEL>
                "Metadata (JSON)"
                <textarea class=format!("{INPUT} font-mono") rows="4" bind:value=metadata>
                    {metadata.get_untracked()}
                </textarea>
            </label>
            <p class=format!("text-xs {MUTED}") data-testid="metadata-size">{move || metadata_size(&metadata.get())}</p>
            <FieldError error field="metadata" />
            <TtlFields mode seconds at error />
            <div class="flex flex-wrap items-center justify-end gap-2">
                <Show when=move || saved.get()>
                    <span role="status" class="mr-auto text-sm text-green-700 dark:text-green-400">"Saved"</span>
                </Show>
                <Show
                    when=move || confirm_delete.get()
                    fallback=move || view! {
                        <button type="button" class=BUTTON_SECONDARY on:click=move |_| confirm_delete.set(true)>
                            "Delete"
                        </button>
                    }
                >
                    <span class="text-sm">"Delete this key?"</span>
                    <button type="button" class=BUTTON_DANGER disabled=move || pending.get() on:click=remove.clone()>
                        "Confirm delete"
                    </button>
                    <button type="button" class=BUTTON_SECONDARY on:click=move |_| confirm_delete.set(false)>
                        "Keep"
                    </button>
                </Show>
                <button type="submit" class=BUTTON disabled=move || pending.get()>
                    "Save"
                </button>
            </div>
        </form>
    }
}
