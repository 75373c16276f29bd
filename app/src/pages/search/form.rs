//! The search form: a name fragment, namespaces, tags and the advanced filters. Each change goes
//! to the address.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

use super::Filters;
use crate::components::modal::{BUTTON_SECONDARY, INPUT, LABEL};
use crate::dto::{NamespacePageDto, TagsDto};
use crate::error::AppError;
use crate::pages::debounce;

/// A change to the search.
type Change = Box<dyn FnOnce(&mut Filters)>;

/// Applies a change to the search by going to its address.
fn use_apply(filters: Memo<Filters>) -> impl Fn(Change) + Clone + 'static {
    let navigate = use_navigate();
    move |change: Change| {
        let mut next = filters.get_untracked();
        change(&mut next);
        navigate(&next.to_url(), NavigateOptions { replace: true, scroll: false, ..Default::default() });
    }
}

/// Works without JavaScript too: the fields have names and "Search" submits them.
#[component]
pub(super) fn SearchForm(
    filters: Memo<Filters>,
    namespaces: Resource<Result<NamespacePageDto, AppError>>,
    tags: Resource<Result<TagsDto, AppError>>,
) -> impl IntoView {
    let apply = use_apply(filters);
    let later = debounce(300);
    let on_query = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let apply = apply.clone();
        later(Box::new(move || apply(Box::new(move |f| f.q = value))));
    };
    view! {
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
            <NamespacePicker filters namespaces />
            <TagPicker filters tags />
            <Advanced filters />
            <noscript>
                <button type="submit" class=BUTTON_SECONDARY>"Search"</button>
            </noscript>
        </form>
    }
}

/// The namespaces to search in (every one when none is chosen).
#[component]
fn NamespacePicker(filters: Memo<Filters>, namespaces: Resource<Result<NamespacePageDto, AppError>>) -> impl IntoView {
    let apply_ns = use_apply(filters);
    view! {
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
    }
}

/// The tags in use, each a toggle.
#[component]
fn TagPicker(filters: Memo<Filters>, tags: Resource<Result<TagsDto, AppError>>) -> impl IntoView {
    let apply_tags = use_apply(filters);
    view! {
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
    }
}

/// Expiration, dates and sizes, folded away.
#[component]
fn Advanced(filters: Memo<Filters>) -> impl IntoView {
    let apply_expiring = use_apply(filters);
    let apply_field = apply_expiring.clone();
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
    view! {
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
    }
}
