//! The History tab's comparison: the version being viewed beside another version or the key's
//! current value, as a line diff from the older to the newer.

use leptos::prelude::*;

use crate::components::diff_view::{DiffView, Text};
use crate::components::modal::{INPUT, LABEL};
use crate::components::text::MUTED;
use crate::dto::KeyVersionDto;
use crate::error::AppError;
use crate::serverfns::catalog::get_key_version;
use crate::serverfns::keys::get_key;

/// The other side a viewer chose: its label and its value.
async fn other_side(namespace_id: String, key: String, choice: String) -> Result<Option<(String, Text)>, AppError> {
    match choice.as_str() {
        "" => Ok(None),
        "current" => Ok(Some(("the current value".to_owned(), get_key(namespace_id, key).await?.value))),
        n => {
            let version: i64 = n.parse().map_err(|_| AppError::invalid("version", "version: choose a version"))?;
            let other = get_key_version(namespace_id, key, version).await?;
            Ok(Some((format!("version {version}"), other.value)))
        }
    }
}

#[component]
pub(super) fn VersionCompare(
    namespace_id: String,
    key: String,
    shown: KeyVersionDto,
    /// Every version listed, newest first.
    versions: Signal<Vec<i64>>,
) -> impl IntoView {
    let with = RwSignal::new(String::new());
    let other = LocalResource::new(move || other_side(namespace_id.clone(), key.clone(), with.get()));
    let this = shown.version;
    let this_value = shown.value.clone();
    view! {
        <div class="mt-2 space-y-2">
            <label class=LABEL>
                "Compare with"
                <select class=INPUT bind:value=with>
                    <option value="">"nothing"</option>
                    <option value="current">"the current value"</option>
                    {move || {
                        versions
                            .get()
                            .into_iter()
                            .filter(|v| *v != this)
                            .map(|v| view! { <option value=v.to_string()>{format!("version {v}")}</option> })
                            .collect_view()
                    }}
                </select>
            </label>
            <Suspense fallback=|| view! { <p class=MUTED>"Loading…"</p> }>
                {move || {
                    let this_value = this_value.clone();
                    Suspend::new(async move {
                        match other.await {
                            Ok(None) => ().into_any(),
                            Ok(Some((label, value))) => {
                                let version = with.get_untracked().parse::<i64>().ok();
                                // From the older to the newer: the current value is the newest.
                                let (from, to) = if version.is_some_and(|v| v < this) {
                                    ((label, value), (format!("version {this}"), this_value))
                                } else {
                                    ((format!("version {this}"), this_value), (label, value))
                                };
                                view! { <DiffView from to /> }.into_any()
                            }
                            Err(err) => view! { <p role="alert" class="text-sm text-red-600">{err.message}</p> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </div>
    }
}
