//! `/search`: keys across every namespace by name fragment, tags and the advanced filters. The
//! whole search lives in the URL, so a search is a link.

mod form;
mod results;
mod saved;

use leptos::Params;
use leptos::prelude::*;
use leptos_router::hooks::use_query;
use leptos_router::params::Params;

use crate::components::data_table::EmptyNote;
use crate::dto::SearchPageDto;
use crate::error::AppError;
use crate::format;
use crate::pages::encode_query;
use crate::serverfns::catalog::{list_tags, search_keys};
use crate::serverfns::namespaces::list_namespaces;
use form::SearchForm;
use results::SearchResults;
use saved::SavedSearches;

const PAGE_SIZE: u32 = 100;

/// The address's query; `ns` and `tags` are lists separated by commas.
#[derive(Params, Clone, Debug, PartialEq)]
struct SearchQuery {
    q: Option<String>,
    ns: Option<String>,
    tags: Option<String>,
    expiring: Option<String>,
    expires_before: Option<String>,
    updated_after: Option<String>,
    min_size: Option<String>,
    max_size: Option<String>,
}

impl From<&SearchQuery> for Filters {
    fn from(q: &SearchQuery) -> Self {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        Self {
            q: text(&q.q),
            namespaces: list(q.ns.clone()),
            tags: list(q.tags.clone()),
            expiring: text(&q.expiring),
            expires_before: text(&q.expires_before),
            updated_after: text(&q.updated_after),
            min_size: text(&q.min_size),
            max_size: text(&q.max_size),
        }
    }
}

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

    /// The search as the address's query string (without `?`; empty for no search).
    fn to_query(&self) -> String {
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
        query.join("&")
    }

    fn to_url(&self) -> String {
        let query = self.to_query();
        if query.is_empty() { "/search".to_owned() } else { format!("/search?{query}") }
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
    let query = use_query::<SearchQuery>();
    let filters = Memo::new(move |_| query.read().as_ref().map(Filters::from).unwrap_or_default());
    let results = Resource::new(
        move || filters.get(),
        |f| async move { if f.is_empty() { Ok(None) } else { f.run(None).await.map(Some) } },
    );
    let namespaces = Resource::new(|| (), |_| list_namespaces(Some(1), Some(1000), None));
    let tags = Resource::new(|| (), |_| list_tags(None, None, None));
    view! {
        <section class="space-y-4">
            <h1 class="text-2xl font-semibold">"Search"</h1>
            <SearchForm filters namespaces tags />
            <SavedSearches filters />
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
