//! Who is looking at the console: their name, whether they may change anything, and where they
//! sign out. The server knows it from the request (the identity middleware puts a [`Viewer`] next
//! to the actor); the shell writes it on `<html>`, where the browser reads it back at start-up, so
//! both render the same controls and no request is needed.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub user: String,
    pub can_write: bool,
    pub is_admin: bool,
    /// Where "Log out" goes (Cloudflare Access); none when there is no sign-in.
    pub logout_url: Option<String>,
    /// The keys live in a remote store (the Cloudflare backend) whose key index the console
    /// can bring up to date ("Sync now").
    pub remote_store: bool,
}

impl Default for Viewer {
    /// Nobody known: may read, nothing more.
    fn default() -> Self {
        Self { user: String::new(), can_write: false, is_admin: false, logout_url: None, remote_store: false }
    }
}

const USER: &str = "data-user";
const CAN_WRITE: &str = "data-can-write";
const IS_ADMIN: &str = "data-admin";
const LOGOUT: &str = "data-logout-url";
const REMOTE_STORE: &str = "data-remote-store";

impl Viewer {
    /// The viewer of the request being rendered (server) or of the page (browser).
    pub fn current() -> Self {
        #[cfg(feature = "ssr")]
        {
            use_context::<http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<Viewer>().cloned())
                .unwrap_or_default()
        }
        #[cfg(not(feature = "ssr"))]
        {
            let Some(root) = document().document_element() else { return Self::default() };
            Self {
                user: root.get_attribute(USER).unwrap_or_default(),
                can_write: root.get_attribute(CAN_WRITE).as_deref() == Some("true"),
                is_admin: root.get_attribute(IS_ADMIN).as_deref() == Some("true"),
                logout_url: root.get_attribute(LOGOUT).filter(|u| !u.is_empty()),
                remote_store: root.get_attribute(REMOTE_STORE).as_deref() == Some("true"),
            }
        }
    }

    /// The `<html>` attributes the browser reads back.
    pub fn attributes(&self) -> [(&'static str, String); 5] {
        [
            (USER, self.user.clone()),
            (CAN_WRITE, self.can_write.to_string()),
            (IS_ADMIN, self.is_admin.to_string()),
            (LOGOUT, self.logout_url.clone().unwrap_or_default()),
            (REMOTE_STORE, self.remote_store.to_string()),
        ]
    }
}

/// The viewer from the app's context (provided once by `App`).
pub fn use_viewer() -> Viewer {
    use_context::<Viewer>().unwrap_or_default()
}

/// Whether write controls are shown: read-only users see none (the server refuses their
/// changes anyway, with 403).
pub fn can_write() -> bool {
    use_viewer().can_write
}
