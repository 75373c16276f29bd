//! The alert rules, oldest first, with "Edit" and "Delete" on each.

use leptos::prelude::*;

use super::{Open, RuleActions, metric_label, metric_value};
use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::modal::BUTTON_SECONDARY;
use crate::components::text::MUTED;
use crate::dto::{AlertRuleDto, NamespaceDto};
use crate::format;

const RULE_COLUMNS: &[Column] = &[
    Column::new("Kind"),
    Column::new("Namespace"),
    Column::new("Watches"),
    Column::new("State"),
    Column::new("Enabled"),
    Column::hidden("Actions"),
];

/// What a rule watches, in words: "keys starting with “a:” tagged “t” expiring within 2
/// hours", "storage above 1.0 MB, fired again at most every hour".
pub(super) fn watches(rule: &AlertRuleDto) -> String {
    match (rule.metric.as_deref(), rule.threshold) {
        (Some(metric), Some(threshold)) => format!(
            "{} above {}, fired again at most every {}",
            metric_label(metric),
            metric_value(metric, threshold),
            format::span_words(rule.cooldown_secs),
        ),
        _ => {
            let prefix = rule.prefix.as_ref().map(|p| format!(" starting with “{p}”")).unwrap_or_default();
            let tag = rule.tag.as_ref().map(|t| format!(" tagged “{t}”")).unwrap_or_default();
            let within = rule.within_secs.map(format::span_words).unwrap_or_default();
            format!("Keys{prefix}{tag} expiring within {within}")
        }
    }
}

/// A rule's state at its last check, and whether that is bad news.
fn state(rule: &AlertRuleDto, now: i64) -> (String, bool) {
    let value = |v: Option<f64>| match (rule.metric.as_deref(), v) {
        (Some(metric), Some(v)) => metric_value(metric, v),
        _ => "unknown".to_owned(),
    };
    match (rule.kind.as_str(), rule.checked_at) {
        _ if !rule.enabled => ("disabled".to_owned(), false),
        (_, None) => ("not checked yet".to_owned(), false),
        ("threshold", Some(_)) if rule.breached => {
            let since = rule.breached_at.map(|at| format!(" since {}", format::ago(at, now))).unwrap_or_default();
            (format!("breached{since}: {}", value(rule.last_value)), true)
        }
        ("threshold", Some(_)) => (format!("ok: {}", value(rule.last_value)), false),
        (_, Some(_)) => match rule.last_fired_at {
            Some(at) => (format!("watching; last fired {}", format::ago(at, now)), false),
            None => ("watching".to_owned(), false),
        },
    }
}

#[component]
pub(super) fn RuleTable(
    rules: Vec<AlertRuleDto>,
    namespaces: Vec<NamespaceDto>,
    actions: RuleActions,
) -> impl IntoView {
    if rules.is_empty() {
        return view! { <EmptyNote>"No alert rules yet. “New rule” warns before keys expire or when a namespace goes over a limit."</EmptyNote> }
            .into_any();
    }
    let now = format::now_unix();
    view! {
        <DataTable label="Alert rules" columns=RULE_COLUMNS>
            {rules
                .into_iter()
                .map(|rule| {
                    let title = super::super::namespace_title(&rule.namespace_id, &namespaces);
                    view! { <RuleRow rule title now actions /> }
                })
                .collect_view()}
        </DataTable>
    }
    .into_any()
}

#[component]
fn RuleRow(
    rule: AlertRuleDto,
    /// Its namespace's title.
    title: String,
    now: i64,
    actions: RuleActions,
) -> impl IntoView {
    let (state, bad) = state(&rule, now);
    let state_class = if bad {
        "p-2 font-medium text-red-700 dark:text-red-400"
    } else if rule.enabled {
        "p-2"
    } else {
        "p-2 text-slate-500 dark:text-slate-400"
    };
    let (edited, deleted) = (rule.clone(), rule.clone());
    let open = actions.open;
    view! {
        <tr class="border-t border-slate-200 align-top dark:border-slate-800" data-rule=rule.id.clone()>
            <td class="p-2">{rule.kind.clone()}</td>
            <th scope="row" class="p-2 font-medium break-all">
                <a class="text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/namespaces/{}", rule.namespace_id)>
                    {title}
                </a>
            </th>
            <td class="p-2">{watches(&rule)}</td>
            <td class=state_class data-testid="rule-state">
                {state}
            </td>
            <td class="p-2">
                {if rule.enabled { view! { "yes" }.into_any() } else { view! { <span class=MUTED>"no"</span> }.into_any() }}
            </td>
            <td class="p-2">
                <div class="flex flex-wrap justify-end gap-1">
                    <button type="button" class=BUTTON_SECONDARY on:click=move |_| open.set(Some(Open::Edit(edited.clone())))>
                        "Edit"
                    </button>
                    <button type="button" class=BUTTON_SECONDARY on:click=move |_| open.set(Some(Open::Delete(deleted.clone())))>
                        "Delete"
                    </button>
                </div>
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: &str) -> AlertRuleDto {
        AlertRuleDto {
            id: "alr_1".into(),
            kind: kind.into(),
            namespace_id: "ns".into(),
            prefix: None,
            tag: None,
            within_secs: None,
            metric: None,
            threshold: None,
            cooldown_secs: 3600,
            enabled: true,
            breached: false,
            last_value: None,
            breached_at: None,
            last_fired_at: None,
            checked_at: None,
            created_by: "local".into(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn rules_read_well() {
        let expiry = AlertRuleDto {
            prefix: Some("a:".into()),
            tag: Some("t".into()),
            within_secs: Some(7200),
            ..rule("expiry")
        };
        assert_eq!(watches(&expiry), "Keys starting with “a:” tagged “t” expiring within 2 hours");
        assert_eq!(state(&expiry, 100), ("not checked yet".to_owned(), false));
        let threshold = AlertRuleDto {
            metric: Some("storage_bytes".into()),
            threshold: Some(1_048_576.0),
            checked_at: Some(40),
            breached: true,
            breached_at: Some(40),
            last_value: Some(2_097_152.0),
            ..rule("threshold")
        };
        assert_eq!(watches(&threshold), "Storage above 1.0 MB, fired again at most every hour");
        assert_eq!(state(&threshold, 100), ("breached since 1 minute ago: 2.0 MB".to_owned(), true));
        let ok = AlertRuleDto { breached: false, last_value: Some(10.0), ..threshold };
        assert_eq!(state(&ok, 100).0, "ok: 10 B");
        assert_eq!(state(&AlertRuleDto { enabled: false, ..ok }, 100).0, "disabled");
    }
}
