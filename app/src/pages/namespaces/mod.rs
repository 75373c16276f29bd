//! `/`: every namespace with its size, title search, paging, create, rename and delete (the
//! last three, and import, for viewers who may write).

mod dialogs;
mod list;

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::components::header::jobs_notifier;
use crate::components::job_progress::{WatchedJob, job_progress};
use crate::components::modal::{BUTTON, BUTTON_SECONDARY, INPUT};
use crate::components::viewer::can_write;
use crate::dto::NamespaceDto;
use crate::pages::transfer::{Transfer, transfer_dialog};
use crate::serverfns::namespaces::list_namespaces;
use dialogs::{DeleteDialog, TitleChange, TitleDialog};
use list::NamespaceList;

const PER_PAGE: u32 = 50;

/// What the page's dialogs are open on.
#[derive(Clone, Copy)]
struct Dialogs {
    creating: RwSignal<bool>,
    renaming: RwSignal<Option<NamespaceDto>>,
    deleting: RwSignal<Option<NamespaceDto>>,
    /// Export or import.
    transfer: RwSignal<Option<(Transfer, NamespaceDto)>>,
}

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
    let dialogs = Dialogs {
        creating: RwSignal::new(false),
        renaming: RwSignal::new(None),
        deleting: RwSignal::new(None),
        transfer: RwSignal::new(None),
    };
    let refresh = Callback::new(move |_: ()| reload.update(|n| *n += 1));
    view! {
        <section class="space-y-4">
            <div class="flex flex-wrap items-center gap-3">
                <h1 class="text-2xl font-semibold">"Namespaces"</h1>
                {writer
                    .then(|| {
                        view! {
                            <button type="button" class=format!("{BUTTON} ml-auto") on:click=move |_| dialogs.creating.set(true)>
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
                        Ok(list) => view! { <NamespaceList list search writer dialogs /> }.into_any(),
                        Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
            <PageDialogs dialogs reload refresh />
        </section>
    }
}

/// The open dialog, if any, and the progress of the last export or import started here. Export
/// and import dialogs and the progress are chunks of their own, rendered in the browser only.
#[component]
fn PageDialogs(dialogs: Dialogs, reload: RwSignal<u32>, refresh: Callback<()>) -> impl IntoView {
    let Dialogs { creating, renaming, deleting, transfer } = dialogs;
    let in_browser = RwSignal::new(false);
    Effect::new(move |_| in_browser.set(true));
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
    }
}
