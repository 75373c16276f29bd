//! Filter controls for pages whose filters live in the URL (jobs, audit): each change is
//! applied to the page's filter struct, which navigates to its new address.

use leptos::prelude::*;

use crate::components::modal::{INPUT, LABEL};

/// A labelled select bound to one filter field.
pub fn filter_select<F: Clone + PartialEq + Send + Sync + 'static>(
    filters: Memo<F>,
    apply: impl Fn(Box<dyn FnOnce(&mut F)>) + Clone + 'static,
    label: &'static str,
    options: Vec<(String, String)>,
    get: fn(&F) -> String,
    set: fn(&mut F, String),
) -> impl IntoView {
    view! {
        <label class=LABEL>
            {label}
            <select
                class=INPUT
                aria-label=label
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    apply(Box::new(move |f| set(f, value)));
                }
            >
                {options
                    .into_iter()
                    .map(|(value, text)| {
                        let v = value.clone();
                        view! { <option value=value selected=move || get(&filters.get()) == v>{text}</option> }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}

/// A labelled input (`kind`: text, date, number…) bound to one filter field, applied on change.
pub fn filter_input<F: Clone + PartialEq + Send + Sync + 'static>(
    filters: Memo<F>,
    apply: impl Fn(Box<dyn FnOnce(&mut F)>) + Clone + 'static,
    label: &'static str,
    kind: &'static str,
    get: fn(&F) -> String,
    set: fn(&mut F, String),
) -> impl IntoView {
    view! {
        <label class=LABEL>
            {label}
            <input
                class=INPUT
                type=kind
                aria-label=label
                value=move || get(&filters.get())
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    apply(Box::new(move |f| set(f, value)));
                }
            />
        </label>
    }
}

/// The options of a namespace filter: "Any namespace", then every namespace by title (none when
/// the list could not be read).
pub fn namespace_options(page: Result<crate::dto::NamespacePageDto, crate::error::AppError>) -> Vec<(String, String)> {
    std::iter::once((String::new(), "Any namespace".to_owned()))
        .chain(page.map(|p| p.namespaces).unwrap_or_default().into_iter().map(|n| (n.id, n.title)))
        .collect()
}
