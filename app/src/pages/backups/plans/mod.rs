//! "Backup plans" on `/backups` (admins only): each plan's namespace (or every namespace),
//! prefix, schedule (cron, UTC), target, retention, state, next run and last run, with "New plan"
//! and, on each plan, "Edit", "Pause" or "Resume", "Run now" (the page follows the job it starts)
//! and "Delete". The list is read again after every change.

mod dialog;
mod table;

use leptos::prelude::*;

use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::field_error::FormError;
use crate::components::form_action::{form_error, on_success};
use crate::components::job_progress::WatchedJob;
use crate::components::modal::BUTTON;
use crate::components::text::Hint;
use crate::components::viewer::{can_write, use_viewer};
use crate::dto::{BackupPlanDto, BackupPlanRunDto, NamespaceDto, NamespacePageDto};
use crate::error::AppError;
use crate::serverfns::backups::{
    DeleteBackupPlan, SaveBackupPlan, SetBackupPlanPaused, list_backup_plans, run_backup_plan_now,
};
use dialog::PlanDialog;
use table::PlanTable;

/// What the section says to a viewer who is not an admin.
const REFUSAL: &str = "Backup plans (scheduled backups) are managed by admins.";

/// A plan's namespace in the console's words: its title, "All namespaces", or the id of one
/// that is gone.
fn namespace_label(plan: &BackupPlanDto, namespaces: &[NamespaceDto]) -> String {
    match &plan.namespace_id {
        None => "All namespaces".to_owned(),
        Some(id) => {
            namespaces.iter().find(|n| n.id == *id).map_or_else(|| format!("{id} (not found)"), |n| n.title.clone())
        }
    }
}

/// The dialog open over the section.
#[derive(Clone, Debug, PartialEq)]
enum Open {
    /// "New plan".
    New,
    Edit(BackupPlanDto),
    Delete(BackupPlanDto),
}

/// "Run now" of a plan (its id and its namespace's label, for the progress dialog); it answers
/// with the label and the jobs started.
type RunAction = Action<(String, String), Result<(String, BackupPlanRunDto), AppError>>;

/// The section's actions and its open dialog, handed to each row.
#[derive(Clone, Copy)]
struct PlanActions {
    save: ServerAction<SaveBackupPlan>,
    pause: ServerAction<SetBackupPlanPaused>,
    run: RunAction,
    delete: ServerAction<DeleteBackupPlan>,
    open: RwSignal<Option<Open>>,
}

impl PlanActions {
    fn new() -> Self {
        let run: RunAction = Action::new(|(plan_id, label): &(String, String)| {
            let (plan_id, label) = (plan_id.clone(), label.clone());
            async move { Ok((label, run_backup_plan_now(plan_id).await?)) }
        });
        Self {
            save: ServerAction::new(),
            pause: ServerAction::new(),
            run,
            delete: ServerAction::new(),
            open: RwSignal::new(None),
        }
    }
}

#[component]
pub(super) fn BackupPlans(
    namespaces: Resource<Result<NamespacePageDto, AppError>>,
    /// Follows the first job a "Run now" starts.
    on_started: Callback<WatchedJob>,
) -> impl IntoView {
    let admin = use_viewer().is_admin;
    view! {
        <section class="space-y-3" aria-labelledby="backup-plans">
            <h2 id="backup-plans" class="text-lg font-semibold">
                "Backup plans"
            </h2>
            {if admin {
                view! { <PlansAdmin namespaces on_started /> }.into_any()
            } else {
                view! { <Hint>{REFUSAL}</Hint> }.into_any()
            }}
        </section>
    }
}

/// What an admin sees: "New plan", the plans, and the dialog open over them.
#[component]
fn PlansAdmin(
    namespaces: Resource<Result<NamespacePageDto, AppError>>,
    on_started: Callback<WatchedJob>,
) -> impl IntoView {
    let writer = can_write();
    let actions = PlanActions::new();
    let PlanActions { save, pause, run, delete, open } = actions;
    let plans = Resource::new(
        move || (save.version().get(), pause.version().get(), run.version().get(), delete.version().get()),
        |_| list_backup_plans(),
    );
    // What "Run now" started: the first job in the page's progress dialog, the others run on.
    let note = RwSignal::new(None::<&'static str>);
    on_success(run, move |(label, started): &(String, BackupPlanRunDto)| {
        let Some(first) = started.jobs.first() else {
            return note.set(Some("The plan found no namespace to back up."));
        };
        note.set(None);
        let namespace = match started.jobs.len() {
            1 => label.clone(),
            n => format!("{label} (the first of {n} jobs; the others are in the job history)"),
        };
        on_started.run(WatchedJob { job_id: first.job_id.clone(), operation: "Backup".to_owned(), namespace });
    });
    let pause_error = form_error(*pause, RwSignal::new(None));
    let run_error = form_error(run, RwSignal::new(None));
    let on_close = Callback::new(move |_| open.set(None));
    view! {
        <Show when=move || writer>
            <button type="button" class=BUTTON on:click=move |_| open.set(Some(Open::New))>
                "New plan"
            </button>
        </Show>
        <FormError error=pause_error fields=&[] />
        <FormError error=run_error fields=&[] />
        <p role="status" class="text-sm">
            {move || note.get()}
        </p>
        <Transition fallback=|| view! { <p>"Loading the backup plans…"</p> }>
            {move || Suspend::new(async move {
                let known = namespaces.await.map(|page| page.namespaces).unwrap_or_default();
                match plans.await {
                    Ok(list) => view! { <PlanTable plans=list.plans namespaces=known writer actions /> }.into_any(),
                    // The server decides who is an admin; a refusal is the same note.
                    Err(err) if err.code == "forbidden" => view! { <Hint>{REFUSAL}</Hint> }.into_any(),
                    Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || {
            open.get()
                .map(|dialog| {
                    let known = namespaces.get_untracked().and_then(Result::ok).map(|p| p.namespaces).unwrap_or_default();
                    match dialog {
                        Open::New => view! { <PlanDialog plan=None namespaces=known save on_close /> }.into_any(),
                        Open::Edit(plan) => view! { <PlanDialog plan=Some(plan) namespaces=known save on_close /> }.into_any(),
                        Open::Delete(plan) => {
                            let label = namespace_label(&plan, &known);
                            view! { <DeletePlanDialog plan label delete on_close /> }.into_any()
                        }
                    }
                })
        }}
    }
}

/// Asks before a plan is deleted; its backups stay.
#[component]
fn DeletePlanDialog(
    plan: BackupPlanDto,
    /// The plan's namespace, as the table shows it.
    label: String,
    delete: ServerAction<DeleteBackupPlan>,
    on_close: Callback<()>,
) -> impl IntoView {
    on_success(*delete, move |_| on_close.run(()));
    let plan_id = plan.id.clone();
    view! {
        <ConfirmDialog
            title="Delete the backup plan".to_owned()
            label="Delete"
            on_close
            action=*delete
            input=move || DeleteBackupPlan { plan_id: plan_id.clone() }
        >
            <p class="text-sm">{format!("{label}, “{}”.", plan.cron)}</p>
            <p class="text-sm">
                "The plan stops running. Its backups stay where they are and are no longer deleted by its retention."
            </p>
        </ConfirmDialog>
    }
}
