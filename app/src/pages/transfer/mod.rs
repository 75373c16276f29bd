//! The namespaces page's export and import dialogs, a separate chunk of the release bundle loaded
//! when one is first opened. Both start a job and hand it to the progress dialog.

pub mod check;
mod import;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::field_error::{DialogButtons, FieldError, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::job_progress::WatchedJob;
use crate::components::modal::{INPUT, LABEL, Modal};
use crate::components::radio_group::RadioGroup;
use crate::components::text::Hint;
use crate::dto::{JobStartedDto, NamespaceDto};
use crate::serverfns::jobs::StartExport;
use import::ImportDialog;

/// Which dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transfer {
    Export,
    Import,
}

#[lazy]
pub fn transfer_dialog(
    which: Transfer,
    ns: NamespaceDto,
    on_close: Callback<()>,
    on_started: Callback<WatchedJob>,
) -> AnyView {
    match which {
        Transfer::Export => view! { <ExportDialog ns on_close on_started /> }.into_any(),
        Transfer::Import => view! { <ImportDialog ns on_close on_started /> }.into_any(),
    }
}

#[component]
fn ExportDialog(ns: NamespaceDto, on_close: Callback<()>, on_started: Callback<WatchedJob>) -> impl IntoView {
    let format = RwSignal::new("ndjson");
    let prefix = RwSignal::new(String::new());
    let export = ServerAction::<StartExport>::new();
    let error = form_error(*export, RwSignal::new(None));
    let pending = export.pending();
    let title = ns.title.clone();
    on_success(*export, move |started: &JobStartedDto| {
        on_close.run(());
        on_started.run(WatchedJob {
            job_id: started.job_id.clone(),
            operation: "Export".to_owned(),
            namespace: title.clone(),
        });
    });
    let id = ns.id.clone();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let prefix = Some(prefix.get_untracked()).filter(|p| !p.is_empty());
        export.dispatch(StartExport {
            namespace_id: id.clone(),
            format: Some(format.get_untracked().to_owned()),
            prefix,
        });
    };
    view! {
        <Modal title=format!("Export {}", ns.title) on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=&["format", "prefix"] />
                <fieldset class="space-y-1">
                    <legend class=LABEL>"Format"</legend>
                    <RadioGroup
                        name="export-format"
                        value=format
                        options=vec![("json", "JSON (one array)"), ("ndjson", "NDJSON (one key per line)")]
                    />
                </fieldset>
                <FieldError error field="format" />
                <label class=LABEL>
                    "Prefix (optional)"
                    <input class=INPUT type="text" autocomplete="off" placeholder="Every key when empty" bind:value=prefix />
                </label>
                <FieldError error field="prefix" />
                <Hint>"The file downloads when the export is done; it stays available for a while from the job history."</Hint>
                <DialogButtons on_cancel=on_close label="Start export" pending />
            </form>
        </Modal>
    }
}
