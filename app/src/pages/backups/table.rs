//! The backups of the chosen target, newest first, with "Restore…" on each complete one.

use leptos::prelude::*;

use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::modal::BUTTON_SECONDARY;
use crate::components::text::{MUTED, Muted};
use crate::dto::{BackupDto, BackupListDto};
use crate::format;

const BACKUP_COLUMNS: &[Column] = &[
    Column::new("Backup"),
    Column::new("Namespace"),
    Column::new("Prefix"),
    Column::right("Keys"),
    Column::right("Size"),
    Column::new("Status"),
    Column::new("Age"),
    Column::hidden("Actions"),
];

#[component]
pub(super) fn BackupTable(
    list: BackupListDto,
    /// Whether "Restore…" shows: restoring writes.
    writer: bool,
    /// The backup whose restore dialog is open.
    restoring: RwSignal<Option<BackupDto>>,
) -> impl IntoView {
    let empty = list.backups.is_empty();
    let now = format::now_unix();
    view! {
        <Show when=move || empty>
            <EmptyNote>"No backups yet. “Back up now” writes one; admins also see backups that never completed."</EmptyNote>
        </Show>
        <DataTable label="Backups" columns=BACKUP_COLUMNS>
            {list
                .backups
                .into_iter()
                .map(|backup| view! { <BackupRow backup now writer restoring /> })
                .collect_view()}
        </DataTable>
    }
}

#[component]
fn BackupRow(backup: BackupDto, now: i64, writer: bool, restoring: RwSignal<Option<BackupDto>>) -> impl IntoView {
    let restorable = writer && backup.status == "complete";
    let namespace = backup.namespace_title.clone().or(backup.namespace_id.clone());
    let keys = backup.key_count.map(|n| n.to_string());
    let status_class = match backup.status.as_str() {
        "complete" => "text-emerald-700 dark:text-emerald-400",
        "damaged" => "font-medium text-red-700 dark:text-red-400",
        _ => "text-amber-800 dark:text-amber-300",
    };
    let age = backup.snapshot_at.map(|at| {
        view! {
            <time title=format::utc_seconds(at)>{format::ago(at, now)}</time>
            <div class=format!("text-xs {MUTED}")>{format::utc(at)}</div>
        }
    });
    let chosen = backup.clone();
    view! {
        <tr class="border-t border-slate-200 dark:border-slate-800" data-backup=backup.backup_id.clone()>
            <td class="p-2 font-mono text-xs break-all">{backup.backup_id.clone()}</td>
            <td class="p-2 break-all">{namespace.unwrap_or_else(|| "—".to_owned())}</td>
            <td class="p-2 font-mono text-xs break-all">
                {match backup.prefix.clone() {
                    Some(prefix) => prefix.into_any(),
                    None => view! { <Muted>"every key"</Muted> }.into_any(),
                }}
            </td>
            <td class="p-2 text-right tabular-nums">{keys.unwrap_or_else(|| "—".to_owned())}</td>
            <td class="p-2 text-right tabular-nums whitespace-nowrap">{format::bytes(backup.bytes)}</td>
            <td class=format!("p-2 {status_class}")>{backup.status.clone()}</td>
            <td class="p-2 whitespace-nowrap">{age}</td>
            <td class="p-2 text-right">
                {restorable
                    .then(|| {
                        view! {
                            <button type="button" class=BUTTON_SECONDARY on:click=move |_| restoring.set(Some(chosen.clone()))>
                                "Restore…"
                            </button>
                        }
                    })}
            </td>
        </tr>
    }
}
