//! "New plan" and "Edit": a plan's namespace (or every namespace), prefix, schedule, target and
//! retention in a dialog. The server checks each field; its error for one shows at that field.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::super::LOCAL;
use super::super::start::TargetSelect;
use crate::components::field_error::{DialogButtons, FieldError, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::modal::{INPUT, LABEL, Modal};
use crate::components::namespace_select::NamespaceSelect;
use crate::components::text::Hint;
use crate::dto::{BackupPlanDto, NamespaceDto};
use crate::error::AppError;
use crate::serverfns::backups::SaveBackupPlan;

/// The fields of the server's errors that show at a field of the dialog.
const FIELDS: &[&str] = &["namespace_id", "prefix", "cron", "target", "keep_last", "keep_days"];

/// The dialog's fields, as typed (an empty namespace: every namespace).
#[derive(Clone, Copy)]
struct Draft {
    namespace_id: RwSignal<String>,
    prefix: RwSignal<String>,
    cron: RwSignal<String>,
    target: RwSignal<String>,
    keep_last: RwSignal<String>,
    keep_days: RwSignal<String>,
}

impl Draft {
    /// The fields of a plan, or of a new one (every namespace, to `local`).
    fn of(plan: Option<&BackupPlanDto>) -> Self {
        let text = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        Self {
            namespace_id: RwSignal::new(plan.and_then(|p| p.namespace_id.clone()).unwrap_or_default()),
            prefix: RwSignal::new(plan.and_then(|p| p.prefix.clone()).unwrap_or_default()),
            cron: RwSignal::new(plan.map(|p| p.cron.clone()).unwrap_or_default()),
            target: RwSignal::new(plan.map_or_else(|| LOCAL.to_owned(), |p| p.target.clone())),
            keep_last: RwSignal::new(text(plan.and_then(|p| p.keep_last))),
            keep_days: RwSignal::new(text(plan.and_then(|p| p.keep_days))),
        }
    }

    /// What the fields ask the server to save, or what is wrong with a retention number.
    fn ask(&self, plan_id: Option<String>) -> Result<SaveBackupPlan, AppError> {
        let filled = |value: RwSignal<String>| Some(value.get_untracked().trim().to_owned()).filter(|v| !v.is_empty());
        Ok(SaveBackupPlan {
            plan_id,
            namespace_id: filled(self.namespace_id),
            prefix: Some(self.prefix.get_untracked()).filter(|p| !p.is_empty()),
            cron: self.cron.get_untracked().trim().to_owned(),
            target: filled(self.target),
            keep_last: whole_number("keep_last", &self.keep_last.get_untracked())?,
            keep_days: whole_number("keep_days", &self.keep_days.get_untracked())?,
            // An edit leaves the plan paused or not; "Pause" and "Resume" change that.
            paused: None,
        })
    }
}

/// A retention field: empty for no rule, else a whole number (the server checks its range).
fn whole_number(field: &str, text: &str) -> Result<Option<i64>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| AppError::invalid(field, format!("{field}: enter a whole number, or nothing for no limit")))
}

#[component]
pub(super) fn PlanDialog(
    /// The plan edited; none for a new one.
    plan: Option<BackupPlanDto>,
    namespaces: Vec<NamespaceDto>,
    save: ServerAction<SaveBackupPlan>,
    on_close: Callback<()>,
) -> impl IntoView {
    let draft = Draft::of(plan.as_ref());
    let plan_id = StoredValue::new(plan.map(|p| p.id));
    let editing = plan_id.with_value(Option::is_some);
    let checked = RwSignal::new(None::<AppError>);
    let error = form_error(*save, checked);
    let pending = save.pending();
    on_success(*save, move |_| on_close.run(()));
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match draft.ask(plan_id.get_value()) {
            Ok(ask) => {
                checked.set(None);
                save.dispatch(ask);
            }
            Err(err) => checked.set(Some(err)),
        }
    };
    let invalid = move |field: &'static str| {
        move || error.with(|e| e.as_ref().and_then(|e| e.field.as_deref()) == Some(field)).then_some("true")
    };
    let (title, label) = if editing { ("Edit backup plan", "Save") } else { ("New backup plan", "Create plan") };
    view! {
        <Modal title=title.to_owned() on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=FIELDS />
                <div class="grid gap-3 sm:grid-cols-2">
                    <div>
                        <NamespaceSelect value=draft.namespace_id namespaces empty="All namespaces" />
                        <FieldError error field="namespace_id" />
                    </div>
                    <div>
                        <label class=LABEL>
                            "Only keys starting with"
                            <input class=INPUT type="text" autocomplete="off" placeholder="every key" bind:value=draft.prefix />
                        </label>
                        <FieldError error field="prefix" />
                    </div>
                    <div>
                        <label class=LABEL>
                            "Schedule (cron, UTC)"
                            <input
                                class=format!("{INPUT} font-mono")
                                type="text"
                                required
                                autocomplete="off"
                                spellcheck="false"
                                placeholder="0 3 * * *"
                                aria-invalid=invalid("cron")
                                bind:value=draft.cron
                            />
                        </label>
                        <FieldError error field="cron" />
                        <CronHint />
                    </div>
                    <div>
                        <TargetSelect target=draft.target />
                        <FieldError error field="target" />
                    </div>
                    <div>
                        <label class=LABEL>
                            "Backups kept"
                            <input class=INPUT type="number" min="1" max="10000" aria-invalid=invalid("keep_last") bind:value=draft.keep_last />
                        </label>
                        <FieldError error field="keep_last" />
                    </div>
                    <div>
                        <label class=LABEL>
                            "Days kept"
                            <input class=INPUT type="number" min="1" max="3650" aria-invalid=invalid("keep_days") bind:value=draft.keep_days />
                        </label>
                        <FieldError error field="keep_days" />
                    </div>
                </div>
                <Hint>
                    "After each backup of the plan, its older backups of that namespace beyond the number kept, or older than the days kept, are deleted. Leave both empty to keep every backup. Other backups are never deleted."
                </Hint>
                <DialogButtons on_cancel=on_close label pending />
            </form>
        </Modal>
    }
}

/// How a schedule is written, with examples.
#[component]
fn CronHint() -> impl IntoView {
    view! {
        <Hint class="mt-1">
            "Five fields (minute, hour, day of the month, month, day of the week) or a nickname, in UTC: "
            <code class="font-mono">"0 3 * * *"</code> " every day at 03:00, "
            <code class="font-mono">"30 */6 * * *"</code> " every six hours, "
            <code class="font-mono">"@daily"</code> ", " <code class="font-mono">"@weekly"</code> "."
        </Hint>
    }
}

#[cfg(test)]
mod tests {
    use super::whole_number;

    #[test]
    fn retention_numbers_are_whole_or_empty() {
        assert_eq!(whole_number("keep_last", " ").unwrap(), None);
        assert_eq!(whole_number("keep_last", " 7 ").unwrap(), Some(7));
        let err = whole_number("keep_days", "1.5").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("keep_days"));
    }
}
