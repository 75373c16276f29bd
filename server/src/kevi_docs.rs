//! The reference of the multi-tenant KV API (`/v1/kv`, [`crate::kevi`]): `GET /openapi.json`, an
//! OpenAPI 3.1 document built from the table of operations below, and `GET /docs`, an HTML page
//! rendered from that document by this server (inline CSS, no script, nothing fetched from
//! elsewhere).
//!
//! The table is written by hand beside the handlers: every status a handler of `kevi.rs` answers
//! is listed with its cause and an example body (the messages are the handlers' own, limits taken
//! from the same constants). `server/tests/kevi_docs.rs` makes a running server produce each
//! status and checks that the document has it.

use std::fmt::Write as _;
use std::sync::OnceLock;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::limits;
use serde_json::{Map, Value, json};

use crate::kevi::{DEFAULT_LIST, MAX_BODY_BYTES, MAX_LIST};

pub const OPENAPI_PATH: &str = "/openapi.json";
pub const DOCS_PATH: &str = "/docs";
/// The page's policy: its own inline styles and nothing else (no script, image, font or frame).
pub const DOCS_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /openapi.json` and `GET /docs`. Generic over the state so that it merges into any router
/// (the `/v1/kv` router has its own state).
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route(OPENAPI_PATH, get(openapi_json)).route(DOCS_PATH, get(docs)).method_not_allowed_fallback(
        || async { (StatusCode::METHOD_NOT_ALLOWED, "method not allowed: /openapi.json and /docs take GET") },
    )
}

async fn openapi_json() -> Response {
    static JSON: OnceLock<String> = OnceLock::new();
    let body = JSON.get_or_init(|| serde_json::to_string_pretty(&document()).unwrap_or_default());
    ([(header::CONTENT_TYPE, "application/json")], body.as_str()).into_response()
}

async fn docs() -> Response {
    static HTML: OnceLock<String> = OnceLock::new();
    let body = HTML.get_or_init(|| render_html(&document()));
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body.as_str()).into_response();
    // The security middleware keeps a policy that is already set (it adds its own to non-pages).
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS_POLICY));
    response
}

// ---- the table of operations -------------------------------------------------------------------

/// One method on one path, with every status its handler can answer.
pub struct Operation {
    /// Lower case, as OpenAPI names it.
    pub method: &'static str,
    pub path: &'static str,
    pub id: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub description: String,
    /// Whether it needs `X-Kevi-Token`.
    pub token: bool,
    pub parameters: Vec<Value>,
    pub body: Option<Value>,
    pub responses: Vec<Reply>,
}

/// One status of an operation.
pub struct Reply {
    pub status: u16,
    pub description: String,
    /// Name and description of each header it carries.
    pub headers: Vec<(&'static str, &'static str)>,
    pub schema: Option<Value>,
    /// The body's media type, when it has a schema.
    pub media_type: &'static str,
    /// Name, summary and body of each example.
    pub examples: Vec<(&'static str, &'static str, Value)>,
}

fn reply(status: u16, description: impl Into<String>) -> Reply {
    Reply {
        status,
        description: description.into(),
        headers: Vec::new(),
        schema: None,
        media_type: "application/json",
        examples: Vec::new(),
    }
}

impl Reply {
    fn schema(mut self, name: &str) -> Self {
        self.schema = Some(schema_ref(name));
        self
    }

    fn schema_value(mut self, schema: Value) -> Self {
        self.schema = Some(schema);
        self
    }

    fn example(mut self, name: &'static str, summary: &'static str, body: Value) -> Self {
        self.examples.push((name, summary, body));
        self
    }

    fn header(mut self, name: &'static str, description: &'static str) -> Self {
        self.headers.push((name, description));
        self
    }

    /// The CORS headers an admitted request from a browser gets.
    fn cors(self) -> Self {
        self.header(
            "Access-Control-Allow-Origin",
            "The request's `Origin`, when the service allows it (or the key is public); absent otherwise.",
        )
        .header("Access-Control-Expose-Headers", "`Retry-After`, with `Access-Control-Allow-Origin`.")
        .header("Vary", "`Origin`.")
    }

    fn to_value(&self) -> Value {
        let mut out = json!({ "description": self.description });
        if !self.headers.is_empty() {
            let headers: Map<String, Value> = self
                .headers
                .iter()
                .map(|(name, description)| {
                    let schema = if *name == "Retry-After" || *name == "Access-Control-Max-Age" {
                        json!({ "type": "integer" })
                    } else {
                        json!({ "type": "string" })
                    };
                    ((*name).to_owned(), json!({ "description": description, "schema": schema }))
                })
                .collect();
            out["headers"] = Value::Object(headers);
        }
        if let Some(schema) = &self.schema {
            let mut media = json!({ "schema": schema });
            if !self.examples.is_empty() {
                let examples: Map<String, Value> = self
                    .examples
                    .iter()
                    .map(|(name, summary, body)| ((*name).to_owned(), json!({ "summary": summary, "value": body })))
                    .collect();
                media["examples"] = Value::Object(examples);
            }
            out["content"] = json!({ self.media_type: media });
        }
        out
    }
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn reason(status: u16) -> &'static str {
    StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error")
}

/// An error body as `kevi::failure` writes it.
fn error_body(status: u16, message: impl Into<String>, field: Option<&str>) -> Value {
    let mut body = json!({ "error": reason(status), "message": message.into() });
    if let Some(field) = field {
        body["field"] = json!(field);
    }
    body
}

fn error_reply(status: u16, description: impl Into<String>) -> Reply {
    reply(status, description).schema("Error")
}

fn unauthorized() -> Reply {
    error_reply(
        401,
        "No `X-Kevi-Token`, or a token that is unknown, revoked, or of a disabled service; the master token \
         without an `X-Kevi-Service` naming an existing service. One answer for all, so that it tells nothing \
         about which tokens exist.",
    )
    .example(
        "token",
        "Missing or invalid token",
        error_body(
            401,
            "send a valid token of an enabled service in X-Kevi-Token (missing, unknown, revoked and disabled \
             tokens all get this answer)",
            None,
        ),
    )
}

fn too_many() -> Reply {
    error_reply(
        429,
        "Over the rate limit of this token (`KVM_KEVI_RATE` requests a second, default 100, with bursts of \
         twice that). Checked right after the token, before anything else.",
    )
    .header("Retry-After", "Whole seconds to wait before the next request (at least 1).")
    .example(
        "rate",
        "Rate limit reached",
        error_body(429, "too many requests with this token; retry in 1 s", None),
    )
}

fn origin_example() -> Value {
    error_body(403, "origin https://evil.example is not allowed for this service", None)
}

/// 403 of a read: the origin.
fn forbidden_read() -> Reply {
    error_reply(
        403,
        "The request carries an `Origin` that the service does not allow (`--origin`; `*` allows any). A key \
         matching one of the service's public keys may be read from any origin.",
    )
    .example("origin", "Origin not allowed", origin_example())
}

/// 403 of a write: the origin, or the role.
fn forbidden_write() -> Reply {
    reply(
        403,
        "Either the request carries an `Origin` that the service does not allow (`error: Forbidden`), or the \
         service is `read-only` and writes need `admin` (`error: Permission Denied`, with `required` and \
         `current`). The origin is checked first.",
    )
    .schema_value(json!({ "oneOf": [schema_ref("Error"), schema_ref("PermissionDenied")] }))
    .example("origin", "Origin not allowed", origin_example())
    .example(
        "role",
        "A read-only service writing",
        json!({
            "error": "Permission Denied",
            "message": "this service may only read: writes need the admin role",
            "required": "admin",
            "current": "read-only",
        }),
    )
}

fn internal() -> Reply {
    error_reply(500, "The server failed (the cause is logged); try again later.").example(
        "internal",
        "Internal failure",
        error_body(500, "internal error", None),
    )
}

fn bad_gateway() -> Reply {
    error_reply(
        502,
        "With `KVM_BACKEND=cloudflare` only: Cloudflare refused the request, failed or could not be reached \
         (its status, code and message are in `message`; its 401, 403 and 429 are never passed on as if they \
         were about this request's token, origin or rate).",
    )
    .example(
        "upstream",
        "Cloudflare failed",
        error_body(502, "Cloudflare answered 503: service unavailable", None),
    )
}

/// 404: `cause`, or the service's namespace is gone.
/// 404 for a key that is not there (`cause`), with its example.
fn missing_key(cause: &str) -> Reply {
    not_found(Some(cause)).example(
        "key",
        "No such key",
        error_body(404, "key: \"user/43\" does not exist", Some("key")),
    )
}

fn not_found(cause: Option<&str>) -> Reply {
    let gone = "the service's namespace was deleted (`field: namespace_id`)";
    let description = match cause {
        Some(cause) => format!("{cause}; or {gone}."),
        None => "The service's namespace was deleted (`field: namespace_id`).".to_owned(),
    };
    error_reply(404, description).example("namespace", "Namespace deleted", namespace_gone_example())
}

fn namespace_gone_example() -> Value {
    error_body(404, "namespace_id: no namespace has the id \"0f9e8d7c6b5a49382716051423324150\"", Some("namespace_id"))
}

fn key_parameter() -> Value {
    json!({
        "name": "key",
        "in": "path",
        "required": true,
        "description": format!(
            "The key, as the service names it; stored as `<prefix>:<key>`, at most {} bytes in all. It may \
             contain `/` (the rest of the path is the key); percent-encode other reserved characters. Must \
             not be empty.",
            limits::MAX_KEY_BYTES
        ),
        "schema": { "type": "string", "minLength": 1 },
        "example": "user/42",
    })
}

fn origin_parameter() -> Value {
    json!({
        "name": "Origin",
        "in": "header",
        "required": false,
        "description": "Sent by browsers. When present it must be one of the service's allowed origins \
                        (403 otherwise), except for a read of a public key; an allowed origin is echoed in \
                        `Access-Control-Allow-Origin`.",
        "schema": { "type": "string" },
        "example": "https://app.example.com",
    })
}

fn preflight_parameters() -> Vec<Value> {
    vec![
        json!({
            "name": "Origin",
            "in": "header",
            "required": true,
            "description": "The page's origin: some enabled service must allow it (or, for `GET` of a key, \
                            have the key public).",
            "schema": { "type": "string", "pattern": "^[!-~]+$" },
            "example": "https://app.example.com",
        }),
        json!({
            "name": "Access-Control-Request-Method",
            "in": "header",
            "required": false,
            "description": "The method the page means to send; `GET` when absent.",
            "schema": { "type": "string" },
            "example": "PUT",
        }),
    ]
}

fn preflight_replies(methods: &'static str) -> Vec<Reply> {
    vec![
        reply(204, "The preflight is granted: the browser may send the request. No body.")
            .header("Access-Control-Allow-Origin", "The request's `Origin`.")
            .header("Access-Control-Allow-Methods", methods)
            .header("Access-Control-Allow-Headers", "`X-Kevi-Token, X-Kevi-Service, Content-Type`.")
            .header("Access-Control-Max-Age", "`600` (seconds the answer may be cached).")
            .header("Vary", "`Origin`."),
        error_reply(400, "No `Origin` header, or one that is not an origin (`field: Origin`).").example(
            "origin",
            "No Origin",
            error_body(400, "a CORS preflight needs an Origin header", Some("Origin")),
        ),
        error_reply(
            403,
            "`Access-Control-Request-Method` is not a method of this path, or no enabled service allows the \
             origin (nor has the key public, for a `GET`).",
        )
        .example(
            "method",
            "Method not offered",
            error_body(403, format!("PATCH is not a method of this route ({methods})"), None),
        )
        .example(
            "origin",
            "Origin not allowed",
            error_body(403, "origin https://evil.example is not allowed by any service", None),
        ),
        internal(),
    ]
}

fn not_allowed(method: &'static str, path: &'static str, id: &'static str) -> Operation {
    Operation {
        method,
        path,
        id,
        tag: "Other methods",
        summary: "Not a method of this path",
        description: "Answered `405` without looking at the token. So are methods not listed here (`TRACE`, \
                      `CONNECT`, …), except `HEAD`, which is answered as `GET` without a body."
            .into(),
        token: false,
        parameters: if path.contains("{key}") { vec![key_parameter()] } else { Vec::new() },
        body: None,
        responses: vec![
            error_reply(405, "This path does not take this method.")
                .header("Allow", "The methods the path takes.")
                .example(
                    "method",
                    "Method not allowed",
                    error_body(
                        405,
                        "method not allowed here: /v1/kv takes GET; /v1/kv/{key} takes GET, POST, PUT and DELETE",
                        None,
                    ),
                ),
        ],
    }
}

fn write_operation(method: &'static str, id: &'static str, summary: &'static str) -> Operation {
    let max_value = limits::MAX_VALUE_BYTES;
    let max_metadata = limits::MAX_METADATA_BYTES;
    Operation {
        method,
        path: "/v1/kv/{key}",
        id,
        tag: "Keys",
        summary,
        description: format!(
            "Writes the key whole: value, metadata and TTL together (`POST` and `PUT` are the same). The value \
             is stored as its JSON text (at most {max_value} bytes, 25 MiB). The metadata gets the server's \
             `updated_by` (the service's name, or `master`) and `updated_at`, which a client cannot set; with \
             them it must fit in {max_metadata} bytes of JSON. Needs a service with the `admin` role. The \
             write is versioned, indexed for search and audited (source `kevi`)."
        ),
        token: true,
        parameters: vec![key_parameter(), origin_parameter()],
        body: Some(json!({
            "required": true,
            "description": "A JSON object; fields other than these three are refused.",
            "content": { "application/json": {
                "schema": schema_ref("WriteRequest"),
                "examples": {
                    "json": { "summary": "A JSON value with metadata and a TTL", "value": {
                        "value": { "theme": "dark", "items": [1, 2, 3] },
                        "metadata": { "owner": "web" },
                        "ttl": 3600,
                    }},
                    "string": { "summary": "A plain string", "value": { "value": "hello" } },
                },
            }},
        })),
        responses: vec![
            reply(200, "Written.").schema("WriteResult").cors().example(
                "written",
                "Written",
                json!({ "status": "ok", "message": "Key created/updated successfully", "key": "user/42" }),
            ),
            error_reply(
                400,
                "The input, naming the field at fault: `key` (too long with the prefix, NUL character; an \
                 empty key, `/v1/kv/`, too), `body` (not JSON, or not an object), `value` (missing), \
                 `metadata` (not an object), `ttl` (not a whole number of at least 60 seconds), or an \
                 unknown field (named).",
            )
            .example(
                "key",
                "Key too long",
                error_body(
                    400,
                    format!(
                        "key: 604 bytes with the service prefix \"web:\"; at most {} bytes in all",
                        limits::MAX_KEY_BYTES
                    ),
                    Some("key"),
                ),
            )
            .example(
                "body",
                "Not JSON",
                error_body(
                    400,
                    "body: not JSON (expected value at line 1 column 1); send {\"value\": …, \"metadata\"?: {…}, \
                     \"ttl\"?: seconds}",
                    Some("body"),
                ),
            )
            .example("value", "No value", error_body(400, "value: missing (any JSON, null included)", Some("value")))
            .example(
                "metadata",
                "Metadata not an object",
                error_body(400, "metadata: must be a JSON object", Some("metadata")),
            )
            .example(
                "ttl",
                "TTL too short",
                error_body(
                    400,
                    format!(
                        "ttl: 5 is not a whole number of seconds from {} to {}",
                        limits::MIN_TTL_SECONDS,
                        crate::kevi::MAX_TTL
                    ),
                    Some("ttl"),
                ),
            )
            .example(
                "unknown",
                "Unknown field",
                error_body(400, "tags: not a field of a write (value, metadata, ttl)", Some("tags")),
            ),
            unauthorized(),
            forbidden_write(),
            not_found(None),
            error_reply(
                413,
                format!(
                    "Too large, naming the field: `value` (over {max_value} bytes as JSON), `metadata` (over \
                     {max_metadata} bytes of JSON with `updated_by` and `updated_at`), or `body` (over \
                     {MAX_BODY_BYTES} bytes)."
                ),
            )
            .example(
                "value",
                "Value too large",
                error_body(
                    413,
                    format!("value: 26214500 bytes as JSON is over the limit of {max_value} bytes (25 MiB)"),
                    Some("value"),
                ),
            )
            .example(
                "metadata",
                "Metadata too large",
                error_body(
                    413,
                    format!(
                        "metadata: 1100 bytes of JSON with updated_by and updated_at is over the limit of \
                         {max_metadata} bytes"
                    ),
                    Some("metadata"),
                ),
            ),
            too_many(),
            internal(),
            bad_gateway(),
        ],
    }
}

/// Every operation of the API, `/health` and this reference, with every status each answers.
pub fn operations() -> Vec<Operation> {
    vec![
        Operation {
            method: "get",
            path: "/v1/kv",
            id: "listKeys",
            tag: "Keys",
            summary: "List the service's keys",
            description: format!(
                "One page of the service's live keys, in byte order of their names (without the service's \
                 prefix). Follow `cursor` until `list_complete` is true. `limit` is 1 to {MAX_LIST} \
                 (default {DEFAULT_LIST})."
            ),
            token: true,
            parameters: vec![
                json!({
                    "name": "prefix", "in": "query", "required": false,
                    "description": "Only keys starting with this (after the service's prefix).",
                    "schema": { "type": "string" }, "example": "user/",
                }),
                json!({
                    "name": "limit", "in": "query", "required": false,
                    "description": "Keys on this page at most.",
                    "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIST, "default": DEFAULT_LIST },
                }),
                json!({
                    "name": "cursor", "in": "query", "required": false,
                    "description": "The `cursor` of the previous page (empty: the first page).",
                    "schema": { "type": "string" },
                }),
                origin_parameter(),
            ],
            body: None,
            responses: vec![
                reply(200, "A page of keys; `cursor` is present while more remain.").schema("KeyList").cors().example(
                    "page",
                    "A page",
                    json!({
                        "status": "ok",
                        "keys": [
                            { "name": "user/41", "metadata": { "updated_by": "web", "updated_at": "2026-11-26T12:00:00.000Z" } },
                            { "name": "user/42", "metadata": { "owner": "web", "updated_by": "web", "updated_at": "2026-11-26T12:00:01.000Z" }, "expiration": 1795000000 },
                        ],
                        "list_complete": false,
                        "cursor": "d2ViOnVzZXIvNDI",
                    }),
                ),
                error_reply(
                    400,
                    "The query, naming the field: `limit` (not a whole number from 1 to 1000), `query` (not a \
                     valid query string, a parameter given twice, say), `prefix` (longer than a key can be, \
                     or with a NUL character), `cursor` (not a cursor of this store).",
                )
                .example(
                    "limit",
                    "Limit out of range",
                    error_body(400, format!("limit: \"0\" is not a whole number from 1 to {MAX_LIST}"), Some("limit")),
                )
                .example("query", "Bad query string", error_body(400, "query: not a valid query string", Some("query"))),
                unauthorized(),
                forbidden_read(),
                not_found(None),
                too_many(),
                internal(),
                bad_gateway(),
            ],
        },
        Operation {
            method: "options",
            path: "/v1/kv",
            id: "preflightList",
            tag: "CORS",
            summary: "CORS preflight of the listing",
            description: "Browsers send it before a cross-origin listing. Needs no token.".into(),
            token: false,
            parameters: preflight_parameters(),
            body: None,
            responses: preflight_replies("GET, OPTIONS"),
        },
        not_allowed("post", "/v1/kv", "listPostNotAllowed"),
        not_allowed("put", "/v1/kv", "listPutNotAllowed"),
        not_allowed("delete", "/v1/kv", "listDeleteNotAllowed"),
        not_allowed("patch", "/v1/kv", "listPatchNotAllowed"),
        Operation {
            method: "get",
            path: "/v1/kv/{key}",
            id: "getKey",
            tag: "Keys",
            summary: "Read a key",
            description: "The value, its metadata and expiration. A value written through this API comes back \
                          as the JSON it was; one written otherwise (the console, say) that is not JSON comes \
                          back as a string. A key matching one of the service's public keys may be read from \
                          any origin."
                .into(),
            token: true,
            parameters: vec![key_parameter(), origin_parameter()],
            body: None,
            responses: vec![
                reply(200, "The key.").schema("KeyValue").cors().example(
                    "found",
                    "A key",
                    json!({
                        "status": "ok",
                        "data": { "theme": "dark", "items": [1, 2, 3] },
                        "metadata": { "owner": "web", "updated_by": "web", "updated_at": "2026-11-26T12:00:01.000Z" },
                        "expiration": 1795000000,
                    }),
                ),
                error_reply(
                    400,
                    "The key (`field: key`): too long with the service's prefix, or with a NUL character; an \
                     empty key (`/v1/kv/`) too.",
                )
                .example(
                    "key",
                    "Key too long",
                    error_body(
                        400,
                        format!(
                            "key: 604 bytes with the service prefix \"web:\"; at most {} bytes in all",
                            limits::MAX_KEY_BYTES
                        ),
                        Some("key"),
                    ),
                )
                .example("empty", "Empty key", error_body(400, "key: must not be empty", Some("key"))),
                unauthorized(),
                forbidden_read(),
                missing_key("The key does not exist, or has expired (`field: key`)"),
                too_many(),
                internal(),
                bad_gateway(),
            ],
        },
        write_operation("put", "putKey", "Write a key"),
        write_operation("post", "postKey", "Write a key (same as PUT)"),
        Operation {
            method: "delete",
            path: "/v1/kv/{key}",
            id: "deleteKey",
            tag: "Keys",
            summary: "Delete a key",
            description: "Deletes the key (versioned and audited). Needs a service with the `admin` role.".into(),
            token: true,
            parameters: vec![key_parameter(), origin_parameter()],
            body: None,
            responses: vec![
                reply(200, "Deleted.").schema("DeleteResult").cors().example(
                    "deleted",
                    "Deleted",
                    json!({ "status": "ok", "message": "Key deleted successfully", "key": "user/42" }),
                ),
                error_reply(
                    400,
                    "The key (`field: key`): too long with the service's prefix, or with a NUL character; an \
                     empty key (`/v1/kv/`) too.",
                )
                .example("empty", "Empty key", error_body(400, "key: must not be empty", Some("key"))),
                unauthorized(),
                forbidden_write(),
                missing_key("The key does not exist (`field: key`)"),
                too_many(),
                internal(),
                bad_gateway(),
            ],
        },
        Operation {
            method: "options",
            path: "/v1/kv/{key}",
            id: "preflightKey",
            tag: "CORS",
            summary: "CORS preflight of a key",
            description: "Browsers send it before a cross-origin read or write. Needs no token.".into(),
            token: false,
            parameters: {
                let mut parameters = vec![key_parameter()];
                parameters.extend(preflight_parameters());
                parameters
            },
            body: None,
            responses: preflight_replies("GET, POST, PUT, DELETE, OPTIONS"),
        },
        not_allowed("patch", "/v1/kv/{key}", "keyPatchNotAllowed"),
        Operation {
            method: "get",
            path: "/health",
            id: "health",
            tag: "Health",
            summary: "Health of the server",
            description: "Whether the database answers. Needs no token or sign-in.".into(),
            token: false,
            parameters: Vec::new(),
            body: None,
            responses: vec![
                reply(200, "The database answers.").schema("Health").example(
                    "ok",
                    "Healthy",
                    json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION"), "timestamp": "2026-11-26T12:00:00Z", "database": "sqlite" }),
                ),
                reply(503, "The database does not answer.").schema("Health").example(
                    "unavailable",
                    "Database down",
                    json!({ "status": "unavailable", "version": env!("CARGO_PKG_VERSION"), "timestamp": "2026-11-26T12:00:00Z", "database": "postgres" }),
                ),
            ],
        },
        Operation {
            method: "get",
            path: OPENAPI_PATH,
            id: "openapi",
            tag: "Reference",
            summary: "This document",
            description: "The OpenAPI 3.1 document of this API.".into(),
            token: false,
            parameters: Vec::new(),
            body: None,
            responses: vec![reply(200, "The document.").schema_value(json!({ "type": "object" }))],
        },
        Operation {
            method: "get",
            path: DOCS_PATH,
            id: "docs",
            tag: "Reference",
            summary: "This reference as a page",
            description: "The document rendered as HTML by the server (no script).".into(),
            token: false,
            parameters: Vec::new(),
            body: None,
            responses: vec![{
                let mut page = reply(200, "The page.").schema_value(json!({ "type": "string" }));
                page.media_type = "text/html";
                page
            }],
        },
    ]
}

fn schemas() -> Value {
    let metadata_description = format!(
        "The key's metadata: the client's fields with the server's `updated_by` and `updated_at` (at most {} \
         bytes of JSON in all).",
        limits::MAX_METADATA_BYTES
    );
    json!({
        "Error": {
            "type": "object",
            "description": "Every error of the API but a role refusal.",
            "required": ["error", "message"],
            "properties": {
                "error": { "type": "string", "description": "The status's reason phrase (`Bad Request`, `Unauthorized`, …).", "examples": ["Bad Request"] },
                "message": { "type": "string", "description": "What went wrong; starts with the field at fault when there is one." },
                "field": { "type": "string", "description": "The input at fault (`key`, `value`, `metadata`, `ttl`, `body`, `limit`, `query`, `prefix`, `cursor`, `namespace_id`, `Origin`, or an unknown field's name)." },
            },
        },
        "PermissionDenied": {
            "type": "object",
            "description": "A write by a service whose role may only read.",
            "required": ["error", "message", "required", "current"],
            "properties": {
                "error": { "const": "Permission Denied" },
                "message": { "type": "string" },
                "required": { "const": "admin", "description": "The role the operation needs." },
                "current": { "type": "string", "enum": ["read-only"], "description": "The service's role." },
            },
        },
        "KeyEntry": {
            "type": "object",
            "required": ["name", "metadata"],
            "properties": {
                "name": { "type": "string", "description": "The key, without the service's prefix." },
                "metadata": { "type": ["object", "null"], "description": "Its metadata (null when it has none)." },
                "expiration": { "type": "integer", "description": "When it expires, in Unix seconds; absent when it does not." },
            },
        },
        "KeyList": {
            "type": "object",
            "required": ["status", "keys", "list_complete"],
            "properties": {
                "status": { "const": "ok" },
                "keys": { "type": "array", "items": schema_ref("KeyEntry") },
                "list_complete": { "type": "boolean", "description": "True on the last page." },
                "cursor": { "type": "string", "description": "Pass as `cursor` for the next page; absent on the last page." },
            },
        },
        "KeyValue": {
            "type": "object",
            "required": ["status", "data", "metadata"],
            "properties": {
                "status": { "const": "ok" },
                "data": { "description": "The value: the JSON written, or a string for a value that is not JSON." },
                "metadata": { "type": "object", "description": metadata_description },
                "expiration": { "type": "integer", "description": "When it expires, in Unix seconds; absent when it does not." },
            },
        },
        "WriteRequest": {
            "type": "object",
            "required": ["value"],
            "additionalProperties": false,
            "properties": {
                "value": { "description": format!("Any JSON value, `null` included; at most {} bytes as JSON.", limits::MAX_VALUE_BYTES) },
                "metadata": { "type": ["object", "null"], "description": "Fields of the client's own; `updated_by` and `updated_at` are the server's." },
                "ttl": { "type": ["integer", "null"], "minimum": limits::MIN_TTL_SECONDS, "maximum": crate::kevi::MAX_TTL, "description": "Seconds until the key expires (a whole number: `120.0` counts as `120`); none when absent or null." },
            },
        },
        "WriteResult": {
            "type": "object",
            "required": ["status", "message", "key"],
            "properties": {
                "status": { "const": "ok" },
                "message": { "const": "Key created/updated successfully" },
                "key": { "type": "string", "description": "The key, as the client named it." },
            },
        },
        "DeleteResult": {
            "type": "object",
            "required": ["status", "message", "key"],
            "properties": {
                "status": { "const": "ok" },
                "message": { "const": "Key deleted successfully" },
                "key": { "type": "string", "description": "The key, as the client named it." },
            },
        },
        "Health": {
            "type": "object",
            "required": ["status", "version", "timestamp", "database"],
            "properties": {
                "status": { "type": "string", "enum": ["ok", "unavailable"] },
                "version": { "type": "string", "description": "The server's version." },
                "timestamp": { "type": "string", "format": "date-time" },
                "database": { "type": "string", "enum": ["sqlite", "postgres"] },
            },
        },
    })
}

const API_DESCRIPTION: &str = "\
The multi-tenant key-value API of kv-manager (Kevi's model). A token names a **service**, and the \
service its namespace, its role (`admin` reads and writes, `read-only` reads), a key prefix, the \
browser origins it accepts and the keys anyone may read. A service sees only its own keys: they are \
stored as `<prefix>:<key>` and every path and listing speaks of them without the prefix.

Services and their tokens are made with `kv-manager service create <name> --storage <namespace> \
--role admin|read-only --prefix <prefix> [--origin <origin>]... [--public <key or prefix*>]...` (the \
token is printed once), or listed in `KVM_SERVICES_FILE`. The master token (`KEVI_API_TOKEN`) acts \
on any service named in `X-Kevi-Service`, audited as `master`.

Each request is checked in this order:
- the token: `401` for a missing, unknown or revoked token and a disabled service alike;
- the rate: `429` with `Retry-After` (per token);
- the origin, when the request has one: `403` unless the service allows it (public keys may be read \
from anywhere);
- the role, for writes: `403` `Permission Denied` with `required` and `current`;
- the input: `400` or `413` naming the field.

Errors are `{\"error\": <reason phrase>, \"message\": …}`, with `field` naming the input at fault. \
CORS preflights (`OPTIONS`) need no token. A method a path does not take gets `405`; any other path \
under `/v1` gets `404` (`no such route`). `HEAD` is answered as `GET` without a body.";

/// The limits a request meets, from the one place they are kept (`domain::limits`).
fn limits_text() -> String {
    format!(
        "Limits: a key is 1 to {} bytes (not `.` or `..`, no NUL); a value at most {} bytes (25 MiB); \
         `metadata` at most {} bytes of JSON with the server's own fields; `ttl` a whole number from {} to \
         {}; a listing's `limit` 1 to {}; a request body at most {} bytes. The server's other limits \
         (uploads, tags, custom metadata, filter lists) are in the README's configuration table.",
        limits::MAX_KEY_BYTES,
        limits::MAX_VALUE_BYTES,
        limits::MAX_METADATA_BYTES,
        limits::MIN_TTL_SECONDS,
        crate::kevi::MAX_TTL,
        crate::kevi::MAX_LIST,
        crate::kevi::MAX_BODY_BYTES,
    )
}

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for op in operations() {
        let item = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        let mut value = json!({
            "operationId": op.id,
            "tags": [op.tag],
            "summary": op.summary,
            "description": op.description,
        });
        value["security"] =
            if op.token { json!([{ "KeviToken": [] }, { "KeviToken": [], "KeviService": [] }]) } else { json!([]) };
        if !op.parameters.is_empty() {
            value["parameters"] = Value::Array(op.parameters);
        }
        if let Some(body) = op.body {
            value["requestBody"] = body;
        }
        let responses: Map<String, Value> = op.responses.iter().map(|r| (r.status.to_string(), r.to_value())).collect();
        value["responses"] = Value::Object(responses);
        item[op.method] = value;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "kv-manager KV API (/v1/kv)",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!("{API_DESCRIPTION}\n\n{}", limits_text()),
            "license": { "name": "MIT", "identifier": "MIT" },
        },
        "servers": [{ "url": "/", "description": "This server" }],
        "tags": [
            { "name": "Keys", "description": "Reading and writing a service's keys." },
            { "name": "CORS", "description": "Preflights for pages on other origins." },
            { "name": "Health", "description": "Whether the server and its database answer." },
            { "name": "Other methods", "description": "Methods the paths do not take: `405`, before any other check." },
            { "name": "Reference", "description": "This document." },
        ],
        "security": [{ "KeviToken": [] }, { "KeviToken": [], "KeviService": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "KeviToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Kevi-Token",
                    "description": "A token of a service (64 hex digits, shown once when made), or the master token.",
                },
                "KeviService": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Kevi-Service",
                    "description": "With the master token only: the name of the service to act as (ignored with a service's own token).",
                },
            },
            "schemas": schemas(),
        },
    })
}

// ---- the page ----------------------------------------------------------------------------------

const METHOD_ORDER: [&str; 8] = ["get", "head", "post", "put", "patch", "delete", "options", "trace"];

const STYLE: &str = r#"
:root { color-scheme: light dark; --bg: #fff; --fg: #1d2330; --muted: #5c6677; --line: #d9dee7;
  --panel: #f5f7fa; --code: #eef1f5; --accent: #2f5fd0;
  --get: #1f7a4d; --post: #2f5fd0; --put: #8a5a00; --delete: #b3261e; --options: #5b4bb7; --patch: #6b6b6b; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171c; --fg: #e4e7ec; --muted: #9aa3b2; --line: #2d333d; --panel: #1b1f26; --code: #232832;
    --accent: #8fb0ff; --get: #5ccf94; --post: #8fb0ff; --put: #e6b450; --delete: #ff8a80; --options: #b4a7ff;
    --patch: #b0b0b0; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); line-height: 1.5;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.layout { display: grid; grid-template-columns: 270px minmax(0, 1fr); max-width: 1300px; margin: 0 auto; }
nav { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow-y: auto; padding: 24px 16px;
  border-right: 1px solid var(--line); font-size: 14px; }
nav h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 18px 0 6px; }
nav ul { list-style: none; margin: 0; padding: 0; }
nav li { margin: 3px 0; }
nav a { color: var(--fg); text-decoration: none; display: flex; gap: 6px; align-items: baseline; }
nav a:hover { color: var(--accent); }
main { padding: 24px 40px 80px; min-width: 0; }
h1 { margin: 0 0 4px; font-size: 28px; }
h2.group { margin-top: 48px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
a { color: var(--accent); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
code { background: var(--code); padding: 1px 5px; border-radius: 4px; }
pre { background: var(--code); padding: 10px 12px; border-radius: 6px; overflow-x: auto; margin: 6px 0 12px; }
pre code { background: none; padding: 0; }
.meta { color: var(--muted); margin: 0 0 20px; }
.op { border: 1px solid var(--line); border-radius: 8px; margin: 22px 0; background: var(--panel); }
.op > header { padding: 12px 16px; border-bottom: 1px solid var(--line); }
.op > header h3 { margin: 0; font-size: 18px; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
.op > header p { margin: 4px 0 0; color: var(--muted); }
.op .body { padding: 4px 16px 12px; background: var(--bg); border-radius: 0 0 8px 8px; }
.op h4 { margin: 16px 0 6px; font-size: 14px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.method { display: inline-block; min-width: 64px; text-align: center; padding: 2px 8px; border-radius: 4px;
  color: #fff; font: 700 12px/1.6 ui-monospace, Menlo, Consolas, monospace; text-transform: uppercase; }
nav .method { min-width: 52px; font-size: 10px; padding: 0 4px; }
.m-get { background: var(--get); } .m-post { background: var(--post); } .m-put { background: var(--put); }
.m-delete { background: var(--delete); } .m-options { background: var(--options); }
.m-patch, .m-head, .m-trace { background: var(--patch); }
@media (prefers-color-scheme: dark) { .method { color: #111; } }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 14px; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.req { color: var(--delete); font-size: 12px; }
.status { margin: 10px 0; padding: 8px 12px; border-left: 4px solid var(--line); background: var(--panel); border-radius: 0 6px 6px 0; }
.status h5 { margin: 0 0 4px; font-size: 15px; }
.status p { margin: 2px 0 6px; }
.s2 { border-left-color: var(--get); } .s4 { border-left-color: var(--put); } .s5 { border-left-color: var(--delete); }
.example-name { font-size: 13px; color: var(--muted); margin: 8px 0 0; }
.auth { font-size: 14px; }
@media (max-width: 860px) { .layout { display: block; } nav { position: static; max-height: none; border-right: 0;
  border-bottom: 1px solid var(--line); } main { padding: 16px; } }
"#;

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Inline markup of a description: escaped, `code` and **bold**.
fn inline(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in escape(text).split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            for (j, piece) in part.split("**").enumerate() {
                if j % 2 == 1 {
                    let _ = write!(out, "<strong>{piece}</strong>");
                } else {
                    out.push_str(piece);
                }
            }
        }
    }
    out
}

/// A description's blocks: paragraphs (blank lines between) and lists (lines starting with `- `).
fn blocks(text: &str) -> String {
    let mut out = String::new();
    for block in text.split("\n\n") {
        let lines: Vec<&str> = block.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let first_item = lines.iter().position(|l| l.starts_with("- "));
        let (lead, items) = lines.split_at(first_item.unwrap_or(lines.len()));
        if !lead.is_empty() {
            let _ = write!(out, "<p>{}</p>", inline(&lead.join(" ")));
        }
        if !items.is_empty() {
            out.push_str("<ul>");
            let mut current = String::new();
            for line in items {
                if let Some(item) = line.strip_prefix("- ") {
                    if !current.is_empty() {
                        let _ = write!(out, "<li>{}</li>", inline(&current));
                    }
                    current = item.to_owned();
                } else {
                    current.push(' ');
                    current.push_str(line);
                }
            }
            let _ = write!(out, "<li>{}</li></ul>", inline(&current));
        }
    }
    out
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/"))
}

/// A schema in a few words, HTML: `string`, `integer (1–1000, default 100)`, a link to a named one.
fn type_label(schema: &Value) -> String {
    if let Some(name) = ref_name(schema) {
        return format!("<a href=\"#schema-{0}\">{0}</a>", escape(name));
    }
    if let Some(value) = schema.get("const") {
        return format!("<code>{}</code>", escape(&value.to_string()));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            return options.iter().map(type_label).collect::<Vec<_>>().join(" or ");
        }
    }
    let mut label = match schema.get("type") {
        Some(Value::String(t)) if t == "array" => {
            format!("array of {}", schema.get("items").map(type_label).unwrap_or_else(|| "any".into()))
        }
        Some(Value::String(t)) => escape(t),
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" | "),
        _ => "any JSON".into(),
    };
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values.iter().map(|v| format!("<code>{}</code>", escape(&v.to_string()))).collect();
        let _ = write!(label, ": {}", values.join(", "));
    }
    let mut notes = Vec::new();
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        notes.push(escape(format));
    }
    match (schema.get("minimum"), schema.get("maximum")) {
        (Some(min), Some(max)) => notes.push(format!("{min}–{max}")),
        (Some(min), None) => notes.push(format!("≥ {min}")),
        (None, Some(max)) => notes.push(format!("≤ {max}")),
        (None, None) => {}
    }
    match schema.get("minLength").and_then(Value::as_u64) {
        Some(1) => notes.push("not empty".to_owned()),
        Some(min) => notes.push(format!("at least {min} characters")),
        None => {}
    }
    if let Some(default) = schema.get("default") {
        notes.push(format!("default {}", escape(&default.to_string())));
    }
    if !notes.is_empty() {
        let _ = write!(label, " ({})", notes.join(", "));
    }
    label
}

fn pretty(value: &Value) -> String {
    escape(&serde_json::to_string_pretty(value).unwrap_or_default())
}

fn examples_html(media: &Value) -> String {
    let mut out = String::new();
    if let Some(examples) = media.get("examples").and_then(Value::as_object) {
        for (name, example) in examples {
            let summary = example.get("summary").and_then(Value::as_str).unwrap_or(name);
            let _ = write!(
                out,
                "<p class=\"example-name\">Example: {}</p><pre><code>{}</code></pre>",
                escape(summary),
                pretty(&example["value"])
            );
        }
    }
    if let Some(example) = media.get("example") {
        let _ = write!(out, "<p class=\"example-name\">Example</p><pre><code>{}</code></pre>", pretty(example));
    }
    out
}

fn operation_html(doc: &Value, path: &str, method: &str, op: &Value) -> String {
    let mut out = String::new();
    let id = str_of(op, "operationId");
    let _ = write!(
        out,
        "<section class=\"op\" id=\"op-{id}\"><header><h3><span class=\"method m-{method}\">{method}</span>\
         <code>{path}</code></h3><p>{summary}</p></header><div class=\"body\">",
        id = escape(id),
        method = escape(method),
        path = escape(path),
        summary = inline(str_of(op, "summary")),
    );
    out.push_str(&blocks(str_of(op, "description")));
    let security = op.get("security").or_else(|| doc.get("security")).and_then(Value::as_array);
    let auth = match security {
        Some(options) if !options.is_empty() => {
            let schemes = &doc["components"]["securitySchemes"];
            let options: Vec<String> = options
                .iter()
                .filter_map(Value::as_object)
                .map(|option| {
                    // `KeviToken` before `KeviService`.
                    option
                        .keys()
                        .rev()
                        .map(|k| format!("<code>{}</code>", escape(str_of(&schemes[k], "name"))))
                        .collect::<Vec<_>>()
                        .join(" + ")
                })
                .collect();
            format!("Authentication: {}.", options.join(" or "))
        }
        _ => "Authentication: none.".to_owned(),
    };
    let _ = write!(out, "<p class=\"auth\">{auth}</p>");
    if let Some(parameters) = op.get("parameters").and_then(Value::as_array).filter(|p| !p.is_empty()) {
        out.push_str(
            "<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr>\
             </thead><tbody>",
        );
        for p in parameters {
            let required =
                if p["required"].as_bool().unwrap_or(false) { " <span class=\"req\">required</span>" } else { "" };
            let example = p.get("example").map(|e| format!(" Example: <code>{}</code>.", escape(&e.to_string())));
            let _ = write!(
                out,
                "<tr><td><code>{}</code>{required}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
                escape(str_of(p, "name")),
                escape(str_of(p, "in")),
                type_label(&p["schema"]),
                inline(str_of(p, "description")),
                example.unwrap_or_default(),
            );
        }
        out.push_str("</tbody></table>");
    }
    if let Some(body) = op.get("requestBody") {
        out.push_str("<h4>Request body</h4>");
        let _ = write!(out, "<p>{}</p>", inline(str_of(body, "description")));
        if let Some(content) = body.get("content").and_then(Value::as_object) {
            for (media_type, media) in content {
                let _ = write!(
                    out,
                    "<p><code>{}</code>{}: {}</p>",
                    escape(media_type),
                    if body["required"].as_bool().unwrap_or(false) { " (required)" } else { "" },
                    type_label(&media["schema"])
                );
                out.push_str(&schema_table(doc, &media["schema"]));
                out.push_str(&examples_html(media));
            }
        }
    }
    out.push_str("<h4>Responses</h4>");
    if let Some(responses) = op.get("responses").and_then(Value::as_object) {
        let mut statuses: Vec<(&String, &Value)> = responses.iter().collect();
        statuses.sort_by_key(|(status, _)| status.parse::<u16>().unwrap_or(u16::MAX));
        for (status, response) in statuses {
            let code = status.parse::<u16>().unwrap_or(0);
            let _ = write!(
                out,
                "<div class=\"status s{}\" id=\"op-{}-{}\"><h5>{} {}</h5>{}",
                code / 100,
                escape(id),
                escape(status),
                escape(status),
                reason(code),
                blocks(str_of(response, "description")),
            );
            if let Some(headers) = response.get("headers").and_then(Value::as_object) {
                out.push_str("<table><thead><tr><th>Header</th><th>Description</th></tr></thead><tbody>");
                for (name, h) in headers {
                    let _ = write!(
                        out,
                        "<tr><td><code>{}</code></td><td>{}</td></tr>",
                        escape(name),
                        inline(str_of(h, "description"))
                    );
                }
                out.push_str("</tbody></table>");
            }
            if let Some(content) = response.get("content").and_then(Value::as_object) {
                for (media_type, media) in content {
                    let _ = write!(
                        out,
                        "<p>Body (<code>{}</code>): {}</p>",
                        escape(media_type),
                        type_label(&media["schema"])
                    );
                    out.push_str(&examples_html(media));
                }
            } else {
                out.push_str("<p>No body.</p>");
            }
            out.push_str("</div>");
        }
    }
    out.push_str("</div></section>");
    out
}

/// The properties of an object schema (followed through `$ref`) as a table.
fn schema_table(doc: &Value, schema: &Value) -> String {
    let schema = match ref_name(schema) {
        Some(name) => &doc["components"]["schemas"][name],
        None => schema,
    };
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return String::new() };
    let required: Vec<&str> =
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let mut out = String::from("<table><thead><tr><th>Field</th><th>Type</th><th>Description</th></tr></thead><tbody>");
    for (name, property) in properties {
        let mark = if required.contains(&name.as_str()) { " <span class=\"req\">required</span>" } else { "" };
        let _ = write!(
            out,
            "<tr><td><code>{}</code>{mark}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            type_label(property),
            inline(str_of(property, "description"))
        );
    }
    out.push_str("</tbody></table>");
    if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
        out.push_str("<p>No other fields are accepted.</p>");
    }
    out
}

/// Operations of a tag, in path order and a fixed method order.
fn tagged<'a>(doc: &'a Value, tag: &str) -> Vec<(&'a str, &'static str, &'a Value)> {
    let mut out = Vec::new();
    let Some(paths) = doc["paths"].as_object() else { return out };
    let mut names: Vec<&String> = paths.keys().collect();
    names.sort();
    for path in names {
        for method in METHOD_ORDER {
            if let Some(op) = paths[path.as_str()].get(method)
                && op["tags"].as_array().is_some_and(|tags| tags.iter().any(|t| t == tag))
            {
                out.push((path.as_str(), method, op));
            }
        }
    }
    out
}

/// The page: every path and method with its parameters, body and responses, then the schemas.
pub fn render_html(doc: &Value) -> String {
    let title = str_of(&doc["info"], "title");
    let tags: Vec<(&str, &str)> =
        doc["tags"].as_array().into_iter().flatten().map(|t| (str_of(t, "name"), str_of(t, "description"))).collect();
    let mut nav = String::new();
    let mut main = String::new();
    let _ = write!(
        main,
        "<h1>{}</h1><p class=\"meta\">Version {} · OpenAPI {} · <a href=\"{OPENAPI_PATH}\">openapi.json</a></p>",
        escape(title),
        escape(str_of(&doc["info"], "version")),
        escape(str_of(doc, "openapi")),
    );
    main.push_str(&blocks(str_of(&doc["info"], "description")));
    nav.push_str("<h2>Overview</h2><ul><li><a href=\"#authentication\">Authentication</a></li></ul>");
    main.push_str(
        "<h2 class=\"group\" id=\"authentication\">Authentication</h2><table><thead><tr><th>Header</th>\
                   <th>Scheme</th><th>Description</th></tr></thead><tbody>",
    );
    if let Some(schemes) = doc["components"]["securitySchemes"].as_object() {
        for (name, scheme) in schemes {
            let _ = write!(
                main,
                "<tr><td><code>{}</code></td><td>{} ({}, in {})</td><td>{}</td></tr>",
                escape(str_of(scheme, "name")),
                escape(name),
                escape(str_of(scheme, "type")),
                escape(str_of(scheme, "in")),
                inline(str_of(scheme, "description")),
            );
        }
    }
    main.push_str("</tbody></table>");
    for (tag, description) in &tags {
        let ops = tagged(doc, tag);
        if ops.is_empty() {
            continue;
        }
        let _ = write!(nav, "<h2>{}</h2><ul>", escape(tag));
        let _ = write!(main, "<h2 class=\"group\" id=\"tag-{0}\">{0}</h2><p>{1}</p>", escape(tag), inline(description));
        for (path, method, op) in ops {
            let _ = write!(
                nav,
                "<li><a href=\"#op-{}\"><span class=\"method m-{method}\">{method}</span><code>{}</code></a></li>",
                escape(str_of(op, "operationId")),
                escape(path),
            );
            main.push_str(&operation_html(doc, path, method, op));
        }
        nav.push_str("</ul>");
    }
    nav.push_str("<h2>Schemas</h2><ul>");
    main.push_str("<h2 class=\"group\" id=\"schemas\">Schemas</h2>");
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            let _ = write!(nav, "<li><a href=\"#schema-{0}\">{0}</a></li>", escape(name));
            let _ = write!(
                main,
                "<section class=\"op\" id=\"schema-{0}\"><header><h3>{0}</h3><p>{1}</p></header><div class=\"body\">",
                escape(name),
                inline(str_of(schema, "description")),
            );
            main.push_str(&schema_table(doc, schema));
            main.push_str("</div></section>");
        }
    }
    nav.push_str("</ul>");
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body>\
         <div class=\"layout\"><nav>{nav}</nav><main>{main}</main></div></body></html>",
        escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_in_the_document_once() {
        let doc = document();
        let ops = operations();
        let count: usize = doc["paths"].as_object().unwrap().values().map(|item| item.as_object().unwrap().len()).sum();
        assert_eq!(count, ops.len(), "two operations share a path and method");
        for op in ops {
            let documented = &doc["paths"][op.path][op.method]["responses"];
            for reply in &op.responses {
                assert!(
                    documented.get(reply.status.to_string()).is_some(),
                    "{} {} {}",
                    op.method,
                    op.path,
                    reply.status
                );
            }
        }
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        fn walk(value: &Value, doc: &Value) {
            match value {
                Value::Object(map) => {
                    if let Some(name) = ref_name(value) {
                        assert!(doc["components"]["schemas"].get(name).is_some(), "no schema {name}");
                    }
                    map.values().for_each(|v| walk(v, doc));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, doc)),
                _ => {}
            }
        }
        walk(&doc, &doc);
    }

    #[test]
    fn the_page_escapes_and_has_no_script() {
        let html = render_html(&document());
        assert!(!html.contains("<script"));
        assert!(html.contains("<code>/v1/kv/{key}</code>"));
        assert_eq!(inline("a `<b>` **c**"), "a <code>&lt;b&gt;</code> <strong>c</strong>");
    }
}
