//! "Undo…" on a finished job: a preview always comes first (how many keys come back, change
//! back or go, which changed again since and are left alone), read when the dialog opens; the
//! undo then runs as a job of its own, which can itself be undone.

use leptos::prelude::*;

use crate::components::field_error::{DialogButtons, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::modal::Modal;
use crate::components::preview::{ChangedKeys, PreviewClass};
use crate::components::text::Hint;
use crate::dto::{JobStartedDto, UndoDto, UndoPreviewDto};
use crate::serverfns::jobs::undo_job;

/// The job types an undo takes back (as the server has them).
pub(super) const UNDOABLE: [&str; 8] =
    ["bulk_delete", "bulk_copy", "bulk_move", "bulk_ttl", "import", "rewind", "restore", "undo"];

/// Whether a job of `job_type` in `status` offers "Undo…".
pub(super) fn undoable(job_type: &str, status: &str) -> bool {
    UNDOABLE.contains(&job_type) && matches!(status, "completed" | "failed" | "cancelled")
}

#[component]
pub(super) fn UndoDialog(job_id: String, on_close: Callback<()>, on_started: Callback<JobStartedDto>) -> impl IntoView {
    let preview = RwSignal::new(None::<UndoPreviewDto>);
    let ask = Action::new(move |(id, dry_run): &(String, bool)| undo_job(id.clone(), Some(*dry_run)));
    on_success(ask, move |answer: &UndoDto| match answer {
        UndoDto::Preview(p) => preview.set(Some(p.clone())),
        UndoDto::Started(started) => {
            on_close.run(());
            on_started.run(started.clone());
        }
    });
    let error = form_error(ask, RwSignal::new(None));
    let pending = ask.pending();
    let id = StoredValue::new(job_id);
    ask.dispatch((id.get_value(), true));
    let something = move || {
        preview.with(|p| p.as_ref().is_some_and(|p| p.counts.created + p.counts.changed + p.counts.deleted > 0))
    };
    view! {
        <Modal title="Undo this job".to_owned() on_close>
            <form class="space-y-3 text-sm" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                ask.dispatch((id.get_value(), false));
            }>
                <FormError error fields=&["job_id"] />
                <p>
                    "Every key the job wrote gets back the value, metadata and expiration it had before the job; keys the job created are deleted. Keys changed again since are left as they are. The undo is a job too: it can be undone."
                </p>
                <Hint>"Tags and custom metadata are not part of the versions: they stay as they are."</Hint>
                {move || match preview.get() {
                    Some(p) => view! { <UndoPreview preview=p /> }.into_any(),
                    None => view! { <p>"Reading what the undo would do…"</p> }.into_any(),
                }}
                <DialogButtons on_cancel=on_close label="Undo" pending danger=true blocked=Signal::derive(move || !something()) />
            </form>
        </Modal>
    }
}

/// The counts of an undo's preview and the first keys of each class.
#[component]
fn UndoPreview(preview: UndoPreviewDto) -> impl IntoView {
    let c = &preview.counts;
    let rows = [
        ("Come back (the job deleted them)", c.created, preview.created.clone()),
        ("Change back", c.changed, preview.changed.clone()),
        ("Deleted (the job created them)", c.deleted, preview.deleted.clone()),
        ("Not known any more (left alone)", c.incomplete, preview.incomplete.clone()),
        ("Changed again since (left alone)", preview.changed_since_count, preview.changed_since.clone()),
    ];
    let nothing = c.created + c.changed + c.deleted == 0;
    view! {
        <div class="rounded-md border border-slate-200 p-3 dark:border-slate-700" data-testid="undo-preview">
            <ul class="space-y-1">
                {rows.into_iter().map(|(what, n, first)| view! { <PreviewClass what n first /> }).collect_view()}
            </ul>
            {nothing.then(|| view! { <p role="status" class="mt-2">"Nothing to undo: no key the job wrote can go back."</p> })}
            {(!preview.complete && !nothing)
                .then(|| {
                    view! {
                        <p role="alert" class="mt-2 text-amber-700 dark:text-amber-400">
                            "Some keys cannot go back (changed since, or their earlier state is no longer kept): the undo leaves them as they are and lists them."
                        </p>
                    }
                })}
            <ChangedKeys changes=preview.changes.clone() then="before the job".to_owned() />
        </div>
    }
}
