//! `/namespaces/{id}`: the keys of one namespace, a prefix filter, paging and the key editor,
//! under the namespace's usage of the last 24 hours (collapsed).

mod add;
mod bulk;
mod compare;
mod conflict;
mod details;
mod editor;
mod form;
mod rename;
mod rewind;
mod table;
mod toolbar;
mod ttl;
mod usage;
mod view;

use leptos::Params;
use leptos::prelude::*;

use crate::components::copy_button::CopyButton;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params, use_query};
use leptos_router::params::Params;

use add::AddKeyDialog;
use rewind::RewindDialog;
use table::KeyTable;
use toolbar::KeyToolbar;
use usage::UsagePanel;
use view::KeyView;

use crate::components::header::jobs_notifier;
use crate::components::job_progress::{WatchedJob, job_progress};
use crate::components::modal::BUTTON_SECONDARY;
use crate::components::text::MUTED;
use crate::components::viewer::can_write;
use crate::dto::{JobDto, JobStartedDto, KeyDto, KeyEntryDto, KeyListDto, NamespaceDto};
use crate::error::AppError;
use crate::format;
use crate::pages::{encode_query, with_query};
use crate::serverfns::catalog::{list_tags, search_keys};
use crate::serverfns::keys::{get_key, list_keys};
use crate::serverfns::namespaces::get_namespace;
use bulk::{BulkContext, Selection, bulk_bar};

const PAGE_SIZE: u32 = 500;

/// The namespace in the address: `/namespaces/{id}`.
#[derive(Params, Clone, Debug, PartialEq)]
struct KeysPath {
    id: Option<String>,
}

/// The filters and the open key in the address (`?prefix=&tag=&key=`).
#[derive(Params, Clone, Debug, PartialEq)]
struct KeysQuery {
    prefix: Option<String>,
    tag: Option<String>,
    key: Option<String>,
}

/// The keys page. Viewers who may not write see no "Add key", no row checkboxes (so no bulk bar)
/// and a key viewer instead of the editor.
#[component]
pub fn KeysPage() -> impl IntoView {
    let writer = can_write();
    let params = use_params::<KeysPath>();
    let query = use_query::<KeysQuery>();
    let namespace_id = Memo::new(move |_| params.read().as_ref().ok().and_then(|p| p.id.clone()).unwrap_or_default());
    let prefix = Memo::new(move |_| query.read().as_ref().ok().and_then(|q| q.prefix.clone()).unwrap_or_default());
    let tag = Memo::new(move |_| query.read().as_ref().ok().and_then(|q| q.tag.clone()).unwrap_or_default());
    let open_key = Memo::new(move |_| query.read().as_ref().ok().and_then(|q| q.key.clone()));
    // Effects run only in the browser, after hydration.
    let in_browser = RwSignal::new(false);
    Effect::new(move |_| in_browser.set(true));
    let namespace = Resource::new(move || namespace_id.get(), get_namespace);
    let first_page = Resource::new(
        move || (namespace_id.get(), prefix.get(), tag.get()),
        |(id, prefix, tag)| load_keys(id, prefix, tag, None),
    );
    let tags_in_use = Resource::new(move || namespace_id.get(), |id| list_tags(Some(id), None, None));
    // The rows chosen for a bulk action; a new listing starts with none.
    let selection = RwSignal::new(Selection::default());
    Effect::watch(
        move || (namespace_id.get(), prefix.get(), tag.get()),
        move |_, _, _| selection.set(Selection::default()),
        false,
    );
    let adding = RwSignal::new(false);
    let rewinding = RwSignal::new(false);
    // After a change here (a key saved, deleted or restored, a sync, a job's end), the listing
    // is read again and starts with no selection.
    let refresh = Callback::new(move |_: ()| {
        namespace.refetch();
        first_page.refetch();
        tags_in_use.refetch();
        selection.set(Selection::default());
    });
    let key_count = Signal::derive(move || namespace.get().and_then(Result::ok).map(|n| n.key_count));
    view! {
        <section class="space-y-4">
            <p class="text-sm">
                <A href="/" attr:class="text-indigo-600 hover:underline dark:text-indigo-400">
                    "← Namespaces"
                </A>
            </p>
            <NamespaceHeading namespace />
            <UsagePanel namespace_id />
            <KeyToolbar namespace_id prefix tag tags_in_use adding rewinding refresh writer />
            <Transition fallback=|| view! { <p>"Loading keys…"</p> }>
                {move || Suspend::new(async move {
                    match first_page.await {
                        Ok(first) => view! { <KeyTable first namespace_id prefix tag selection key_count writer /> }.into_any(),
                        Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
            <BulkAndProgress namespace namespace_id prefix selection key_count refresh in_browser writer rewinding />
            <Show when=move || writer && adding.get()>
                <AddKeyDialog
                    namespace_id=namespace_id.get_untracked()
                    on_close=Callback::new(move |_| adding.set(false))
                    on_done=refresh
                />
            </Show>
            <ReadView namespace_id open_key in_browser />
            <OpenEditor namespace_id prefix open_key in_browser refresh />
        </section>
    }
}

/// The namespace's title, id, size and a link to its audit log.
#[component]
fn NamespaceHeading(namespace: Resource<Result<NamespaceDto, AppError>>) -> impl IntoView {
    view! {
        <Transition fallback=|| view! { <h1 class="text-2xl font-semibold">"Namespace"</h1> }>
            {move || Suspend::new(async move {
                match namespace.await {
                    Ok(ns) => view! {
                        <div class="flex flex-wrap items-baseline gap-x-4 gap-y-1">
                            <h1 class="text-2xl font-semibold break-all">{ns.title}</h1>
                            <span class=format!("font-mono text-xs {MUTED}")>{ns.id.clone()}</span>
                            <CopyButton text=ns.id.clone() what="namespace id" />
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
    }
}

/// The bulk bar (at the first selection) and the progress of the last job started here (its
/// dialog may be in the background): chunks of their own, for the browser only.
#[component]
#[allow(clippy::too_many_arguments)]
fn BulkAndProgress(
    namespace: Resource<Result<NamespaceDto, AppError>>,
    namespace_id: Memo<String>,
    prefix: Memo<String>,
    selection: RwSignal<Selection>,
    key_count: Signal<Option<u64>>,
    refresh: Callback<()>,
    in_browser: RwSignal<bool>,
    writer: bool,
    /// Whether the "Rewind…" dialog is open.
    rewinding: RwSignal<bool>,
) -> impl IntoView {
    let jobs_changed = jobs_notifier();
    let watching = RwSignal::new(None::<WatchedJob>);
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
            refresh.run(());
        }
        jobs_changed();
    });
    let on_dismiss = Callback::new(move |id: String| {
        if watching.with_untracked(|w| w.as_ref().is_some_and(|j| j.job_id == id)) {
            watching.set(None);
        }
    });
    let rewind_started = Callback::new(move |started: JobStartedDto| {
        bulk.on_started.run(WatchedJob {
            job_id: started.job_id,
            operation: "Rewind".to_owned(),
            namespace: bulk.namespace_title.get_untracked(),
        });
    });
    view! {
        {move || {
            (writer && in_browser.get() && rewinding.get())
                .then(|| {
                    view! {
                        <RewindDialog
                            namespace_id
                            prefix
                            on_close=Callback::new(move |_| rewinding.set(false))
                            on_started=rewind_started
                        />
                    }
                })
        }}
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
    }
}

/// A key opened by its address (`?key=`), shown read-only in the page by the server, so it reads
/// without JavaScript; in the browser the editor dialog takes over once hydrated (the read
/// view's data travels with the page, so hydration asks for nothing).
#[component]
fn ReadView(namespace_id: Memo<String>, open_key: Memo<Option<String>>, in_browser: RwSignal<bool>) -> impl IntoView {
    let read_view = Resource::new(
        move || (namespace_id.get(), open_key.get(), in_browser.get()),
        |(id, key, browser)| async move {
            match key {
                Some(key) if !browser => get_key(id, key).await.map(Some),
                _ => Ok(None),
            }
        },
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let close = format!("/namespaces/{}", namespace_id.get_untracked());
                match read_view.await {
                    Ok(Some(key)) => Some(view! { <ReadPanel key close /> }.into_any()),
                    Ok(None) => None,
                    Err(err) => Some(view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any()),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ReadPanel(key: KeyDto, close: String) -> impl IntoView {
    let label = format!("Key {}", key.name);
    let name = key.name.clone();
    view! {
        <section
            aria-label=label
            class="space-y-3 rounded-md border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900"
        >
            <div class="flex items-center gap-2">
                <h2 class="mr-auto text-lg font-semibold break-all">{name.clone()}</h2>
                <CopyButton text=name what="key name" />
                <a class=BUTTON_SECONDARY href=close>"Close"</a>
            </div>
            <KeyView loaded=key />
        </section>
    }
}

/// The editor of the key in the address, in the browser; closing it drops `?key=` (and the tag
/// filter) from the address.
#[component]
fn OpenEditor(
    namespace_id: Memo<String>,
    prefix: Memo<String>,
    open_key: Memo<Option<String>>,
    in_browser: RwSignal<bool>,
    refresh: Callback<()>,
) -> impl IntoView {
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
    // After a rename the editor shows the key under its new name, and the list the change.
    let open_renamed = Callback::new({
        let navigate = use_navigate();
        move |name: String| {
            refresh.run(());
            let url = keys_url(&namespace_id.get_untracked(), &prefix.get_untracked(), "", Some(&name));
            navigate(&url, NavigateOptions { scroll: false, ..Default::default() });
        }
    });
    move || {
        open_key.get().filter(|_| in_browser.get()).map(|key| {
            let namespace_id = namespace_id.get_untracked();
            // The editor is a separate chunk of the release bundle, fetched when a key is first
            // opened; it is a dialog for the browser, so the server leaves it out.
            view! {
                <Suspense fallback=|| ()>
                    {Suspend::new(editor::key_editor(namespace_id, key, close_editor, refresh, open_renamed))}
                </Suspense>
            }
        })
    }
}

/// The keys page's address: `/namespaces/{id}` with its filters and the open key. An empty `id`
/// gives a relative `?…` link for the current namespace.
pub(super) fn keys_url(id: &str, prefix: &str, tag: &str, key: Option<&str>) -> String {
    let base = if id.is_empty() { String::new() } else { format!("/namespaces/{id}") };
    with_query(&base, &[("prefix", prefix), ("tag", tag), ("key", key.unwrap_or_default())])
}

/// One page of keys: a plain listing, or a search within the namespace when a tag is chosen.
pub(super) async fn load_keys(
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
