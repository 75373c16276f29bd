//! The dashboard's tables: the busiest namespaces, the largest with their storage trend and its
//! change over the range, and operations per `/v1/kv` service or per surface.

use leptos::prelude::*;

use crate::components::chart::Sparkline;
use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::text::Muted;
use crate::dto::{NamespaceUsageDto, UsageDto};
use crate::format;

const BUSIEST_COLUMNS: &[Column] = &[
    Column::new("Namespace"),
    Column::right("Operations"),
    Column::right("Errors"),
    Column::right("Keys"),
    Column::right("Size"),
];

const LARGEST_COLUMNS: &[Column] = &[
    Column::new("Namespace"),
    Column::right("Size"),
    Column::right("Change"),
    Column::new("Trend"),
    Column::right("Keys"),
    Column::right("Change in keys"),
    Column::right("Operations"),
];

/// The columns of the busiest services.
pub(super) const SERVICE_COLUMNS: &[Column] =
    &[Column::new("Service"), Column::right("Operations"), Column::right("Errors")];

/// The columns of the operations per surface.
pub(super) const SURFACE_COLUMNS: &[Column] =
    &[Column::new("Surface"), Column::right("Operations"), Column::right("Errors")];

/// A section of the dashboard under its heading.
#[component]
fn Panel(heading: &'static str, children: Children) -> impl IntoView {
    let id = format!("panel-{}", heading.to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
    view! {
        <section aria-labelledby=id class="min-w-0 space-y-2">
            <h2 id=id.clone() class="text-lg font-semibold">
                {heading}
            </h2>
            {children()}
        </section>
    }
}

/// A namespace's title linking to its keys; the id of one deleted since.
#[component]
fn NamespaceCell(usage: NamespaceUsageDto) -> impl IntoView {
    let cell = match usage.title {
        Some(title) => view! {
            <a class="text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/namespaces/{}", usage.id)>
                {title}
            </a>
        }
        .into_any(),
        None => view! { <Muted>{format!("{} (deleted)", usage.id)}</Muted> }.into_any(),
    };
    view! {
        <th scope="row" class="p-2 font-medium break-all">
            {cell}
        </th>
    }
}

/// The namespaces with the most operations over the range.
#[component]
pub(super) fn BusiestNamespaces(rows: Vec<NamespaceUsageDto>) -> impl IntoView {
    let body = if rows.is_empty() {
        view! { <EmptyNote>"No namespace was used in this range."</EmptyNote> }.into_any()
    } else {
        view! {
            <DataTable label="Busiest namespaces" columns=BUSIEST_COLUMNS>
                {rows
                    .into_iter()
                    .map(|usage| {
                        let id = usage.id.clone();
                        view! {
                            <tr class="border-t border-slate-200 dark:border-slate-800" data-namespace=id>
                                <NamespaceCell usage=usage.clone() />
                                <td class="p-2 text-right tabular-nums">{format::thousands(usage.operations)}</td>
                                <td class="p-2 text-right tabular-nums">{format::thousands(usage.errors)}</td>
                                <td class="p-2 text-right tabular-nums">{format::thousands(usage.key_count)}</td>
                                <td class="p-2 text-right tabular-nums">{format::bytes(usage.size_bytes)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </DataTable>
        }
        .into_any()
    };
    view! { <Panel heading="Busiest namespaces">{body}</Panel> }
}

/// The namespaces with the most bytes now, with their bytes over the range.
#[component]
pub(super) fn LargestNamespaces(rows: Vec<NamespaceUsageDto>, range: String) -> impl IntoView {
    let range = super::range_words(&range);
    let body = if rows.is_empty() {
        view! { <EmptyNote>"No namespaces yet."</EmptyNote> }.into_any()
    } else {
        view! {
            <DataTable label="Largest namespaces" columns=LARGEST_COLUMNS>
                {rows
                    .into_iter()
                    .map(|usage| {
                        let trend: Vec<f64> = usage.trend.iter().map(|p| p.size_bytes as f64).collect();
                        let label = match (usage.trend.first(), usage.trend.last()) {
                            (Some(first), Some(last)) => format!(
                                "Size over {range}: from {} to {}",
                                format::bytes(first.size_bytes),
                                format::bytes(last.size_bytes),
                            ),
                            _ => format!("Size over {range}: no samples yet"),
                        };
                        let id = usage.id.clone();
                        view! {
                            <tr class="border-t border-slate-200 dark:border-slate-800" data-namespace=id>
                                <NamespaceCell usage=usage.clone() />
                                <td class="p-2 text-right tabular-nums">{format::bytes(usage.size_bytes)}</td>
                                <td class="p-2 text-right tabular-nums">{format::signed(usage.byte_change, format::bytes)}</td>
                                <td class="p-2">
                                    <Sparkline values=trend label />
                                </td>
                                <td class="p-2 text-right tabular-nums">{format::thousands(usage.key_count)}</td>
                                <td class="p-2 text-right tabular-nums">{format::signed(usage.key_change, format::thousands)}</td>
                                <td class="p-2 text-right tabular-nums">{format::thousands(usage.operations)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </DataTable>
        }
        .into_any()
    };
    view! { <Panel heading="Largest namespaces">{body}</Panel> }
}

/// Operations and errors per name (a service, a surface), most first.
#[component]
pub(super) fn UsageTable(
    heading: &'static str,
    /// The names' column first.
    columns: &'static [Column],
    rows: Vec<UsageDto>,
    /// What shows when there are none.
    empty: &'static str,
) -> impl IntoView {
    let body = if rows.is_empty() {
        view! { <EmptyNote>{empty}</EmptyNote> }.into_any()
    } else {
        view! {
            <DataTable label=heading columns>
                {rows
                    .into_iter()
                    .map(|usage| {
                        view! {
                            <tr class="border-t border-slate-200 dark:border-slate-800">
                                <th scope="row" class="p-2 font-mono text-xs font-medium break-all">{usage.name}</th>
                                <td class="p-2 text-right tabular-nums">{format::thousands(usage.operations)}</td>
                                <td class="p-2 text-right tabular-nums">{format::thousands(usage.errors)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </DataTable>
        }
        .into_any()
    };
    view! { <Panel heading>{body}</Panel> }
}
