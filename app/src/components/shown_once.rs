//! A secret shown this once (an API token's, a service token's): a marked box with a read-only
//! field that selects itself, a copy button, and how to use it.

use leptos::html;
use leptos::prelude::*;

use crate::components::modal::{BUTTON, BUTTON_SECONDARY, INPUT, LABEL};

/// The box with the secret just made, shown this once, with a copy button and how to use it
/// (`children`).
#[component]
pub fn ShownOnce(
    /// The box's heading, also its accessible name.
    heading: String,
    /// The secret field's label (“Secret”, “Token”); lower-cased, it names the secret in the
    /// message shown when copying fails.
    label: &'static str,
    /// The secret itself.
    secret: String,
    /// What to do if the secret is lost, after “Only its hash is stored; if it is lost, ”.
    lost_hint: &'static str,
    /// The server keeps the secret itself (to sign with it), not a hash; it still never shows it.
    #[prop(optional)]
    kept: bool,
    on_dismiss: Callback<()>,
    /// The id of the token, as the box's `data-token` attribute (none when not given).
    #[prop(optional, into)]
    token_id: Option<String>,
    children: Children,
) -> impl IntoView {
    view! {
        <section
            aria-labelledby="new-secret-heading"
            class="space-y-3 rounded-md border-2 border-amber-400 bg-amber-50 p-4 dark:border-amber-600 dark:bg-amber-950"
            data-token=token_id
        >
            <div class="flex flex-wrap items-center gap-2">
                <h2 id="new-secret-heading" class="text-lg font-semibold break-all">
                    {heading}
                </h2>
                <button type="button" class=format!("{BUTTON_SECONDARY} ml-auto") on:click=move |_| on_dismiss.run(())>
                    "Done"
                </button>
            </div>
            <p class="text-sm font-medium text-amber-900 dark:text-amber-100">
                {if kept {
                    format!("Copy it now: it will not be shown again. The server keeps it to sign with, but never shows it; if it is lost, {lost_hint}")
                } else {
                    format!("Copy it now: it will not be shown again. Only its hash is stored; if it is lost, {lost_hint}")
                }}
            </p>
            <SecretField label secret />
            <div class="space-y-1 text-sm">{children()}</div>
        </section>
    }
}

/// The secret in a read-only field that selects itself (focused at once, so it can be copied
/// straight away and screen readers reach it), a copy button and what copying did.
#[component]
fn SecretField(label: &'static str, secret: String) -> impl IntoView {
    let field = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = field.get() {
            let _ = input.focus();
            input.select();
        }
    });
    let copied = RwSignal::new(None::<Result<(), String>>);
    let stored = StoredValue::new(secret.clone());
    let copy = move |_| {
        copied.set(None);
        #[cfg(target_arch = "wasm32")]
        leptos::task::spawn_local(async move {
            let result = copy_text(&stored.get_value()).await;
            if result.is_err()
                && let Some(input) = field.get_untracked()
            {
                let _ = input.focus();
                input.select();
            }
            copied.set(Some(result));
        });
        #[cfg(not(target_arch = "wasm32"))]
        let _ = stored;
    };
    let named = label.to_lowercase();
    view! {
        <div class="flex flex-wrap items-end gap-2">
            <label class=format!("{LABEL} min-w-64 flex-1")>
                {label}
                <input
                    node_ref=field
                    class=format!("{INPUT} font-mono")
                    type="text"
                    readonly
                    autocomplete="off"
                    spellcheck="false"
                    value=secret
                    on:focus=move |_| {
                        if let Some(input) = field.get_untracked() {
                            input.select();
                        }
                    }
                />
            </label>
            <button type="button" class=BUTTON on:click=copy>
                "Copy"
            </button>
        </div>
        <p role="status" class="text-sm">
            {move || match copied.get() {
                Some(Ok(())) => "Copied to the clipboard.".to_owned(),
                Some(Err(reason)) => format!("Could not copy ({reason}): the {named} is selected, copy it with Ctrl+C."),
                None => String::new(),
            }}
        </p>
    }
}

/// `navigator.clipboard.writeText(text)`.
#[cfg(target_arch = "wasm32")]
pub(crate) async fn copy_text(text: &str) -> Result<(), String> {
    use wasm_bindgen::{JsCast, JsValue};

    use crate::browser::{Promised, js_error, property};
    let unavailable = || "the clipboard is not available".to_owned();
    let window: JsValue = web_sys::window().ok_or_else(unavailable)?.into();
    let clipboard = property(&window, "navigator").and_then(|n| property(&n, "clipboard")).ok_or_else(unavailable)?;
    let write = property(&clipboard, "writeText")
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or_else(unavailable)?;
    let promise = write.call1(&clipboard, &JsValue::from_str(text)).map_err(|e| js_error(&e))?;
    Promised::new(&promise.unchecked_into()).await.map(|_| ()).map_err(|e| js_error(&e))
}
