//! "Rewind…": brings the namespace, or the keys under a prefix, back to a moment from the
//! versions kept. A preview always comes first (how many keys come back, change back, go, stay,
//! and which could not be known any more); the rewind then runs as a job for exactly the moment
//! and prefix previewed. Changing either asks for a new preview.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::field_error::{FieldError, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::modal::{BUTTON, BUTTON_DANGER, BUTTON_SECONDARY, INPUT, LABEL, Modal};
use crate::components::preview::{ChangedKeys, PreviewClass};
use crate::components::text::Hint;
use crate::dto::{JobStartedDto, RewindDto, RewindPreviewDto};
use crate::error::AppError;
use crate::format;
use crate::serverfns::jobs::rewind;

/// Seconds since 1970, by the browser's clock in the browser.
fn now() -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        crate::browser::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC, for an `<input type="datetime-local" step="1">`.
fn moment_text(unix: i64) -> String {
    format!("{}:{:02}", format::datetime_local(unix), unix.rem_euclid(60))
}

/// What the dialog asks the server: the namespace, prefix and moment, and whether to only look.
#[derive(Clone)]
struct Ask {
    namespace_id: String,
    prefix: Option<String>,
    at: i64,
    dry_run: bool,
}

#[component]
pub(super) fn RewindDialog(
    namespace_id: Memo<String>,
    /// The page's prefix filter: the dialog's starting scope.
    prefix: Memo<String>,
    on_close: Callback<()>,
    on_started: Callback<JobStartedDto>,
) -> impl IntoView {
    let at_text = RwSignal::new(moment_text(now().saturating_sub(3600)));
    let scope = RwSignal::new(prefix.get_untracked());
    let preview = RwSignal::new(None::<RewindPreviewDto>);
    // A new moment or prefix needs a new preview.
    Effect::watch(move || (at_text.get(), scope.get()), move |_, _, _| preview.set(None), false);
    let ask = Action::new(move |ask: &Ask| {
        let ask = ask.clone();
        rewind(ask.namespace_id, ask.prefix, ask.at, Some(ask.dry_run))
    });
    on_success(ask, move |answer: &RewindDto| match answer {
        RewindDto::Preview(p) => preview.set(Some(p.clone())),
        RewindDto::Started(started) => {
            on_close.run(());
            on_started.run(started.clone());
        }
    });
    let checked = RwSignal::new(None::<AppError>);
    let error = form_error(ask, checked);
    let pending = ask.pending();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(at) = format::parse_datetime_local(&at_text.get_untracked()) else {
            return checked.set(Some(AppError::invalid("at", "at: enter a date and time (UTC)")));
        };
        checked.set(None);
        let prefix = Some(scope.get_untracked()).filter(|p| !p.is_empty());
        let dry_run = preview.with_untracked(Option::is_none);
        ask.dispatch(Ask { namespace_id: namespace_id.get_untracked(), prefix, at, dry_run });
    };
    let previewed = move || preview.with(Option::is_some);
    view! {
        <Modal title="Rewind to a moment".to_owned() on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=&["at", "prefix"] />
                <p class="text-sm">
                    "Every key gets the value, metadata and expiration it had at the moment; keys created since are deleted and keys deleted since come back. The rewind is itself versioned, so it can be rewound."
                </p>
                <label class=LABEL>
                    "Moment (UTC)"
                    <input class=INPUT type="datetime-local" step="1" required bind:value=at_text />
                </label>
                <FieldError error field="at" />
                <label class=LABEL>
                    "Only keys starting with"
                    <input class=INPUT type="text" autocomplete="off" placeholder="every key" bind:value=scope />
                </label>
                <FieldError error field="prefix" />
                <Hint>"Tags and custom metadata are not part of the versions: they stay as they are."</Hint>
                {move || preview.get().map(|p| view! { <RewindPreview preview=p /> })}
                <div class="flex justify-end gap-2">
                    <button type="button" class=BUTTON_SECONDARY on:click=move |_| on_close.run(())>
                        "Cancel"
                    </button>
                    <button type="submit" class=move || if previewed() { BUTTON_DANGER } else { BUTTON } disabled=move || pending.get()>
                        {move || if previewed() { "Rewind" } else { "Preview" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

/// The counts of a preview and the first keys of each class.
#[component]
fn RewindPreview(preview: RewindPreviewDto) -> impl IntoView {
    let c = &preview.counts;
    let rows = [
        ("Come back (deleted since)", c.created, preview.created.clone()),
        ("Change back", c.changed, preview.changed.clone()),
        ("Deleted (created since)", c.deleted, preview.deleted.clone()),
        ("Not known any more (left alone)", c.incomplete, preview.incomplete.clone()),
    ];
    view! {
        <div class="rounded-md border border-slate-200 p-3 text-sm dark:border-slate-700" data-testid="rewind-preview">
            <p class="font-medium">{format!("At {}:", format::utc(preview.at))}</p>
            <ul class="mt-1 space-y-1">
                {rows.into_iter().map(|(what, n, first)| view! { <PreviewClass what n first /> }).collect_view()}
                <li class="tabular-nums">{format!("Unchanged: {}", c.unchanged)}</li>
            </ul>
            {(!preview.complete)
                .then(|| {
                    view! {
                        <p role="alert" class="mt-2 text-amber-700 dark:text-amber-400">
                            "The versions kept no longer reach back to this moment for some keys: the rewind leaves them as they are."
                        </p>
                    }
                })}
            <ChangedKeys changes=preview.changes.clone() then=format!("at {}", format::utc(preview.at)) />
        </div>
    }
}
