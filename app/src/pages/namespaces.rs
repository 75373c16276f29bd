use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::data_table::EmptyNote;
use crate::components::field_error::{DialogButtons, FieldError, FormError, run_submit};
use crate::components::header::jobs_notifier;
use crate::components::job_progress::{WatchedJob, job_progress};
use crate::components::modal::{BUTTON, BUTTON_SECONDARY, INPUT, LABEL, Modal};
use crate::components::text::MUTED;
use crate::components::viewer::can_write;
use crate::dto::NamespaceDto;
use crate::error::AppError;
use crate::format;
use crate::pages::encode_query;
use crate::pages::transfer::{Transfer, transfer_dialog};
use crate::serverfns::namespaces::{create_namespace, delete_namespace, list_namespaces, rename_namespace};

const PER_PAGE: u32 = 50;

/// `/`: every namespace with its size, title search, paging, create, rename and delete (the
/// last three, and import, for viewers who may write).
#[component]
pub fn NamespacesPage() -> impl IntoView {
    let writer = can_write();
    let query = use_query_map();
    let search = Memo::new(move |_| query.read().get("search").unwrap_or_default());
    let page = Memo::new(move |_| query.read().get("page").and_then(|p| p.parse::<u32>().ok()).unwrap_or(1).max(1));
    let reload = RwSignal::new(0u32);
    let namespaces = Resource::new(
        move || (page.get(), search.get(), reload.get()),
        |(page, search, _)| list_namespaces(Some(page), Some(PER_PAGE), Some(search).filter(|s| !s.is_empty())),
    );
    let creating = RwSignal::new(false);
    let renaming = RwSignal::new(None::<NamespaceDto>);
    let deleting = RwSignal::new(None::<NamespaceDto>);
    let refresh = Callback::new(move |_: ()| reload.update(|n| *n += 1));
    // Export and import: their dialogs and the progress of the jobs they start are chunks of
    // their own, rendered in the browser only.
    let in_browser = RwSignal::new(false);
    Effect::new(move |_| in_browser.set(true));
    let transfer = RwSignal::new(None::<(Transfer, NamespaceDto)>);
    let watching = RwSignal::new(None::<WatchedJob>);
    let jobs_changed = jobs_notifier();
    let on_started = Callback::new(move |job: WatchedJob| {
        watching.set(Some(job));
        jobs_changed();
    });
    let on_finished = Callback::new(move |_| {
        reload.update(|n| *n += 1);
        jobs_changed();
    });
    let on_dismiss = Callback::new(move |id: String| {
        if watching.with_untracked(|w| w.as_ref().is_some_and(|j| j.job_id == id)) {
            watching.set(None);
        }
    });

    view! {
        <section class="space-y-4">
            <div class="flex flex-wrap items-center gap-3">
                <h1 class="text-2xl font-semibold">"Namespaces"</h1>
                {writer
                    .then(|| {
                        view! {
                            <button type="button" class=format!("{BUTTON} ml-auto") on:click=move |_| creating.set(true)>
                                "Create namespace"
                            </button>
                        }
                    })}
            </div>
            <Form method="GET" action="" attr:class="flex gap-2" attr:role="search">
                <input
                    type="search"
                    name="search"
                    aria-label="Search namespaces"
                    placeholder="Search by title"
                    class=INPUT
                    value=search.get_untracked()
                    prop:value=move || search.get()
                />
                <button type="submit" class=BUTTON_SECONDARY>
                    "Search"
                </button>
            </Form>
            <Transition fallback=|| view! { <p>"Loading namespaces…"</p> }>
                {move || Suspend::new(async move {
                    match namespaces.await {
                        Ok(list) => {
                            let pages = list.total.div_ceil(u64::from(list.per_page)).max(1);
                            let current = list.page;
                            let search_q = search.get_untracked();
                            let empty = list.namespaces.is_empty();
                            view! {
                                <p class="text-sm text-slate-600 dark:text-slate-400">
                                    {format!("{} namespace{}", list.total, if list.total == 1 { "" } else { "s" })}
                                </p>
                                <Show when=move || empty>
                                    <EmptyNote>
                                        {if writer {
                                            "No namespaces here yet. Create one to start storing keys."
                                        } else {
                                            "No namespaces here yet."
                                        }}
                                    </EmptyNote>
                                </Show>
                                <ul class="divide-y divide-slate-200 rounded-md border border-slate-200 bg-white dark:divide-slate-800 dark:border-slate-800 dark:bg-slate-900">
                                    {list
                                        .namespaces
                                        .into_iter()
                                        .map(|ns| {
                                            let for_rename = ns.clone();
                                            let for_delete = ns.clone();
                                            let for_export = ns.clone();
                                            let for_import = ns.clone();
                                            view! {
                                                <li class="flex flex-wrap items-center gap-x-4 gap-y-1 p-3" data-namespace=ns.id.clone()>
                                                    <div class="min-w-0 flex-1">
                                                        <A href=format!("/namespaces/{}", ns.id) attr:class="font-medium text-indigo-700 hover:underline dark:text-indigo-300 break-all">
                                                            {ns.title.clone()}
                                                        </A>
                                                        <div class=format!("font-mono text-xs {MUTED}")>{ns.id.clone()}</div>
                                                    </div>
                                                    <div class="text-sm tabular-nums">
                                                        {format!("{} key{}", ns.key_count, if ns.key_count == 1 { "" } else { "s" })}
                                                    </div>
                                                    <div class="w-20 text-right text-sm tabular-nums">{format::bytes(ns.size_bytes)}</div>
                                                    <div class="flex flex-wrap gap-2">
                                                        <button type="button" class=BUTTON_SECONDARY on:click=move |_| transfer.set(Some((Transfer::Export, for_export.clone())))>
                                                            "Export"
                                                        </button>
                                                        {writer
                                                            .then(|| {
                                                                view! {
                                                                    <button type="button" class=BUTTON_SECONDARY on:click=move |_| transfer.set(Some((Transfer::Import, for_import.clone())))>
                                                                        "Import"
                                                                    </button>
                                                                    <button type="button" class=BUTTON_SECONDARY on:click=move |_| renaming.set(Some(for_rename.clone()))>
                                                                        "Rename"
                                                                    </button>
                                                                    <button type="button" class=BUTTON_SECONDARY on:click=move |_| deleting.set(Some(for_delete.clone()))>
                                                                        "Delete"
                                                                    </button>
                                                                }
                                                            })}
                                                    </div>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                                <nav aria-label="Pages" class="flex items-center gap-3 text-sm">
                                    <Show when=move || { current > 1 }>
                                        <A href=page_link(current - 1, &search_q)>"Previous"</A>
                                    </Show>
                                    <span>{format!("Page {current} of {pages}")}</span>
                                    <Show when=move || { u64::from(current) < pages }>
                                        <A href=page_link(current + 1, &search.get_untracked())>"Next"</A>
                                    </Show>
                                </nav>
                            }
                                .into_any()
                        }
                        Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
            <Show when=move || creating.get()>
                <TitleDialog change=TitleChange::Create on_close=Callback::new(move |_| creating.set(false)) on_done=refresh />
            </Show>
            {move || {
                renaming
                    .get()
                    .map(|ns| {
                        view! {
                            <TitleDialog
                                change=TitleChange::Rename(ns)
                                on_close=Callback::new(move |_| renaming.set(None))
                                on_done=refresh
                            />
                        }
                    })
            }}
            {move || {
                transfer
                    .get()
                    .filter(|_| in_browser.get())
                    .map(|(which, ns)| {
                        let on_close = Callback::new(move |_| transfer.set(None));
                        view! { <Suspense fallback=|| ()>{Suspend::new(transfer_dialog(which, ns, on_close, on_started))}</Suspense> }
                    })
            }}
            {move || {
                watching
                    .get()
                    .filter(|_| in_browser.get())
                    .map(|job| {
                        view! { <Suspense fallback=|| ()>{Suspend::new(job_progress(job, on_finished, on_dismiss))}</Suspense> }
                    })
            }}
            {move || {
                deleting
                    .get()
                    .map(|ns| view! { <DeleteDialog ns on_close=Callback::new(move |_| deleting.set(None)) on_done=refresh /> })
            }}
        </section>
    }
}

fn page_link(page: u32, search: &str) -> String {
    if search.is_empty() { format!("/?page={page}") } else { format!("/?page={page}&search={}", encode_query(search)) }
}

/// What a title dialog does.
#[derive(Clone)]
enum TitleChange {
    Create,
    Rename(NamespaceDto),
}

#[component]
fn TitleDialog(change: TitleChange, on_close: Callback<()>, on_done: Callback<()>) -> impl IntoView {
    let (heading, initial, label) = match &change {
        TitleChange::Create => ("Create namespace".to_owned(), String::new(), "Create"),
        TitleChange::Rename(ns) => (format!("Rename {}", ns.title), ns.title.clone(), "Save"),
    };
    let title = RwSignal::new(initial);
    let error = RwSignal::new(None::<AppError>);
    let pending = RwSignal::new(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let title = title.get_untracked();
        let change = change.clone();
        let call = async move {
            match change {
                TitleChange::Create => create_namespace(title).await,
                TitleChange::Rename(ns) => rename_namespace(ns.id, title).await,
            }
        };
        run_submit(pending, error, call, move |_| {
            on_done.run(());
            on_close.run(());
        });
    };
    view! {
        <Modal title=heading on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=&["title"] />
                <label class=LABEL>
                    "Title"
                    <input class=INPUT type="text" required bind:value=title />
                </label>
                <FieldError error field="title" />
                <DialogButtons on_cancel=on_close label pending />
            </form>
        </Modal>
    }
}

#[component]
fn DeleteDialog(ns: NamespaceDto, on_close: Callback<()>, on_done: Callback<()>) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let needs_title = ns.key_count > 0;
    let expected = ns.title.clone();
    let blocked = Signal::derive(move || needs_title && typed.get() != expected);
    let id = ns.id.clone();
    view! {
        <ConfirmDialog
            title=format!("Delete {}", ns.title)
            label="Delete"
            on_close
            confirm=move || delete_namespace(id.clone())
            on_done=move |_| {
                on_done.run(());
                on_close.run(());
            }
            blocked
        >
            <p class="text-sm">
                {if needs_title {
                    format!(
                        "This deletes the namespace and its {} key{}. It cannot be undone.",
                        ns.key_count,
                        if ns.key_count == 1 { "" } else { "s" },
                    )
                } else {
                    "This deletes the empty namespace.".to_owned()
                }}
            </p>
            <Show when=move || needs_title>
                <label class=LABEL>
                    "Type the title to confirm"
                    <input class=INPUT type="text" bind:value=typed autocomplete="off" />
                </label>
            </Show>
        </ConfirmDialog>
    }
}
