//! The key operations of `/v1/kv`: list, read, write, delete. Each handler carries its part of
//! the OpenAPI document (`#[utoipa::path]`): its parameters, body and every status it answers,
//! with the wire types of [`super::wire`] as schemas and the handler's own messages as examples.

// Helpers here fail with the finished response, which the handler returns as it is.
#![allow(clippy::result_large_err)]

use axum::body::to_bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::services::Caller;
use domain::{DomainError, KeyQuery, PutKey, limits};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::IntoParams;

use super::wire::{
    BadGateway, ConflictBody, CurrentKey, DeleteResult, DeletedMessage, ErrorBody, Internal, KeyEntry, KeyList,
    KeyNotFound, KeyValue, NamespaceGone, ReadForbidden, TooManyRequests, Unauthorized, WriteForbidden, WriteRequest,
    WriteResult, WrittenMessage, key_missing, reply,
};
use super::{
    DEFAULT_LIST, KeviState, MAX_BODY_BYTES, MAX_LIST, MAX_TTL, Need, admit, admit_key, domain_failure, failure,
};
use crate::versions::{precondition, with_etag};

/// The operations' tag, and the two schemes a token operation accepts.
const TAG: &str = "Keys";

pub(crate) fn key_description() -> String {
    format!(
        "The key, as the service names it; stored as `<prefix>:<key>`, at most {} bytes in all. It may contain \
         `/` (the rest of the path is the key); percent-encode other reserved characters. Must not be empty.",
        limits::MAX_KEY_BYTES
    )
}

const ORIGIN_DESCRIPTION: &str = "Sent by browsers. When present it must be one of the service's allowed origins (403 \
                                  otherwise), except for a read of a public key; an allowed origin is echoed in \
                                  `Access-Control-Allow-Origin`.";

/// The query of a listing.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only keys starting with this (after the service's prefix).
    #[param(nullable = false, example = "user/")]
    prefix: Option<String>,
    /// Keys on this page at most.
    // Read as text, so that a bad one is refused naming `limit`.
    #[param(value_type = Option<u32>, nullable = false, minimum = 1, maximum = 1000, default = 100)]
    limit: Option<String>,
    /// The `cursor` of the previous page (empty: the first page).
    #[param(nullable = false)]
    cursor: Option<String>,
}

fn list_description() -> String {
    format!(
        "One page of the service's live keys, in byte order of their names (without the service's prefix). \
         Follow `cursor` until `list_complete` is true. `limit` is 1 to {MAX_LIST} (default {DEFAULT_LIST})."
    )
}

fn page_example() -> Value {
    json!({
        "status": "ok",
        "keys": [
            { "name": "user/41", "metadata": { "updated_by": "web", "updated_at": "2026-11-26T12:00:00.000Z" } },
            { "name": "user/42", "metadata": { "owner": "web", "updated_by": "web", "updated_at": "2026-11-26T12:00:01.000Z" }, "expiration": 1795000000 },
        ],
        "list_complete": false,
        "cursor": "d2ViOnVzZXIvNDI",
    })
}

#[utoipa::path(
    get, path = "/v1/kv", operation_id = "listKeys", tag = TAG,
    summary = "List the service's keys",
    description = list_description(),
    params(ListQuery, ("Origin" = Option<String>, Header, nullable = false, description = ORIGIN_DESCRIPTION, example = "https://app.example.com")),
    responses(
        (status = 200, description = "A page of keys; `cursor` is present while more remain.", body = KeyList,
         examples(("page" = (summary = "A page", value = json!(page_example()))))),
        (status = 400, description = "The query, naming the field: `limit` (not a whole number from 1 to 1000), \
            `query` (not a valid query string, a parameter given twice, say), `prefix` (longer than a key can be, or \
            with a NUL character), `cursor` (not a cursor of this store).", body = ErrorBody,
         examples(
            ("limit" = (summary = "Limit out of range", value = json!(ErrorBody::example(400, limit_refused("0"), Some("limit"))))),
            ("query" = (summary = "Bad query string", value = json!(ErrorBody::example(400, BAD_QUERY, Some("query")))))
         )),
        Unauthorized,
        ReadForbidden,
        NamespaceGone,
        TooManyRequests,
        Internal,
        BadGateway,
    ),
    security(("KeviToken" = []), ("KeviToken" = [], "KeviService" = [])),
)]
pub(super) async fn list(
    State(state): State<KeviState>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let admitted = match admit(&state, &headers, None, Need::Read).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let Ok(Query(query)) = query else {
        return admitted.reply(failure(StatusCode::BAD_REQUEST, BAD_QUERY, Some("query")));
    };
    let limit = match query.limit.as_deref().map(str::parse::<u32>) {
        None => DEFAULT_LIST,
        Some(Ok(n)) if (1..=MAX_LIST).contains(&n) => n,
        Some(_) => {
            let given = query.limit.unwrap_or_default();
            return admitted.reply(failure(StatusCode::BAD_REQUEST, limit_refused(&given), Some("limit")));
        }
    };
    let service = &admitted.caller.service;
    let space = service.key_space();
    let prefix = format!("{space}{}", query.prefix.unwrap_or_default());
    let cursor = query.cursor.filter(|c| !c.is_empty());
    let kv = state.services.kv();
    let listed = kv
        .list_keys(
            &admitted.caller.actor(),
            &service.namespace_id,
            KeyQuery { prefix: Some(prefix), cursor, limit: Some(limit) },
        )
        .await;
    let page = match listed {
        Ok(page) => page,
        Err(err) => return admitted.reply(domain_failure(err)),
    };
    let keys = page
        .keys
        .into_iter()
        .filter_map(|k| {
            let name = k.name.strip_prefix(&space)?.to_owned();
            Some(KeyEntry { name, metadata: k.metadata, expiration: k.expiration })
        })
        .collect();
    let cursor = page.cursor.filter(|_| !page.list_complete);
    let body = KeyList { status: super::wire::Ok::Ok, keys, list_complete: page.list_complete, cursor };
    admitted.reply(reply(StatusCode::OK, body))
}

const BAD_QUERY: &str = "query: not a valid query string";

fn limit_refused(given: &str) -> String {
    format!("limit: {given:?} is not a whole number from 1 to {MAX_LIST}")
}

fn key_too_long_example() -> ErrorBody {
    ErrorBody::example(
        400,
        format!("key: 604 bytes with the service prefix \"web:\"; at most {} bytes in all", limits::MAX_KEY_BYTES),
        Some("key"),
    )
}

fn read_example() -> Value {
    json!({
        "status": "ok",
        "data": { "theme": "dark", "items": [1, 2, 3] },
        "metadata": { "owner": "web", "updated_by": "web", "updated_at": "2026-11-26T12:00:01.000Z" },
        "expiration": 1795000000,
    })
}

fn conflict_example() -> Value {
    json!({
        "error": "Conflict",
        "message": "version: the key was changed by web at 2026-11-26T12:00:05Z since version \"r41\" was read; it is at version \"r42\" now",
        "field": "version",
        "current": {
            "data": { "theme": "light" },
            "metadata": { "updated_by": "web", "updated_at": "2026-11-26T12:00:05.000Z" },
            "version": "r42",
        },
    })
}

#[utoipa::path(
    get, path = "/v1/kv/{key}", operation_id = "getKey", tag = TAG,
    summary = "Read a key",
    description = "The value, its metadata and expiration. A value written through this API comes back as the JSON it \
        was; one written otherwise (the console, say) that is not JSON comes back as a string. A key matching one of \
        the service's public keys may be read from any origin.",
    params(
        ("key" = String, Path, description = key_description(), min_length = 1, example = "user/42"),
        ("Origin" = Option<String>, Header, nullable = false, description = ORIGIN_DESCRIPTION, example = "https://app.example.com"),
    ),
    responses(
        (status = 200, description = "The key.", body = KeyValue,
         headers(("ETag" = String, description = "The key's version. Send it back in `If-Match` with a write, and the write is made only if the key is still at this version (`409` otherwise).")),
         examples(("found" = (summary = "A key", value = json!(read_example()))))),
        (status = 400, description = "The key (`field: key`): too long with the service's prefix, or with a NUL \
            character; an empty key (`/v1/kv/`) too.", body = ErrorBody,
         examples(
            ("key" = (summary = "Key too long", value = json!(key_too_long_example()))),
            ("empty" = (summary = "Empty key", value = json!(ErrorBody::example(400, super::EMPTY_KEY, Some("key")))))
         )),
        Unauthorized,
        ReadForbidden,
        KeyNotFound,
        TooManyRequests,
        Internal,
        BadGateway,
    ),
    security(("KeviToken" = []), ("KeviToken" = [], "KeviService" = [])),
)]
pub(super) async fn read(State(state): State<KeviState>, headers: HeaderMap, Path(key): Path<String>) -> Response {
    let (admitted, stored) = match admit_key(&state, &headers, &key, Need::Read).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let service = &admitted.caller.service;
    match state.services.kv().get_key(&admitted.caller.actor(), &service.namespace_id, &stored).await {
        Ok(found) => {
            let version = found.version.clone();
            let (data, metadata, expiration) = read_body(found);
            let body = KeyValue { status: super::wire::Ok::Ok, data, metadata, expiration };
            admitted.reply(with_etag(reply(StatusCode::OK, body), version.as_deref()))
        }
        Err(DomainError::NotFound { field: Some(field), .. }) if field == "key" => {
            admitted.reply(failure(StatusCode::NOT_FOUND, key_missing(&key), Some("key")))
        }
        Err(err) => admitted.reply(domain_failure(err)),
    }
}

/// A read's value (values written here are JSON; one written otherwise reads back as a string),
/// metadata (`{}` when none) and expiration.
fn read_body(found: domain::KeyValue) -> (Value, Value, Option<i64>) {
    let data = serde_json::from_slice::<Value>(&found.value)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&found.value).into_owned()));
    (data, found.metadata.unwrap_or_else(|| json!({})), found.expiration)
}

/// The body of a write, checked field by field: the value as JSON text, the metadata with the
/// server's fields, the TTL. Its shape is [`WriteRequest`].
fn parse_write(bytes: &[u8], caller: &Caller) -> Result<(Vec<u8>, Value, Option<i64>), Response> {
    let bad = |field: &str, message: String| failure(StatusCode::BAD_REQUEST, message, Some(field));
    let body: Value = serde_json::from_slice(bytes).map_err(|e| {
        bad("body", format!("body: not JSON ({e}); send {{\"value\": …, \"metadata\"?: {{…}}, \"ttl\"?: seconds}}"))
    })?;
    let Value::Object(mut body) = body else {
        return Err(bad("body", "body: must be a JSON object with a \"value\"".into()));
    };
    let value = body.remove("value").ok_or_else(|| bad("value", VALUE_MISSING.into()))?;
    let text = serde_json::to_vec(&value).map_err(|e| bad("value", format!("value: {e}")))?;
    if text.len() > limits::MAX_VALUE_BYTES {
        return Err(failure(StatusCode::PAYLOAD_TOO_LARGE, value_too_large(text.len()), Some("value")));
    }
    let mut metadata = match body.remove("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(bad("metadata", METADATA_NOT_OBJECT.into())),
    };
    // The server's own fields: a client cannot set them.
    metadata.insert("updated_by".into(), json!(caller.actor().user));
    metadata
        .insert("updated_at".into(), json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)));
    let metadata = Value::Object(metadata);
    let size = metadata.to_string().len();
    if size > limits::MAX_METADATA_BYTES {
        return Err(failure(StatusCode::PAYLOAD_TOO_LARGE, metadata_too_large(size), Some("metadata")));
    }
    let ttl = match body.remove("ttl") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n))
            if limits::whole_number(&n).is_some_and(|t| (limits::MIN_TTL_SECONDS..=MAX_TTL).contains(&t)) =>
        {
            limits::whole_number(&n)
        }
        Some(other) => return Err(bad("ttl", ttl_refused(&other.to_string()))),
    };
    if let Some(unknown) = body.keys().next() {
        return Err(bad(unknown, unknown_field(unknown)));
    }
    Ok((text, metadata, ttl))
}

const VALUE_MISSING: &str = "value: missing (any JSON, null included)";
const METADATA_NOT_OBJECT: &str = "metadata: must be a JSON object";

fn value_too_large(bytes: usize) -> String {
    format!("value: {bytes} bytes as JSON is over the limit of {} bytes (25 MiB)", limits::MAX_VALUE_BYTES)
}

fn metadata_too_large(bytes: usize) -> String {
    format!(
        "metadata: {bytes} bytes of JSON with updated_by and updated_at is over the limit of {} bytes",
        limits::MAX_METADATA_BYTES
    )
}

fn ttl_refused(given: &str) -> String {
    format!("ttl: {given} is not a whole number of seconds from {} to {MAX_TTL}", limits::MIN_TTL_SECONDS)
}

fn unknown_field(name: &str) -> String {
    format!("{name}: not a field of a write (value, metadata, ttl)")
}

fn body_too_large() -> String {
    format!("body: over {MAX_BODY_BYTES} bytes")
}

fn write_description() -> String {
    format!(
        "Writes the key whole: value, metadata and TTL together (`POST` and `PUT` are the same). The value is stored \
         as its JSON text (at most {} bytes, 25 MiB). The metadata gets the server's `updated_by` (the service's \
         name, or `master`) and `updated_at`, which a client cannot set; with them it must fit in {} bytes of JSON. \
         Needs a service with the `admin` role. The write is versioned, indexed for search and audited (source \
         `kevi`).",
        limits::MAX_VALUE_BYTES,
        limits::MAX_METADATA_BYTES
    )
}

fn too_large_description() -> String {
    format!(
        "Too large, naming the field: `value` (over {} bytes as JSON), `metadata` (over {} bytes of JSON with \
         `updated_by` and `updated_at`), or `body` (over {MAX_BODY_BYTES} bytes).",
        limits::MAX_VALUE_BYTES,
        limits::MAX_METADATA_BYTES
    )
}

/// Both write methods document the same operation under their own id.
macro_rules! write_operation {
    ($method:ident, $id:literal, $summary:literal, $name:ident) => {
        #[utoipa::path(
            $method, path = "/v1/kv/{key}", operation_id = $id, tag = TAG,
            summary = $summary,
            description = write_description(),
            params(
                ("key" = String, Path, description = key_description(), min_length = 1, example = "user/42"),
                ("Origin" = Option<String>, Header, nullable = false, description = ORIGIN_DESCRIPTION, example = "https://app.example.com"),
                ("If-Match" = Option<String>, Header, nullable = false, description = "Write only if the key is still at \
                    this version (the `ETag` a read or write answered); `409` with the key as it is now otherwise. Empty: no condition.",
                    example = "\"r42\"", pattern = "^(\"[!#-+\\--~]{1,128}\")?$"),
                ("If-None-Match" = Option<String>, Header, nullable = false, description = "`*`: write only if the key \
                    does not exist (create only); `409` otherwise. Empty: no condition.", example = "*", pattern = "^\\*?$"),
            ),
            request_body(
                content = WriteRequest, content_type = "application/json",
                description = "A JSON object; fields other than these three are refused.",
                examples(
                    ("json" = (summary = "A JSON value with metadata and a TTL", value = json!({
                        "value": { "theme": "dark", "items": [1, 2, 3] }, "metadata": { "owner": "web" }, "ttl": 3600
                    }))),
                    ("string" = (summary = "A plain string", value = json!({ "value": "hello" })))
                ),
            ),
            responses(
                (status = 200, description = "Written.", body = WriteResult,
                 headers(("ETag" = String, description = "The key's version. Send it back in `If-Match` with a write, and the write is made only if the key is still at this version (`409` otherwise).")),
                 examples(("written" = (summary = "Written", value = json!(WriteResult {
                     status: super::wire::Ok::Ok, message: WrittenMessage::Written, key: "user/42".into()
                 }))))),
                (status = 400, description = "The input, naming the field at fault: `key` (too long with the prefix, \
                    NUL character; an empty key, `/v1/kv/`, too), `body` (not JSON, or not an object), `value` \
                    (missing), `metadata` (not an object), `ttl` (not a whole number of at least 60 seconds), or an \
                    unknown field (named).", body = ErrorBody,
                 examples(
                    ("key" = (summary = "Key too long", value = json!(key_too_long_example()))),
                    ("body" = (summary = "Not JSON", value = json!(ErrorBody::example(400,
                        "body: not JSON (expected value at line 1 column 1); send {\"value\": …, \"metadata\"?: {…}, \"ttl\"?: seconds}",
                        Some("body"))))),
                    ("value" = (summary = "No value", value = json!(ErrorBody::example(400, VALUE_MISSING, Some("value"))))),
                    ("metadata" = (summary = "Metadata not an object", value = json!(ErrorBody::example(400, METADATA_NOT_OBJECT, Some("metadata"))))),
                    ("ttl" = (summary = "TTL too short", value = json!(ErrorBody::example(400, ttl_refused("5"), Some("ttl"))))),
                    ("unknown" = (summary = "Unknown field", value = json!(ErrorBody::example(400, unknown_field("tags"), Some("tags")))))
                 )),
                Unauthorized,
                WriteForbidden,
                NamespaceGone,
                (status = 413, description = too_large_description(), body = ErrorBody,
                 examples(
                    ("value" = (summary = "Value too large", value = json!(ErrorBody::example(413, value_too_large(26_214_500), Some("value"))))),
                    ("metadata" = (summary = "Metadata too large", value = json!(ErrorBody::example(413, metadata_too_large(1100), Some("metadata"))))),
                    ("body" = (summary = "Body too large", value = json!(ErrorBody::example(413, body_too_large(), Some("body")))))
                 )),
                (status = 409, description = "The precondition failed (`field: version`): the key changed or was \
                    deleted since the version in `If-Match` was read, or it exists although `If-None-Match: *` was \
                    sent. `current` is the key as it is now. Both headers at once never hold (`field: \
                    If-None-Match`, no `current`).", body = ConflictBody,
                 examples(("changed" = (summary = "Changed meanwhile", value = json!(conflict_example()))))),
                TooManyRequests,
                Internal,
                BadGateway,
            ),
            security(("KeviToken" = []), ("KeviToken" = [], "KeviService" = [])),
        )]
        pub(super) async fn $name(state: State<KeviState>, headers: HeaderMap, key: Path<String>, request: Request) -> Response {
            write(state, headers, key, request).await
        }
    };
}

write_operation!(put, "putKey", "Write a key", put_key);
write_operation!(post, "postKey", "Write a key (same as PUT)", post_key);

async fn write(
    State(state): State<KeviState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    request: Request,
) -> Response {
    let (admitted, stored) = match admit_key(&state, &headers, &key, Need::Write).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let bytes = match to_bytes(request.into_body(), MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => return admitted.reply(failure(StatusCode::PAYLOAD_TOO_LARGE, body_too_large(), Some("body"))),
    };
    let (value, metadata, ttl) = match parse_write(&bytes, &admitted.caller) {
        Ok(parsed) => parsed,
        Err(response) => return admitted.reply(response),
    };
    let expect = match precondition(&headers) {
        Ok(expect) => expect,
        Err(err) => return admitted.reply(domain_failure(err)),
    };
    let service = &admitted.caller.service;
    let actor = admitted.caller.actor();
    let put = PutKey { name: stored.clone(), value, metadata: Some(metadata), expiration: None, expiration_ttl: ttl };
    match state.services.kv().put_key_checked(&actor, &service.namespace_id, put, expect).await {
        Ok(version) => admitted.reply(with_etag(
            reply(StatusCode::OK, WriteResult { status: super::wire::Ok::Ok, message: WrittenMessage::Written, key }),
            Some(&version),
        )),
        Err(DomainError::Conflict { field: Some(field), message }) if field == "version" => {
            // The key as it is now, so that the client can merge or retry without another read.
            let current = match state.services.kv().get_key(&actor, &service.namespace_id, &stored).await {
                Ok(found) => {
                    let version = found.version.clone().unwrap_or_default();
                    let (data, metadata, expiration) = read_body(found);
                    Some(CurrentKey { data, metadata, expiration, version })
                }
                Err(_) => None,
            };
            let body = ConflictBody { error: "Conflict", message, field, current };
            admitted.reply(reply(StatusCode::CONFLICT, body))
        }
        Err(err) => admitted.reply(domain_failure(err)),
    }
}

#[utoipa::path(
    delete, path = "/v1/kv/{key}", operation_id = "deleteKey", tag = TAG,
    summary = "Delete a key",
    description = "Deletes the key (versioned and audited). Needs a service with the `admin` role.",
    params(
        ("key" = String, Path, description = key_description(), min_length = 1, example = "user/42"),
        ("Origin" = Option<String>, Header, nullable = false, description = ORIGIN_DESCRIPTION, example = "https://app.example.com"),
    ),
    responses(
        (status = 200, description = "Deleted.", body = DeleteResult,
         examples(("deleted" = (summary = "Deleted", value = json!(DeleteResult {
             status: super::wire::Ok::Ok, message: DeletedMessage::Deleted, key: "user/42".into()
         }))))),
        (status = 400, description = "The key (`field: key`): too long with the service's prefix, or with a NUL \
            character; an empty key (`/v1/kv/`) too.", body = ErrorBody,
         examples(("empty" = (summary = "Empty key", value = json!(ErrorBody::example(400, super::EMPTY_KEY, Some("key"))))))),
        Unauthorized,
        WriteForbidden,
        KeyNotFound,
        TooManyRequests,
        Internal,
        BadGateway,
    ),
    security(("KeviToken" = []), ("KeviToken" = [], "KeviService" = [])),
)]
pub(super) async fn remove(State(state): State<KeviState>, headers: HeaderMap, Path(key): Path<String>) -> Response {
    let (admitted, stored) = match admit_key(&state, &headers, &key, Need::Write).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let service = &admitted.caller.service;
    match state.services.kv().delete_key(&admitted.caller.actor(), &service.namespace_id, &stored).await {
        Ok(true) => admitted.reply(reply(
            StatusCode::OK,
            DeleteResult { status: super::wire::Ok::Ok, message: DeletedMessage::Deleted, key },
        )),
        Ok(false) => admitted.reply(failure(StatusCode::NOT_FOUND, key_missing(&key), Some("key"))),
        Err(err) => admitted.reply(domain_failure(err)),
    }
}
