//! One page of namespaces: how many match, a row per namespace and the page links.

use leptos::prelude::*;

use crate::components::copy_button::CopyButton;
use leptos_router::components::A;

use super::Dialogs;
use crate::components::data_table::EmptyNote;
use crate::components::modal::BUTTON_SECONDARY;
use crate::components::text::MUTED;
use crate::dto::{NamespaceDto, NamespacePageDto};
use crate::format;
use crate::pages::encode_query;
use crate::pages::transfer::Transfer;

#[component]
pub(super) fn NamespaceList(
    list: NamespacePageDto,
    search: Memo<String>,
    writer: bool,
    dialogs: Dialogs,
    grid: super::ViewMode,
) -> impl IntoView {
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
                {if writer { "No namespaces here yet. Create one to start storing keys." } else { "No namespaces here yet." }}
            </EmptyNote>
        </Show>
        <ul
            data-view=move || if grid.grid.get() { "grid" } else { "list" }
            class=move || {
                if grid.grid.get() {
                    "grid gap-3 sm:grid-cols-2 lg:grid-cols-3 *:rounded-md *:border *:border-slate-200 *:bg-white dark:*:border-slate-800 dark:*:bg-slate-900"
                } else {
                    "divide-y divide-slate-200 rounded-md border border-slate-200 bg-white dark:divide-slate-800 dark:border-slate-800 dark:bg-slate-900"
                }
            }
        >
            {list.namespaces.into_iter().map(|ns| view! { <NamespaceRow ns writer dialogs /> }).collect_view()}
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
}

/// A namespace: its title (a link to its keys), id, key count and size, and its buttons.
#[component]
fn NamespaceRow(ns: NamespaceDto, writer: bool, dialogs: Dialogs) -> impl IntoView {
    let Dialogs { renaming, deleting, transfer, .. } = dialogs;
    let (for_rename, for_delete, for_export, for_import) = (ns.clone(), ns.clone(), ns.clone(), ns.clone());
    view! {
        <li class="flex flex-wrap items-center gap-x-4 gap-y-1 p-3" data-namespace=ns.id.clone()>
            <div class="min-w-0 flex-1">
                <A href=format!("/namespaces/{}", ns.id) attr:class="font-medium text-indigo-700 hover:underline dark:text-indigo-300 break-all">
                    {ns.title.clone()}
                </A>
                <div class=format!("flex flex-wrap items-center gap-2 font-mono text-xs {MUTED}")>
                    {ns.id.clone()}
                    <CopyButton text=ns.id.clone() what="namespace id" />
                </div>
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
}

fn page_link(page: u32, search: &str) -> String {
    if search.is_empty() { format!("/?page={page}") } else { format!("/?page={page}&search={}", encode_query(search)) }
}
