//! A dialog that asks before an irreversible change (delete, revoke).

use leptos::prelude::*;

use crate::components::field_error::{DialogButtons, FormError};
use crate::components::form_action::form_error;
use crate::components::modal::Modal;
use crate::error::AppError;

/// The children say what the change does; the red button dispatches `action` with what
/// `input` gives. A failure shows in the dialog; the caller closes it on success (`on_success`).
#[component]
pub fn ConfirmDialog<I, T, F>(
    title: String,
    /// The red button's text.
    #[prop(into)]
    label: Signal<&'static str>,
    on_close: Callback<()>,
    action: Action<I, Result<T, AppError>>,
    input: F,
    /// Keeps the button disabled (until the title is typed, say).
    #[prop(optional, into)]
    blocked: Option<Signal<bool>>,
    children: Children,
) -> impl IntoView
where
    I: Send + Sync + 'static,
    T: Send + Sync + 'static,
    F: Fn() -> I + Send + 'static,
{
    let error = form_error(action, RwSignal::new(None));
    let blocked = Signal::derive(move || blocked.is_some_and(|b| b.get()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(input());
    };
    view! {
        <Modal title on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=&[] />
                {children()}
                <DialogButtons on_cancel=on_close label pending=action.pending() danger=true blocked />
            </form>
        </Modal>
    }
}
