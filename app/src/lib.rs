//! The kv-manager console: pages, components and the server functions they call.

#![recursion_limit = "512"]

#[cfg(target_arch = "wasm32")]
pub mod browser;
pub mod components;
pub mod diff;
pub mod dto;
pub mod error;
pub mod format;
pub mod pages;
pub mod serverfns;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, LazyRoute, SsrMode, lazy_route, path};

use components::header::Header;
use components::theme::{THEME_BOOT_SCRIPT, Theme};
use components::viewer::Viewer;
use pages::namespaces::NamespacesPage;
use pages::placeholder::NotFound;

/// The HTML document around the app, rendered on the server only. The theme comes from the
/// `kvm_theme` cookie so the first paint already has the right colours.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let theme = Theme::from_request();
    let [user, can_write, is_admin, logout, remote_store] = Viewer::current().attributes();
    #[cfg(feature = "ssr")]
    send_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html
            lang="en"
            class=theme.html_class()
            data-theme=theme.as_str()
            data-user=user.1
            data-can-write=can_write.1
            data-admin=is_admin.1
            data-logout-url=logout.1
            data-remote-store=remote_store.1
        >
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <script nonce=leptos::nonce::use_nonce() inner_html=THEME_BOOT_SCRIPT></script>
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 dark:bg-slate-950 dark:text-slate-100">
                <App />
            </body>
        </html>
    }
}

/// Where the shell leaves the nonce of the page it renders, for the server to put in the page's
/// Content-Security-Policy header once the response is built. (Writing the header through
/// leptos_axum's response options from inside the render can deadlock with the framework reading
/// them, so the header is set outside.)
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default)]
pub struct NonceSlot(pub std::sync::Arc<std::sync::Mutex<Option<String>>>);

#[cfg(feature = "ssr")]
fn send_content_security_policy() {
    let slot = use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<NonceSlot>().cloned());
    if let (Some(nonce), Some(slot)) = (leptos::nonce::use_nonce(), slot)
        && let Ok(mut kept) = slot.0.lock()
    {
        *kept = Some(nonce.to_string());
    }
}

/// The console's routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(Viewer::current());
    provide_context(components::header::JobsChanged(RwSignal::new(0)));
    view! {
        <Stylesheet id="leptos" href="/pkg/kv-manager.css" />
        <Title text="KV Manager" />
        <Router>
            <Header />
            <main class="mx-auto w-full max-w-6xl px-3 py-6 sm:px-6">
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/") view=NamespacesPage ssr=SsrMode::Async />
                    <Route path=path!("/namespaces/:id") view={Lazy::<KeysRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/dashboard") view={Lazy::<DashboardRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/search") view={Lazy::<SearchRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/jobs") view={Lazy::<JobsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/backups") view={Lazy::<BackupsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/tokens") view={Lazy::<TokensRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/services") view={Lazy::<ServicesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/webhooks") view={Lazy::<WebhooksRoute>::new()} ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}

/// The keys page, loaded on demand: its code is a separate chunk of the release bundle, so the
/// first load of the console carries only what the namespaces page needs.
struct KeysRoute;

#[lazy_route]
impl LazyRoute for KeysRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::keys::KeysPage /> }.into_any()
    }
}

/// The dashboard, loaded on demand like the keys page.
struct DashboardRoute;

#[lazy_route]
impl LazyRoute for DashboardRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::dashboard::DashboardPage /> }.into_any()
    }
}

/// The search page, loaded on demand like the keys page.
struct SearchRoute;

#[lazy_route]
impl LazyRoute for SearchRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::search::SearchPage /> }.into_any()
    }
}

/// The job history, loaded on demand like the keys page.
struct JobsRoute;

#[lazy_route]
impl LazyRoute for JobsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::jobs::JobsPage /> }.into_any()
    }
}

/// The backups, loaded on demand like the keys page.
struct BackupsRoute;

#[lazy_route]
impl LazyRoute for BackupsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::backups::BackupsPage /> }.into_any()
    }
}

/// The audit log, loaded on demand like the keys page.
struct AuditRoute;

#[lazy_route]
impl LazyRoute for AuditRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::audit::AuditPage /> }.into_any()
    }
}

/// The API tokens (admins), loaded on demand like the keys page.
struct TokensRoute;

#[lazy_route]
impl LazyRoute for TokensRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::tokens::TokensPage /> }.into_any()
    }
}

/// The services of the `/v1/kv` API (admins), loaded on demand like the keys page.
struct ServicesRoute;

#[lazy_route]
impl LazyRoute for ServicesRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::services::ServicesPage /> }.into_any()
    }
}

/// The webhook endpoints and their delivery logs (admins), loaded on demand like the keys page.
struct WebhooksRoute;

#[lazy_route]
impl LazyRoute for WebhooksRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <pages::webhooks::WebhooksPage /> }.into_any()
    }
}
