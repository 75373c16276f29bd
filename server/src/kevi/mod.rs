//! The multi-tenant KV API (Kevi's model) under `/v1/kv`: a token (`X-Kevi-Token`) names a
//! service, and the service its namespace, role, key prefix, allowed browser origins and public
//! keys (`domain::services`). Every read and write goes through `Kv`, as the console's do (search
//! index, versions, audit with source `kevi` and the service's name as the user).
//!
//! Each request is checked in this order: token (401, one body for missing, unknown, revoked
//! and disabled), rate (429 with `Retry-After`), origin when the request carries one (403;
//! public keys may be read from anywhere), role for writes (403 `Permission Denied`), then the
//! input (400 / 413 naming the field). Every error is `{"error", "message"}` (with `field`,
//! `required` and `current` where they apply). CORS preflights need no token.

// Helpers here fail with the finished response, which the handler returns as it is.
#![allow(clippy::result_large_err)]

pub(crate) mod cors;
pub(crate) mod keys;
pub mod wire;

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use domain::services::{Caller, ServiceRole, Services};
use domain::{DomainError, limits};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};
use serde::Deserialize;
use wire::{ErrorBody, PermissionDenied, RefusedRole};

pub const TOKEN_HEADER: &str = "x-kevi-token";
pub const SERVICE_HEADER: &str = "x-kevi-service";
/// What a preflight may ask to send.
pub(crate) const ALLOWED_HEADERS: &str = "X-Kevi-Token, X-Kevi-Service, Content-Type, If-Match, If-None-Match";
pub(crate) const KEY_METHODS: &str = "GET, POST, PUT, DELETE, OPTIONS";
pub(crate) const LIST_METHODS: &str = "GET, OPTIONS";
/// A write's body: a 25 MiB value as JSON text, escaped, with room for the rest.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// The longest `ttl`: 2^53 - 1 seconds, the largest whole number every JSON reader holds exactly.
pub const MAX_TTL: i64 = (1 << 53) - 1;

/// Keys one listing answers at most, and by default.
pub const MAX_LIST: u32 = 1000;
pub const DEFAULT_LIST: u32 = 100;

#[derive(Clone)]
pub struct KeviState {
    pub services: Services,
    limiter: Arc<RateLimiter>,
}

impl KeviState {
    pub fn new(services: Services, rate: u32) -> Self {
        Self { services, limiter: Arc::new(RateLimiter::new(rate)) }
    }
}

pub fn router(state: KeviState) -> Router {
    Router::new()
        .merge(crate::kevi_docs::router())
        .route("/v1/kv", get(keys::list).options(cors::preflight_list))
        .route("/v1/kv/", get(empty_key).post(empty_key).put(empty_key).delete(empty_key).options(empty_key))
        .route(
            "/v1/kv/{*key}",
            get(keys::read).post(keys::post_key).put(keys::put_key).delete(keys::remove).options(cors::preflight_key),
        )
        .route("/v1/{*rest}", axum::routing::any(no_route))
        .route("/v1", axum::routing::any(no_route))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

// ---- errors ---------------------------------------------------------------------------------

/// The error body every failure of this API uses.
pub fn failure(status: StatusCode, message: impl Into<String>, field: Option<&str>) -> Response {
    wire::reply(status, ErrorBody::new(status, message, field))
}

/// A domain error in this API's shape: the one mapping of `/v1/kv`. The status is the domain's
/// for the kind (`DomainError::status`), the one every surface answers: a refusal by the storage
/// backend (Cloudflare's 401, 403 or 429, say) is not the client's token, origin or rate, so it
/// is a bad gateway (502), with the backend's words.
fn domain_failure(err: DomainError) -> Response {
    if matches!(err, DomainError::Internal) {
        tracing::error!(%err, "the KV API failed");
    }
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    failure(status, err.to_string(), err.field())
}

fn unauthorized() -> Response {
    failure(StatusCode::UNAUTHORIZED, wire::UNAUTHORIZED, None)
}

async fn no_route() -> Response {
    failure(StatusCode::NOT_FOUND, "no such route: the API is GET /v1/kv and GET, POST, PUT, DELETE /v1/kv/{key}", None)
}

pub(crate) const NOT_ALLOWED: &str =
    "method not allowed here: /v1/kv takes GET; /v1/kv/{key} takes GET, POST, PUT and DELETE";

async fn method_not_allowed() -> Response {
    failure(StatusCode::METHOD_NOT_ALLOWED, NOT_ALLOWED, None)
}

const EMPTY_KEY: &str = "key: must not be empty";

async fn empty_key() -> Response {
    failure(StatusCode::BAD_REQUEST, EMPTY_KEY, Some("key"))
}

// ---- rate limit ------------------------------------------------------------------------------

/// Tokens the limiter remembers before it forgets those whose allowance is whole again (which
/// loses nothing: a forgotten token starts with a whole allowance).
const REMEMBERED_TOKENS: usize = 100_000;

/// `rate` requests a second per token, in bursts of up to twice that (governor's GCRA, keyed by
/// the token: the same allowance as a token bucket of `2 * rate` refilled at `rate` a second).
struct RateLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl RateLimiter {
    fn new(rate: u32) -> Self {
        let rate = NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN);
        let burst = rate.saturating_mul(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN));
        Self { limiter: governor::RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)) }
    }

    /// `Ok` when the token may send one more request now, else the whole seconds to wait.
    fn take(&self, token: &str) -> Result<(), u64> {
        if self.limiter.len() > REMEMBERED_TOKENS {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&token.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.limiter.clock().now());
            wait.as_secs_f64().ceil().max(1.0) as u64
        })
    }
}

// ---- who is asking ---------------------------------------------------------------------------

/// An admitted request: who, and the origin to echo back (a browser's, when allowed).
struct Admitted {
    caller: Caller,
    origin: Option<HeaderValue>,
}

impl Admitted {
    /// `response` with the CORS headers this request earned.
    fn reply(&self, response: Response) -> Response {
        with_cors(response, self.origin.clone())
    }
}

fn with_cors(mut response: Response, origin: Option<HeaderValue>) -> Response {
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("Retry-After, ETag"));
    }
    response
}

fn origin_of(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).filter(|o| !o.is_empty())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    Read,
    Write,
}

/// Token, rate, origin and role, in that order; the refusal is the finished response.
async fn admit(state: &KeviState, headers: &HeaderMap, key: Option<&str>, need: Need) -> Result<Admitted, Response> {
    let origin = origin_of(headers);
    // Errors before the service is known carry CORS headers only for an origin some service
    // accepts, so that its page can read why it was refused.
    let early = |response: Response| async move {
        match origin {
            Some(o) if state.services.preflight_allowed(o, None).await.unwrap_or(false) => {
                with_cors(response, HeaderValue::from_str(o).ok())
            }
            _ => with_cors(response, None),
        }
    };
    let token = headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok()).filter(|t| !t.trim().is_empty());
    let Some(token) = token else { return Err(early(unauthorized()).await) };
    let service = headers.get(SERVICE_HEADER).and_then(|v| v.to_str().ok());
    let caller = match state.services.caller(token, service).await {
        Ok(Some(caller)) => caller,
        Ok(None) => return Err(early(unauthorized()).await),
        Err(err) => return Err(early(domain_failure(err)).await),
    };
    // The origin to echo: one the service accepts, or any for a public key's read.
    let accepted = origin.filter(|origin| {
        caller.service.allows_origin(origin) || (need == Need::Read && key.is_some_and(|k| caller.service.is_public(k)))
    });
    if let Err(wait) = state.limiter.take(&caller.token) {
        let mut response = failure(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many requests with this token; retry in {wait} s"),
            None,
        );
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return Err(with_cors(response, accepted.and_then(|o| HeaderValue::from_str(o).ok())));
    }
    let origin = match origin {
        None => None,
        Some(origin) if accepted.is_none() => {
            return Err(with_cors(failure(StatusCode::FORBIDDEN, wire::origin_refused(origin), None), None));
        }
        Some(origin) => HeaderValue::from_str(origin).ok(),
    };
    let admitted = Admitted { caller, origin };
    let refused = match admitted.caller.role() {
        ServiceRole::Admin => None,
        ServiceRole::ReadOnly => Some(RefusedRole::ReadOnly),
    };
    if let (Need::Write, Some(current)) = (need, refused) {
        return Err(admitted.reply(wire::reply(StatusCode::FORBIDDEN, PermissionDenied::new(current))));
    }
    Ok(admitted)
}

// ---- keys ------------------------------------------------------------------------------------

/// The stored name of a service's key, checked: not empty, and within 512 bytes with the prefix.
fn stored_key(caller: &Caller, key: &str) -> Result<String, Response> {
    if key.is_empty() {
        return Err(failure(StatusCode::BAD_REQUEST, "key: must not be empty", Some("key")));
    }
    let stored = caller.service.stored_key(key);
    if stored.len() > limits::MAX_KEY_BYTES {
        return Err(failure(
            StatusCode::BAD_REQUEST,
            format!(
                "key: {} bytes with the service prefix {:?}; at most {} bytes in all",
                stored.len(),
                caller.service.key_space(),
                limits::MAX_KEY_BYTES
            ),
            Some("key"),
        ));
    }
    limits::check_key_name(&stored).map_err(domain_failure)?;
    Ok(stored)
}

/// [`admit`] for one key, with the key's stored name.
async fn admit_key(
    state: &KeviState,
    headers: &HeaderMap,
    key: &str,
    need: Need,
) -> Result<(Admitted, String), Response> {
    let admitted = admit(state, headers, Some(key), need).await?;
    match stored_key(&admitted.caller, key) {
        Ok(stored) => Ok((admitted, stored)),
        Err(response) => Err(admitted.reply(response)),
    }
}

// ---- the services file ------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServicesFile {
    #[serde(default)]
    service: Vec<domain::services::ServiceDefinition>,
}

/// Loads `KVM_SERVICES_FILE` (TOML: `[[service]]` tables with `name`, `storage`, `role`,
/// `prefix`, `allowed_origins`, `public_keys`, `description`, `disabled` and `token_sha256`,
/// the SHA-256 in hex of each token). Answers how many services it defines.
pub async fn load_services_file(services: &Services, path: &std::path::Path) -> anyhow::Result<usize> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("services file {}: {e}", path.display()))?;
    let file: ServicesFile =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("services file {}: {e}", path.display()))?;
    let actor = domain::Actor::new("services-file", domain::Source::Cli, domain::Role::Admin);
    services
        .load_definitions(&actor, &file.service)
        .await
        .map_err(|e| anyhow::anyhow!("services file {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One error policy: the console and script API, `/client/v4` and `/v1/kv` give a Cloudflare
    /// failure the same status (502, and 404 for Cloudflare's own "not found"), each in its shape.
    #[test]
    fn an_upstream_failure_answers_the_same_status_on_every_surface() {
        let cases = [
            (DomainError::upstream(503, 0, "Cloudflare: unavailable"), 502),
            (DomainError::upstream(502, 0, "Cloudflare API unreachable"), 502),
            (DomainError::upstream(429, 971, "Cloudflare: rate limited"), 502),
            (DomainError::upstream(401, 10000, "Cloudflare: Authentication error"), 502),
            (DomainError::upstream(403, 10000, "Cloudflare: Authentication error"), 502),
            (DomainError::upstream(400, 10001, "Cloudflare: bad request"), 502),
            (DomainError::upstream(404, 0, "a proxy's page"), 502),
            (DomainError::upstream(404, 10013, "Cloudflare: namespace not found"), 404),
            (DomainError::upstream(404, 10009, "Cloudflare: key not found"), 404),
        ];
        for (err, status) in cases {
            let console = app::error::AppError::from(err.clone());
            assert_eq!(console.status(), status, "console: {err:?}");
            assert_eq!(crate::cf_api::cf_error(err.clone()).status().as_u16(), status, "/client/v4: {err:?}");
            assert_eq!(domain_failure(err.clone()).status().as_u16(), status, "/v1/kv: {err:?}");
            assert_eq!(err.status(), status, "domain: {err:?}");
        }
    }

    /// The limits of the hand-written bucket it replaced: a burst of twice the rate, then a wait
    /// of at least a second, each token on its own.
    #[test]
    fn each_token_gets_a_burst_of_twice_the_rate() {
        let limiter = RateLimiter::new(5);
        for _ in 0..10 {
            assert_eq!(limiter.take("a"), Ok(()));
        }
        assert!(limiter.take("a").is_err_and(|wait| wait >= 1));
        assert_eq!(limiter.take("b"), Ok(()));
    }
}
