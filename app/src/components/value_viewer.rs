//! Ways to look at a value beside its text: a JSON value as a collapsible tree (nested
//! `<details>`, readable without JavaScript), an image (PNG, JPEG, GIF, WebP, or SVG, always shown
//! as an `<img>`, never as inline markup, so an SVG's scripts never run) and whether text that
//! looks like JSON parses.

use base64::Engine;
use leptos::prelude::*;

use crate::components::text::MUTED;

/// Object members or array items shown per level before "… n more".
const TREE_ITEMS: usize = 200;
/// Levels shown before a subtree is summarised.
const TREE_DEPTH: usize = 24;

/// What text that looks like JSON (starts with `{` or `[`) is: `None` for other text,
/// `Some(Ok)` when it parses, `Some(Err(why))` with the parser's line and column when not.
pub fn json_state(text: &str) -> Option<Result<(), String>> {
    let start = text.trim_start();
    if !(start.starts_with('{') || start.starts_with('[')) {
        return None;
    }
    Some(serde_json::from_str::<serde::de::IgnoredAny>(text).map(|_| ()).map_err(|e| e.to_string()))
}

/// The image type of a value from its first bytes (or, for SVG, its text).
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => Some("image/png"),
        [0xff, 0xd8, 0xff, ..] => Some("image/jpeg"),
        [b'G', b'I', b'F', b'8', ..] => Some("image/gif"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => {
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
            let head = head.trim_start();
            ((head.starts_with("<svg") || head.starts_with("<?xml")) && head.contains("<svg"))
                .then_some("image/svg+xml")
        }
    }
}

/// A preview of a value that is an image, as a `data:` URL in an `<img>`; nothing otherwise.
/// `text` or `base64` is the value (as the key's DTO has it).
#[component]
pub fn ImagePreview(text: Option<String>, base64: Option<String>, name: String) -> impl IntoView {
    let engine = base64::engine::general_purpose::STANDARD;
    let (kind, data) = match (&text, &base64) {
        (_, Some(b64)) => {
            // The first 513 bytes are enough to tell (a whole number of base64 quanta).
            let cut = b64.len().min(684) / 4 * 4;
            let head = engine.decode(&b64[..cut]).unwrap_or_default();
            (image_type(&head), b64.clone())
        }
        (Some(text), None) => (image_type(text.as_bytes()), engine.encode(text.as_bytes())),
        _ => (None, String::new()),
    };
    kind.map(|kind| {
        let alt = format!("The value of {name} as an image ({kind})");
        view! {
            <figure class="space-y-1" data-testid="image-preview">
                <img
                    class="max-h-80 max-w-full rounded-md border border-slate-200 bg-[conic-gradient(#e2e8f0_25%,transparent_0_50%,#e2e8f0_0_75%,transparent_0)] bg-[length:16px_16px] dark:border-slate-700"
                    src=format!("data:{kind};base64,{data}")
                    alt=alt
                />
                <figcaption class=format!("text-xs {MUTED}")>{format!("Shown as an image ({kind})")}</figcaption>
            </figure>
        }
    })
}

/// A JSON value as a tree of nested `<details>` (open to the second level), each object and
/// array with its size; strings, numbers, booleans and null coloured by type.
#[component]
pub fn JsonTree(value: serde_json::Value) -> impl IntoView {
    view! {
        <section class="max-h-96 overflow-auto rounded-md border border-slate-200 p-2 font-mono text-xs dark:border-slate-700" aria-label="JSON tree" data-testid="json-tree">
            {node(None, &value, 0)}
        </section>
    }
}

fn leaf(value: &serde_json::Value) -> (String, &'static str) {
    match value {
        serde_json::Value::String(s) => {
            (serde_json::to_string(s).unwrap_or_default(), "text-green-700 dark:text-green-400")
        }
        serde_json::Value::Number(n) => (n.to_string(), "text-blue-700 dark:text-blue-300"),
        serde_json::Value::Bool(b) => (b.to_string(), "text-purple-700 dark:text-purple-300"),
        _ => ("null".to_owned(), MUTED),
    }
}

fn node(label: Option<String>, value: &serde_json::Value, depth: usize) -> AnyView {
    let label = label.map(|l| view! { <span class="text-slate-900 dark:text-slate-100">{l}": "</span> });
    let (items, open, close): (Vec<(String, &serde_json::Value)>, &str, &str) = match value {
        serde_json::Value::Object(map) => {
            (map.iter().map(|(k, v)| (serde_json::to_string(k).unwrap_or_default(), v)).collect(), "{", "}")
        }
        serde_json::Value::Array(list) => {
            (list.iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect(), "[", "]")
        }
        other => {
            let (text, class) = leaf(other);
            return view! { <div>{label}<span class=class>{text}</span></div> }.into_any();
        }
    };
    let count = items.len();
    let summary = format!("{open}{count} {}{close}", if open == "{" { "keys" } else { "items" });
    if depth >= TREE_DEPTH {
        return view! { <div>{label}<span class=MUTED>{summary}</span></div> }.into_any();
    }
    let more = count.saturating_sub(TREE_ITEMS);
    let children =
        items.into_iter().take(TREE_ITEMS).map(|(key, child)| node(Some(key), child, depth + 1)).collect_view();
    view! {
        <details open=depth < 2 class="pl-3">
            <summary class="-ml-3 cursor-pointer">{label}<span class=MUTED>{summary}</span></summary>
            <div class="border-l border-slate-200 pl-2 dark:border-slate-700">
                {children}
                {(more > 0).then(|| view! { <div class=MUTED>{format!("… {more} more")}</div> })}
            </div>
        </details>
    }
    .into_any()
}
