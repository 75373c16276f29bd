//! What the console's forms need around a Leptos action: the error to show beside the fields,
//! and what to do after a success.

use leptos::prelude::*;

use crate::error::AppError;

/// The error a form shows for `action`: what the browser's own check of the input found
/// (`checked`), else the error of the last answer since the form was made; none while the
/// action runs again.
pub fn form_error<I, O>(
    action: Action<I, Result<O, AppError>>,
    checked: RwSignal<Option<AppError>>,
) -> Signal<Option<AppError>>
where
    I: 'static,
    O: 'static,
{
    let since = action.version().get_untracked();
    Signal::derive(move || {
        if action.pending().get() {
            return None;
        }
        checked.get().or_else(|| {
            (action.version().get() > since)
                .then(|| action.value().with(|answer| answer.as_ref().and_then(|a| a.as_ref().err().cloned())))
                .flatten()
        })
    })
}

/// Runs `done` with each successful answer of `action` from now on (not with one it already
/// had when this is called).
pub fn on_success<I, O>(action: Action<I, Result<O, AppError>>, done: impl Fn(&O) + 'static)
where
    I: 'static,
    O: 'static,
{
    Effect::watch(
        move || action.version().get(),
        move |_, _, _| {
            action.value().with_untracked(|answer| {
                if let Some(Ok(out)) = answer {
                    done(out)
                }
            })
        },
        false,
    );
}
