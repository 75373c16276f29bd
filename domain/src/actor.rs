//! Who performs an operation, and through which surface.

use serde::{Deserialize, Serialize};

/// The surface a request came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Console,
    Script,
    Kevi,
    CfApi,
    Cli,
    Job,
}

/// The identity behind a request: the user (email, service or token name, or `local`), the surface
/// and the request id that ties log lines together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user: String,
    pub source: Source,
    pub request_id: Option<String>,
}

impl Actor {
    /// The single person on their own machine (`KVM_AUTH=none`).
    pub fn local(source: Source) -> Self {
        Self { user: "local".to_owned(), source, request_id: None }
    }
}
