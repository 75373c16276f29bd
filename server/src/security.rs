//! What stands between a request and every surface: who it is (a Cloudflare Access token, or the
//! one local user on loopback), whether a state-changing request really comes from the console
//! (CSRF), and the security headers on every response.

use std::net::SocketAddr;
use std::sync::Arc;

use app::components::viewer::Viewer;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::auth::{AccessVerifier, REFETCH_INTERVAL, Roles};
use domain::tokens::Tokens;
use domain::{Actor, DomainError, Source};

use crate::config::{Auth, Config};

/// Where Cloudflare Access signs a user out.
pub const ACCESS_LOGOUT_PATH: &str = "/cdn-cgi/access/logout";
/// Where the Cloudflare-compatible API lives.
pub const CF_API_PREFIX: &str = "/client/v4";
/// The cookie Cloudflare Access sets with the token.
pub const ACCESS_COOKIE: &str = "CF_Authorization";
/// The header Cloudflare Access adds with the token.
pub const ACCESS_HEADER: &str = "cf-access-jwt-assertion";

/// How requests are identified, built once from the configuration.
pub struct Identity {
    mode: Mode,
    roles: Roles,
    tokens: Tokens,
    /// The keys live on Cloudflare: the console offers to sync.
    remote_store: bool,
}

enum Mode {
    Access(AccessVerifier),
    Local,
}

impl Identity {
    pub fn new(config: &Config, tokens: Tokens) -> anyhow::Result<Self> {
        let mode = match &config.auth {
            Auth::Access { team_domain, audience } => Mode::Access(
                AccessVerifier::new(team_domain, audience, REFETCH_INTERVAL).map_err(|e| anyhow::anyhow!("{e}"))?,
            ),
            Auth::None { .. } => Mode::Local,
        };
        let remote_store = matches!(config.backend, crate::config::Backend::Cloudflare { .. });
        Ok(Self { mode, roles: Roles::new(&config.admins, &config.readonly_users), tokens, remote_store })
    }
}

/// Which `Host` names are answered, and whether only this machine may connect. Built once from
/// the configuration; [`guard`] applies it to every request, on every surface, before anything
/// else reads the request.
pub struct HostGuard {
    /// `KVM_AUTH=none`: the TCP peer must be this machine, whatever the route.
    loopback_peers_only: bool,
    /// Names answered besides the loopback ones; empty in Access mode means every name.
    allowed: Vec<String>,
    /// Access mode with no list: any `Host`, since every request must carry a valid token.
    any_host: bool,
}

impl HostGuard {
    pub fn new(config: &Config) -> Self {
        let local = matches!(config.auth, Auth::None { .. });
        Self {
            loopback_peers_only: local,
            allowed: config.allowed_hosts.clone(),
            any_host: !local && config.allowed_hosts.is_empty(),
        }
    }

    /// Whether a request naming `host` (a `Host` header or a URI authority) is for this server.
    pub fn admits(&self, host: Option<&str>) -> bool {
        if self.any_host {
            return true;
        }
        let Some(name) = host.and_then(host_name) else { return false };
        is_loopback_name(&name) || self.allowed.iter().any(|entry| host_matches(entry, &name))
    }
}

/// The name of a `Host` value: lower case, no port, no trailing dot; IPv6 addresses keep their
/// brackets. `None` for what is not a host.
pub fn host_name(host: &str) -> Option<String> {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        let (address, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))) {
            return None;
        }
        format!("[{address}]")
    } else {
        let name = match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            Some(_) => return None,
            None => host,
        };
        name.to_owned()
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 255
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']'));
    valid.then_some(name)
}

fn is_loopback_name(name: &str) -> bool {
    if name == "localhost" {
        return true;
    }
    let address = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')).unwrap_or(name);
    address.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.to_canonical().is_loopback())
}

fn host_matches(entry: &str, name: &str) -> bool {
    match entry.strip_prefix("*.") {
        Some(parent) => name.strip_suffix(parent).is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
        None => entry == name,
    }
}

/// One `--allowed-hosts` entry as it is matched: `kv.example.com` or `*.example.com`, lower case,
/// any port dropped.
pub fn allowed_host_entry(entry: &str) -> anyhow::Result<String> {
    let (wildcard, rest) = match entry.trim().strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, entry.trim()),
    };
    match host_name(rest) {
        Some(name) if !name.contains('*') => Ok(if wildcard { format!("*.{name}") } else { name }),
        _ => anyhow::bail!(
            "allowed-hosts: {entry:?} is not a host name (kv.example.com, or *.example.com for its subdomains)"
        ),
    }
}

/// Answers only requests for this server: `421 Misdirected Request` when the `Host` (or the
/// request's authority) is not a loopback name or one of `--allowed-hosts`, which is what stops a
/// web page whose name was re-pointed at 127.0.0.1 (DNS rebinding) from using the console with
/// the local user's rights. With `KVM_AUTH=none`, `403` when the TCP peer is another machine,
/// on every route (the APIs and their documents included).
pub async fn guard(State(guard): State<Arc<HostGuard>>, request: Request, next: Next) -> Response {
    let host = request_authority(&request);
    if !guard.admits(host.as_deref()) {
        let shown: String = host.as_deref().unwrap_or("(none)").chars().take(100).collect();
        let body = serde_json::json!({ "error": {
            "code": "misdirected_request",
            "message": format!(
                "Host {shown:?} is not served here: use localhost or 127.0.0.1, or add the name to --allowed-hosts (KVM_ALLOWED_HOSTS)"
            ),
            "field": null,
        }});
        return (axum::http::StatusCode::MISDIRECTED_REQUEST, axum::Json(body)).into_response();
    }
    if guard.loopback_peers_only {
        let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        if !peer.is_some_and(|p| p.ip().to_canonical().is_loopback()) {
            return refuse(DomainError::forbidden(
                "this server runs without sign-in (KVM_AUTH=none) and answers only requests from its own machine",
            ));
        }
    }
    next.run(request).await
}

/// Turns the request into an [`Actor`] (and the console's [`Viewer`]) or refuses it: 401 without
/// a valid Access token; with `KVM_AUTH=none`, the local user (the peer check is [`guard`]'s).
pub async fn identify(State(identity): State<Arc<Identity>>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == "/health" {
        return next.run(request).await;
    }
    // A scraper holding the metrics token has no sign-in: `/metrics` checks the token itself.
    if path == "/metrics" && crate::metrics::bearer(request.headers()).is_some() {
        return next.run(request).await;
    }
    // The Cloudflare-compatible API signs in with API tokens, whatever the console uses.
    if path.strip_prefix(CF_API_PREFIX).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')) {
        let secret = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(|t| t.trim().to_owned());
        let Some(secret) = secret else {
            return crate::cf_api::failure(
                axum::http::StatusCode::UNAUTHORIZED,
                10000,
                "Authentication error: send an API token as Authorization: Bearer <token> (kv-manager token create)",
            );
        };
        return match identity.tokens.verify(&secret).await {
            Ok(token) => {
                let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
                let actor = token.actor().with_request_id(request_id);
                request.extensions_mut().insert(actor);
                request.extensions_mut().insert(token);
                next.run(request).await
            }
            Err(err) => crate::cf_api::cf_error(err),
        };
    }
    // Browsers say how a request was made; scripts do not. For attribution only.
    let source = if request.headers().contains_key("sec-fetch-mode") { Source::Console } else { Source::Script };
    let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (actor, logout_url) = match &identity.mode {
        // The TCP peer is this machine: [`guard`], in front of every route, refused the others.
        Mode::Local => (Actor::local(source), None),
        Mode::Access(verifier) => {
            let Some(token) = access_token(request.headers()) else {
                return refuse(DomainError::unauthorized(
                    "sign in through Cloudflare Access: no Cf-Access-Jwt-Assertion header or CF_Authorization cookie",
                ));
            };
            match verifier.verify(&token).await {
                Ok(user) => {
                    (domain::auth::actor_for(&user, &identity.roles, source), Some(ACCESS_LOGOUT_PATH.to_owned()))
                }
                Err(err) => return refuse(err),
            }
        }
    };
    let actor = actor.with_request_id(request_id);
    let viewer = Viewer {
        user: actor.user.clone(),
        can_write: actor.can_write(),
        is_admin: actor.is_admin(),
        logout_url,
        remote_store: identity.remote_store,
    };
    request.extensions_mut().insert(actor);
    request.extensions_mut().insert(viewer);
    next.run(request).await
}

fn access_token(headers: &HeaderMap) -> Option<String> {
    if let Some(token) = headers.get(ACCESS_HEADER).and_then(|v| v.to_str().ok()).filter(|t| !t.is_empty()) {
        return Some(token.to_owned());
    }
    cookie(headers, ACCESS_COOKIE)
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
        line.split(';').find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name && !value.is_empty()).then(|| value.to_owned())
        })
    })
}

/// The refusal as the console's JSON error.
fn refuse(err: DomainError) -> Response {
    crate::jobs_api::error_response(err)
}

/// Refuses a state-changing request that does not come from the console's own pages: a
/// browser says where a request comes from (`Sec-Fetch-Site`, else `Origin`), and it must be
/// this origin. A request that says neither is a script's, and is let through only when it
/// carries no cookies (a browser's ambient credentials are exactly what a forged request rides
/// on). WebSocket handshakes, which browsers make across origins freely, are held to the same rule.
pub async fn csrf(request: Request, next: Next) -> Response {
    let websocket =
        request.headers().get(header::UPGRADE).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if (safe && !websocket) || same_origin(request.headers(), request_authority(&request).as_deref()) {
        return next.run(request).await;
    }
    refuse(DomainError::forbidden(
        "cross-site request refused: changes are accepted from the console's own pages, or from scripts that send no cookies",
    ))
}

/// The host (and port) a request is for: its URI's authority (HTTP/2's `:authority`, an absolute
/// URI), else its `Host` header (HTTP/1.1).
fn request_authority(request: &Request) -> Option<String> {
    request
        .uri()
        .authority()
        .map(|a| a.as_str().rsplit('@').next().unwrap_or_default().to_owned())
        .or_else(|| request.headers().get(header::HOST).and_then(|v| v.to_str().ok()).map(str::to_owned))
}

/// Whether a browser says the request comes from this origin; `host` is the request's authority.
fn same_origin(headers: &HeaderMap, host: Option<&str>) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin";
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let origin_host = origin.split_once("://").map(|(_, rest)| rest.trim_end_matches('/'));
        return origin != "null" && host.is_some() && origin_host == host;
    }
    !headers.contains_key(header::COOKIE)
}

/// A page's Content-Security-Policy: scripts only from this origin or carrying this response's
/// nonce (Leptos puts it on its hydration scripts; the theme script carries it too), WebAssembly
/// allowed to compile, nothing framed, no plugins, forms posted here only.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// Headers on every response: no framing, no content sniffing, no referrer to other sites. A page
/// carries its Content-Security-Policy with the nonce its render used (left by the shell in the
/// request's [`app::NonceSlot`]).
pub async fn security_headers(mut request: Request, next: Next) -> Response {
    let slot = app::NonceSlot::default();
    request.extensions_mut().insert(slot.clone());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let nonce = slot.0.lock().ok().and_then(|mut kept| kept.take());
    if let Some(value) = nonce.and_then(|nonce| HeaderValue::from_str(&page_policy(&nonce)).ok()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    let page =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
    if !page && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        // Anything that is not a page (JSON, files) may not run or embed anything. (Pages carry
        // their own, with their nonce.)
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::same_origin;
    use axum::http::{HeaderMap, HeaderValue, header};

    fn origin(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, HeaderValue::from_static(value));
        headers.insert(header::COOKIE, HeaderValue::from_static("CF_Authorization=x"));
        headers
    }

    #[test]
    fn origin_is_compared_with_the_authority_http2_sends_instead_of_host() {
        // An HTTP/2 request has no Host header: its authority is what the origin must match.
        assert!(same_origin(&origin("https://kv.example.com:3443"), Some("kv.example.com:3443")));
        assert!(!same_origin(&origin("https://evil.example"), Some("kv.example.com:3443")));
        assert!(!same_origin(&origin("null"), Some("null")));
        assert!(!same_origin(&origin("https://kv.example.com"), None));
    }
}
