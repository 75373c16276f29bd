//! The one error type of the domain. Every surface maps it once into its own format.

use std::fmt;

pub type DomainResult<T> = Result<T, DomainError>;

/// What went wrong, in terms a caller can act on. `field` names the input at fault when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{message}")]
    Invalid { field: Option<String>, message: String },
    #[error("{message}")]
    NotFound { field: Option<String>, message: String },
    #[error("{message}")]
    Conflict { field: Option<String>, message: String },
    #[error("{message}")]
    TooLarge { field: Option<String>, message: String },
    /// Something that existed and no longer does (an expired export file).
    #[error("{message}")]
    Gone { field: Option<String>, message: String },
    /// The caller is known but may not do this (a read-only user writing, say).
    #[error("{message}")]
    Forbidden { field: Option<String>, message: String },
    /// The caller could not be identified (no or an invalid sign-in token).
    #[error("{message}")]
    Unauthorized { field: Option<String>, message: String },
    /// The server cannot take this now but will later or elsewhere (it is shutting down).
    #[error("{message}")]
    Unavailable { field: Option<String>, message: String },
    /// Cloudflare (or another upstream) refused or failed, with its status, code and message.
    #[error("{message}")]
    Upstream { status: u16, code: u32, message: String },
    /// An internal failure. The message is safe to show; the cause was logged where it happened.
    #[error("internal error")]
    Internal,
}

impl DomainError {
    pub fn invalid(field: &str, message: impl fmt::Display) -> Self {
        Self::Invalid { field: Some(field.to_owned()), message: message.to_string() }
    }
    pub fn not_found(field: &str, message: impl fmt::Display) -> Self {
        Self::NotFound { field: Some(field.to_owned()), message: message.to_string() }
    }
    /// No namespace has this id (or the actor may not know it has one: the same answer).
    pub fn namespace_not_found(namespace_id: &str) -> Self {
        Self::not_found("namespace_id", format!("namespace_id: no namespace has the id {namespace_id:?}"))
    }
    /// No live key has this name in the namespace.
    pub fn key_not_found(key: &str) -> Self {
        Self::not_found("key", format!("key: {key:?} does not exist in this namespace"))
    }
    pub fn conflict(field: &str, message: impl fmt::Display) -> Self {
        Self::Conflict { field: Some(field.to_owned()), message: message.to_string() }
    }
    pub fn too_large(field: &str, message: impl fmt::Display) -> Self {
        Self::TooLarge { field: Some(field.to_owned()), message: message.to_string() }
    }
    pub fn gone(field: &str, message: impl fmt::Display) -> Self {
        Self::Gone { field: Some(field.to_owned()), message: message.to_string() }
    }

    pub fn unavailable(message: impl fmt::Display) -> Self {
        Self::Unavailable { field: None, message: message.to_string() }
    }
    pub fn forbidden(message: impl fmt::Display) -> Self {
        Self::Forbidden { field: None, message: message.to_string() }
    }
    pub fn unauthorized(message: impl fmt::Display) -> Self {
        Self::Unauthorized { field: None, message: message.to_string() }
    }

    pub fn upstream(status: u16, code: u32, message: impl fmt::Display) -> Self {
        Self::Upstream { status, code, message: message.to_string() }
    }

    /// Logs an internal cause and returns the opaque error that is sent to clients.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::Internal
    }

    /// A stable snake_case code for the kind of error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "invalid_input",
            Self::NotFound { .. } => "not_found",
            Self::Conflict { .. } => "conflict",
            Self::TooLarge { .. } => "too_large",
            Self::Gone { .. } => "gone",
            Self::Forbidden { .. } => "forbidden",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Unavailable { .. } => "unavailable",
            Self::Upstream { .. } if self.is_upstream_not_found() => "not_found",
            Self::Upstream { .. } => "upstream",
            Self::Internal => "internal",
        }
    }

    /// Cloudflare's own "not found" of a key (10009) or namespace (10013): an answer about what
    /// the caller named, not a failure of Cloudflare.
    fn is_upstream_not_found(&self) -> bool {
        matches!(self, Self::Upstream { status: 404, code: 10009 | 10013, .. })
    }

    /// The HTTP status that goes with the kind: the one table every surface answers from (the
    /// console and script API through [`Self::code`], `/client/v4` and `/v1/kv` directly), each in
    /// its own error shape.
    ///
    /// A Cloudflare (upstream) failure is 502 Bad Gateway on every surface, whatever Cloudflare
    /// answered: its 5xx, its 429 after our retries, its 401 or 403 about our Cloudflare token, its
    /// 400 about a request we built, or a 4xx that is not Cloudflare's at all (a proxy's page).
    /// None of these is the caller's to fix, and passing Cloudflare's 4xx through would read as
    /// if the caller's own token, rate or input had been refused. Cloudflare's status, code and
    /// words stay in the error (the message is "Cloudflare: ..."; `/client/v4` keeps its code).
    /// Cloudflare's refusals that mean something to the caller are turned into domain kinds
    /// where they happen (a title taken is a conflict), and its own "not found" of a key or
    /// namespace (404 with code 10009 or 10013) answers 404, as any missing thing does.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid { .. } => 400,
            Self::NotFound { .. } => 404,
            Self::Conflict { .. } => 409,
            Self::TooLarge { .. } => 413,
            Self::Gone { .. } => 410,
            Self::Forbidden { .. } => 403,
            Self::Unauthorized { .. } => 401,
            Self::Unavailable { .. } => 503,
            Self::Upstream { .. } if self.is_upstream_not_found() => 404,
            Self::Upstream { .. } => 502,
            Self::Internal => 500,
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. }
            | Self::NotFound { field, .. }
            | Self::Conflict { field, .. }
            | Self::TooLarge { field, .. }
            | Self::Gone { field, .. }
            | Self::Forbidden { field, .. }
            | Self::Unauthorized { field, .. }
            | Self::Unavailable { field, .. } => field.as_deref(),
            Self::Internal | Self::Upstream { .. } => None,
        }
    }
}

impl From<sea_orm::DbErr> for DomainError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::internal(err)
    }
}

impl From<sea_orm::TransactionError<DomainError>> for DomainError {
    fn from(err: sea_orm::TransactionError<DomainError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => Self::internal(db),
            sea_orm::TransactionError::Transaction(domain) => domain,
        }
    }
}
