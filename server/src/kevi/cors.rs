//! CORS preflights of `/v1/kv` (`OPTIONS`): no token; some enabled service must allow the
//! origin (or, for a `GET` of a key, have the key public).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::wire::{ErrorBody, Internal};
use super::{ALLOWED_HEADERS, KEY_METHODS, KeviState, LIST_METHODS, domain_failure, failure, origin_of, with_cors};

const NO_ORIGIN: &str = "a CORS preflight needs an Origin header";

fn method_refused(method: &str, methods: &str) -> String {
    format!("{method} is not a method of this route ({methods})")
}

fn no_service_allows(origin: &str) -> String {
    format!("origin {origin} is not allowed by any service")
}

/// The example of a refused method.
fn method_example(methods: &str) -> ErrorBody {
    ErrorBody::example(403, method_refused("PATCH", methods), None)
}

fn origin_example() -> ErrorBody {
    ErrorBody::example(403, no_service_allows("https://evil.example"), None)
}

fn no_origin_example() -> Value {
    serde_json::json!(ErrorBody::example(400, NO_ORIGIN, Some("Origin")))
}

/// The two preflights differ in their path and the methods they grant.
macro_rules! preflight_operation {
    (
        $path:literal, $id:literal, $summary:literal, $description:literal, $methods:ident, $allow:literal,
        [$($param:tt)*], fn $name:ident($($arg:tt)*) -> $key:expr
    ) => {
        #[utoipa::path(
            options, path = $path, operation_id = $id, tag = "CORS",
            summary = $summary,
            description = $description,
            params(
                $($param)*
                ("Origin" = String, Header, pattern = "^[!-~]+$", example = "https://app.example.com",
                 description = "The page's origin: some enabled service must allow it (or, for `GET` of a key, \
                                have the key public)."),
                ("Access-Control-Request-Method" = Option<String>, Header, nullable = false, example = "PUT",
                 description = "The method the page means to send; `GET` when absent."),
            ),
            responses(
                (status = 204, description = "The preflight is granted: the browser may send the request. No body.",
                 headers(
                    ("Access-Control-Allow-Origin" = String, description = "The request's `Origin`."),
                    ("Access-Control-Allow-Methods" = String, description = $allow),
                    ("Access-Control-Allow-Headers" = String, description = "`X-Kevi-Token, X-Kevi-Service, Content-Type, If-Match, If-None-Match`."),
                    ("Access-Control-Max-Age" = u32, description = "`600` (seconds the answer may be cached)."),
                    ("Vary" = String, description = "`Origin`."),
                 )),
                (status = 400, description = "No `Origin` header, or one that is not an origin (`field: Origin`).",
                 body = ErrorBody, examples(("origin" = (summary = "No Origin", value = json!(no_origin_example()))))),
                (status = 403, description = "`Access-Control-Request-Method` is not a method of this path, or no \
                    enabled service allows the origin (nor has the key public, for a `GET`).", body = ErrorBody,
                 examples(
                    ("method" = (summary = "Method not offered", value = json!(method_example($methods)))),
                    ("origin" = (summary = "Origin not allowed", value = json!(origin_example())))
                 )),
                Internal,
            ),
        )]
        pub(super) async fn $name(State(state): State<KeviState>, headers: HeaderMap, $($arg)*) -> Response {
            preflight(&state, &headers, $key, $methods).await
        }
    };
}

preflight_operation!(
    "/v1/kv",
    "preflightList",
    "CORS preflight of the listing",
    "Browsers send it before a cross-origin listing. Needs no token.",
    LIST_METHODS,
    "`GET, OPTIONS`.",
    [],
    fn preflight_list() -> None
);
preflight_operation!(
    "/v1/kv/{key}",
    "preflightKey",
    "CORS preflight of a key",
    "Browsers send it before a cross-origin read or write. Needs no token.",
    KEY_METHODS,
    "`GET, POST, PUT, DELETE, OPTIONS`.",
    [("key" = String, Path, description = super::keys::key_description(), min_length = 1, example = "user/42"),],
    fn preflight_key(Path(key): Path<String>) -> Some(&key)
);

async fn preflight(state: &KeviState, headers: &HeaderMap, key: Option<&str>, methods: &'static str) -> Response {
    let Some(origin) = origin_of(headers) else {
        return failure(StatusCode::BAD_REQUEST, NO_ORIGIN, Some("Origin"));
    };
    // An origin is scheme://host[:port]: printable ASCII with no space, as browsers send it.
    if !origin.bytes().all(|b| b.is_ascii_graphic()) {
        return failure(StatusCode::BAD_REQUEST, "Origin: not an origin (printable ASCII, no spaces)", Some("Origin"));
    }
    let method = headers
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("GET")
        .to_ascii_uppercase();
    if !methods.split(", ").any(|m| m == method) {
        return with_cors(failure(StatusCode::FORBIDDEN, method_refused(&method, methods), None), None);
    }
    let public_key = if method == "GET" { key } else { None };
    match state.services.preflight_allowed(origin, public_key).await {
        Ok(true) => {}
        Ok(false) => {
            return with_cors(failure(StatusCode::FORBIDDEN, no_service_allows(origin), None), None);
        }
        Err(err) => return domain_failure(err),
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let out = response.headers_mut();
    out.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(methods));
    out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOWED_HEADERS));
    out.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    with_cors(response, HeaderValue::from_str(origin).ok())
}
