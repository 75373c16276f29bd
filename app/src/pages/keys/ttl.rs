//! What the key forms share: expiration (never, after seconds, at a time) and metadata.

use leptos::prelude::*;

use crate::components::field_error::FieldError;
use crate::components::modal::{INPUT, LABEL};
use crate::components::radio_group::RadioGroup;
use crate::error::AppError;
use crate::format;

const MAX_METADATA_BYTES: usize = 1024;

/// How the editor expresses expiration.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum TtlMode {
    None,
    Seconds,
    At,
}

/// Turns the form's TTL fields into `(expiration, expiration_ttl)`.
pub(super) fn ttl_inputs(mode: TtlMode, seconds: &str, at: &str) -> Result<(Option<i64>, Option<i64>), AppError> {
    match mode {
        TtlMode::None => Ok((None, None)),
        TtlMode::Seconds => seconds
            .trim()
            .parse::<i64>()
            .map(|s| (None, Some(s)))
            .map_err(|_| AppError::invalid("expiration_ttl", "expiration_ttl: enter a whole number of seconds")),
        TtlMode::At => format::parse_datetime_local(at)
            .map(|t| (Some(t), None))
            .ok_or_else(|| AppError::invalid("expiration", "expiration: enter a date and time")),
    }
}

/// Parses the metadata box: empty means none.
pub(super) fn metadata_input(text: &str) -> Result<Option<serde_json::Value>, AppError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str(text)
        .map(Some)
        .map_err(|err| AppError::invalid("metadata", format!("metadata: not valid JSON: {err}")))
}

pub(super) fn metadata_size(text: &str) -> String {
    if text.trim().is_empty() {
        return format!("0 / {MAX_METADATA_BYTES} bytes");
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => format!("{} / {MAX_METADATA_BYTES} bytes", v.to_string().len()),
        Err(_) => "not valid JSON".to_owned(),
    }
}

#[component]
pub(super) fn TtlFields(
    mode: RwSignal<TtlMode>,
    seconds: RwSignal<String>,
    at: RwSignal<String>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    view! {
        <fieldset class="space-y-2">
            <legend class=LABEL>"Expiration"</legend>
            <div class="flex flex-wrap gap-4 text-sm">
                <RadioGroup
                    name="ttl-mode"
                    value=mode
                    options=vec![(TtlMode::None, "Never"), (TtlMode::Seconds, "After seconds"), (TtlMode::At, "At a date and time")]
                    class="flex items-center gap-1"
                />
            </div>
            <Show when=move || mode.get() == TtlMode::Seconds>
                <label class=LABEL>
                    "TTL (seconds)"
                    <input class=INPUT type="number" min="60" value=seconds.get_untracked() bind:value=seconds />
                </label>
            </Show>
            <Show when=move || mode.get() == TtlMode::At>
                <label class=LABEL>
                    "Expires at (UTC)"
                    <input class=INPUT type="datetime-local" value=at.get_untracked() bind:value=at />
                </label>
            </Show>
            <FieldError error field="expiration_ttl" />
            <FieldError error field="expiration" />
        </fieldset>
    }
}
