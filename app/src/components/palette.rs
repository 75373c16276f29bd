//! Keyboard: `Ctrl-K` (or `⌘-K`) opens the command palette (jump to a page, a namespace or a
//! key, or run an action); `/` focuses the page's search field; `j` / `k` move through the rows
//! of the page's list, `Enter` opens the row's link, `e` opens it for editing; `?` lists them
//! all. None but `Ctrl-K` acts while typing in a field.

use leptos::prelude::*;

use crate::components::modal::{INPUT, LABEL, Modal};
use crate::components::text::MUTED;
use crate::pages::encode_query;
use crate::serverfns::catalog::search_keys;
use crate::serverfns::namespaces::list_namespaces;

/// The shortcuts, as the help lists them.
const SHORTCUTS: [(&str, &str); 7] = [
    ("Ctrl K / ⌘ K", "Open the command palette: go to a page, a namespace or a key"),
    ("/", "Focus the page's search or filter field"),
    ("j", "Next row of the list"),
    ("k", "Previous row of the list"),
    ("Enter", "Open the row"),
    ("e", "Edit the row (a key opens in the editor)"),
    ("?", "Show these shortcuts"),
];

/// The rows `j` and `k` move through: the page's table rows, or its namespaces.
#[cfg(target_arch = "wasm32")]
const ROWS: &str = "main table tbody tr, main li[data-namespace]";

/// Listens for the shortcuts; holds the palette and the help while open.
#[component]
pub fn Shortcuts(is_admin: bool) -> impl IntoView {
    let palette = RwSignal::new(false);
    let help = RwSignal::new(false);
    #[cfg(target_arch = "wasm32")]
    {
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.default_prevented() || ev.is_composing() {
                return;
            }
            let key = ev.key();
            if (ev.ctrl_key() || ev.meta_key()) && key.eq_ignore_ascii_case("k") {
                ev.prevent_default();
                help.set(false);
                palette.set(true);
                return;
            }
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || palette.get_untracked() || help.get_untracked() {
                return;
            }
            if in_text_field(&ev) || !query_all("[role=dialog]").is_empty() {
                return;
            }
            let handled = match key.as_str() {
                "?" => {
                    help.set(true);
                    true
                }
                "/" => focus_search(),
                "j" => move_row(1),
                "k" => move_row(-1),
                "e" => edit_row(),
                _ => false,
            };
            if handled {
                ev.prevent_default();
            }
        });
        on_cleanup(move || handle.remove());
    }
    let close_palette = Callback::new(move |_: ()| palette.set(false));
    let close_help = Callback::new(move |_: ()| help.set(false));
    view! {
        <Show when=move || palette.get()>
            <Palette is_admin on_close=close_palette on_help=Callback::new(move |_: ()| { palette.set(false); help.set(true); }) />
        </Show>
        <Show when=move || help.get()>
            <Modal title="Keyboard shortcuts".to_owned() on_close=close_help>
                <dl class="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm" data-testid="shortcuts">
                    {SHORTCUTS
                        .iter()
                        .map(|(keys, what)| view! {
                            <dt><kbd class="rounded border border-slate-300 px-1.5 font-mono text-xs dark:border-slate-600">{*keys}</kbd></dt>
                            <dd>{*what}</dd>
                        })
                        .collect_view()}
                </dl>
                <p class=format!("mt-3 text-xs {MUTED}")>"Shortcuts other than Ctrl K do nothing while you type in a field."</p>
            </Modal>
        </Show>
    }
}

/// Whether the key went to a text field (where letters are typing, not shortcuts).
#[cfg(target_arch = "wasm32")]
fn in_text_field(ev: &web_sys::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    let Some(target) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) else { return false };
    let tag = target.tag_name().to_ascii_lowercase();
    let typing_input = tag == "input"
        && !matches!(
            target.get_attribute("type").unwrap_or_default().as_str(),
            "checkbox" | "radio" | "button" | "submit" | "reset" | "range" | "color" | "file"
        );
    typing_input || tag == "textarea" || tag == "select" || target.is_content_editable()
}

#[cfg(target_arch = "wasm32")]
fn query_all(selector: &str) -> Vec<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return Vec::new() };
    let Ok(list) = document.query_selector_all(selector) else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.item(i)).filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok()).collect()
}

/// Focuses the page's first search field.
#[cfg(target_arch = "wasm32")]
fn focus_search() -> bool {
    match query_all("main input[type=search]").into_iter().next() {
        Some(field) => {
            let _ = field.focus();
            true
        }
        None => false,
    }
}

/// The list's rows, and which holds the focus (or was moved to last).
#[cfg(target_arch = "wasm32")]
fn rows() -> (Vec<web_sys::HtmlElement>, Option<usize>) {
    let rows = query_all(ROWS);
    let active = web_sys::window().and_then(|w| w.document()).and_then(|d| d.active_element());
    let current = rows
        .iter()
        .position(|row| active.as_ref().is_some_and(|a| row.contains(Some(a))))
        .or_else(|| rows.iter().position(|row| row.has_attribute("data-current")));
    (rows, current)
}

/// Moves to the next (`step` 1) or previous (-1) row: its first link (or the row itself) gets
/// the focus, and the row is marked current.
#[cfg(target_arch = "wasm32")]
fn move_row(step: i32) -> bool {
    let (rows, current) = rows();
    if rows.is_empty() {
        return false;
    }
    let next = match current {
        None => 0,
        Some(i) => (i as i32 + step).clamp(0, rows.len() as i32 - 1) as usize,
    };
    for row in &rows {
        let _ = row.remove_attribute("data-current");
    }
    let row = &rows[next];
    let _ = row.set_attribute("data-current", "");
    let target = first_link(row).unwrap_or_else(|| {
        let _ = row.set_attribute("tabindex", "-1");
        row.clone()
    });
    let _ = target.focus();
    true
}

#[cfg(target_arch = "wasm32")]
fn first_link(row: &web_sys::HtmlElement) -> Option<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast;
    row.query_selector("a[href]").ok().flatten().and_then(|a| a.dyn_into::<web_sys::HtmlElement>().ok())
}

/// Opens the current row's link (a key's opens its editor).
#[cfg(target_arch = "wasm32")]
fn edit_row() -> bool {
    let (rows, current) = rows();
    match current.and_then(|i| rows.get(i)).and_then(first_link) {
        Some(link) => {
            link.click();
            true
        }
        None => false,
    }
}

/// One thing the palette can go to.
#[derive(Clone, Debug, PartialEq)]
struct Target {
    label: String,
    /// "Page", "Namespace", "Key" or "Action".
    kind: &'static str,
    href: String,
}

fn pages(is_admin: bool) -> Vec<Target> {
    let mut pages = vec![
        ("Namespaces", "/"),
        ("Dashboard", "/dashboard"),
        ("Search", "/search"),
        ("Jobs", "/jobs"),
        ("Backups", "/backups"),
        ("Audit log", "/audit"),
    ];
    if is_admin {
        pages.extend([("API tokens", "/tokens"), ("Services", "/services"), ("Webhooks", "/webhooks")]);
    }
    pages
        .into_iter()
        .map(|(label, href)| Target { label: label.to_owned(), kind: "Page", href: href.to_owned() })
        .collect()
}

/// The palette: a field, and the pages, namespaces and keys matching it (keys from two
/// characters on), each a link; arrows move through them.
#[component]
fn Palette(is_admin: bool, on_close: Callback<()>, on_help: Callback<()>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    // Only ever open in the browser: nothing to carry from the server.
    let found = LocalResource::new(move || {
        let text = text.get();
        async move {
            let needle = text.trim().to_lowercase();
            let mut targets: Vec<Target> =
                pages(is_admin).into_iter().filter(|p| p.label.to_lowercase().contains(&needle)).collect();
            if needle.is_empty() {
                return targets;
            }
            if let Ok(page) = list_namespaces(Some(1), Some(8), Some(text.trim().to_owned())).await {
                targets.extend(page.namespaces.into_iter().map(|n| Target {
                    href: format!("/namespaces/{}", n.id),
                    label: n.title,
                    kind: "Namespace",
                }));
            }
            if needle.chars().count() >= 2
                && let Ok(page) = search_keys(
                    Some(text.trim().to_owned()),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    Some(8),
                    None,
                )
                .await
            {
                targets.extend(page.results.into_iter().map(|k| Target {
                    href: format!("/namespaces/{}?key={}", k.namespace_id, encode_query(&k.key)),
                    label: format!("{} · {}", k.key, k.namespace_title),
                    kind: "Key",
                }));
            }
            targets
        }
    });
    // Arrows move the focus between the field and the results.
    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        let step = match ev.key().as_str() {
            "ArrowDown" => 1,
            "ArrowUp" => -1,
            _ => return,
        };
        ev.prevent_default();
        #[cfg(target_arch = "wasm32")]
        {
            // Read from the page each time: the results list is drawn anew as the text changes.
            let links = query_all("[role=dialog] [data-testid=palette-results] a");
            let active = web_sys::window().and_then(|w| w.document()).and_then(|d| d.active_element());
            let at = links.iter().position(|l| active.as_ref().is_some_and(|a| l.is_same_node(Some(a))));
            let next = match (at, step) {
                (None, 1) => Some(0),
                (Some(i), 1) => Some((i + 1).min(links.len().saturating_sub(1))),
                (Some(0), _) | (None, _) => None,
                (Some(i), _) => Some(i - 1),
            };
            match next.and_then(|i| links.get(i)) {
                Some(link) => {
                    let _ = link.focus();
                }
                None => {
                    if let Some(field) = query_all("[role=dialog] input").into_iter().next() {
                        let _ = field.focus();
                    }
                }
            }
        }
        #[cfg(not(target_arch = "wasm32"))]
        let _ = step;
    };
    view! {
        <Modal title="Go to".to_owned() on_close>
            <div class="space-y-3" on:keydown=on_keydown>
                <label class=LABEL>
                    "Page, namespace or key"
                    <input class=INPUT type="text" autocomplete="off" placeholder="Type to search; ↓ to choose" bind:value=text />
                </label>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let targets = found.await;
                        if targets.is_empty() {
                            return view! { <p class=format!("text-sm {MUTED}")>"Nothing matches."</p> }.into_any();
                        }
                        view! {
                            <ul class="max-h-80 space-y-1 overflow-y-auto" aria-label="Results" data-testid="palette-results">
                                {targets
                                    .into_iter()
                                    .map(|t| view! {
                                        <li>
                                            <a
                                                href=t.href
                                                class="flex items-center gap-2 rounded-md px-2 py-1 text-sm hover:bg-slate-100 focus:bg-indigo-50 dark:hover:bg-slate-800 dark:focus:bg-indigo-950"
                                                on:click=move |_| {
                                                    // After the router has followed the link.
                                                    set_timeout(move || on_close.run(()), std::time::Duration::ZERO);
                                                }
                                            >
                                                <span class=format!("w-20 shrink-0 text-xs {MUTED}")>{t.kind}</span>
                                                <span class="break-all">{t.label}</span>
                                            </a>
                                        </li>
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    })}
                </Transition>
                <button type="button" class="text-sm underline" on:click=move |_| on_help.run(())>
                    "Keyboard shortcuts"
                </button>
            </div>
        </Modal>
    }
}
