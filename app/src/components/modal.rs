use leptos::html;
use leptos::prelude::*;

const FOCUSABLE: &str = "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

/// A modal dialog: focus moves into it, Tab stays inside it, Esc closes it.
#[component]
pub fn Modal(
    /// The dialog's heading, also its accessible name.
    title: String,
    on_close: Callback<()>,
    children: Children,
) -> impl IntoView {
    let panel = NodeRef::<html::Div>::new();
    let heading_id = format!("dialog-{}", title.to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
    let heading_id_ref = heading_id.clone();
    Effect::new(move |_| {
        if let Some(panel) = panel.get() {
            use wasm_bindgen::JsCast;
            if let Ok(Some(first)) = panel.query_selector("input, textarea, select")
                && let Ok(first) = first.dyn_into::<web_sys::HtmlElement>()
            {
                let _ = first.focus();
            }
        }
    });
    // Esc closes from anywhere: focus may have left the dialog (say, a button that got disabled).
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            on_close.run(());
        }
    });
    on_cleanup(move || escape.remove());
    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        if ev.key() == "Tab" {
            trap_tab(&ev, panel);
        }
    };
    view! {
        <div class="fixed inset-0 z-40 flex items-start justify-center overflow-y-auto bg-slate-900/50 p-2 sm:p-8">
            <div
                node_ref=panel
                role="dialog"
                aria-modal="true"
                aria-labelledby=heading_id_ref
                class="w-full max-w-2xl rounded-lg bg-white p-4 shadow-xl dark:bg-slate-900 sm:p-6"
                on:keydown=on_keydown
            >
                <div class="mb-4 flex items-center justify-between gap-2">
                    <h2 id=heading_id class="text-lg font-semibold break-all">
                        {title}
                    </h2>
                    <button
                        type="button"
                        aria-label="Close"
                        class="rounded px-2 text-xl leading-none hover:bg-slate-100 dark:hover:bg-slate-800"
                        on:click=move |_| on_close.run(())
                    >
                        "×"
                    </button>
                </div>
                {children()}
            </div>
        </div>
    }
}

fn trap_tab(ev: &web_sys::KeyboardEvent, panel: NodeRef<html::Div>) {
    use wasm_bindgen::JsCast;
    let Some(panel) = panel.get() else { return };
    let Ok(list) = panel.query_selector_all(FOCUSABLE) else { return };
    let len = list.length();
    if len == 0 {
        return;
    }
    let (Some(first), Some(last)) = (list.item(0), list.item(len - 1)) else { return };
    let active = document().active_element().map(|e| e.unchecked_into::<web_sys::Node>());
    let target = if ev.shift_key() {
        (active.as_ref() == Some(&first)).then_some(last)
    } else {
        (active.as_ref() == Some(&last)).then_some(first)
    };
    if let Some(target) = target.and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
        ev.prevent_default();
        let _ = target.focus();
    }
}

pub const BUTTON: &str =
    "rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-50";
pub const BUTTON_SECONDARY: &str = "rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800";
pub const BUTTON_DANGER: &str =
    "rounded-md bg-red-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-500 disabled:opacity-50";
pub const INPUT: &str = "mt-1 w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-950";
pub const LABEL: &str = "block text-sm font-medium";
