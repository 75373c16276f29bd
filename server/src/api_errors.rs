//! Server function errors as scripts need them: the status their code means, JSON for refused
//! bodies too, and the field named even when serde only gave a position.

use app::error::AppError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::router::MAX_BODY_BYTES;

/// Request bodies up to this size are kept, so a type error can be traced to its field.
const KEEP_BODY_BYTES: usize = 64 * 1024;

/// Server function errors leave the framework with status 500; give them the status their code
/// means, turn a refused oversize body into the same JSON shape, and name the field of a type
/// error from its position in the request body.
pub async fn json_error_status(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let small = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|n| n <= KEEP_BODY_BYTES);
    let (request, kept) = if small {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, KEEP_BODY_BYTES).await.unwrap_or_default();
        (Request::from_parts(parts, Body::from(bytes.clone())), Some(bytes))
    } else {
        (request, None)
    };
    let response = next.run(request).await;
    let status = response.status();
    if status != StatusCode::INTERNAL_SERVER_ERROR && status != StatusCode::PAYLOAD_TOO_LARGE {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let mut error = match serde_json::from_slice::<AppError>(&bytes) {
        Ok(error) => error,
        Err(_) if status == StatusCode::PAYLOAD_TOO_LARGE => AppError::new(
            "too_large",
            format!("body: the request is larger than the limit of {MAX_BODY_BYTES} bytes"),
            Some("body"),
        ),
        Err(_) => return Response::from_parts(parts, Body::from(bytes)),
    };
    if error.field.as_deref() == Some("body") {
        if let Some(named) = kept.and_then(|body| name_field(&error, &body)) {
            error = named;
        } else {
            error.message = error.message.split(" at line").next().unwrap_or_default().to_owned();
        }
    }
    parts.status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(serde_json::to_vec(&error).unwrap_or_default()))
}

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
