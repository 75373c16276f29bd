//! A set of radio buttons bound to one signal.

use leptos::prelude::*;

/// One labelled radio button per option; choosing one sets `value`. The initial choice is in the
/// markup too, so the form is right before (or without) hydration.
#[component]
pub fn RadioGroup<T>(
    /// The buttons' shared `name`.
    name: &'static str,
    value: RwSignal<T>,
    options: Vec<(T, &'static str)>,
    /// Classes of each option's label.
    #[prop(default = "flex items-center gap-2 text-sm")]
    class: &'static str,
) -> impl IntoView
where
    T: Copy + PartialEq + Send + Sync + 'static,
{
    let initial = value.get_untracked();
    options
        .into_iter()
        .map(|(option, label)| {
            view! {
                <label class=class>
                    <input
                        type="radio"
                        name=name
                        checked=option == initial
                        prop:checked=move || value.get() == option
                        on:change=move |_| value.set(option)
                    />
                    {label}
                </label>
            }
        })
        .collect_view()
}
