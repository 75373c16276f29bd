//! "Alert rules" on the dashboard (admins): each rule's kind, namespace, what it watches, its
//! state (breached, ok with its last value, not checked yet) and whether it is enabled, with
//! "New rule", "Edit" and "Delete" (asked first). With one namespace shown, only its rules are
//! listed and a new rule starts on it. The list is read again after every change.

mod dialog;
mod table;

use leptos::prelude::*;

use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::form_action::on_success;
use crate::components::modal::BUTTON;
use crate::components::text::Hint;
use crate::dto::{AlertRuleDto, NamespacePageDto};
use crate::error::AppError;
use crate::format;
use crate::serverfns::alerts::{DeleteAlertRule, SaveAlertRule, list_alert_rules};
use dialog::RuleDialog;
use table::RuleTable;

/// What a threshold rule can measure, as the server names it and in words.
const METRICS: [(&str, &str); 4] = [
    ("storage_bytes", "Storage"),
    ("key_count", "Keys"),
    ("ops_per_hour", "Operations per hour"),
    ("p99_ms", "p99 latency"),
];

/// A threshold rule's metric in words.
pub(super) fn metric_label(metric: &str) -> &str {
    METRICS.iter().find(|(name, _)| *name == metric).map_or(metric, |(_, label)| label)
}

/// A value of `metric` as read: bytes, a count, milliseconds.
pub(super) fn metric_value(metric: &str, value: f64) -> String {
    match metric {
        "storage_bytes" => format::bytes(value.max(0.0) as u64),
        "p99_ms" => format!("{value} ms"),
        _ => super::totals::count(value),
    }
}

/// The dialog open over the section.
#[derive(Clone, Debug, PartialEq)]
enum Open {
    /// "New rule".
    New,
    Edit(AlertRuleDto),
    Delete(AlertRuleDto),
}

/// The section's actions and its open dialog, handed to each row.
#[derive(Clone, Copy)]
struct RuleActions {
    save: ServerAction<SaveAlertRule>,
    delete: ServerAction<DeleteAlertRule>,
    open: RwSignal<Option<Open>>,
}

#[component]
pub(super) fn AlertRules(
    /// The namespace the dashboard shows; none for every namespace.
    namespace: Memo<Option<String>>,
    namespaces: Resource<Result<NamespacePageDto, AppError>>,
) -> impl IntoView {
    let actions = RuleActions { save: ServerAction::new(), delete: ServerAction::new(), open: RwSignal::new(None) };
    let RuleActions { save, delete, open } = actions;
    let rules = Resource::new(move || (save.version().get(), delete.version().get()), |_| list_alert_rules());
    let on_close = Callback::new(move |_| open.set(None));
    let known = move || namespaces.get_untracked().and_then(Result::ok).map(|p| p.namespaces).unwrap_or_default();
    view! {
        <section aria-labelledby="alert-rules-heading" class="space-y-3">
            <div class="flex flex-wrap items-center gap-3">
                <h2 id="alert-rules-heading" class="text-lg font-semibold">
                    "Alert rules"
                </h2>
                <button type="button" class=format!("{BUTTON} ml-auto") on:click=move |_| open.set(Some(Open::New))>
                    "New rule"
                </button>
            </div>
            <Hint>
                "Checked every minute. An expiry rule warns before keys of a namespace expire (the keys.expiring event, once per key); a threshold rule fires when a namespace's storage, keys, operations per hour or p99 latency goes above a limit (threshold.breached, again after its cooldown while it lasts, then threshold.resolved). Webhooks that choose these events are sent them; breaches show in the health panel."
            </Hint>
            <Transition fallback=|| view! { <p>"Loading the alert rules…"</p> }>
                {move || Suspend::new(async move {
                    let only = namespace.get();
                    let known = namespaces.await.map(|page| page.namespaces).unwrap_or_default();
                    match rules.await {
                        Ok(list) => {
                            let shown: Vec<AlertRuleDto> = match only {
                                Some(id) => list.into_iter().filter(|r| r.namespace_id == id).collect(),
                                None => list,
                            };
                            view! { <RuleTable rules=shown namespaces=known actions /> }.into_any()
                        }
                        // The server decides who is an admin; a refusal is a note.
                        Err(err) if err.code == "forbidden" => view! { <Hint>"Alert rules are managed by admins."</Hint> }.into_any(),
                        Err(err) => view! { <p role="alert" class="text-red-600 dark:text-red-400">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
            {move || {
                open.get()
                    .map(|dialog| match dialog {
                        Open::New => {
                            view! { <RuleDialog rule=None namespace=namespace.get_untracked() namespaces=known() save on_close /> }
                                .into_any()
                        }
                        Open::Edit(rule) => {
                            view! { <RuleDialog rule=Some(rule) namespace=None namespaces=known() save on_close /> }.into_any()
                        }
                        Open::Delete(rule) => {
                            let title = super::namespace_title(&rule.namespace_id, &known());
                            view! { <DeleteRuleDialog rule title delete on_close /> }.into_any()
                        }
                    })
            }}
        </section>
    }
}

/// Asks before a rule is deleted.
#[component]
fn DeleteRuleDialog(
    rule: AlertRuleDto,
    /// Its namespace's title.
    title: String,
    delete: ServerAction<DeleteAlertRule>,
    on_close: Callback<()>,
) -> impl IntoView {
    on_success(*delete, move |_| on_close.run(()));
    let id = rule.id.clone();
    view! {
        <ConfirmDialog
            title="Delete the alert rule".to_owned()
            label="Delete"
            on_close
            action=*delete
            input=move || DeleteAlertRule { id: id.clone() }
        >
            <p class="text-sm">{format!("{title}: {}.", table::watches(&rule))}</p>
            <p class="text-sm">"It is no longer checked and fires no more events. This cannot be undone."</p>
        </ConfirmDialog>
    }
}

#[cfg(test)]
mod tests {
    use super::{metric_label, metric_value};

    #[test]
    fn metrics_read_in_their_units() {
        assert_eq!(metric_label("ops_per_hour"), "Operations per hour");
        assert_eq!(metric_label("new_metric"), "new_metric");
        assert_eq!(metric_value("storage_bytes", 2048.0), "2.0 KB");
        assert_eq!(metric_value("key_count", 1500.0), "1,500");
        assert_eq!(metric_value("p99_ms", 25.0), "25 ms");
    }
}
