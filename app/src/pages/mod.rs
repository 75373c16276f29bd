//! One module per route.

pub mod audit;
pub mod backups;
pub mod dashboard;
pub mod jobs;
pub mod keys;
pub mod namespaces;
pub mod placeholder;
pub mod search;
pub mod services;
pub mod tokens;
pub mod transfer;
pub mod webhooks;

use leptos::prelude::*;

/// Runs `action` once typing has paused for `ms` milliseconds.
pub(crate) fn debounce(ms: u64) -> impl Fn(Box<dyn FnOnce() + 'static>) + Copy {
    let handle = StoredValue::new(None::<leptos::leptos_dom::helpers::TimeoutHandle>);
    move |action: Box<dyn FnOnce() + 'static>| {
        if let Some(previous) = handle.get_value() {
            previous.clear();
        }
        let next =
            leptos::leptos_dom::helpers::set_timeout_with_handle(action, std::time::Duration::from_millis(ms)).ok();
        handle.set_value(next);
    }
}

/// `path` with the non-empty values of `pairs` as its query string.
pub(crate) fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    let query: Vec<String> =
        pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", encode_query(v))).collect();
    if query.is_empty() { path.to_owned() } else { format!("{path}?{}", query.join("&")) }
}

/// Percent-encodes a query parameter value.
pub(crate) fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
