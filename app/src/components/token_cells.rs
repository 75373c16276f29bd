//! What the API tokens (`/tokens`) and a service's tokens (`/services`) show alike.

use leptos::prelude::*;

use crate::components::modal::BUTTON_SECONDARY;
use crate::components::text::{MUTED, Muted};
use crate::format;

/// Unix seconds of an RFC 3339 time in UTC (`2026-01-01T12:00:00Z`, as the server sends them).
fn unix(rfc3339: &str) -> Option<i64> {
    format::parse_datetime_local(rfc3339.trim_end_matches('Z'))
}

/// A time as the other pages show it: UTC to the second, and how long ago under it.
pub fn when(rfc3339: &str, now: i64) -> AnyView {
    match unix(rfc3339) {
        Some(at) => view! {
            <time datetime=rfc3339.to_owned() title=format::utc_seconds(at)>{format::utc_seconds(at)}</time>
            <div class=format!("text-xs {MUTED}")>{format::ago(at, now)}</div>
        }
        .into_any(),
        None => view! { <time datetime=rfc3339.to_owned()>{rfc3339.to_owned()}</time> }.into_any(),
    }
}

/// The cells a token's row ends with: made (when, by whom), last used, its status, and
/// "Revoke" while it is active.
#[component]
pub fn TokenCells(
    created_at: String,
    created_by: String,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
    now: i64,
    on_revoke: Callback<()>,
) -> impl IntoView {
    let status = match &revoked_at {
        None => view! { <span class="font-medium text-green-700 dark:text-green-400">"active"</span> }.into_any(),
        Some(at) => view! {
            <span class=format!("font-medium {MUTED}")>"revoked "</span>
            {when(at, now)}
        }
        .into_any(),
    };
    let revoke = revoked_at.is_none().then(|| {
        view! {
            <button type="button" class=BUTTON_SECONDARY on:click=move |_| on_revoke.run(())>
                "Revoke"
            </button>
        }
    });
    view! {
        <td class="p-2 whitespace-nowrap">
            {when(&created_at, now)}
            <div class=format!("text-xs {MUTED}")>{format!("by {created_by}")}</div>
        </td>
        <td class="p-2 whitespace-nowrap">
            {match &last_used_at {
                Some(at) => when(at, now).into_any(),
                None => view! { <Muted>"never"</Muted> }.into_any(),
            }}
        </td>
        <td class="p-2 whitespace-nowrap" data-testid="token-status">{status}</td>
        <td class="p-2 text-right">{revoke}</td>
    }
}
