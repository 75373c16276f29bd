//! What the editor shows when a save meets a key that changed (or went away) since the editor
//! read it: who changed it and when, a line diff from the value now to the edited one, and the
//! three ways on: reload the key as it is now, overwrite it with the edit (guarded by the version
//! just seen, so a third change is caught too), or copy the edit to keep it elsewhere.

use leptos::prelude::*;

use crate::components::diff_view::DiffView;
use crate::components::modal::{BUTTON, BUTTON_SECONDARY};
use crate::components::text::MUTED;
use crate::dto::KeyDto;

/// A save refused because the key is not at the version the editor read.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Conflict {
    /// The server's account of it ("the key was changed by … at … since version … was read").
    pub message: String,
    /// The key as it is now; `None` when it was deleted (or has expired) meanwhile.
    pub current: Option<KeyDto>,
    /// The edited value, as the editor holds it (text, or base64 for a binary value).
    pub mine: String,
    /// Whether the edited value is base64 (a binary value).
    pub binary: bool,
    /// The edited metadata, as it would have been saved.
    pub metadata: Option<serde_json::Value>,
}

impl Conflict {
    /// The server's message as a sentence: without the field it names, capitalized.
    fn sentence(&self) -> String {
        let text = self.message.strip_prefix("version: ").unwrap_or(&self.message);
        let mut chars = text.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    }
}

/// The ways on from a conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Resolve {
    /// Drop the edit and show the key as it is now.
    Reload,
    /// Save the edit over the key as it is now (or create it again if it was deleted).
    Overwrite,
}

#[component]
pub(super) fn ConflictPanel(conflict: Conflict, on_resolve: Callback<Resolve>) -> impl IntoView {
    let sentence = conflict.sentence();
    let diff = match &conflict.current {
        Some(current) => {
            let now = current.value.clone().filter(|_| current.value_base64.is_none());
            let mine = (!conflict.binary).then(|| conflict.mine.clone());
            let metadata_differs = current.metadata != conflict.metadata;
            view! {
                <DiffView from=("the value now".to_owned(), now) to=("your edit".to_owned(), mine) />
                {metadata_differs.then(|| view! {
                    <p class=format!("text-xs {MUTED}")>"The metadata differs too: reload to see it as it is now."</p>
                })}
            }
            .into_any()
        }
        None => view! { <p class="text-sm">"There is no value now to compare yours with."</p> }.into_any(),
    };
    let overwrite_label = if conflict.current.is_some() { "Overwrite with mine" } else { "Create it again with mine" };
    let copied = RwSignal::new(None::<Result<(), String>>);
    let mine = StoredValue::new(conflict.mine.clone());
    let copy = move |_| {
        copied.set(None);
        #[cfg(target_arch = "wasm32")]
        leptos::task::spawn_local(async move {
            let result = crate::components::shown_once::copy_text(&mine.get_value()).await;
            copied.set(Some(result));
        });
        #[cfg(not(target_arch = "wasm32"))]
        let _ = mine;
    };
    view! {
        <section
            role="alert"
            aria-label="The key changed meanwhile"
            data-testid="conflict"
            class="space-y-2 rounded-md border border-amber-400 bg-amber-50 p-3 text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100"
        >
            <h3 class="text-sm font-semibold">"Not saved: the key changed since you opened it"</h3>
            <p class="text-sm" data-testid="conflict-message">{sentence}</p>
            {diff}
            <div class="flex flex-wrap items-center gap-2">
                <button type="button" class=BUTTON_SECONDARY on:click=move |_| on_resolve.run(Resolve::Reload)>
                    "Reload theirs"
                </button>
                <button type="button" class=BUTTON on:click=move |_| on_resolve.run(Resolve::Overwrite)>
                    {overwrite_label}
                </button>
                <button type="button" class=BUTTON_SECONDARY on:click=copy>
                    "Copy mine"
                </button>
                <span role="status" class="text-sm">
                    {move || match copied.get() {
                        Some(Ok(())) => "Your value was copied to the clipboard.".to_owned(),
                        Some(Err(reason)) => format!("Could not copy ({reason}): select the value and copy it."),
                        None => String::new(),
                    }}
                </span>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_reads_as_a_sentence() {
        let conflict = Conflict {
            message: "version: the key was changed by web at 2026-12-01T10:00:00.000Z since version \"r3\" was read"
                .to_owned(),
            current: None,
            mine: String::new(),
            binary: false,
            metadata: None,
        };
        assert_eq!(
            conflict.sentence(),
            "The key was changed by web at 2026-12-01T10:00:00.000Z since version \"r3\" was read"
        );
    }
}
