//! The error every server function returns, as JSON `{"error":{"code","message","field"}}`, and
//! the JSON argument codec of the server functions, which names the field a refused body is
//! wrong about.
//!
//! This is the console and script API's one error policy: an error's status is the status of its
//! code ([`status_for_code`]); a domain error brings its code (`DomainError::code`), and the
//! table agrees with the domain's (`DomainError::status`) for every code the domain gives. The
//! response is made with that status where the server function answers ([`AppError`]'s `ser`),
//! and the plain HTTP routes beside the server functions (`jobs_api`) answer with the same
//! [`AppError`].

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use server_fn::codec::{JsonEncoding, Post};
use server_fn::error::{FromServerFnError, ServerFnErrorErr};
use server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};

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
            // The position stays in the message so the codec can name the field it points at.
            None => Self::new("invalid_input", format!("body: {message}"), Some("body")),
        }
    }

    /// The HTTP status for the code.
    pub fn status(&self) -> u16 {
        status_for_code(&self.code)
    }

    /// The response status of the server function call being answered: its code's, except for a
    /// plain form post that Leptos answers with a redirect back to the page (the error then
    /// travels in the URL).
    #[cfg(feature = "ssr")]
    fn answer_with_status(&self) {
        use leptos::prelude::use_context;
        let Some(options) = use_context::<leptos_axum::ResponseOptions>() else { return };
        let redirected = use_context::<http::request::Parts>().is_some_and(|parts| {
            let html = parts.headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok());
            html.is_some_and(|v| v.contains("text/html")) && parts.headers.contains_key(http::header::REFERER)
        });
        if !redirected {
            options.set_status(
                http::StatusCode::from_u16(self.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
            );
        }
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
        "unreachable" | "unavailable" => 503,
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
            // On the server, a deserialization error is about the request's arguments: the
            // codec's own refusal (already naming its field) or a body that could not be read.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(message) => {
                serde_json::from_str::<ArgumentsRefused>(&message).map(|r| r.0).unwrap_or_else(|_| {
                    let error = Self::bad_arguments(&message);
                    unpositioned(error)
                })
            }
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

    /// The error as the body of the server function's answer, which is given the error's status
    /// here, where the answer is made.
    fn ser(&self) -> Bytes {
        #[cfg(feature = "ssr")]
        self.answer_with_status();
        serde_json::to_vec(self).map(Bytes::from).unwrap_or_else(|_| {
            Bytes::from_static(br#"{"error":{"code":"internal","message":"internal error","field":null}}"#)
        })
    }
}

/// Drops the parser's position from a message that could not be traced to a field.
fn unpositioned(mut error: AppError) -> AppError {
    if error.field.as_deref() == Some("body") {
        error.message = error.message.split(" at line").next().unwrap_or_default().to_owned();
    }
    error
}

/// The server functions' arguments as JSON in a POST body (the script API's contract), read so
/// that a refusal names its field: serde names it in "missing field" and the like; for a type
/// error it gives a position, which is traced to the top-level key around it in the body.
pub struct ArgumentsJson;

/// The input encoding of every server function (`#[server(input = Json)]`).
pub type Json = Post<ArgumentsJson>;

impl ContentType for ArgumentsJson {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for ArgumentsJson {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for ArgumentsJson {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for ArgumentsJson {
    type Error = ArgumentsRefused;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        serde_json::from_slice(&bytes).map_err(|err| {
            let error = AppError::bad_arguments(&err.to_string());
            let error = match error.field.as_deref() {
                Some("body") => name_field(&error, &bytes).unwrap_or_else(|| unpositioned(error)),
                _ => error,
            };
            ArgumentsRefused(error)
        })
    }
}

/// A body the arguments codec refused, as the error to answer. server_fn carries a decoding
/// error as its text, so the text is this error in its JSON form, read back by
/// [`AppError::from_server_fn_error`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ArgumentsRefused(AppError);

impl std::fmt::Display for ArgumentsRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&serde_json::to_string(&self.0).unwrap_or_default())
    }
}

impl std::error::Error for ArgumentsRefused {}

/// Rewrites "body: <problem> at line L column C" into "<field>: <problem>" with the field set.
fn name_field(error: &AppError, body: &[u8]) -> Option<AppError> {
    let (problem, position) = error.message.strip_prefix("body: ")?.split_once(" at line ")?;
    let (line, column) = position.split_once(" column ")?;
    let field = field_at(body, line.trim().parse().ok()?, column.trim().parse().ok()?)?;
    Some(AppError::new(&error.code, format!("{field}: {problem}"), Some(&field)))
}

/// The top-level object key whose value contains the 1-based (line, column) position.
fn field_at(body: &[u8], line: usize, column: usize) -> Option<String> {
    let line_start = if line <= 1 {
        0
    } else {
        body.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(line - 2).map(|(i, _)| i + 1)?
    };
    let offset = (line_start + column).min(body.len());
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let (mut string_start, mut last_string, mut key) = (0usize, None::<(usize, usize)>, None::<String>);
    for (i, &b) in body[..offset].iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => {
                    in_string = false;
                    last_string = Some((string_start, i));
                }
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                string_start = i + 1;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b':' if depth == 1 => {
                if let Some((start, end)) = last_string {
                    key = serde_json::from_slice::<String>(&body[start - 1..=end]).ok();
                }
            }
            _ => {}
        }
    }
    key
}

/// A domain error keeps its code, message and field; its status is its code's.
#[cfg(feature = "ssr")]
impl From<domain::DomainError> for AppError {
    fn from(err: domain::DomainError) -> Self {
        Self::new(err.code(), err.to_string(), err.field())
    }
}

/// The plain HTTP routes beside the server functions answer errors in the same shape and status.
#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status = http::StatusCode::from_u16(self.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_key_around_a_position() {
        let body = br#"{"namespace_id":"abc","limit":"ten","prefix":"x"}"#;
        let column = body.windows(5).position(|w| w == b"\"ten\"").unwrap() + 5;
        assert_eq!(field_at(body, 1, column).as_deref(), Some("limit"));
        let body = b"{\n  \"title\": 5,\n  \"page\": {\"nested\": true}\n}";
        assert_eq!(field_at(body, 2, 13).as_deref(), Some("title"));
        assert_eq!(field_at(body, 3, 20).as_deref(), Some("page"));
    }

    #[test]
    fn rewrites_the_message_to_name_the_field() {
        let error = AppError::new(
            "invalid_input",
            "body: invalid type: string \"one\", expected u32 at line 1 column 12",
            Some("body"),
        );
        let named = name_field(&error, br#"{"page":"one"}"#).unwrap();
        assert_eq!(named.field.as_deref(), Some("page"));
        assert_eq!(named.message, "page: invalid type: string \"one\", expected u32");
    }
}
