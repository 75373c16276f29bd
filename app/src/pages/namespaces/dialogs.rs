//! Create, rename and delete a namespace.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::field_error::{DialogButtons, FieldError, FormError, run_submit};
use crate::components::modal::{INPUT, LABEL, Modal};
use crate::dto::NamespaceDto;
use crate::error::AppError;
use crate::serverfns::namespaces::{create_namespace, delete_namespace, rename_namespace};

/// What a title dialog does.
#[derive(Clone)]
pub(super) enum TitleChange {
    Create,
    Rename(NamespaceDto),
}

#[component]
pub(super) fn TitleDialog(change: TitleChange, on_close: Callback<()>, on_done: Callback<()>) -> impl IntoView {
    let (heading, initial, label) = match &change {
        TitleChange::Create => ("Create namespace".to_owned(), String::new(), "Create"),
        TitleChange::Rename(ns) => (format!("Rename {}", ns.title), ns.title.clone(), "Save"),
    };
    let title = RwSignal::new(initial);
    let error = RwSignal::new(None::<AppError>);
    let pending = RwSignal::new(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let title = title.get_untracked();
        let change = change.clone();
        let call = async move {
            match change {
                TitleChange::Create => create_namespace(title).await,
                TitleChange::Rename(ns) => rename_namespace(ns.id, title).await,
            }
        };
        run_submit(pending, error, call, move |_| {
            on_done.run(());
            on_close.run(());
        });
    };
    view! {
        <Modal title=heading on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=&["title"] />
                <label class=LABEL>
                    "Title"
                    <input class=INPUT type="text" required bind:value=title />
                </label>
                <FieldError error field="title" />
                <DialogButtons on_cancel=on_close label pending />
            </form>
        </Modal>
    }
}

#[component]
pub(super) fn DeleteDialog(ns: NamespaceDto, on_close: Callback<()>, on_done: Callback<()>) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let needs_title = ns.key_count > 0;
    let expected = ns.title.clone();
    let blocked = Signal::derive(move || needs_title && typed.get() != expected);
    let id = ns.id.clone();
    view! {
        <ConfirmDialog
            title=format!("Delete {}", ns.title)
            label="Delete"
            on_close
            confirm=move || delete_namespace(id.clone())
            on_done=move |_| {
                on_done.run(());
                on_close.run(());
            }
            blocked
        >
            <p class="text-sm">
                {if needs_title {
                    format!(
                        "This deletes the namespace and its {} key{}. It cannot be undone.",
                        ns.key_count,
                        if ns.key_count == 1 { "" } else { "s" },
                    )
                } else {
                    "This deletes the empty namespace.".to_owned()
                }}
            </p>
            <Show when=move || needs_title>
                <label class=LABEL>
                    "Type the title to confirm"
                    <input class=INPUT type="text" bind:value=typed autocomplete="off" />
                </label>
            </Show>
        </ConfirmDialog>
    }
}
