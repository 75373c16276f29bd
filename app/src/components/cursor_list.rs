//! A list read page by page over a cursor, with "Load more" under it (the keys, search, jobs and
//! audit pages).

use std::future::Future;

use leptos::prelude::*;

use crate::components::field_error::FormError;
use crate::components::form_action::form_error;
use crate::components::modal::BUTTON_SECONDARY;
use crate::dto::{AuditPageDto, JobPageDto, KeyListDto, SearchPageDto};
use crate::error::AppError;

/// One page of a list read by cursor.
pub trait CursorPage {
    type Item;
    /// The page's items, and the cursor of the next page (none on the last page).
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

impl CursorPage for KeyListDto {
    type Item = crate::dto::KeyEntryDto;
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>) {
        (self.keys, self.cursor.filter(|_| !self.list_complete))
    }
}

impl CursorPage for SearchPageDto {
    type Item = crate::dto::SearchResultDto;
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>) {
        (self.results, self.cursor)
    }
}

impl CursorPage for JobPageDto {
    type Item = crate::dto::JobDto;
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>) {
        (self.jobs, self.cursor)
    }
}

impl CursorPage for AuditPageDto {
    type Item = crate::dto::AuditEntryDto;
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>) {
        (self.entries, self.cursor)
    }
}

/// The items of a cursor-paged list loaded so far, and where the next page starts. A new
/// listing (other filters, a reload) makes a new one.
pub struct CursorPages<T: 'static> {
    items: RwSignal<Vec<T>>,
    next: RwSignal<Option<String>>,
}

impl<T: 'static> Clone for CursorPages<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for CursorPages<T> {}

impl<T: Clone + Send + Sync + 'static> CursorPages<T> {
    pub fn new(first: impl CursorPage<Item = T>) -> Self {
        let (items, next) = first.into_parts();
        Self { items: RwSignal::new(items), next: RwSignal::new(next) }
    }

    /// How many items are shown.
    pub fn len(&self) -> usize {
        self.items.with(Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.items.with(Vec::is_empty)
    }

    /// The last page is in.
    pub fn complete(&self) -> bool {
        self.next.with(Option::is_none)
    }

    /// Reads the items loaded so far.
    pub fn with<R>(&self, read: impl FnOnce(&Vec<T>) -> R) -> R {
        self.items.with(read)
    }

    fn append(&self, page: impl CursorPage<Item = T>) {
        let (items, next) = page.into_parts();
        self.items.update(|all| all.extend(items));
        self.next.set(next);
    }

    /// One row per item, in order; the rows drawn stay as more pages arrive.
    pub fn rows<V: IntoView + 'static>(self, row: impl Fn(T) -> V + Clone + Send + 'static) -> impl IntoView {
        view! {
            <For
                each=move || self.items.get().into_iter().enumerate()
                key=|(index, _)| *index
                children=move |(_, item)| row(item)
            />
        }
    }
}

/// "Load more" under a cursor-paged list while pages are left, and the error of the last try.
#[component]
pub fn LoadMore<P, L, Fut>(
    pages: CursorPages<P::Item>,
    /// Fetches the page that starts at a cursor.
    load: L,
    /// Classes of the row that holds the button.
    #[prop(default = "flex items-center gap-3 text-sm")]
    class: &'static str,
    /// Shown before the button (a count, say).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView
where
    P: CursorPage + 'static,
    P::Item: Clone + Send + Sync + 'static,
    L: Fn(Option<String>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<P, AppError>> + Send + 'static,
{
    let more = Action::new(move |cursor: &Option<String>| {
        let page = load(cursor.clone());
        async move { page.await.map(|page| pages.append(page)) }
    });
    // Like a form's error: gone while the next try runs.
    let error = form_error(more, RwSignal::new(None));
    view! {
        <div class=class>
            {children.map(|children| children())}
            <Show when=move || !pages.complete()>
                <button
                    type="button"
                    class=BUTTON_SECONDARY
                    disabled=move || more.pending().get()
                    on:click=move |_| {
                        more.dispatch(pages.next.get_untracked());
                    }
                >
                    "Load more"
                </button>
            </Show>
            <FormError error fields=&[] />
        </div>
    }
}
