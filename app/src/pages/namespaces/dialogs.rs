//! Create, rename and delete a namespace.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::NamespaceActions;
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::field_error::{DialogButtons, FieldError, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::modal::{INPUT, LABEL, Modal};
use crate::dto::NamespaceDto;
use crate::serverfns::namespaces::{CreateNamespace, DeleteNamespace, RenameNamespace};

/// What a title dialog does.
#[derive(Clone)]
pub(super) enum TitleChange {
    Create,
    Rename(NamespaceDto),
}

#[component]
pub(super) fn TitleDialog(change: TitleChange, actions: NamespaceActions, on_close: Callback<()>) -> impl IntoView {
    let NamespaceActions { create, rename, .. } = actions;
    let (heading, initial, label) = match &change {
        TitleChange::Create => ("Create namespace".to_owned(), String::new(), "Create"),
        TitleChange::Rename(ns) => (format!("Rename {}", ns.title), ns.title.clone(), "Save"),
    };
    let title = RwSignal::new(initial);
    let (error, pending) = match &change {
        TitleChange::Create => {
            on_success(*create, move |_| on_close.run(()));
            (form_error(*create, RwSignal::new(None)), Signal::from(create.pending()))
        }
        TitleChange::Rename(_) => {
            on_success(*rename, move |_| on_close.run(()));
            (form_error(*rename, RwSignal::new(None)), Signal::from(rename.pending()))
        }
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let title = title.get_untracked();
        match &change {
            TitleChange::Create => create.dispatch(CreateNamespace { title }),
            TitleChange::Rename(ns) => rename.dispatch(RenameNamespace { namespace_id: ns.id.clone(), title }),
        };
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
pub(super) fn DeleteDialog(ns: NamespaceDto, actions: NamespaceActions, on_close: Callback<()>) -> impl IntoView {
    let delete = actions.delete;
    on_success(*delete, move |_| on_close.run(()));
    let typed = RwSignal::new(String::new());
    let needs_title = ns.key_count > 0;
    let expected = ns.title.clone();
    let blocked = Signal::derive(move || needs_title && typed.get() != expected);
    view! {
        <ConfirmDialog
            title=format!("Delete {}", ns.title)
            label="Delete"
            on_close
            action=*delete
            input={
                let namespace_id = ns.id.clone();
                move || DeleteNamespace { namespace_id: namespace_id.clone() }
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
