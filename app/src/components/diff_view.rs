//! Two values side by side as a line diff, from the older to the newer: the History tab's
//! comparison of versions, and the changed keys of a restore's or a rewind's preview.

use leptos::prelude::*;

use crate::components::text::MUTED;
use crate::diff::{DiffLine, line_diff};

/// A value as compared: its text, or `None` when it is not UTF-8 text.
pub type Text = Option<String>;

/// The line diff of two labelled values, or why there is none.
#[component]
pub fn DiffView(from: (String, Text), to: (String, Text)) -> impl IntoView {
    let heading = format!("From {} to {}", from.0, to.0);
    let label = heading.clone();
    let body = match (from.1, to.1) {
        (Some(old), Some(new)) if old == new => view! { <p class="text-sm">"No differences."</p> }.into_any(),
        (Some(old), Some(new)) => match line_diff(&old, &new) {
            Some(lines) => view! { <DiffLines lines /> }.into_any(),
            None => view! { <p class="text-sm">"Too many lines differ to compare them line by line."</p> }.into_any(),
        },
        _ => view! { <p class="text-sm">"One of the two is not text, so there is no line diff."</p> }.into_any(),
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
        <pre class="mt-1 max-h-72 overflow-auto text-xs" data-testid="value-diff">
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
