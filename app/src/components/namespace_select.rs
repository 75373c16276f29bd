//! A select of namespaces by title, bound to a signal holding the chosen id: first an empty
//! choice (its words given, say "Every namespace"), then each namespace. A chosen namespace that
//! is gone (deleted since the form was filled) still shows, by its id, so editing a rule or an
//! endpoint never silently changes what it points at. Its accessible name is "Namespace" alone
//! (the label around it would add the chosen option's words).

use leptos::prelude::*;

use crate::components::modal::{INPUT, LABEL};
use crate::dto::NamespaceDto;

#[component]
pub fn NamespaceSelect(
    /// The chosen namespace's id; empty for the first choice.
    value: RwSignal<String>,
    namespaces: Vec<NamespaceDto>,
    /// The words of the empty choice.
    empty: &'static str,
    /// `Some("true")` while the server refused the field.
    #[prop(into, optional)]
    invalid: Signal<Option<&'static str>>,
) -> impl IntoView {
    let current = value.get_untracked();
    let missing = (!current.is_empty() && !namespaces.iter().any(|n| n.id == current)).then_some(current);
    let options: Vec<(String, String)> = std::iter::once((String::new(), empty.to_owned()))
        .chain(missing.map(|id| (id.clone(), format!("{id} (not found)"))))
        .chain(namespaces.into_iter().map(|n| (n.id, n.title)))
        .collect();
    view! {
        <label class=LABEL>
            "Namespace"
            <select class=INPUT aria-label="Namespace" aria-invalid=invalid on:change=move |ev| value.set(event_target_value(&ev))>
                {options
                    .into_iter()
                    .map(|(id, title)| {
                        let chosen = id.clone();
                        view! {
                            <option value=id selected=move || value.with(|v| *v == chosen)>
                                {title}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}
