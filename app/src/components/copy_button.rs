//! A small "Copy" button beside an id or a key name: copies it to the clipboard and says so
//! ("Copied", or why it could not) in a live region the screen reader announces.

use leptos::prelude::*;

/// Copies `text`; `what` names it for the button's accessible name ("Copy namespace id").
#[component]
pub fn CopyButton(text: String, what: &'static str) -> impl IntoView {
    let copied = RwSignal::new(None::<Result<(), String>>);
    let stored = StoredValue::new(text);
    let copy = move |_| {
        copied.set(None);
        #[cfg(target_arch = "wasm32")]
        leptos::task::spawn_local(async move {
            let result = crate::components::shown_once::copy_text(&stored.get_value()).await;
            copied.set(Some(result));
        });
        #[cfg(not(target_arch = "wasm32"))]
        let _ = stored;
    };
    view! {
        <span class="inline-flex items-center gap-1">
            <button
                type="button"
                class="rounded border border-slate-300 px-1.5 py-0.5 text-xs text-slate-700 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:border-slate-600 dark:text-slate-200 dark:hover:bg-slate-800"
                aria-label=format!("Copy {what}")
                title=format!("Copy {what}")
                on:click=copy
            >
                "Copy"
            </button>
            // Announced as it changes; no `status` role, so the status of the page or dialog it
            // sits in stays the only one.
            <span aria-live="polite" class="text-xs" data-testid="copy-status">
                {move || match copied.get() {
                    Some(Ok(())) => "Copied".to_owned(),
                    Some(Err(reason)) => format!("Could not copy: {reason}"),
                    None => String::new(),
                }}
            </span>
        </span>
    }
}
