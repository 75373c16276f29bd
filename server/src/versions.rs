//! Version tokens on the HTTP surfaces that speak of one key (`/v1/kv`, `/client/v4`): the `ETag`
//! a read or write answers, and the `If-Match` / `If-None-Match` a write sends back. Each surface
//! answers a refusal in its own error shape.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use domain::{DomainResult, Precondition};

/// `response` with a key's version as its (strong) `ETag`.
pub fn with_etag(mut response: Response, version: Option<&str>) -> Response {
    if let Some(value) = version.and_then(|v| HeaderValue::from_str(&format!("\"{v}\"")).ok()) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// The precondition a write's `If-Match` / `If-None-Match` ask for (see
/// [`Precondition::from_http`]); a refusal names its header.
pub fn precondition(headers: &HeaderMap) -> DomainResult<Option<Precondition>> {
    let text = |name: header::HeaderName, field: &str| {
        headers
            .get(&name)
            .map(|v| v.to_str().map_err(|_| domain::DomainError::invalid(field, format!("{field}: not visible ASCII"))))
            .transpose()
    };
    let if_match = text(header::IF_MATCH, "If-Match")?;
    let if_none_match = text(header::IF_NONE_MATCH, "If-None-Match")?;
    Precondition::from_http(if_match, if_none_match)
}
