//! The colour theme: System, Light or Dark, kept in a cookie so the server renders it.

use leptos::prelude::*;

pub const THEME_COOKIE: &str = "kvm_theme";

/// Applies the OS preference before the first paint when the choice is "system".
pub const THEME_BOOT_SCRIPT: &str = r#"(function(){var r=document.documentElement;if(r.dataset.theme==='system'&&window.matchMedia('(prefers-color-scheme: dark)').matches){r.classList.add('dark');}})();"#;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    System,
    Light,
    Dark,
}

impl Theme {
    pub fn parse(text: &str) -> Self {
        match text {
            "light" => Self::Light,
            "dark" => Self::Dark,
            _ => Self::System,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::System => "System",
            Self::Light => "Light",
            Self::Dark => "Dark",
        }
    }

    pub fn next(self) -> Self {
        match self {
            Self::System => Self::Light,
            Self::Light => Self::Dark,
            Self::Dark => Self::System,
        }
    }

    /// The class the server puts on `<html>`; "system" is resolved by the boot script.
    pub fn html_class(self) -> &'static str {
        if self == Self::Dark { "dark" } else { "" }
    }

    /// The theme named by the request's cookie (server) or by the document (browser).
    pub fn from_request() -> Self {
        #[cfg(feature = "ssr")]
        {
            use_context::<http::request::Parts>()
                .and_then(|parts| {
                    parts.headers.get_all(http::header::COOKIE).iter().find_map(|value| {
                        value.to_str().ok()?.split(';').find_map(|pair| {
                            let (name, value) = pair.trim().split_once('=')?;
                            (name == THEME_COOKIE).then(|| Self::parse(value))
                        })
                    })
                })
                .unwrap_or(Self::System)
        }
        #[cfg(not(feature = "ssr"))]
        {
            document()
                .document_element()
                .and_then(|root| root.get_attribute("data-theme"))
                .map(|t| Self::parse(&t))
                .unwrap_or(Self::System)
        }
    }
}

/// Applies a theme in the browser: cookie, `data-theme` and the `dark` class.
fn apply(theme: Theme) {
    use wasm_bindgen::JsCast;
    let doc = document();
    if let Ok(html) = doc.clone().dyn_into::<web_sys::HtmlDocument>() {
        let _ = html.set_cookie(&format!("{THEME_COOKIE}={}; path=/; max-age=31536000; SameSite=Lax", theme.as_str()));
    }
    let Some(root) = doc.document_element() else { return };
    let _ = root.set_attribute("data-theme", theme.as_str());
    let dark = match theme {
        Theme::Dark => true,
        Theme::Light => false,
        Theme::System => {
            window().match_media("(prefers-color-scheme: dark)").ok().flatten().map(|m| m.matches()).unwrap_or(false)
        }
    };
    let _ = if dark { root.class_list().add_1("dark") } else { root.class_list().remove_1("dark") };
}

/// A button that cycles System -> Light -> Dark.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let theme = RwSignal::new(Theme::from_request());
    let cycle = move |_| {
        let next = theme.get_untracked().next();
        theme.set(next);
        apply(next);
    };
    view! {
        <button
            type="button"
            class="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800"
            title="Cycle the colour theme: System, Light, Dark"
            on:click=cycle
        >
            {move || format!("Theme: {}", theme.get().label())}
        </button>
    }
}
