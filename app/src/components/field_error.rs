use leptos::prelude::*;

use crate::error::AppError;

/// The server's message for `field`, shown under that field.
#[component]
pub fn FieldError(#[prop(into)] error: Signal<Option<AppError>>, field: &'static str) -> impl IntoView {
    view! {
        {move || {
            error
                .get()
                .and_then(|e| e.for_field(field))
                .map(|message| {
                    view! {
                        <p class="mt-1 text-sm text-red-600 dark:text-red-400" role="alert">
                            {message}
                        </p>
                    }
                })
        }}
    }
}

/// An error that names no field of the form, shown at the top of it.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>, fields: &'static [&'static str]) -> impl IntoView {
    view! {
        {move || {
            error
                .get()
                .filter(|e| e.field.as_deref().is_none_or(|f| !fields.contains(&f)))
                .map(|e| {
                    view! {
                        <p
                            class="rounded-md bg-red-50 p-2 text-sm text-red-700 dark:bg-red-950 dark:text-red-300"
                            role="alert"
                        >
                            {e.message}
                        </p>
                    }
                })
        }}
    }
}

/// A dialog's "Cancel" and submit buttons.
#[component]
pub fn DialogButtons(
    on_cancel: Callback<()>,
    #[prop(into)] label: Signal<&'static str>,
    #[prop(into)] pending: Signal<bool>,
    #[prop(optional)] danger: bool,
    #[prop(into, optional)] blocked: Option<Signal<bool>>,
) -> impl IntoView {
    use crate::components::modal::{BUTTON, BUTTON_DANGER, BUTTON_SECONDARY};
    view! {
        <div class="flex justify-end gap-2">
            <button type="button" class=BUTTON_SECONDARY on:click=move |_| on_cancel.run(())>
                "Cancel"
            </button>
            <button
                type="submit"
                class=if danger { BUTTON_DANGER } else { BUTTON }
                disabled=move || pending.get() || blocked.is_some_and(|b| b.get())
            >
                {move || label.get()}
            </button>
        </div>
    }
}
