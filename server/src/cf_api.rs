//! Cloudflare's Workers KV REST contract (API v4) over our own store, under `/client/v4`, so that
//! wrangler, Cloudflare's SDKs and scripts written for Cloudflare work against this server. Every
//! write goes through the same domain path as the console (search index, versions, audit with
//! source `cf-api` and the token's name as the user). Requests sign in with an API token
//! (`Authorization: Bearer`), checked by the identity middleware.

// Helpers here fail with the finished response, which the handler returns as it is.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{
    DefaultBodyLimit, Extension, FromRequest, FromRequestParts, Multipart, Path, Query, Request, State,
};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use base64::Engine;
use domain::tokens::ApiToken;
use domain::{Actor, DetailsWrite, DomainError, DomainResult, KeyQuery, Kv, NamespaceQuery, PutKey};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_http::limit::RequestBodyLimitLayer;

/// Cloudflare's limits on one bulk write or delete request.
pub const MAX_BULK_ITEMS: usize = 10_000;
pub const MAX_BULK_BYTES: usize = 100 * 1024 * 1024;
/// Keys one bulk get may ask for.
pub const MAX_BULK_GET: usize = 100;
/// The account id when none is configured.
pub const DEFAULT_ACCOUNT_ID: &str = "6b766d6c6f63616c6163636f756e7431";

#[derive(Clone)]
pub struct CfState {
    pub kv: Kv,
    pub account_id: String,
}

/// The routes, relative to `/client/v4` (nested there by the main router).
pub fn router(state: CfState) -> Router {
    let ns = "/accounts/{account_id}/storage/kv/namespaces";
    Router::new()
        .route("/user/tokens/verify", get(verify_token))
        .route("/accounts", get(accounts))
        .route("/memberships", get(memberships))
        .route(ns, get(list_namespaces).post(create_namespace))
        .route(&format!("{ns}/{{namespace_id}}"), get(get_namespace).put(rename_namespace).delete(delete_namespace))
        .route(&format!("{ns}/{{namespace_id}}/keys"), get(list_keys))
        .route(&format!("{ns}/{{namespace_id}}/values/{{*key}}"), get(get_value).put(put_value).delete(delete_value))
        .route(&format!("{ns}/{{namespace_id}}/metadata/{{*key}}"), get(get_metadata))
        .route(&format!("{ns}/{{namespace_id}}/bulk"), put(bulk_write).delete(bulk_delete))
        .route(&format!("{ns}/{{namespace_id}}/bulk/delete"), post(bulk_delete))
        .route(&format!("{ns}/{{namespace_id}}/bulk/get"), post(bulk_get))
        // Nested as a service: the route template (with the prefix) is known in here.
        .route_layer(axum::middleware::from_fn(crate::metrics::note_route))
        .fallback(any(no_route))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BYTES))
        .layer(axum::middleware::from_fn(refuse_oversize))
        .with_state(state)
}

/// The largest request body (bulk writes), with room for the envelope around the items.
const MAX_REQUEST_BYTES: usize = MAX_BULK_BYTES + 1024 * 1024;

/// A request declaring a body over the limit is refused before anything reads it, in the
/// envelope (413, code 10011). A body longer than it said is cut off by the body limit and refused
/// by the extractor that reads it ([`CfBody`]).
async fn refuse_oversize(request: Request, next: axum::middleware::Next) -> Response {
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_REQUEST_BYTES as u64) {
        return refused(StatusCode::PAYLOAD_TOO_LARGE, String::new());
    }
    next.run(request).await
}

async fn method_not_allowed() -> Response {
    failure(StatusCode::METHOD_NOT_ALLOWED, 10000, "method not allowed for this route")
}

/// An extractor's refusal (a path, query or body that is not what the route takes) in the
/// envelope, as clients that read `errors[0].code` expect.
fn refused(status: StatusCode, text: String) -> Response {
    let text = text.trim();
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (10011, format!("request body too large: at most {MAX_REQUEST_BYTES} bytes")),
        s if s.is_server_error() => (10002, "internal error".to_owned()),
        _ if text.is_empty() => (10001, "could not parse the request".to_owned()),
        _ => (10001, format!("could not parse the request: {text}")),
    };
    failure(status, code, &message)
}

/// What an axum extractor's rejection tells: its status and text.
trait Refusal {
    fn status(&self) -> StatusCode;
    fn body_text(&self) -> String;
}

macro_rules! refusal {
    ($($rejection:ty),*) => {$(
        impl Refusal for $rejection {
            fn status(&self) -> StatusCode {
                <$rejection>::status(self)
            }
            fn body_text(&self) -> String {
                <$rejection>::body_text(self)
            }
        }
    )*};
}
refusal!(PathRejection, QueryRejection, BytesRejection);

/// `Path` or `Query` whose refusal is answered in the envelope.
struct Cf<E>(E);

impl<S, E> FromRequestParts<S> for Cf<E>
where
    S: Send + Sync,
    E: FromRequestParts<S>,
    E::Rejection: Refusal,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        E::from_request_parts(parts, state).await.map(Cf).map_err(|r| refused(r.status(), r.body_text()))
    }
}

/// The request body, refused in the envelope when it cannot be read (413 over the limit).
struct CfBody(Bytes);

impl<S: Send + Sync> FromRequest<S> for CfBody {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        Bytes::from_request(request, state)
            .await
            .map(CfBody)
            .map_err(|r| refused(Refusal::status(&r), Refusal::body_text(&r)))
    }
}

// ---- the envelope --------------------------------------------------------------------------

fn success(result: Value) -> Response {
    axum::Json(json!({ "success": true, "errors": [], "messages": [], "result": result })).into_response()
}

fn success_with_info(result: Value, info: Value) -> Response {
    axum::Json(json!({ "success": true, "errors": [], "messages": [], "result": result, "result_info": info }))
        .into_response()
}

/// A failure in Cloudflare's shape, with its code and status.
pub fn failure(status: StatusCode, code: u32, message: &str) -> Response {
    let body =
        json!({ "success": false, "errors": [{ "code": code, "message": message }], "messages": [], "result": null });
    (status, axum::Json(body)).into_response()
}

/// A domain error as Cloudflare reports the same condition: the one mapping of `/client/v4`.
pub fn cf_error(err: DomainError) -> Response {
    let message = err.to_string();
    let (status, code) = match &err {
        DomainError::NotFound { field, .. } if field.as_deref() == Some("key") => (StatusCode::NOT_FOUND, 10009),
        DomainError::NotFound { .. } => (StatusCode::NOT_FOUND, 10013),
        DomainError::Conflict { field, .. } if field.as_deref() == Some("title") => (StatusCode::BAD_REQUEST, 10014),
        DomainError::Conflict { .. } => (StatusCode::CONFLICT, 10001),
        DomainError::Invalid { .. } => (StatusCode::BAD_REQUEST, 10001),
        DomainError::TooLarge { field, .. } if field.as_deref() == Some("key") => (StatusCode::URI_TOO_LONG, 10033),
        DomainError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, 10011),
        DomainError::Gone { .. } => (StatusCode::GONE, 10001),
        DomainError::Unauthorized { .. } => (StatusCode::UNAUTHORIZED, 10000),
        DomainError::Forbidden { .. } => (StatusCode::FORBIDDEN, 10000),
        DomainError::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, 10002),
        // The status every surface gives an upstream failure (502; 404 for Cloudflare's own
        // "not found"), with Cloudflare's own code when it gave one and its words.
        DomainError::Upstream { code, .. } => (
            StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_GATEWAY),
            if *code != 0 { *code } else { 10002 },
        ),
        DomainError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, 10002),
    };
    failure(status, code, &message)
}

fn invalid(field: &str, message: impl std::fmt::Display) -> Response {
    cf_error(DomainError::invalid(field, message))
}

async fn no_route() -> Response {
    failure(StatusCode::NOT_FOUND, 7000, "No route for that URI")
}

fn check_account(state: &CfState, account_id: &str) -> Result<(), Response> {
    if account_id == state.account_id {
        Ok(())
    } else {
        Err(failure(
            StatusCode::NOT_FOUND,
            7003,
            "Could not route to /accounts/…, perhaps your object identifier is invalid?",
        ))
    }
}

macro_rules! attempt {
    ($e:expr) => {
        match $e {
            Ok(value) => value,
            Err(err) => return cf_error(err),
        }
    };
}

/// Cloudflare answers a key name over the limit in a path with 414.
fn check_key_length(key: &str) -> Result<(), Response> {
    if key.len() > domain::limits::MAX_KEY_BYTES {
        return Err(failure(
            StatusCode::URI_TOO_LONG,
            10033,
            &format!(
                "key: UTF-8 encoded length of {} exceeds key length limit of {}.",
                key.len(),
                domain::limits::MAX_KEY_BYTES
            ),
        ));
    }
    Ok(())
}

/// The value of a helper's `Result<T, Response>`, or its finished response.
macro_rules! or_respond {
    ($e:expr) => {
        match $e {
            Ok(value) => value,
            Err(response) => return response,
        }
    };
}

macro_rules! account {
    ($state:expr, $account:expr) => {
        or_respond!(check_account(&$state, &$account))
    };
}

/// JSON from a body, with Cloudflare's validation error when it is not.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|err| invalid("body", format!("body: could not parse the request: {err}")))
}

// ---- account discovery -----------------------------------------------------------------------

async fn verify_token(Extension(token): Extension<ApiToken>) -> Response {
    success(json!({ "id": token.id, "status": "active" }))
}

async fn accounts(State(state): State<CfState>) -> Response {
    let account = json!({ "id": state.account_id, "name": "kv-manager", "type": "standard", "settings": {} });
    success_with_info(json!([account]), json!({ "page": 1, "per_page": 20, "count": 1, "total_count": 1 }))
}

async fn memberships(State(state): State<CfState>) -> Response {
    let membership = json!({
        "id": format!("membership-{}", state.account_id),
        "status": "accepted",
        "account": { "id": state.account_id, "name": "kv-manager" },
        "roles": ["Administrator"],
    });
    success_with_info(json!([membership]), json!({ "page": 1, "per_page": 20, "count": 1, "total_count": 1 }))
}

// ---- namespaces ------------------------------------------------------------------------------

fn namespace_json(namespace: &domain::Namespace) -> Value {
    json!({ "id": namespace.id, "title": namespace.title, "supports_url_encoding": true })
}

#[derive(Deserialize)]
struct NamespaceListQuery {
    page: Option<String>,
    per_page: Option<String>,
    order: Option<String>,
    direction: Option<String>,
}

fn number<T: std::str::FromStr>(field: &str, text: Option<&str>) -> Result<Option<T>, Response> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => {
            text.parse().map(Some).map_err(|_| invalid(field, format!("{field}: {text:?} is not a whole number")))
        }
    }
}

async fn list_namespaces(
    State(state): State<CfState>,
    Extension(actor): Extension<Actor>,
    Cf(Path(account_id)): Cf<Path<String>>,
    Cf(Query(query)): Cf<Query<NamespaceListQuery>>,
) -> Response {
    account!(state, account_id);
    let page = or_respond!(number("page", query.page.as_deref()));
    let per_page = or_respond!(number("per_page", query.per_page.as_deref())).or(Some(20));
    let order_by_id = match query.order.as_deref() {
        None | Some("title") => false,
        Some("id") => true,
        Some(other) => return invalid("order", format!("order: {other:?} is not one of id, title")),
    };
    let descending = match query.direction.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => return invalid("direction", format!("direction: {other:?} is not one of asc, desc")),
    };
    let listed = attempt!(
        state
            .kv
            .list_namespaces(&actor, NamespaceQuery { page, per_page, order_by_id, descending, ..Default::default() })
            .await
    );
    let result: Vec<Value> = listed.namespaces.iter().map(namespace_json).collect();
    let info = json!({
        "count": result.len(),
        "page": listed.page,
        "per_page": listed.per_page,
        "total_count": listed.total,
        "total_pages": listed.total.div_ceil(u64::from(listed.per_page.max(1))),
    });
    success_with_info(Value::Array(result), info)
}

#[derive(Deserialize)]
struct TitleBody {
    title: Option<String>,
}

fn title_of(body: &[u8]) -> Result<String, Response> {
    let parsed: TitleBody = parse(body)?;
    parsed.title.ok_or_else(|| invalid("title", "title: required"))
}

async fn create_namespace(
    State(state): State<CfState>,
    Extension(actor): Extension<Actor>,
    Cf(Path(account_id)): Cf<Path<String>>,
    CfBody(body): CfBody,
) -> Response {
    account!(state, account_id);
    let title = or_respond!(title_of(&body));
    let namespace = attempt!(state.kv.create_namespace(&actor, &title).await);
    success(namespace_json(&namespace))
}

async fn get_namespace(
    State(state): State<CfState>,
    Extension(actor): Extension<Actor>,
    Cf(Path((account_id, namespace_id))): Cf<Path<(String, String)>>,
) -> Response {
    account!(state, account_id);
    let namespace = attempt!(state.kv.get_namespace(&actor, &namespace_id).await);
    success(namespace_json(&namespace))
}

async fn rename_namespace(
    State(state): State<CfState>,
    Extension(actor): Extension<Actor>,
    Cf(Path((account_id, namespace_id))): Cf<Path<(String, String)>>,
    CfBody(body): CfBody,
) -> Response {
    account!(state, account_id);
    let title = or_respond!(title_of(&body));
    let namespace = attempt!(state.kv.rename_namespace(&actor, &namespace_id, &title).await);
    success(namespace_json(&namespace))
}

async fn delete_namespace(
    State(state): State<CfState>,
    Extension(actor): Extension<Actor>,
    Cf(Path((account_id, namespace_id))): Cf<Path<(String, String)>>,
) -> Response {
    account!(state, account_id);
    attempt!(state.kv.delete_namespace(&actor, &namespace_id).await);
    success(Value::Null)
}

// ---- keys --------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct KeyListQuery {
    prefix: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

fn key_json(name: &str, expiration: Option<i64>, metadata: Option<&Value>) -> Value {
    let mut item = json!({ "name": name });
    if let Some(at) = expiration {
        item["expiration"] = json!(at);
    }
    if let Some(metadata) = metadata {
        item["metadata"] = metadata.clone();
    }
    item
}

async fn list_keys(
    State(state): State<CfState>,
    Extension(actor): Extension<Actor>,
    Cf(Path((account_id, namespace_id))): Cf<Path<(String, String)>>,
    Cf(Query(query)): Cf<Query<KeyListQuery>>,
) -> Response {
    account!(state, account_id);
    let limit: u32 = or_respond!(number("limit", query.limit.as_deref())).unwrap_or(1000);
    if !(10..=1000).contains(&limit) {
        return invalid("limit", format!("limit: {limit} is out of range 10..1000"));
    }
    let listed = attempt!(
        state
            .kv
            .list_keys(
                &actor,
                &namespace_id,
                KeyQuery { prefix: query.prefix, limit: Some(limit), cursor: query.cursor.filter(|c| !c.is_empty()) },
            )
            .await
    );
    let result: Vec<Value> = listed.keys.iter().map(|k| key_json(&k.name, k.expiration, k.metadata.as_ref())).collect();
    let cursor = if listed.list_complete { String::new() } else { listed.cursor.unwrap_or_default() };
    success_with_info(Value::Array(result), json!({ "count": listed.keys.len(), "cursor": cursor }))
}

async fn get_value(
    State(state): State<CfState>,
    Extension(actor): Extension<Actor>,
    Cf(Path((account_id, namespace_id, key))): Cf<Path<(String, String, String)>>,
) -> Response {
    account!(state, account_id);
    or_respond!(check_key_length(&key));
    let found = attempt!(state.kv.get_key(&actor, &namespace_id, &key).await);
    let version = found.version.clone();
    let mut response = found.value.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    if let Some(at) = found.expiration {
        headers.insert("expiration", HeaderValue::from(at));
    }
    crate::versions::with_etag(response, version.as_deref())
}

async fn get_metadata(
    State(state): State<CfState>,
    Extension(actor): Extension<Actor>,
    Cf(Path((account_id, namespace_id, key))): Cf<Path<(String, String, String)>>,
) -> Response {
    account!(state, account_id);
    or_respond!(check_key_length(&key));
    let found = attempt!(state.kv.get_key(&actor, &namespace_id, &key).await);
    success(found.metadata.unwrap_or(Value::Null))
}

#[derive(Deserialize)]
struct WriteQuery {
    expiration: Option<String>,
    expiration_ttl: Option<String>,
}

/// `PUT .../values/{key}`: the body is the value, or a multipart form with `value` and
/// `metadata` (JSON); expiration in the query.
async fn put_value(
    State(state): State<CfState>,
    Extension(actor): Extension<Actor>,
    Cf(Path((account_id, namespace_id, key))): Cf<Path<(String, String, String)>>,
    Cf(Query(query)): Cf<Query<WriteQuery>>,
    request: Request,
) -> Response {
    account!(state, account_id);
    or_respond!(check_key_length(&key));
    let expiration = or_respond!(number::<i64>("expiration", query.expiration.as_deref()));
    let expiration_ttl = or_respond!(number::<i64>("expiration_ttl", query.expiration_ttl.as_deref()));
    let expect = attempt!(crate::versions::precondition(request.headers()));
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("multipart/form-data"));
    let (value, metadata) = if multipart {
        or_respond!(read_form(request).await)
    } else {
        match Bytes::from_request(request, &()).await {
            Ok(bytes) => (bytes.to_vec(), None),
            Err(err) => return failure(err.status(), 10001, &format!("body: {}", err.body_text())),
        }
    };
    let put = PutKey { name: key.clone(), value, metadata, expiration, expiration_ttl };
    // An extension of ours that Cloudflare's clients never send: `If-Match` / `If-None-Match: *`.
    match state.kv.put_key_checked(&actor, &namespace_id, put, expect).await {
        Ok(version) => crate::versions::with_etag(success(Value::Null), Some(&version)),
        Err(err @ DomainError::Conflict { .. }) if err.field() == Some("version") => {
            // The key's version now rides on the 409, for a retry without another read.
            let now = state.kv.get_key(&actor, &namespace_id, &key).await.ok().and_then(|found| found.version);
            crate::versions::with_etag(cf_error(err), now.as_deref())
        }
        Err(err) => cf_error(err),
    }
}

async fn read_form(request: Request) -> Result<(Vec<u8>, Option<Value>), Response> {
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|err| invalid("body", format!("body: not a multipart form: {}", err.body_text())))?;
    let (mut value, mut metadata) = (None, None);
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => return Err(invalid("body", format!("body: {}", err.body_text()))),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(|err| invalid(&name, format!("{name}: {}", err.body_text())))?;
        if name.starts_with("metadata[") {
            // How an SDK flattens a metadata object into form fields: the types are lost, so
            // it is refused rather than guessed at.
            return Err(invalid(
                "metadata",
                "metadata: send it as one form field holding JSON (metadata={\"plan\":\"pro\"}), not as metadata[...] fields",
            ));
        }
        match name.as_str() {
            "value" => value = Some(bytes.to_vec()),
            "metadata" => {
                let parsed: Value = serde_json::from_slice(&bytes)
                    .map_err(|err| invalid("metadata", format!("metadata: not valid JSON: {err}")))?;
                metadata = Some(parsed);
            }
            _ => {}
        }
    }
    let value = value.ok_or_else(|| invalid("value", "value: the form has no value field"))?;
    Ok((value, metadata))
}

async fn delete_value(
    State(state): State<CfState>,
    Extension(actor): Extension<Actor>,
    Cf(Path((account_id, namespace_id, key))): Cf<Path<(String, String, String)>>,
) -> Response {
    account!(state, account_id);
    or_respond!(check_key_length(&key));
    attempt!(state.kv.delete_key(&actor, &namespace_id, &key).await);
    success(Value::Null)
}

// ---- bulk --------------------------------------------------------------------------------------

/// One item of a bulk write. Fields Cloudflare ignores (wrangler sends some) are ignored here too.
#[derive(Deserialize)]
struct BulkItem {
    key: String,
    value: String,
    #[serde(default)]
    base64: bool,
    /// Numbers as JSON has them (`3600` and `3600.0` alike), checked into whole seconds below so
    /// that a bad one is named with its item and field.
    expiration: Option<Value>,
    expiration_ttl: Option<Value>,
    metadata: Option<Value>,
}

/// A JSON number as whole seconds; `None` for null. A fraction, a non-number or what no `i64`
/// holds is refused naming the item and field.
fn whole_seconds(index: usize, field: &str, value: Option<Value>) -> Result<Option<i64>, Response> {
    let refuse = |v: &Value| invalid(field, format!("[{index}].{field}: {v} is not a whole number of seconds"));
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match domain::limits::whole_number(&n) {
            Some(n) => Ok(Some(n)),
            None => Err(refuse(&Value::Number(n))),
        },
        Some(other) => Err(refuse(&other)),
    }
}

fn bulk_result(count: usize) -> Response {
    success(json!({ "successful_key_count": count, "unsuccessful_keys": [] }))
}

/// `PUT .../bulk`: up to 10,000 items written together, all or none (the first bad item is named
/// by its index and field).
async fn bulk_write(
    State(state): State<CfState>,
    Extension(actor): Extension<Actor>,
    Cf(Path((account_id, namespace_id))): Cf<Path<(String, String)>>,
    CfBody(body): CfBody,
) -> Response {
    account!(state, account_id);
    let items: Vec<BulkItem> = or_respond!(parse(&body));
    if items.len() > MAX_BULK_ITEMS {
        return invalid("body", format!("body: {} items; a bulk write takes at most {MAX_BULK_ITEMS}", items.len()));
    }
    let count = items.len();
    let now = domain::now_unix();
    let mut valid = Vec::with_capacity(count);
    for (index, item) in items.into_iter().enumerate() {
        let value = if item.base64 {
            match base64::engine::general_purpose::STANDARD.decode(item.value.as_bytes()) {
                Ok(bytes) => bytes,
                Err(_) => return invalid("value", format!("[{index}].value: not valid base64")),
            }
        } else {
            item.value.into_bytes()
        };
        let expiration = or_respond!(whole_seconds(index, "expiration", item.expiration));
        let expiration_ttl = or_respond!(whole_seconds(index, "expiration_ttl", item.expiration_ttl));
        let put = PutKey { name: item.key, value, metadata: item.metadata, expiration, expiration_ttl };
        match domain::ValidPut::new(put, DetailsWrite::default(), now) {
            Ok(put) => valid.push(put),
            Err(err) => return cf_error(at_index(err, index)),
        }
    }
    attempt!(state.kv.put_valid(&actor, &namespace_id, valid).await);
    bulk_result(count)
}

/// The error of the item at `index`, saying so.
fn at_index(err: DomainError, index: usize) -> DomainError {
    match err {
        DomainError::Invalid { field, message } => {
            DomainError::Invalid { field, message: format!("[{index}].{message}") }
        }
        DomainError::TooLarge { field, message } => {
            DomainError::TooLarge { field, message: format!("[{index}].{message}") }
        }
        other => other,
    }
}

/// `POST .../bulk/delete` and the older `DELETE .../bulk`: up to 10,000 key names.
async fn bulk_delete(
    State(state): State<CfState>,
    Extension(actor): Extension<Actor>,
    Cf(Path((account_id, namespace_id))): Cf<Path<(String, String)>>,
    CfBody(body): CfBody,
) -> Response {
    account!(state, account_id);
    let keys: Vec<String> = or_respond!(parse(&body));
    if keys.len() > MAX_BULK_ITEMS {
        return invalid("body", format!("body: {} keys; a bulk delete takes at most {MAX_BULK_ITEMS}", keys.len()));
    }
    attempt!(state.kv.delete_many(&actor, &namespace_id, &keys).await);
    bulk_result(keys.len())
}

#[derive(Deserialize)]
struct BulkGet {
    keys: Vec<String>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(rename = "withMetadata", default)]
    with_metadata: bool,
}

/// `POST .../bulk/get`: up to 100 keys; missing ones are `null`.
async fn bulk_get(
    State(state): State<CfState>,
    Extension(actor): Extension<Actor>,
    Cf(Path((account_id, namespace_id))): Cf<Path<(String, String)>>,
    CfBody(body): CfBody,
) -> Response {
    account!(state, account_id);
    let asked: BulkGet = or_respond!(parse(&body));
    if asked.keys.len() > MAX_BULK_GET {
        return invalid("keys", format!("keys: {} keys; a bulk get takes at most {MAX_BULK_GET}", asked.keys.len()));
    }
    let as_json = match asked.kind.as_deref() {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => return invalid("type", format!("type: {other:?} is not one of text, json")),
    };
    let found = attempt!(read_many(&state.kv, &actor, &namespace_id, &asked.keys).await);
    let mut values = serde_json::Map::new();
    for name in &asked.keys {
        let entry = match found.get(name) {
            None => Value::Null,
            Some(kv) => {
                let value = if as_json {
                    match serde_json::from_slice::<Value>(&kv.value) {
                        Ok(value) => value,
                        Err(_) => return invalid("type", format!("type: the value of {name:?} is not JSON")),
                    }
                } else {
                    Value::String(String::from_utf8_lossy(&kv.value).into_owned())
                };
                if asked.with_metadata {
                    json!({ "value": value, "metadata": kv.metadata, "expiration": kv.expiration })
                } else {
                    value
                }
            }
        };
        values.insert(name.clone(), entry);
    }
    success(json!({ "values": values }))
}

async fn read_many(
    kv: &Kv,
    actor: &Actor,
    namespace_id: &str,
    names: &[String],
) -> DomainResult<HashMap<String, domain::KeyValue>> {
    // A namespace the actor may not see is absent, as is one that does not exist.
    let namespace = kv.namespace(actor, namespace_id, domain::Need::Read).await?;
    namespace.require().await?;
    for name in names {
        domain::limits::check_key_name(name)?;
    }
    Ok(namespace.get_many(names).await?.into_iter().map(|k| (k.name.clone(), k)).collect())
}
