//! The History tab's comparison: the version being viewed beside another version or the key's
//! current value, as a line diff from the older to the newer.

use leptos::prelude::*;

use crate::components::modal::{INPUT, LABEL};
use crate::components::text::MUTED;
use crate::diff::{DiffLine, line_diff};
use crate::dto::KeyVersionDto;
use crate::error::AppError;
use crate::serverfns::catalog::get_key_version;
use crate::serverfns::keys::get_key;

/// A value as compared: its text, or `None` when it is not UTF-8 text.
type Text = Option<String>;

/// The other side a viewer chose: its label and its value.
async fn other_side(namespace_id: String, key: String, choice: String) -> Result<Option<(String, Text)>, AppError> {
    match choice.as_str() {
        "" => Ok(None),
        "current" => Ok(Some(("the current value".to_owned(), get_key(namespace_id, key).await?.value))),
        n => {
            let version: i64 = n.parse().map_err(|_| AppError::invalid("version", "version: choose a version"))?;
            let other = get_key_version(namespace_id, key, version).await?;
            Ok(Some((format!("version {version}"), other.value)))
        }
    }
}

#[component]
pub(super) fn VersionCompare(
    namespace_id: String,
    key: String,
    shown: KeyVersionDto,
    /// Every version listed, newest first.
    versions: Signal<Vec<i64>>,
) -> impl IntoView {
    let with = RwSignal::new(String::new());
    let other = LocalResource::new(move || other_side(namespace_id.clone(), key.clone(), with.get()));
    let this = shown.version;
    let this_value = shown.value.clone();
    view! {
        <div class="mt-2 space-y-2">
            <label class=LABEL>
                "Compare with"
                <select class=INPUT bind:value=with>
                    <option value="">"nothing"</option>
                    <option value="current">"the current value"</option>
                    {move || {
                        versions
                            .get()
                            .into_iter()
                            .filter(|v| *v != this)
                            .map(|v| view! { <option value=v.to_string()>{format!("version {v}")}</option> })
                            .collect_view()
                    }}
                </select>
            </label>
            <Suspense fallback=|| view! { <p class=MUTED>"Loading…"</p> }>
                {move || {
                    let this_value = this_value.clone();
                    Suspend::new(async move {
                        match other.await {
                            Ok(None) => ().into_any(),
                            Ok(Some((label, value))) => {
                                let version = with.get_untracked().parse::<i64>().ok();
                                // From the older to the newer: the current value is the newest.
                                let (from, to) = if version.is_some_and(|v| v < this) {
                                    ((label, value), (format!("version {this}"), this_value))
                                } else {
                                    ((format!("version {this}"), this_value), (label, value))
                                };
                                view! { <DiffView from to /> }.into_any()
                            }
                            Err(err) => view! { <p role="alert" class="text-sm text-red-600">{err.message}</p> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </div>
    }
}

/// The line diff of two labelled values, or why there is none.
#[component]
fn DiffView(from: (String, Text), to: (String, Text)) -> impl IntoView {
    let heading = format!("From {} to {}", from.0, to.0);
    let label = heading.clone();
    let body = match (from.1, to.1) {
        (Some(old), Some(new)) if old == new => view! { <p class="text-sm">"No differences."</p> }.into_any(),
        (Some(old), Some(new)) => match line_diff(&old, &new) {
            Some(lines) => view! { <DiffLines lines /> }.into_any(),
            None => view! { <p class="text-sm">"Too many lines differ to compare them line by line."</p> }.into_any(),
        },
        _ => view! { <p class="text-sm">"One of the two is not text: view them to compare."</p> }.into_any(),
    };
    view! {
        <section aria-label=label class="rounded-md border border-slate-200 p-2 dark:border-slate-800">
            <h4 class="text-sm font-medium">{heading}</h4>
            {body}
        </section>
    }
}

#[component]
fn DiffLines(lines: Vec<DiffLine>) -> impl IntoView {
    let (added, removed) = lines.iter().fold((0, 0), |(a, r), line| match line {
        DiffLine::Added(_) => (a + 1, r),
        DiffLine::Removed(_) => (a, r + 1),
        DiffLine::Same(_) => (a, r),
    });
    view! {
        <p class=format!("text-xs {MUTED}")>{format!("{added} lines added, {removed} removed")}</p>
        <pre class="mt-1 max-h-72 overflow-auto text-xs" data-testid="version-diff">
            {lines
                .into_iter()
                .map(|line| {
                    let (class, mark, text) = match line {
                        DiffLine::Same(t) => ("", "  ", t),
                        DiffLine::Removed(t) => ("bg-red-50 text-red-800 dark:bg-red-950 dark:text-red-200", "- ", t),
                        DiffLine::Added(t) => ("bg-green-50 text-green-800 dark:bg-green-950 dark:text-green-200", "+ ", t),
                    };
                    view! { <span class=format!("block whitespace-pre-wrap break-all {class}")>{mark}{text}</span> }
                })
                .collect_view()}
        </pre>
    }
}
