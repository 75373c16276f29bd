//! The open key in a dialog: its value, details and history in tabs. A separate chunk of the
//! release bundle, fetched when a key is first opened.

use leptos::prelude::*;

use crate::components::copy_button::CopyButton;

use super::details::{DetailsPanel, HistoryPanel};
use super::form::EditorForm;
use super::view::KeyView;
use crate::components::modal::Modal;
use crate::components::viewer::can_write;
use crate::serverfns::keys::get_key;

#[derive(Clone, Copy, PartialEq, Eq)]
enum EditorTab {
    Value,
    Details,
    History,
}

#[lazy]
pub(super) fn key_editor(
    namespace_id: String,
    key: String,
    on_close: Callback<()>,
    on_change: Callback<()>,
    on_renamed: Callback<String>,
) -> AnyView {
    view! { <KeyEditor namespace_id key on_close on_change on_renamed /> }.into_any()
}

/// The open key: its value, details and history in tabs. Viewers who may write edit them here;
/// the others read them (no save, delete, tag editing or restore).
#[component]
fn KeyEditor(
    namespace_id: String,
    key: String,
    on_close: Callback<()>,
    on_change: Callback<()>,
    on_renamed: Callback<String>,
) -> impl IntoView {
    let writer = can_write();
    let loaded = {
        let namespace_id = namespace_id.clone();
        let key = key.clone();
        Resource::new(|| (), move |_| get_key(namespace_id.clone(), key.clone()))
    };
    let tab = RwSignal::new(EditorTab::Value);
    let tab_button = move |which: EditorTab, label: &'static str| {
        view! {
            <button
                type="button"
                role="tab"
                aria-selected=move || (tab.get() == which).to_string()
                class="border-b-2 px-3 py-1.5 text-sm aria-selected:border-indigo-600 aria-selected:font-semibold border-transparent"
                on:click=move |_| tab.set(which)
            >
                {label}
            </button>
        }
    };
    let on_restored = Callback::new(move |_: ()| {
        // The value tab shows the restored state.
        loaded.refetch();
        on_change.run(());
    });
    let on_reload = Callback::new(move |_: ()| loaded.refetch());
    let (details_ns, details_key) = (namespace_id.clone(), key.clone());
    let (history_ns, history_key) = (namespace_id.clone(), key.clone());
    view! {
        <Modal title=if writer { format!("Edit {key}") } else { format!("View {key}") } on_close>
            <div class="mb-2"><CopyButton text=key.clone() what="key name" /></div>
            <div role="tablist" aria-label="Key editor" class="mb-3 flex gap-1 border-b border-slate-200 dark:border-slate-800">
                {tab_button(EditorTab::Value, "Value")}
                {tab_button(EditorTab::Details, "Tags & metadata")}
                {tab_button(EditorTab::History, "History")}
            </div>
            <div role="tabpanel" hidden=move || tab.get() != EditorTab::Value>
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {
                        let namespace_id = namespace_id.clone();
                        move || {
                            let namespace_id = namespace_id.clone();
                            Suspend::new(async move {
                                match loaded.await {
                                    Ok(k) if writer => {
                                        view! { <EditorForm namespace_id loaded=k on_close on_change on_reload on_renamed /> }.into_any()
                                    }
                                    Ok(k) => view! { <KeyView loaded=k /> }.into_any(),
                                    Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                                }
                            })
                        }
                    }
                </Transition>
            </div>
            <Show when=move || tab.get() == EditorTab::Details>
                <div role="tabpanel">
                    <DetailsPanel namespace_id=details_ns.clone() key=details_key.clone() />
                </div>
            </Show>
            <Show when=move || tab.get() == EditorTab::History>
                <div role="tabpanel">
                    <HistoryPanel namespace_id=history_ns.clone() key=history_key.clone() on_restored />
                </div>
            </Show>
        </Modal>
    }
}
