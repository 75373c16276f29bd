//! The fields of a service but its name: namespace, role, prefix, origins, public keys and
//! description, each with its label, the server's error for it and a hint.

use leptos::prelude::*;

use super::Draft;
use crate::components::field_error::FieldError;
use crate::components::modal::{INPUT, LABEL};
use crate::components::text::Hint;
use crate::dto::NamespaceDto;
use crate::error::AppError;

/// The fields of the new-service form and the edit dialog. `form_id` keeps the ids of two forms
/// apart.
#[component]
pub(super) fn ServiceFields(
    form_id: &'static str,
    draft: Draft,
    error: Signal<Option<AppError>>,
    namespaces: Vec<NamespaceDto>,
) -> impl IntoView {
    // A namespace that is gone (or the form's first load) still shows what the service has.
    let current = draft.storage.get_untracked();
    let missing = (!current.is_empty() && !namespaces.iter().any(|n| n.id == current)).then_some(current);
    let storage_options: Vec<(String, String)> = std::iter::once((String::new(), "Choose a namespace".to_owned()))
        .chain(missing.map(|id| (id.clone(), format!("{id} (not found)"))))
        .chain(namespaces.into_iter().map(|n| (n.id, n.title)))
        .collect();
    let role_options = vec![
        ("read-only".to_owned(), "read-only (reads only)".to_owned()),
        ("admin".to_owned(), "admin (reads and writes)".to_owned()),
    ];
    view! {
        <div class="grid gap-3 sm:grid-cols-3">
            <FieldBox form_id field="storage" label="Namespace" error>
                <BoundSelect form_id field="storage" value=draft.storage options=storage_options error required=true />
            </FieldBox>
            <FieldBox form_id field="role" label="Role" error>
                <BoundSelect form_id field="role" value=draft.role options=role_options error />
            </FieldBox>
            <FieldBox
                form_id
                field="prefix"
                label="Prefix"
                error
                hint=|| {
                    view! {
                        "Keys are stored as " <code class="font-mono">"<prefix>:<key>"</code>
                        "; unique in the namespace. 1 to 64 of A–Z, a–z, 0–9, “.”, “_” and “-”."
                    }
                }
            >
                <input
                    id=format!("{form_id}-prefix")
                    class=format!("{INPUT} font-mono")
                    type="text"
                    required
                    autocomplete="off"
                    spellcheck="false"
                    aria-invalid=invalid(error, "prefix")
                    bind:value=draft.prefix
                />
            </FieldBox>
            <FieldBox
                form_id
                field="allowed_origins"
                label="Allowed origins"
                error
                hint=|| {
                    view! {
                        "Browser pages that may call the API, one a line or separated by commas: "
                        <code class="font-mono">"https://app.example.com"</code> ", or " <code class="font-mono">"*"</code>
                        " for any. Calls without an Origin (servers, scripts) need none."
                    }
                }
            >
                <TextArea form_id field="allowed_origins" value=draft.origins error mono=true />
            </FieldBox>
            <FieldBox
                form_id
                field="public_keys"
                label="Public keys"
                error
                hint=|| {
                    view! {
                        "Keys a token may read from any origin: names, or prefixes ending in "
                        <code class="font-mono">"*"</code> ", one a line or separated by commas."
                    }
                }
            >
                <TextArea form_id field="public_keys" value=draft.public_keys error mono=true />
            </FieldBox>
            <FieldBox form_id field="description" label="Description" error>
                <TextArea form_id field="description" value=draft.description error />
            </FieldBox>
        </div>
    }
}

/// `aria-invalid` for the control of `field` while the server's error names it.
fn invalid(error: Signal<Option<AppError>>, field: &'static str) -> impl Fn() -> Option<&'static str> + Copy {
    move || error.with(|e| e.as_ref().and_then(|e| e.field.as_deref()) == Some(field)).then_some("true")
}

/// A field's box: its label, the control (the children), the server's error and a hint.
#[component]
fn FieldBox(
    form_id: &'static str,
    field: &'static str,
    label: &'static str,
    error: Signal<Option<AppError>>,
    #[prop(optional, into)] hint: Option<ViewFnOnce>,
    children: Children,
) -> impl IntoView {
    view! {
        <div data-field=field>
            <label class=LABEL for=format!("{form_id}-{field}")>
                {label}
            </label>
            {children()}
            <FieldError error field />
            {hint.map(|hint| view! { <Hint class="mt-1">{hint.run()}</Hint> })}
        </div>
    }
}

/// A select bound to `value`: the markup marks the chosen option, so it is right before
/// hydration too.
#[component]
fn BoundSelect(
    form_id: &'static str,
    field: &'static str,
    value: RwSignal<String>,
    options: Vec<(String, String)>,
    error: Signal<Option<AppError>>,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    view! {
        <select
            id=format!("{form_id}-{field}")
            class=INPUT
            required=required
            aria-invalid=invalid(error, field)
            on:change=move |ev| value.set(event_target_value(&ev))
        >
            {options
                .into_iter()
                .map(|(option, label)| {
                    let selected = {
                        let option = option.clone();
                        move || value.with(|v| *v == option)
                    };
                    let again = selected.clone();
                    view! {
                        <option value=option selected=selected prop:selected=again>
                            {label}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

/// A text area bound to `value`; `mono` for lists of origins and keys.
#[component]
fn TextArea(
    form_id: &'static str,
    field: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<AppError>>,
    #[prop(optional)] mono: bool,
) -> impl IntoView {
    view! {
        <textarea
            id=format!("{form_id}-{field}")
            class=if mono { format!("{INPUT} font-mono") } else { INPUT.to_owned() }
            rows="3"
            spellcheck=mono.then_some("false")
            aria-invalid=invalid(error, field)
            bind:value=value
        >
            {value.get_untracked()}
        </textarea>
    }
}
