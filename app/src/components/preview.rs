//! The parts of a preview (a restore's, a rewind's): one class of keys with its count and first
//! names, and the value comparison of any one of the changed keys.

use leptos::prelude::*;

use crate::components::diff_view::DiffView;
use crate::components::modal::{INPUT, LABEL};
use crate::components::text::{Hint, MUTED};
use crate::dto::ValueChangeDto;
use crate::format;

/// One class of a preview: `what: n`, then the first names (with "…" when there are more).
#[component]
pub fn PreviewClass(what: &'static str, n: u64, first: Vec<String>) -> impl IntoView {
    let more = n > first.len() as u64;
    view! {
        <li>
            <span class="tabular-nums">{format!("{what}: {n}")}</span>
            {(!first.is_empty())
                .then(|| {
                    view! {
                        <span class=format!("ml-2 font-mono text-xs break-all {MUTED}")>
                            {first.join(", ")}
                            {more.then_some(", …")}
                        </span>
                    }
                })}
        </li>
    }
}

/// A select of the changed keys a preview explains, and the diff of the one chosen (the first
/// at first) from its value now to the one the change writes, described by `then`.
#[component]
pub fn ChangedKeys(changes: Vec<ValueChangeDto>, then: String) -> impl IntoView {
    if changes.is_empty() {
        return ().into_any();
    }
    let chosen = RwSignal::new(0usize);
    let changes = StoredValue::new(changes);
    let names = changes.with_value(|list| list.iter().map(|c| c.name.clone()).collect::<Vec<_>>());
    let then = StoredValue::new(then);
    view! {
        <div class="mt-2 space-y-2" data-testid="changed-key">
            <label class=LABEL>
                "Compare a changed key"
                <select class=INPUT on:change=move |ev| chosen.set(event_target_value(&ev).parse().unwrap_or(0))>
                    {names
                        .into_iter()
                        .enumerate()
                        .map(|(i, name)| view! { <option value=i.to_string() selected=move || chosen.get() == i>{name}</option> })
                        .collect_view()}
                </select>
            </label>
            {move || {
                changes
                    .with_value(|list| list.get(chosen.get()).cloned())
                    .map(|change| view! { <ChangeView change then=then.get_value() /> })
            }}
        </div>
    }
    .into_any()
}

/// One changed key: the diff of its values (or that they are the same), which other parts
/// differ, and whether the texts were cut.
#[component]
fn ChangeView(change: ValueChangeDto, then: String) -> impl IntoView {
    let also =
        (!change.also.is_empty()).then(|| format!("Also different: {}.", change.also.join(", ").replace('_', " ")));
    let sizes = format!("{} now, {} {then}", format::bytes(change.before_bytes), format::bytes(change.after_bytes));
    let cut = change.cut.then_some(" (the first 8 KiB of each compared)");
    let diff = if change.value_differs {
        view! { <DiffView from=("the value now".to_owned(), change.before) to=(format!("the value {then}"), change.after) /> }
            .into_any()
    } else {
        view! { <p class="text-sm">"The value is the same."</p> }.into_any()
    };
    view! {
        {diff}
        <Hint>{sizes}{cut}</Hint>
        {also.map(|text| view! { <p class="text-sm">{text}</p> })}
    }
}
