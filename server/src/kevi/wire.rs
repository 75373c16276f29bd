//! What `/v1/kv` sends and receives, one type per body: the handlers build these, and the
//! OpenAPI document's schemas are derived from the same types (utoipa), so that the document
//! cannot describe a field the server does not send. The replies every operation shares (401,
//! 403, 429, 500, 502) are declared here once, with the handlers' own messages as examples.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AnyOfBuilder, Ref, Schema};
use utoipa::{IntoResponses, ToSchema};

/// The answer to a missing, unknown or revoked token and a disabled service alike.
pub const UNAUTHORIZED: &str = "send a valid token of an enabled service in X-Kevi-Token (missing, unknown, revoked and \
                                disabled tokens all get this answer)";
pub const READ_ONLY: &str = "this service may only read: writes need the admin role";
pub const WRITTEN: &str = "Key created/updated successfully";
pub const DELETED: &str = "Key deleted successfully";

/// The `status` of every success.
#[derive(Clone, Copy, Serialize, ToSchema)]
pub enum Ok {
    #[serde(rename = "ok")]
    Ok,
}

/// Every error of the API but a role refusal.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// The status's reason phrase (`Bad Request`, `Unauthorized`, …).
    #[schema(example = "Bad Request")]
    pub error: &'static str,
    /// What went wrong; starts with the field at fault when there is one.
    pub message: String,
    /// The input at fault (`key`, `value`, `metadata`, `ttl`, `body`, `limit`, `query`, `prefix`,
    /// `cursor`, `namespace_id`, `Origin`, or an unknown field's name).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field: Option<String>,
}

impl ErrorBody {
    pub fn new(status: StatusCode, message: impl Into<String>, field: Option<&str>) -> Self {
        Self {
            error: status.canonical_reason().unwrap_or("Error"),
            message: message.into(),
            field: field.map(str::to_owned),
        }
    }

    /// An example body for the document.
    pub fn example(status: u16, message: impl Into<String>, field: Option<&str>) -> Self {
        Self::new(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), message, field)
    }
}

/// The `error` of a role refusal.
#[derive(Clone, Copy, Serialize, ToSchema)]
pub enum PermissionDeniedError {
    #[serde(rename = "Permission Denied")]
    PermissionDenied,
}

/// The role a write needs.
#[derive(Clone, Copy, Serialize, ToSchema)]
pub enum RequiredRole {
    #[serde(rename = "admin")]
    Admin,
}

/// The role of a service that was refused a write.
#[derive(Clone, Copy, Serialize, ToSchema)]
pub enum RefusedRole {
    #[serde(rename = "read-only")]
    ReadOnly,
}

/// A write by a service whose role may only read.
#[derive(Serialize, ToSchema)]
pub struct PermissionDenied {
    #[schema(inline)]
    pub error: PermissionDeniedError,
    #[schema(example = "this service may only read: writes need the admin role")]
    pub message: &'static str,
    /// The role the operation needs.
    #[schema(inline)]
    pub required: RequiredRole,
    /// The service's role.
    #[schema(inline)]
    pub current: RefusedRole,
}

impl PermissionDenied {
    pub fn new(current: RefusedRole) -> Self {
        Self {
            error: PermissionDeniedError::PermissionDenied,
            message: READ_ONLY,
            required: RequiredRole::Admin,
            current,
        }
    }
}

/// A 403 of a write: the origin, or the role.
#[derive(Serialize)]
#[serde(untagged)]
pub enum WriteRefusal {
    Origin(ErrorBody),
    Role(PermissionDenied),
}

/// Any of the two, not one of them: a role refusal has every field an error has, so it is valid
/// under both schemas (a derived `oneOf` would call it invalid).
impl utoipa::PartialSchema for WriteRefusal {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(Ref::from_schema_name(ErrorBody::name()))
            .item(Ref::from_schema_name(PermissionDenied::name()))
            .description(Some("A 403 of a write: the origin (`Error`), or the role (`PermissionDenied`)."))
            .into()
    }
}

impl ToSchema for WriteRefusal {}

/// One key of a listing.
#[derive(Serialize, ToSchema)]
pub struct KeyEntry {
    /// The key, without the service's prefix.
    pub name: String,
    /// Its metadata (null when it has none).
    #[schema(required, value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// When it expires, in Unix seconds; absent when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub expiration: Option<i64>,
}

/// A page of a listing.
#[derive(Serialize, ToSchema)]
pub struct KeyList {
    #[schema(inline)]
    pub status: Ok,
    pub keys: Vec<KeyEntry>,
    /// True on the last page.
    pub list_complete: bool,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub cursor: Option<String>,
}

/// A key read.
#[derive(Serialize, ToSchema)]
pub struct KeyValue {
    #[schema(inline)]
    pub status: Ok,
    /// The value: the JSON written, or a string for a value that is not JSON.
    pub data: Value,
    /// The key's metadata: the client's fields with the server's `updated_by` and `updated_at`
    /// (`{}` when it has none).
    #[schema(value_type = Object)]
    pub metadata: Value,
    /// When it expires, in Unix seconds; absent when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub expiration: Option<i64>,
}

/// A write refused by its precondition (`409`, `field: version`): the key changed or was
/// deleted since the version named in `If-Match` was read, or it exists although
/// `If-None-Match: *` asked for a new key.
#[derive(Serialize, ToSchema)]
#[schema(as = Conflict)]
pub struct ConflictBody {
    #[schema(example = "Conflict")]
    pub error: &'static str,
    /// Who changed the key and when, where that is known.
    pub message: String,
    /// Always `version`.
    pub field: String,
    /// The key as it is now; absent when it does not exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub current: Option<CurrentKey>,
}

/// The key a conflicting write found.
#[derive(Serialize, ToSchema)]
pub struct CurrentKey {
    /// The value, as a read answers it.
    pub data: Value,
    #[schema(value_type = Object)]
    pub metadata: Value,
    /// When it expires, in Unix seconds; absent when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub expiration: Option<i64>,
    /// Its version: the `ETag` a read answers, without the quotes.
    pub version: String,
}

/// The body of a write, as the handler reads it field by field (so that each refusal names its
/// field): `value`, and optionally `metadata` and `ttl`; nothing else.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // The handler checks the JSON field by field; this is its shape.
pub struct WriteRequest {
    /// Any JSON value, `null` included; at most 25 MiB as JSON.
    #[schema(required, value_type = Value)]
    pub value: Value,
    /// Fields of the client's own; `updated_by` and `updated_at` are the server's.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// Seconds until the key expires (a whole number: `120.0` counts as `120`); none when
    /// absent or null.
    #[schema(minimum = 60, maximum = 9_007_199_254_740_991_i64)]
    pub ttl: Option<i64>,
}

/// The `message` of a write.
#[derive(Clone, Copy, Serialize, ToSchema)]
pub enum WrittenMessage {
    #[serde(rename = "Key created/updated successfully")]
    Written,
}

/// The `message` of a delete.
#[derive(Clone, Copy, Serialize, ToSchema)]
pub enum DeletedMessage {
    #[serde(rename = "Key deleted successfully")]
    Deleted,
}

/// A key written.
#[derive(Serialize, ToSchema)]
pub struct WriteResult {
    #[schema(inline)]
    pub status: Ok,
    #[schema(inline)]
    pub message: WrittenMessage,
    /// The key, as the client named it.
    pub key: String,
}

/// A key deleted.
#[derive(Serialize, ToSchema)]
pub struct DeleteResult {
    #[schema(inline)]
    pub status: Ok,
    #[schema(inline)]
    pub message: DeletedMessage,
    /// The key, as the client named it.
    pub key: String,
}

/// Whether the database answers.
#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Ok,
    Unavailable,
}

/// The database the server runs on.
#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Database {
    Sqlite,
    Postgres,
}

impl From<domain::DatabaseKind> for Database {
    fn from(kind: domain::DatabaseKind) -> Self {
        match kind {
            domain::DatabaseKind::Sqlite => Self::Sqlite,
            domain::DatabaseKind::Postgres => Self::Postgres,
        }
    }
}

/// `GET /health`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(inline)]
    pub status: HealthStatus,
    /// The server's version.
    pub version: &'static str,
    #[schema(format = DateTime)]
    pub timestamp: String,
    #[schema(inline)]
    pub database: Database,
}

/// A body as JSON with a status.
pub fn reply<T: Serialize>(status: StatusCode, body: T) -> Response {
    (status, axum::Json(body)).into_response()
}

// ---- the replies every operation shares ---------------------------------------------------------
// Each is a status of the document, with its body's type; the handlers build the body itself
// (`failure`, `PermissionDenied::new`), so the field is only read by the derive.

/// 401.
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "No `X-Kevi-Token`, or a token that is unknown, revoked, or of a disabled service; the master token \
                   without an `X-Kevi-Service` naming an existing service. One answer for all, so that it tells \
                   nothing about which tokens exist.",
    examples(("token" = (summary = "Missing or invalid token", value = json!(ErrorBody::example(401, UNAUTHORIZED, None)))))
)]
#[allow(dead_code)]
pub struct Unauthorized(ErrorBody);

/// 429.
#[derive(IntoResponses)]
#[response(
    status = 429,
    description = "Over the rate limit of this token (`KVM_KEVI_RATE` requests a second, default 100, with bursts \
                   of twice that). Checked right after the token, before anything else.",
    headers(("Retry-After" = u64, description = "Whole seconds to wait before the next request (at least 1).")),
    examples(("rate" = (summary = "Rate limit reached", value = json!(ErrorBody::example(429, "too many requests with this token; retry in 1 s", None)))))
)]
#[allow(dead_code)]
pub struct TooManyRequests(ErrorBody);

pub fn origin_refused(origin: &str) -> String {
    format!("origin {origin} is not allowed for this service")
}

/// 403 of a read.
#[derive(IntoResponses)]
#[response(
    status = 403,
    description = "The request carries an `Origin` that the service does not allow (`--origin`; `*` allows any). \
                   A key matching one of the service's public keys may be read from any origin.",
    examples(("origin" = (summary = "Origin not allowed", value = json!(ErrorBody::example(403, origin_refused("https://evil.example"), None)))))
)]
#[allow(dead_code)]
pub struct ReadForbidden(ErrorBody);

/// 403 of a write.
#[derive(IntoResponses)]
#[response(
    status = 403,
    description = "Either the request carries an `Origin` that the service does not allow (`error: Forbidden`), or \
                   the service is `read-only` and writes need `admin` (`error: Permission Denied`, with `required` \
                   and `current`). The origin is checked first.",
    examples(
        ("origin" = (summary = "Origin not allowed", value = json!(ErrorBody::example(403, origin_refused("https://evil.example"), None)))),
        ("role" = (summary = "A read-only service writing", value = json!(PermissionDenied::new(RefusedRole::ReadOnly))))
    )
)]
#[allow(dead_code)]
pub struct WriteForbidden(WriteRefusal);

/// 500.
#[derive(IntoResponses)]
#[response(
    status = 500,
    description = "The server failed (the cause is logged); try again later.",
    examples(("internal" = (summary = "Internal failure", value = json!(ErrorBody::example(500, "internal error", None)))))
)]
#[allow(dead_code)]
pub struct Internal(ErrorBody);

/// 502.
#[derive(IntoResponses)]
#[response(
    status = 502,
    description = "With `KVM_BACKEND=cloudflare` only: Cloudflare refused the request, failed or could not be \
                   reached (its status, code and message are in `message`; its 401, 403 and 429 are never passed \
                   on as if they were about this request's token, origin or rate).",
    examples(("upstream" = (summary = "Cloudflare failed", value = json!(ErrorBody::example(502, "Cloudflare answered 503: service unavailable", None)))))
)]
#[allow(dead_code)]
pub struct BadGateway(ErrorBody);

/// 404 of a key's read or delete.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "The key does not exist (or has expired) (`field: key`); or the service's namespace was deleted \
                   (`field: namespace_id`).",
    examples(
        ("key" = (summary = "No such key", value = json!(ErrorBody::example(404, key_missing("user/43"), Some("key"))))),
        ("namespace" = (summary = "Namespace deleted", value = json!(namespace_gone())))
    )
)]
#[allow(dead_code)]
pub struct KeyNotFound(ErrorBody);

/// 404 of an operation on the service's namespace as a whole.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "The service's namespace was deleted (`field: namespace_id`).",
    examples(("namespace" = (summary = "Namespace deleted", value = json!(namespace_gone()))))
)]
#[allow(dead_code)]
pub struct NamespaceGone(ErrorBody);

/// The example of a deleted namespace: the domain's own error.
pub fn namespace_gone() -> ErrorBody {
    let err = domain::DomainError::namespace_not_found("0f9e8d7c6b5a49382716051423324150");
    ErrorBody::example(err.status(), err.to_string(), err.field())
}

pub fn key_missing(key: &str) -> String {
    format!("key: {key:?} does not exist")
}
