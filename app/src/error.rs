//! The error every server function returns, as JSON `{"error":{"code","message","field"}}`.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// An error a user or script can act on: a stable code, a message that names the field at fault,
/// and the field itself when there is one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(from = "ErrorEnvelope", into = "ErrorEnvelope")]
#[error("{message}")]
pub struct AppError {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
    #[serde(default)]
    field: Option<String>,
}

impl From<ErrorEnvelope> for AppError {
    fn from(e: ErrorEnvelope) -> Self {
        Self { code: e.error.code, message: e.error.message, field: e.error.field }
    }
}

impl From<AppError> for ErrorEnvelope {
    fn from(e: AppError) -> Self {
        Self { error: ErrorBody { code: e.code, message: e.message, field: e.field } }
    }
}

impl AppError {
    pub fn new(code: &str, message: impl Into<String>, field: Option<&str>) -> Self {
        Self { code: code.to_owned(), message: message.into(), field: field.map(str::to_owned) }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::new("invalid_input", message, Some(field))
    }

    pub fn internal() -> Self {
        Self::new("internal", "internal error", None)
    }

    /// A request body that does not fit the server function's arguments.
    fn bad_arguments(message: &str) -> Self {
        match serde_field(message) {
            Some(field) => {
                let detail = message.split(" at line").next().unwrap_or(message);
                Self::new("invalid_input", format!("{field}: {detail}"), Some(field))
            }
            // The position stays in the message so the server can name the field it points at.
            None => Self::new("invalid_input", format!("body: {message}"), Some("body")),
        }
    }

    /// The HTTP status for the code.
    pub fn status(&self) -> u16 {
        status_for_code(&self.code)
    }

    /// The message if this error is about `field`.
    pub fn for_field(&self, field: &str) -> Option<String> {
        (self.field.as_deref() == Some(field)).then(|| self.message.clone())
    }
}

/// The HTTP status that goes with an error code.
pub fn status_for_code(code: &str) -> u16 {
    match code {
        "invalid_input" => 400,
        "unauthorized" => 401,
        "forbidden" => 403,
        "not_found" => 404,
        "conflict" => 409,
        "too_large" => 413,
        "gone" => 410,
        "rate_limited" => 429,
        "upstream" => 502,
        "unreachable" => 503,
        _ => 500,
    }
}

/// The field serde names in "missing field `title`" and the like. Other messages quote values,
/// not fields ("invalid value: integer `-1`"), so only these forms are trusted.
fn serde_field(message: &str) -> Option<&str> {
    ["missing field `", "unknown field `", "duplicate field `"].iter().find_map(|form| {
        let start = message.find(form)? + form.len();
        let len = message[start..].find('`')?;
        Some(&message[start..start + len])
    })
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // On the server, a deserialization error is about the request's arguments.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(message) => Self::bad_arguments(&message),
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => Self::bad_arguments(&message),
            ServerFnErrorErr::Request(message) => {
                Self::new("unreachable", format!("the server could not be reached: {message}"), None)
            }
            #[cfg(not(feature = "ssr"))]
            ServerFnErrorErr::Deserialization(message) => {
                Self::new("internal", format!("unexpected response from the server: {message}"), None)
            }
            other => Self::new("internal", other.to_string(), None),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<domain::DomainError> for AppError {
    fn from(err: domain::DomainError) -> Self {
        Self::new(err.code(), err.to_string(), err.field())
    }
}
