use leptos::prelude::*;

/// A page that says what is coming to it.
#[component]
pub fn Placeholder(title: &'static str, text: &'static str) -> impl IntoView {
    view! {
        <section class="space-y-2">
            <h1 class="text-2xl font-semibold">{title}</h1>
            <p class="text-slate-600 dark:text-slate-400">{text}</p>
            <p>
                <a class="text-indigo-600 underline dark:text-indigo-400" href="/">
                    "Back to namespaces"
                </a>
            </p>
        </section>
    }
}

/// Unknown routes.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! { <Placeholder title="Page not found" text="There is nothing at this address." /> }
}
