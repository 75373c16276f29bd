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
    pub fn conflict(field: &str, message: impl fmt::Display) -> Self {
        Self::Conflict { field: Some(field.to_owned()), message: message.to_string() }
    }
    pub fn too_large(field: &str, message: impl fmt::Display) -> Self {
        Self::TooLarge { field: Some(field.to_owned()), message: message.to_string() }
    }
    pub fn gone(field: &str, message: impl fmt::Display) -> Self {
        Self::Gone { field: Some(field.to_owned()), message: message.to_string() }
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
            Self::Upstream { .. } => "upstream",
            Self::Internal => "internal",
        }
    }

    /// The HTTP status that goes with the kind.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid { .. } => 400,
            Self::NotFound { .. } => 404,
            Self::Conflict { .. } => 409,
            Self::TooLarge { .. } => 413,
            Self::Gone { .. } => 410,
            Self::Forbidden { .. } => 403,
            Self::Unauthorized { .. } => 401,
            // A refusal upstream is the caller's to fix (4xx as Cloudflare said, with its code); a
            // failure there, or a 4xx that is not Cloudflare's (no envelope: a proxy's page), is a
            // bad gateway.
            Self::Upstream { status, code, .. } if (400..500).contains(status) && *code != 0 => *status,
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
            | Self::Unauthorized { field, .. } => field.as_deref(),
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
