//! `/`: every namespace with its size, title search, paging, create, rename and delete (the
//! last three, and import, for viewers who may write).

mod dialogs;
mod list;

use leptos::Params;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query;
use leptos_router::params::Params;

use crate::components::header::jobs_notifier;
use crate::components::job_progress::{WatchedJob, job_progress};
use crate::components::modal::{BUTTON, BUTTON_SECONDARY, INPUT};
use crate::components::viewer::can_write;
use crate::dto::NamespaceDto;
use crate::pages::transfer::{Transfer, transfer_dialog};
use crate::serverfns::catalog::{SetSetting, get_settings};
use crate::serverfns::namespaces::{CreateNamespace, DeleteNamespace, RenameNamespace, list_namespaces};
use dialogs::{DeleteDialog, TitleChange, TitleDialog};
use list::NamespaceList;

const PER_PAGE: u32 = 50;

/// The title search and the page in the address (`?search=&page=`).
#[derive(Params, Clone, Debug, PartialEq)]
struct ListQuery {
    search: Option<String>,
    page: Option<String>,
}

/// The changes the page's dialogs make; the list is read again after each (their versions).
#[derive(Clone, Copy)]
struct NamespaceActions {
    create: ServerAction<CreateNamespace>,
    rename: ServerAction<RenameNamespace>,
    delete: ServerAction<DeleteNamespace>,
}

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
    let query = use_query::<ListQuery>();
    let search = Memo::new(move |_| query.read().as_ref().ok().and_then(|q| q.search.clone()).unwrap_or_default());
    // A page that is not a number is the first.
    let page = Memo::new(move |_| {
        query.read().as_ref().ok().and_then(|q| q.page.as_deref()?.parse::<u32>().ok()).unwrap_or(1).max(1)
    });
    let actions =
        NamespaceActions { create: ServerAction::new(), rename: ServerAction::new(), delete: ServerAction::new() };
    let changes =
        move || (actions.create.version().get(), actions.rename.version().get(), actions.delete.version().get());
    let namespaces = Resource::new(
        move || (page.get(), search.get(), changes()),
        |(page, search, _)| list_namespaces(Some(page), Some(PER_PAGE), Some(search).filter(|s| !s.is_empty())),
    );
    let dialogs = Dialogs {
        creating: RwSignal::new(false),
        renaming: RwSignal::new(None),
        deleting: RwSignal::new(None),
        transfer: RwSignal::new(None),
    };
    // The viewer's choice of a list or a grid, kept with their settings (read with the page).
    let settings = Resource::new(|| (), |_| get_settings());
    let chosen = RwSignal::new(None::<bool>);
    let grid = Signal::derive(move || {
        chosen.get().unwrap_or_else(|| {
            settings.get().and_then(Result::ok).and_then(|s| s.get("namespace_view").cloned()).as_deref()
                == Some("grid")
        })
    });
    let grid = ViewMode { grid, chosen };
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
                    // Read with the page: the server renders the viewer's choice.
                    let _ = settings.await;
                    match namespaces.await {
                        Ok(list) => view! { <ViewChoice grid /><NamespaceList list search writer dialogs grid /> }.into_any(),
                        Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
            <PageDialogs dialogs actions on_job_done=Callback::new(move |_| namespaces.refetch()) />
        </section>
    }
}

/// Whether the namespaces show as a grid, and the viewer's choice on this page.
#[derive(Clone, Copy)]
pub(super) struct ViewMode {
    pub(super) grid: Signal<bool>,
    chosen: RwSignal<Option<bool>>,
}

/// "List" and "Grid": the choice shows at once and is kept with the viewer's settings.
#[component]
fn ViewChoice(grid: ViewMode) -> impl IntoView {
    let keep = ServerAction::<SetSetting>::new();
    let choose = move |as_grid: bool| {
        grid.chosen.set(Some(as_grid));
        keep.dispatch(SetSetting {
            name: "namespace_view".to_owned(),
            value: if as_grid { "grid" } else { "list" }.to_owned(),
        });
    };
    let button = "rounded-md px-2 py-1 text-sm aria-pressed:bg-indigo-600 aria-pressed:text-white";
    view! {
        <div role="group" aria-label="Show namespaces as" class="flex items-center gap-1 rounded-md border border-slate-200 p-0.5 w-fit dark:border-slate-700">
            <button type="button" class=button aria-pressed=move || (!grid.grid.get()).to_string() on:click=move |_| choose(false)>
                "List"
            </button>
            <button type="button" class=button aria-pressed=move || grid.grid.get().to_string() on:click=move |_| choose(true)>
                "Grid"
            </button>
        </div>
    }
}

/// The open dialog, if any, and the progress of the last export or import started here. Export
/// and import dialogs and the progress are chunks of their own, rendered in the browser only.
#[component]
fn PageDialogs(
    dialogs: Dialogs,
    actions: NamespaceActions,
    /// An export or import started here ended.
    on_job_done: Callback<()>,
) -> impl IntoView {
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
        on_job_done.run(());
        jobs_changed();
    });
    let on_dismiss = Callback::new(move |id: String| {
        if watching.with_untracked(|w| w.as_ref().is_some_and(|j| j.job_id == id)) {
            watching.set(None);
        }
    });
    view! {
        <Show when=move || creating.get()>
            <TitleDialog change=TitleChange::Create actions on_close=Callback::new(move |_| creating.set(false)) />
        </Show>
        {move || {
            renaming
                .get()
                .map(|ns| {
                    view! {
                        <TitleDialog
                            change=TitleChange::Rename(ns)
                            actions
                            on_close=Callback::new(move |_| renaming.set(None))
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
                .map(|ns| view! { <DeleteDialog ns actions on_close=Callback::new(move |_| deleting.set(None)) /> })
        }}
    }
}
