//! The jobs the filters match, newest (or oldest) first, with "Load more".

use leptos::prelude::*;
use leptos_router::components::A;

use super::Filters;
use crate::components::cursor_list::{CursorPages, LoadMore};
use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::job_progress::job_label;
use crate::dto::{JobDto, JobPageDto};
use crate::format;

const JOB_COLUMNS: &[Column] = &[
    Column::new("Type"),
    Column::new("Namespace"),
    Column::new("Status"),
    Column::new("Progress"),
    Column::new("Created"),
    Column::new("User"),
    Column::right("Errors"),
];

#[component]
pub(super) fn JobTable(
    first: JobPageDto,
    filters: Memo<Filters>,
    titles: Vec<(String, String)>,
    selected: Memo<Option<String>>,
) -> impl IntoView {
    let empty = first.jobs.is_empty();
    let pages = CursorPages::new(first);
    let load = move |cursor| filters.get_untracked().load(cursor);
    let titles = StoredValue::new(titles);
    let row = move |job: JobDto| view! { <JobRow job titles=titles.get_value() filters selected /> };
    view! {
        <Show when=move || empty>
            <EmptyNote>"No jobs match. Bulk actions, imports and exports show up here."</EmptyNote>
        </Show>
        <DataTable label="Jobs" columns=JOB_COLUMNS>
            {pages.rows(row)}
        </DataTable>
        <LoadMore pages load />
    }
}

#[component]
fn JobRow(
    job: JobDto,
    titles: Vec<(String, String)>,
    filters: Memo<Filters>,
    selected: Memo<Option<String>>,
) -> impl IntoView {
    let namespace = titles
        .iter()
        .find(|(id, _)| *id == job.namespace_id)
        .map(|(_, t)| t.clone())
        .unwrap_or(job.namespace_id.clone());
    let href = filters.get_untracked().url(Some(&job.id));
    let id = job.id.clone();
    view! {
        <tr
            class="border-t border-slate-200 dark:border-slate-800"
            class=("bg-indigo-50", move || selected.get().as_deref() == Some(id.as_str()))
            class=("dark:bg-indigo-950", move || selected.get().is_some())
            data-job=job.id.clone()
        >
            <td class="p-2">
                <A href=href attr:class="text-indigo-700 hover:underline dark:text-indigo-300">
                    {job_label(&job.job_type)}
                </A>
            </td>
            <td class="p-2 break-all">{namespace}</td>
            <td class="p-2">{job.status.clone()}</td>
            <td class="p-2 tabular-nums whitespace-nowrap">{format!("{:.0}% ({} / {})", job.percentage.floor(), job.processed, job.total)}</td>
            <td class="p-2 whitespace-nowrap">{format::utc(job.created_at)}</td>
            <td class="p-2">{job.created_by.clone()}</td>
            <td class="p-2 text-right tabular-nums">{job.errors}</td>
        </tr>
    }
}
