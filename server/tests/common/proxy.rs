//! A proxy in front of a server speaking Cloudflare's contract: it counts what passes by kind of
//! request (what instance B costs), and can refuse requests the way Cloudflare does under load.
//! Shared by the tests and the Cloudflare benchmark.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// How the proxy treats requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Everything goes through.
    Pass = 0,
    /// Of every three requests, the second gets a 429 (Retry-After: 0) and the third a 503.
    TwoInThree = 1,
    /// The first request gets a 429 with Retry-After: 1; the rest go through.
    FirstLimited = 2,
    /// Every request gets a 503 with Cloudflare's error envelope.
    Down = 3,
    /// Every request gets a plain-text 404, as a misrouted proxy answers: not Cloudflare's.
    PlainNotFound = 4,
    /// The first bulk write goes through; later ones are refused (400, Cloudflare's envelope).
    LaterBulkWritesRefused = 5,
}

/// The message of the proxy's 503s, as Cloudflare words its errors.
pub const UNAVAILABLE: &str = "service unavailable, try later";

#[derive(Clone)]
pub struct Proxy {
    target: String,
    http: reqwest::Client,
    mode: Arc<AtomicU8>,
    /// Requests seen since the mode was last set.
    seen: Arc<AtomicUsize>,
    /// Bulk writes seen since the mode was last set.
    bulk_writes: Arc<AtomicUsize>,
    /// Requests forwarded to the target, by kind (see [`kind`]).
    counts: Arc<Mutex<BTreeMap<&'static str, u64>>>,
}

impl Proxy {
    /// A proxy for the server at `target` (`http://host:port`); answers its base URL for
    /// Cloudflare's API (`.../client/v4`).
    pub async fn start(target: &str) -> (Self, String) {
        let proxy = Self {
            target: target.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            mode: Arc::new(AtomicU8::new(Mode::Pass as u8)),
            seen: Arc::new(AtomicUsize::new(0)),
            bulk_writes: Arc::new(AtomicUsize::new(0)),
            counts: Arc::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        // Bodies of any size pass, as they reach Cloudflare (which applies its own limits).
        let app = axum::Router::new()
            .fallback(forward)
            .layer(axum::extract::DefaultBodyLimit::disable())
            .with_state(proxy.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        (proxy, format!("http://{addr}/client/v4"))
    }

    pub fn set_mode(&self, mode: Mode) {
        self.seen.store(0, Ordering::SeqCst);
        self.bulk_writes.store(0, Ordering::SeqCst);
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    /// Requests that reached the proxy since the mode was last set, refused ones included.
    pub fn seen(&self) -> usize {
        self.seen.load(Ordering::SeqCst)
    }

    /// Forwarded requests by kind, and resets the counts.
    pub fn take_counts(&self) -> BTreeMap<&'static str, u64> {
        std::mem::take(&mut *self.counts.lock().unwrap())
    }
}

/// The kind of a request of Cloudflare's KV API, from its method and path.
pub fn kind(method: &Method, path: &str) -> &'static str {
    let Some((_, rest)) = path.split_once("/storage/kv/namespaces") else {
        return "other";
    };
    let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        (_, [""]) => "namespaces",
        (_, [_id]) => "namespace",
        ("PUT", [_, "bulk"]) => "bulk write",
        ("DELETE", [_, "bulk"]) | ("POST", [_, "bulk", "delete"]) => "bulk delete",
        ("POST", [_, "bulk", "get"]) => "bulk get",
        ("GET", [_, "keys"]) => "list keys",
        (_, [_, "values", ..]) => "value",
        (_, [_, "metadata", ..]) => "metadata",
        _ => "other",
    }
}

fn envelope_error(code: u32, message: &str) -> serde_json::Value {
    json!({ "success": false, "errors": [{ "code": code, "message": message }], "messages": [], "result": null })
}

async fn forward(State(proxy): State<Proxy>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let n = proxy.seen.fetch_add(1, Ordering::SeqCst);
    let unavailable =
        || (StatusCode::SERVICE_UNAVAILABLE, axum::Json(envelope_error(10001, UNAVAILABLE))).into_response();
    let limited = |retry_after: u64| {
        let headers = [("retry-after", retry_after.to_string())];
        (StatusCode::TOO_MANY_REQUESTS, headers, axum::Json(envelope_error(10429, "rate limited"))).into_response()
    };
    match proxy.mode.load(Ordering::SeqCst) {
        m if m == Mode::Down as u8 => return unavailable(),
        m if m == Mode::LaterBulkWritesRefused as u8
            && kind(&method, uri.path()) == "bulk write"
            && proxy.bulk_writes.fetch_add(1, Ordering::SeqCst) > 0 =>
        {
            let body = axum::Json(envelope_error(10001, "refused by the test proxy"));
            return (StatusCode::BAD_REQUEST, body).into_response();
        }
        m if m == Mode::PlainNotFound as u8 => {
            return (StatusCode::NOT_FOUND, [("content-type", "text/plain")], "404 page not found").into_response();
        }
        m if m == Mode::TwoInThree as u8 && n % 3 == 1 => return limited(0),
        m if m == Mode::TwoInThree as u8 && n % 3 == 2 => return unavailable(),
        m if m == Mode::FirstLimited as u8 && n == 0 => return limited(1),
        _ => {}
    }
    *proxy.counts.lock().unwrap().entry(kind(&method, uri.path())).or_default() += 1;
    let mut request = proxy.http.request(method, format!("{}{}", proxy.target, uri)).body(body.to_vec());
    for name in ["authorization", "content-type"] {
        if let Some(value) = headers.get(name) {
            request = request.header(name, value.as_bytes());
        }
    }
    let response = request.send().await.expect("the proxied server answers");
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let content_type = response.headers().get("content-type").map(|v| v.as_bytes().to_vec());
    let bytes = response.bytes().await.expect("body");
    let mut answer = (status, bytes.to_vec()).into_response();
    if let Some(content_type) = content_type {
        answer.headers_mut().insert("content-type", content_type.try_into().unwrap());
    }
    answer
}
