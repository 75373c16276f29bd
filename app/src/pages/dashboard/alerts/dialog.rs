//! "New rule" and "Edit": an alert rule's kind and namespace, then for an expiry rule the keys
//! it watches (prefix, tag) and how long before they expire it warns, for a threshold rule the
//! metric, the limit and the cooldown; and whether it is enabled. The server checks each field;
//! its error for one shows at that field.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::METRICS;
use crate::components::field_error::{DialogButtons, FieldError, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::modal::{INPUT, LABEL, Modal};
use crate::components::namespace_select::NamespaceSelect;
use crate::components::radio_group::RadioGroup;
use crate::components::text::Hint;
use crate::dto::{AlertRuleDto, NamespaceDto};
use crate::error::AppError;
use crate::serverfns::alerts::SaveAlertRule;

/// The fields of the server's errors that show at a field of the dialog.
const FIELDS: &[&str] =
    &["kind", "namespace_id", "prefix", "tag", "within_secs", "metric", "threshold", "cooldown_secs"];

/// The units the warning window is typed in, in seconds.
const UNITS: [(&str, &str); 3] = [("60", "minutes"), ("3600", "hours"), ("86400", "days")];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Expiry,
    Threshold,
}

/// The dialog's fields, as typed.
#[derive(Clone, Copy)]
struct Draft {
    kind: RwSignal<Kind>,
    namespace_id: RwSignal<String>,
    prefix: RwSignal<String>,
    tag: RwSignal<String>,
    /// The warning window, in `within_unit`s.
    within: RwSignal<String>,
    /// Seconds in one unit of `within`.
    within_unit: RwSignal<String>,
    metric: RwSignal<String>,
    threshold: RwSignal<String>,
    /// Minutes; empty for the server's default (an hour).
    cooldown: RwSignal<String>,
    enabled: RwSignal<bool>,
}

impl Draft {
    /// The fields of a rule, or of a new one (an expiry rule on `namespace`, warning a day
    /// ahead).
    fn of(rule: Option<&AlertRuleDto>, namespace: Option<String>) -> Self {
        let text = |s: Option<&String>| s.cloned().unwrap_or_default();
        let (within, unit) = match rule.and_then(|r| r.within_secs) {
            Some(secs) if secs % 86_400 == 0 => ((secs / 86_400).to_string(), "86400"),
            Some(secs) if secs % 3600 == 0 => ((secs / 3600).to_string(), "3600"),
            Some(secs) => ((secs / 60).to_string(), "60"),
            None => ("1".to_owned(), "86400"),
        };
        Self {
            kind: RwSignal::new(match rule {
                Some(r) if r.kind == "threshold" => Kind::Threshold,
                _ => Kind::Expiry,
            }),
            namespace_id: RwSignal::new(rule.map(|r| r.namespace_id.clone()).or(namespace).unwrap_or_default()),
            prefix: RwSignal::new(text(rule.and_then(|r| r.prefix.as_ref()))),
            tag: RwSignal::new(text(rule.and_then(|r| r.tag.as_ref()))),
            within: RwSignal::new(within),
            within_unit: RwSignal::new(unit.to_owned()),
            metric: RwSignal::new(rule.and_then(|r| r.metric.clone()).unwrap_or_else(|| METRICS[0].0.to_owned())),
            threshold: RwSignal::new(rule.and_then(|r| r.threshold).map(|t| t.to_string()).unwrap_or_default()),
            cooldown: RwSignal::new(rule.map(|r| (r.cooldown_secs / 60).to_string()).unwrap_or_default()),
            enabled: RwSignal::new(rule.is_none_or(|r| r.enabled)),
        }
    }

    /// What the fields ask the server to save, or what is wrong with a number typed.
    fn ask(&self, id: Option<String>) -> Result<SaveAlertRule, AppError> {
        let filled = |value: RwSignal<String>| Some(value.get_untracked()).filter(|v| !v.trim().is_empty());
        let mut ask = SaveAlertRule {
            id,
            kind: String::new(),
            namespace_id: self.namespace_id.get_untracked(),
            prefix: None,
            tag: None,
            within_secs: None,
            metric: None,
            threshold: None,
            cooldown_secs: None,
            enabled: Some(self.enabled.get_untracked()),
        };
        match self.kind.get_untracked() {
            Kind::Expiry => {
                let unit: i64 = self.within_unit.get_untracked().parse().unwrap_or(60);
                let within = whole_number("within_secs", &self.within.get_untracked(), "how long before they expire")?
                    .and_then(|n| n.checked_mul(unit));
                ask.kind = "expiry".to_owned();
                ask.prefix = filled(self.prefix);
                ask.tag = filled(self.tag);
                ask.within_secs = within;
            }
            Kind::Threshold => {
                let text = self.threshold.get_untracked();
                let threshold = text.trim().parse::<f64>().ok().filter(|t| t.is_finite()).ok_or_else(|| {
                    AppError::invalid("threshold", "threshold: enter a number, the value the metric may not exceed")
                })?;
                let cooldown =
                    whole_number("cooldown_secs", &self.cooldown.get_untracked(), "minutes between repeats")?;
                ask.kind = "threshold".to_owned();
                ask.metric = Some(self.metric.get_untracked());
                ask.threshold = Some(threshold);
                ask.cooldown_secs = cooldown.and_then(|minutes| minutes.checked_mul(60));
            }
        }
        Ok(ask)
    }
}

/// A field of whole numbers: empty for none, else the number (the server checks its range).
fn whole_number(field: &str, text: &str, what: &str) -> Result<Option<i64>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| AppError::invalid(field, format!("{field}: enter a whole number ({what})")))
}

/// The unit the limit of a threshold on `metric` is typed in.
fn threshold_unit(metric: &str) -> &'static str {
    match metric {
        "storage_bytes" => "In bytes (1048576 is 1 MB).",
        "key_count" => "In keys.",
        "ops_per_hour" => "Operations in the last hour, checked every minute.",
        _ => "In milliseconds, the 99th percentile of the last hour's operations.",
    }
}

#[component]
pub(super) fn RuleDialog(
    /// The rule edited; none for a new one.
    rule: Option<AlertRuleDto>,
    /// The namespace a new rule starts on.
    namespace: Option<String>,
    namespaces: Vec<NamespaceDto>,
    save: ServerAction<SaveAlertRule>,
    on_close: Callback<()>,
) -> impl IntoView {
    let draft = Draft::of(rule.as_ref(), namespace);
    let id = StoredValue::new(rule.map(|r| r.id));
    let editing = id.with_value(Option::is_some);
    let checked = RwSignal::new(None::<AppError>);
    let error = form_error(*save, checked);
    on_success(*save, move |_| on_close.run(()));
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match draft.ask(id.get_value()) {
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
    let (title, label) = if editing { ("Edit alert rule", "Save") } else { ("New alert rule", "Create rule") };
    view! {
        <Modal title=title.to_owned() on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=FIELDS />
                <fieldset>
                    <legend class=LABEL>"Kind"</legend>
                    <div class="mt-1 flex flex-wrap gap-4">
                        <RadioGroup
                            name="kind"
                            value=draft.kind
                            options=vec![(Kind::Expiry, "Keys expiring"), (Kind::Threshold, "Threshold")]
                        />
                    </div>
                    <FieldError error field="kind" />
                </fieldset>
                <div>
                    <NamespaceSelect value=draft.namespace_id namespaces empty="Choose a namespace" invalid=invalid("namespace_id") />
                    <FieldError error field="namespace_id" />
                </div>
                <Show when=move || draft.kind.get() == Kind::Expiry>
                    <div class="grid gap-3 sm:grid-cols-2">
                        <div>
                            <label class=LABEL>
                                "Only keys starting with"
                                <input
                                    class=format!("{INPUT} font-mono")
                                    type="text"
                                    autocomplete="off"
                                    spellcheck="false"
                                    placeholder="every key"
                                    aria-invalid=invalid("prefix")
                                    bind:value=draft.prefix
                                />
                            </label>
                            <FieldError error field="prefix" />
                        </div>
                        <div>
                            <label class=LABEL>
                                "Only keys tagged"
                                <input
                                    class=INPUT
                                    type="text"
                                    autocomplete="off"
                                    placeholder="any tag"
                                    aria-invalid=invalid("tag")
                                    bind:value=draft.tag
                                />
                            </label>
                            <FieldError error field="tag" />
                        </div>
                        <div class="sm:col-span-2">
                            <div class="flex gap-2">
                                <label class=format!("{LABEL} flex-1")>
                                    "Warn this long before they expire"
                                    <input
                                        class=INPUT
                                        type="text"
                                        inputmode="numeric"
                                        autocomplete="off"
                                        aria-invalid=invalid("within_secs")
                                        bind:value=draft.within
                                    />
                                </label>
                                <label class=LABEL>
                                    "Unit"
                                    <select class=INPUT on:change=move |ev| draft.within_unit.set(event_target_value(&ev))>
                                        {UNITS
                                            .iter()
                                            .map(|&(secs, unit)| {
                                                view! {
                                                    <option value=secs selected=move || draft.within_unit.with(|u| u == secs)>
                                                        {unit}
                                                    </option>
                                                }
                                            })
                                            .collect_view()}
                                    </select>
                                </label>
                            </div>
                            <FieldError error field="within_secs" />
                            <Hint class="mt-1">"From a minute to a year. Each key is warned about once per expiration."</Hint>
                        </div>
                    </div>
                </Show>
                <Show when=move || draft.kind.get() == Kind::Threshold>
                    <div class="grid gap-3 sm:grid-cols-2">
                        <div>
                            <label class=LABEL>
                                "Metric"
                                <select class=INPUT aria-invalid=invalid("metric") on:change=move |ev| draft.metric.set(event_target_value(&ev))>
                                    {METRICS
                                        .iter()
                                        .map(|&(metric, label)| {
                                            view! {
                                                <option value=metric selected=move || draft.metric.with(|m| m == metric)>
                                                    {label}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            </label>
                            <FieldError error field="metric" />
                        </div>
                        <div>
                            <label class=LABEL>
                                "Above"
                                <input
                                    class=INPUT
                                    type="text"
                                    inputmode="decimal"
                                    autocomplete="off"
                                    aria-invalid=invalid("threshold")
                                    bind:value=draft.threshold
                                />
                            </label>
                            <FieldError error field="threshold" />
                            <Hint class="mt-1">{move || draft.metric.with(|m| threshold_unit(m))}</Hint>
                        </div>
                        <div>
                            <label class=LABEL>
                                "Repeat at most every (minutes)"
                                <input
                                    class=INPUT
                                    type="text"
                                    inputmode="numeric"
                                    autocomplete="off"
                                    placeholder="60"
                                    aria-invalid=invalid("cooldown_secs")
                                    bind:value=draft.cooldown
                                />
                            </label>
                            <FieldError error field="cooldown_secs" />
                            <Hint class="mt-1">"While the breach lasts; from 1 minute to 30 days."</Hint>
                        </div>
                    </div>
                </Show>
                <div>
                    <label class="flex items-center gap-2 text-sm font-medium">
                        <input type="checkbox" bind:checked=draft.enabled />
                        "Enabled"
                    </label>
                </div>
                <DialogButtons on_cancel=on_close label pending=save.pending() />
            </form>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::whole_number;

    #[test]
    fn whole_numbers_are_whole_or_empty() {
        assert_eq!(whole_number("within_secs", " ", "x").unwrap(), None);
        assert_eq!(whole_number("within_secs", " 2 ", "x").unwrap(), Some(2));
        let err = whole_number("cooldown_secs", "1.5", "minutes").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("cooldown_secs"));
    }
}
