//! A key for reading only: the server's view of a key opened by its address, and the editor's
//! for viewers who may not write.

use leptos::prelude::*;

use crate::components::modal::{INPUT, LABEL};
use crate::components::text::{MUTED, Muted};
use crate::components::value_viewer::{ImagePreview, JsonTree, json_state};
use crate::dto::KeyDto;
use crate::format;

/// A key's value, metadata and expiration, for reading only.
#[component]
pub(super) fn KeyView(loaded: KeyDto) -> impl IntoView {
    let binary = loaded.value_base64.is_some();
    let value = loaded.value.clone().or(loaded.value_base64.clone()).unwrap_or_default();
    let metadata = loaded.metadata.as_ref().map(|m| serde_json::to_string_pretty(m).unwrap_or_default());
    let expiration = loaded.expiration.map(format::utc).unwrap_or_else(|| "Never".to_owned());
    let download = loaded.value_base64.clone().map(|b64| format!("data:application/octet-stream;base64,{b64}"));
    let name = loaded.name.clone();
    let tree = loaded
        .value
        .as_deref()
        .filter(|text| matches!(json_state(text), Some(Ok(()))))
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok());
    view! {
        <div class="space-y-3">
            <label class=LABEL>
                {if binary { "Value (base64: not UTF-8 text)" } else { "Value" }}
                <textarea class=format!("{INPUT} font-mono") rows="10" aria-label="Value" readonly=true>
                    {value}
                </textarea>
            </label>
            <ImagePreview text=loaded.value.clone() base64=loaded.value_base64.clone() name=loaded.name.clone() />
            {tree.map(|value| view! { <JsonTree value /> })}
            <div class=format!("flex flex-wrap items-center gap-2 text-xs {MUTED}")>
                <span>{format::bytes(loaded.size)}</span>
                {download.map(|href| view! { <a class="underline" href=href download=name>"Download value"</a> })}
            </div>
            <dl class="space-y-2 text-sm">
                <div>
                    <dt class="font-medium">"Metadata (JSON)"</dt>
                    <dd data-testid="metadata-view">
                        {match metadata {
                            Some(m) => view! { <pre class="mt-1 max-h-60 overflow-auto rounded-md bg-slate-100 p-2 font-mono text-xs whitespace-pre-wrap break-all dark:bg-slate-800">{m}</pre> }.into_any(),
                            None => view! { <Muted>"None"</Muted> }.into_any(),
                        }}
                    </dd>
                </div>
                <div>
                    <dt class="font-medium">"Expiration"</dt>
                    <dd data-testid="expiration-view">{expiration}</dd>
                </div>
            </dl>
        </div>
    }
}
