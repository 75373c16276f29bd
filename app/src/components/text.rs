//! Secondary text.

use leptos::prelude::*;

/// The colours of secondary text, readable in both themes.
pub const MUTED: &str = "text-slate-500 dark:text-slate-400";

/// A hint under a field or a list: small secondary text.
#[component]
pub fn Hint(
    /// Classes besides the hint's own (spacing, say).
    #[prop(optional)]
    class: &'static str,
    children: Children,
) -> impl IntoView {
    let class = if class.is_empty() { format!("text-xs {MUTED}") } else { format!("{class} text-xs {MUTED}") };
    view! { <p class=class>{children()}</p> }
}

/// A short run of secondary text ("never", "None").
#[component]
pub fn Muted(children: Children) -> impl IntoView {
    view! { <span class=MUTED>{children()}</span> }
}
