//! A dialog that asks before an irreversible change (delete, revoke).

use std::future::Future;

use leptos::prelude::*;

use crate::components::field_error::{DialogButtons, FormError, run_submit};
use crate::components::modal::Modal;
use crate::error::AppError;

/// The children say what the change does; the red button runs `confirm`, whose answer goes to
/// `on_done` (which closes the dialog when it should). A failure shows in the dialog.
#[component]
pub fn ConfirmDialog<C, Fut, T, D>(
    title: String,
    /// The red button's text.
    label: &'static str,
    on_close: Callback<()>,
    confirm: C,
    on_done: D,
    /// Keeps the button disabled (until the title is typed, say).
    #[prop(optional, into)]
    blocked: Option<Signal<bool>>,
    children: Children,
) -> impl IntoView
where
    C: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, AppError>> + 'static,
    T: 'static,
    D: Fn(T) + Clone + Send + 'static,
{
    let error = RwSignal::new(None::<AppError>);
    let pending = RwSignal::new(false);
    let blocked = Signal::derive(move || blocked.is_some_and(|b| b.get()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        run_submit(pending, error, confirm(), on_done.clone());
    };
    view! {
        <Modal title on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=&[] />
                {children()}
                <DialogButtons on_cancel=on_close label pending danger=true blocked />
            </form>
        </Modal>
    }
}
