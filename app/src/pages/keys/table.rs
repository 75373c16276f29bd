//! The keys of the namespace: one row per key, checkboxes for the bulk bar, "Load more".

use leptos::prelude::*;

use super::bulk::Selection;
use super::{keys_url, load_keys};
use crate::components::cursor_list::{CursorPages, LoadMore};
use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::modal::BUTTON_SECONDARY;
use crate::components::tag_chips::TagChips;
use crate::dto::{KeyEntryDto, KeyListDto};
use crate::format;
use crate::pages::encode_query;

const KEY_COLUMNS: &[Column] = &[
    Column::new("Key"),
    Column::new("Tags"),
    Column::new("Expiration"),
    Column::right("Size"),
    Column::new("Metadata"),
];

#[component]
pub(super) fn KeyTable(
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
