//! The keys a search found, with "Load more".

use leptos::prelude::*;
use leptos_router::components::A;

use super::Filters;
use crate::components::cursor_list::{CursorPages, LoadMore};
use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::tag_chips::TagChips;
use crate::dto::{SearchPageDto, SearchResultDto};
use crate::format;
use crate::pages::encode_query;

const RESULT_COLUMNS: &[Column] = &[
    Column::new("Namespace"),
    Column::new("Key"),
    Column::new("Tags"),
    Column::right("Size"),
    Column::new("Expiration"),
];

#[component]
pub(super) fn SearchResults(first: SearchPageDto, filters: Filters) -> impl IntoView {
    let total = first.total;
    let pages = CursorPages::new(first);
    let load = move |cursor| filters.clone().run(cursor);
    view! {
        <Show
            when=move || !pages.is_empty()
            fallback=|| view! { <EmptyNote>"No keys match. Try a shorter part of the name, fewer tags, or fewer filters."</EmptyNote> }
        >
            <p class="text-sm text-slate-600 dark:text-slate-400" data-testid="search-count">
                {move || match total {
                    Some(n) => format!("{} of {n} matching keys shown", pages.len()),
                    None => format!("{} keys shown", pages.len()),
                }}
            </p>
            <DataTable columns=RESULT_COLUMNS>
                {pages.rows(|hit| view! { <ResultRow hit /> })}
            </DataTable>
        </Show>
        <LoadMore pages load class="flex items-center gap-3" />
    }
}

#[component]
fn ResultRow(hit: SearchResultDto) -> impl IntoView {
    let href = format!("/namespaces/{}?key={}", hit.namespace_id, encode_query(&hit.key));
    view! {
        <tr class="border-t border-slate-200 dark:border-slate-800">
            <td class="p-2 break-all">
                <A href=format!("/namespaces/{}", hit.namespace_id)>{hit.namespace_title}</A>
            </td>
            <td class="p-2 font-mono break-all">
                <a href=href class="text-indigo-700 hover:underline dark:text-indigo-300">{hit.key}</a>
            </td>
            <td class="p-2">
                <TagChips tags=hit.tags />
            </td>
            <td class="p-2 text-right tabular-nums">{format::bytes(hit.size)}</td>
            <td class="p-2 whitespace-nowrap">{hit.expiration.map(format::utc).unwrap_or_else(|| "—".to_owned())}</td>
        </tr>
    }
}
