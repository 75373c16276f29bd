//! The backup plans, oldest first, with "Edit", "Pause" or "Resume", "Run now" and "Delete" on
//! each.

use leptos::prelude::*;

use super::{Open, PlanActions, namespace_label};
use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::modal::BUTTON_SECONDARY;
use crate::components::text::{MUTED, Muted};
use crate::dto::{BackupPlanDto, NamespaceDto};
use crate::format;
use crate::pages::encode_query;
use crate::serverfns::backups::SetBackupPlanPaused;

const PLAN_COLUMNS: &[Column] = &[
    Column::new("Namespace"),
    Column::new("Prefix"),
    Column::new("Schedule (UTC)"),
    Column::new("Target"),
    Column::new("Retention"),
    Column::new("State"),
    Column::new("Next run"),
    Column::new("Last run"),
    Column::hidden("Actions"),
];

/// Which of a plan's backups stay: the newest `keep_last`, those younger than `keep_days`, both
/// rules, or every one.
fn retention(keep_last: Option<u32>, keep_days: Option<u32>) -> String {
    let last = keep_last.map(|n| format!("last {}", format::count(n.into(), "backup")));
    let days = keep_days.map(|n| format!("{} at most", format::count(n.into(), "day")));
    match (last, days) {
        (Some(last), Some(days)) => format!("{last}, {days}"),
        (Some(rule), None) | (None, Some(rule)) => rule,
        (None, None) => "every backup".to_owned(),
    }
}

#[component]
pub(super) fn PlanTable(
    plans: Vec<BackupPlanDto>,
    /// The namespaces by title.
    namespaces: Vec<NamespaceDto>,
    /// Whether the buttons show: each one writes.
    writer: bool,
    actions: PlanActions,
) -> impl IntoView {
    let empty = plans.is_empty();
    let now = format::now_unix();
    view! {
        <Show when=move || empty>
            <EmptyNote>"No backup plans yet. “New plan” backs up a namespace, or every namespace, on a schedule."</EmptyNote>
        </Show>
        <DataTable label="Backup plans" columns=PLAN_COLUMNS>
            {plans
                .into_iter()
                .map(|plan| {
                    let label = namespace_label(&plan, &namespaces);
                    view! { <PlanRow plan label now writer actions /> }
                })
                .collect_view()}
        </DataTable>
    }
}

#[component]
fn PlanRow(
    plan: BackupPlanDto,
    /// The namespace's title, or "All namespaces".
    label: String,
    now: i64,
    writer: bool,
    actions: PlanActions,
) -> impl IntoView {
    let (state, state_class) = if plan.paused {
        ("paused", format!("font-medium {MUTED}"))
    } else {
        ("active", "font-medium text-emerald-700 dark:text-emerald-400".to_owned())
    };
    let buttons = writer.then(|| view! { <PlanButtons plan=plan.clone() label=label.clone() actions /> });
    let next_run = if plan.paused {
        view! { <Muted>"none while paused"</Muted> }.into_any()
    } else {
        view! { <time>{format::utc(plan.next_run_at)}</time> }.into_any()
    };
    view! {
        <tr class="border-t border-slate-200 align-top dark:border-slate-800" data-plan=plan.id.clone()>
            <th scope="row" class="p-2 font-medium break-all">
                {label.clone()}
            </th>
            <td class="p-2 font-mono text-xs">
                {match plan.prefix.clone() {
                    Some(prefix) => view! { <span class="break-all">{prefix}</span> }.into_any(),
                    None => view! { <Muted>"every key"</Muted> }.into_any(),
                }}
            </td>
            <td class="p-2 font-mono text-xs whitespace-nowrap">{plan.cron.clone()}</td>
            <td class="p-2">{plan.target.clone()}</td>
            <td class="p-2">{retention(plan.keep_last, plan.keep_days)}</td>
            <td class=format!("p-2 {state_class}")>{state}</td>
            <td class="p-2 whitespace-nowrap">{next_run}</td>
            <td class="p-2">
                <LastRun plan=plan.clone() now />
            </td>
            <td class="p-2">{buttons}</td>
        </tr>
    }
}

/// When the plan last ran, links to the jobs it started, and why a job could not start.
#[component]
fn LastRun(plan: BackupPlanDto, now: i64) -> impl IntoView {
    let Some(at) = plan.last_run_at else {
        return view! { <Muted>"never"</Muted> }.into_any();
    };
    view! {
        <time class="whitespace-nowrap" title=format::utc_seconds(at)>
            {format::ago(at, now)}
        </time>
        <ul class="text-xs">
            {plan
                .last_job_ids
                .into_iter()
                .map(|id| {
                    let href = format!("/jobs?job={}", encode_query(&id));
                    view! {
                        <li>
                            <a class="font-mono break-all text-indigo-700 underline dark:text-indigo-300" href=href>
                                {id}
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        {plan.last_error.map(|error| view! { <p class="text-xs text-red-700 dark:text-red-400">{error}</p> })}
    }
    .into_any()
}

/// "Edit", "Pause" or "Resume", "Run now" and "Delete"; each is disabled while its own request
/// for this plan runs.
#[component]
fn PlanButtons(plan: BackupPlanDto, label: String, actions: PlanActions) -> impl IntoView {
    let PlanActions { pause, run, open, .. } = actions;
    let id = StoredValue::new(plan.id.clone());
    let paused = plan.paused;
    let pausing =
        move || pause.input().with(|sent| sent.as_ref().is_some_and(|s| id.with_value(|id| s.plan_id == *id)));
    let running = move || run.input().with(|sent| sent.as_ref().is_some_and(|(s, _)| id.with_value(|id| s == id)));
    let flip = move |_| {
        pause.dispatch(SetBackupPlanPaused { plan_id: id.get_value(), paused: !paused });
    };
    let run_now = move |_| {
        run.dispatch((id.get_value(), label.clone()));
    };
    let (edited, deleted) = (plan.clone(), plan);
    view! {
        <div class="flex flex-wrap justify-end gap-1">
            <button type="button" class=BUTTON_SECONDARY on:click=move |_| open.set(Some(Open::Edit(edited.clone())))>
                "Edit"
            </button>
            <button type="button" class=BUTTON_SECONDARY disabled=pausing on:click=flip>
                {if paused { "Resume" } else { "Pause" }}
            </button>
            <button type="button" class=BUTTON_SECONDARY disabled=running on:click=run_now>
                "Run now"
            </button>
            <button type="button" class=BUTTON_SECONDARY on:click=move |_| open.set(Some(Open::Delete(deleted.clone())))>
                "Delete"
            </button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::retention;

    #[test]
    fn retention_reads_well() {
        assert_eq!(retention(Some(7), None), "last 7 backups");
        assert_eq!(retention(Some(1), Some(30)), "last 1 backup, 30 days at most");
        assert_eq!(retention(None, Some(1)), "1 day at most");
        assert_eq!(retention(None, None), "every backup");
    }
}
