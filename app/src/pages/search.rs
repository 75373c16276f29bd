//! `/search`: keys across every namespace by name fragment, tags and the advanced filters. The
//! whole search lives in the URL, so a search is a link.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::components::cursor_list::{CursorPages, LoadMore};
use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::modal::{BUTTON_SECONDARY, INPUT, LABEL};
use crate::components::tag_chips::TagChips;
use crate::dto::{SearchPageDto, SearchResultDto};
use crate::error::AppError;
use crate::format;
use crate::pages::{debounce, encode_query};
use crate::serverfns::catalog::{list_tags, search_keys};
use crate::serverfns::namespaces::list_namespaces;

const PAGE_SIZE: u32 = 100;

/// The search as the URL holds it.
#[derive(Clone, Debug, Default, PartialEq)]
struct Filters {
    q: String,
    namespaces: Vec<String>,
    tags: Vec<String>,
    /// "", "yes" or "no".
    expiring: String,
    /// `YYYY-MM-DDTHH:MM`, UTC.
    expires_before: String,
    updated_after: String,
    min_size: String,
    max_size: String,
}

fn list(text: Option<String>) -> Vec<String> {
    text.map(|t| t.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()).unwrap_or_default()
}

impl Filters {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    fn to_url(&self) -> String {
        let pairs = [
            ("q", self.q.clone()),
            ("ns", self.namespaces.join(",")),
            ("tags", self.tags.join(",")),
            ("expiring", self.expiring.clone()),
            ("expires_before", self.expires_before.clone()),
            ("updated_after", self.updated_after.clone()),
            ("min_size", self.min_size.clone()),
            ("max_size", self.max_size.clone()),
        ];
        let query: Vec<String> =
            pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", encode_query(v))).collect();
        if query.is_empty() { "/search".to_owned() } else { format!("/search?{}", query.join("&")) }
    }

    async fn run(self, cursor: Option<String>) -> Result<SearchPageDto, AppError> {
        let number = |text: &str, field: &str| -> Result<Option<u64>, AppError> {
            if text.is_empty() {
                return Ok(None);
            }
            text.parse().map(Some).map_err(|_| AppError::invalid(field, format!("{field}: enter a number of bytes")))
        };
        let time = |text: &str, field: &str| -> Result<Option<i64>, AppError> {
            if text.is_empty() {
                return Ok(None);
            }
            format::parse_datetime_local(text)
                .map(Some)
                .ok_or_else(|| AppError::invalid(field, format!("{field}: enter a date and time")))
        };
        search_keys(
            Some(self.q.clone()).filter(|q| !q.is_empty()),
            None,
            Some(self.namespaces.clone()).filter(|n| !n.is_empty()),
            Some(self.tags.clone()).filter(|t| !t.is_empty()),
            match self.expiring.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            time(&self.expires_before, "expires_before")?,
            time(&self.updated_after, "updated_after")?,
            number(&self.min_size, "min_size")?,
            number(&self.max_size, "max_size")?,
            Some(PAGE_SIZE),
            cursor,
        )
        .await
    }
}

#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let q = query.read();
        Filters {
            q: q.get("q").unwrap_or_default(),
            namespaces: list(q.get("ns")),
            tags: list(q.get("tags")),
            expiring: q.get("expiring").unwrap_or_default(),
            expires_before: q.get("expires_before").unwrap_or_default(),
            updated_after: q.get("updated_after").unwrap_or_default(),
            min_size: q.get("min_size").unwrap_or_default(),
            max_size: q.get("max_size").unwrap_or_default(),
        }
    });
    let results = Resource::new(
        move || filters.get(),
        |f| async move { if f.is_empty() { Ok(None) } else { f.run(None).await.map(Some) } },
    );
    let namespaces = Resource::new(|| (), |_| list_namespaces(Some(1), Some(1000), None));
    let tags = Resource::new(|| (), |_| list_tags(None, None, None));
    let navigate = use_navigate();
    let apply = move |change: Box<dyn FnOnce(&mut Filters)>| {
        let mut next = filters.get_untracked();
        change(&mut next);
        navigate(&next.to_url(), NavigateOptions { replace: true, scroll: false, ..Default::default() });
    };
    let later = debounce(300);
    let on_query = {
        let apply = apply.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            let apply = apply.clone();
            later(Box::new(move || apply(Box::new(move |f| f.q = value))));
        }
    };
    let apply_field = apply.clone();
    let field =
        move |label: &'static str, kind: &'static str, get: fn(&Filters) -> String, set: fn(&mut Filters, String)| {
            let apply = apply_field.clone();
            view! {
                <label class=LABEL>
                    {label}
                    <input
                        class=INPUT
                        type=kind
                        value=move || get(&filters.get())
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            apply(Box::new(move |f| set(f, value)));
                        }
                    />
                </label>
            }
        };
    let apply_ns = apply.clone();
    let apply_tags = apply.clone();
    let apply_expiring = apply.clone();
    view! {
        <section class="space-y-4">
            <h1 class="text-2xl font-semibold">"Search"</h1>
            <form method="get" action="/search" class="space-y-3" role="search">
                <label class=LABEL>
                    "Search keys"
                    <input
                        type="search"
                        name="q"
                        class=INPUT
                        autocomplete="off"
                        placeholder="Part of a key name, e.g. :1001:"
                        value=filters.get_untracked().q
                        prop:value=move || filters.get().q
                        on:input=on_query
                    />
                </label>
                <Suspense fallback=|| ()>
                    {move || {
                        let apply_ns = apply_ns.clone();
                        Suspend::new(async move {
                            let all = namespaces.await.map(|p| p.namespaces).unwrap_or_default();
                            view! {
                                <label class=LABEL>
                                    "Namespaces"
                                    <select
                                        multiple
                                        class=format!("{INPUT} h-24")
                                        on:change=move |ev| {
                                            use wasm_bindgen::JsCast;
                                            let Some(select) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok()) else { return };
                                            let options = select.selected_options();
                                            let chosen: Vec<String> = (0..options.length())
                                                .filter_map(|i| options.item(i))
                                                .filter_map(|o| o.get_attribute("value"))
                                                .collect();
                                            apply_ns(Box::new(move |f| f.namespaces = chosen));
                                        }
                                    >
                                        {all
                                            .into_iter()
                                            .map(|ns| {
                                                let id = ns.id.clone();
                                                view! {
                                                    <option value=ns.id selected=move || filters.get().namespaces.contains(&id)>
                                                        {ns.title}
                                                    </option>
                                                }
                                            })
                                            .collect_view()}
                                    </select>
                                </label>
                            }
                        })
                    }}
                </Suspense>
                <Suspense fallback=|| ()>
                    {move || {
                        let apply_tags = apply_tags.clone();
                        Suspend::new(async move {
                            let all = tags.await.map(|t| t.tags).unwrap_or_default();
                            (!all.is_empty()).then(|| view! {
                                <div>
                                    <span class=LABEL>"Tags"</span>
                                    <div class="mt-1 flex flex-wrap gap-1" role="group" aria-label="Tags">
                                        {all
                                            .into_iter()
                                            .map(|t| {
                                                let apply_tags = apply_tags.clone();
                                                let tag = t.tag.clone();
                                                let lower = tag.to_lowercase();
                                                let pressed = move || filters.get().tags.iter().any(|x| x.to_lowercase() == lower);
                                                view! {
                                                    <button
                                                        type="button"
                                                        aria-pressed=move || pressed().to_string()
                                                        class="rounded-full border border-slate-300 px-2 py-0.5 text-sm aria-pressed:bg-indigo-600 aria-pressed:text-white dark:border-slate-700"
                                                        on:click=move |_| {
                                                            let tag = tag.clone();
                                                            apply_tags(Box::new(move |f| {
                                                                let lower = tag.to_lowercase();
                                                                if f.tags.iter().any(|x| x.to_lowercase() == lower) {
                                                                    f.tags.retain(|x| x.to_lowercase() != lower);
                                                                } else {
                                                                    f.tags.push(tag);
                                                                }
                                                            }))
                                                        }
                                                    >
                                                        {format!("{} ({})", t.tag, t.count)}
                                                    </button>
                                                }
                                            })
                                            .collect_view()}
                                    </div>
                                </div>
                            })
                        })
                    }}
                </Suspense>
                <details class="rounded-md border border-slate-200 p-2 dark:border-slate-800">
                    <summary class="cursor-pointer text-sm font-medium">"Advanced"</summary>
                    <div class="mt-2 grid gap-3 sm:grid-cols-2">
                        <label class=LABEL>
                            "Expiration"
                            <select
                                class=INPUT
                                on:change=move |ev| {
                                    let value = event_target_value(&ev);
                                    apply_expiring(Box::new(move |f| f.expiring = value));
                                }
                            >
                                <option value="" selected=move || filters.get().expiring.is_empty()>"Any"</option>
                                <option value="yes" selected=move || filters.get().expiring == "yes">"Expiring keys"</option>
                                <option value="no" selected=move || filters.get().expiring == "no">"Keys that never expire"</option>
                            </select>
                        </label>
                        {field("Expires before (UTC)", "datetime-local", |f| f.expires_before.clone(), |f, v| f.expires_before = v)}
                        {field("Updated after (UTC)", "datetime-local", |f| f.updated_after.clone(), |f, v| f.updated_after = v)}
                        {field("Minimum size (bytes)", "number", |f| f.min_size.clone(), |f, v| f.min_size = v)}
                        {field("Maximum size (bytes)", "number", |f| f.max_size.clone(), |f, v| f.max_size = v)}
                    </div>
                </details>
                <noscript>
                    <button type="submit" class=BUTTON_SECONDARY>"Search"</button>
                </noscript>
            </form>
            <Transition fallback=|| view! { <p>"Searching…"</p> }>
                {move || Suspend::new(async move {
                    match results.await {
                        Ok(None) => view! {
                            <EmptyNote>
                                "Type part of a key name, or pick a tag or namespace, to search every namespace at once."
                            </EmptyNote>
                        }
                            .into_any(),
                        Ok(Some(page)) => view! { <SearchResults first=page filters=filters.get_untracked() /> }.into_any(),
                        Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

const RESULT_COLUMNS: &[Column] = &[
    Column::new("Namespace"),
    Column::new("Key"),
    Column::new("Tags"),
    Column::right("Size"),
    Column::new("Expiration"),
];

#[component]
fn SearchResults(first: SearchPageDto, filters: Filters) -> impl IntoView {
    let total = first.total;
    let pages = CursorPages::new(first);
    let load = move |cursor| filters.clone().run(cursor);
    view! {
        <Show
            when=move || !pages.is_empty()
            fallback=|| view! { <EmptyNote>"No keys match. Try a shorter part of the name, fewer tags, or fewer filters."</EmptyNote> }
        >
            <p class="text-sm text-slate-600 dark:text-slate-400" data-testid="search-count">
                {move || match total {
                    Some(n) => format!("{} of {n} matching keys shown", pages.len()),
                    None => format!("{} keys shown", pages.len()),
                }}
            </p>
            <DataTable columns=RESULT_COLUMNS>
                {pages.rows(|hit| view! { <ResultRow hit /> })}
            </DataTable>
        </Show>
        <LoadMore pages load class="flex items-center gap-3" />
    }
}

#[component]
fn ResultRow(hit: SearchResultDto) -> impl IntoView {
    let href = format!("/namespaces/{}?key={}", hit.namespace_id, encode_query(&hit.key));
    view! {
        <tr class="border-t border-slate-200 dark:border-slate-800">
            <td class="p-2 break-all">
                <A href=format!("/namespaces/{}", hit.namespace_id)>{hit.namespace_title}</A>
            </td>
            <td class="p-2 font-mono break-all">
                <a href=href class="text-indigo-700 hover:underline dark:text-indigo-300">{hit.key}</a>
            </td>
            <td class="p-2">
                <TagChips tags=hit.tags />
            </td>
            <td class="p-2 text-right tabular-nums">{format::bytes(hit.size)}</td>
            <td class="p-2 whitespace-nowrap">{hit.expiration.map(format::utc).unwrap_or_else(|| "—".to_owned())}</td>
        </tr>
    }
}
