//! A client for Cloudflare's Workers KV REST API (v4), for the Cloudflare backend.
//!
//! Polite by construction: a bounded number of requests at once, retries of 429 and 5xx answers
//! and of connection failures with exponential backoff and jitter, honouring `Retry-After`, a
//! timeout on every request, and the bulk endpoints wherever Cloudflare has them (10,000 keys a
//! write or delete, 100 a read). Refusals carry Cloudflare's code and message to the caller
//! ([`DomainError::Upstream`]). Every request sent is counted, for benchmarks and tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::error::{DomainError, DomainResult};

/// Cloudflare's own API.
pub const DEFAULT_BASE_URL: &str = "https://api.cloudflare.com/client/v4";
/// Keys one bulk write or delete may carry.
pub const BULK_WRITE_KEYS: usize = 10_000;
/// Keys one bulk get may ask for.
pub const BULK_GET_KEYS: usize = 100;
/// Bytes one bulk write may carry (Cloudflare's limit is 100 MB; some room for the JSON).
pub const BULK_WRITE_BYTES: usize = 95 * 1024 * 1024;
/// Bytes any one answer may have: the largest is one 25 MiB value in a bulk get's JSON, every
/// byte escaped (`\u0000`, six bytes), with its metadata. Past it the answer is an error, read
/// no further.
pub const ANSWER_BYTES: usize = 6 * crate::limits::MAX_VALUE_BYTES + 1024 * 1024;
/// Bytes a bulk get's answer for several keys may have; a larger one is asked again in halves
/// (values whose sizes nobody knew yet, written to Cloudflare by others).
pub const BULK_GET_BYTES: usize = 2 * crate::limits::BATCH_BYTES;

#[derive(Clone, Debug)]
pub struct CloudflareConfig {
    /// `https://api.cloudflare.com/client/v4`, or another server speaking the same contract.
    pub base_url: String,
    pub account_id: String,
    pub api_token: String,
    /// Requests in flight at most (`KVM_CF_CONCURRENCY`).
    pub concurrency: usize,
    /// Attempts per request, the first included.
    pub attempts: u32,
    /// First backoff; doubled at each retry (with jitter), capped at `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub timeout: Duration,
    /// Bytes of items one bulk write request carries at most (Cloudflare takes 100 MB).
    pub bulk_write_bytes: usize,
    /// Bytes a bulk get's answer for several keys may have before it is asked again in halves.
    pub bulk_get_bytes: usize,
}

impl CloudflareConfig {
    pub fn new(base_url: &str, account_id: &str, api_token: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            account_id: account_id.to_owned(),
            api_token: api_token.to_owned(),
            concurrency: 4,
            attempts: 6,
            backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
            timeout: Duration::from_secs(60),
            bulk_write_bytes: BULK_WRITE_BYTES,
            bulk_get_bytes: BULK_GET_BYTES,
        }
    }
}

#[derive(Clone)]
pub struct CloudflareClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: CloudflareConfig,
    http: reqwest::Client,
    permits: Semaphore,
    sent: AtomicU64,
    ok: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
    /// Time spent waiting for answers (attempts only, not the waits between them), microseconds.
    latency_us: AtomicU64,
}

/// What the client has sent since it was made, for `/metrics`: every request is counted once
/// by its outcome (answered with success, failed and tried again, or failed for good).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    pub requests: u64,
    pub ok: u64,
    pub retried: u64,
    pub failed: u64,
    /// Seconds spent waiting for answers, in microseconds.
    pub latency_us: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RemoteNamespace {
    pub id: String,
    pub title: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct RemoteKey {
    pub name: String,
    pub expiration: Option<i64>,
    pub metadata: Option<Value>,
}

/// One item of a bulk write.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BulkWrite {
    pub key: String,
    /// Base64 of the value (always sent so, so that any bytes survive).
    pub value: String,
    pub base64: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

impl BulkWrite {
    pub fn new(key: String, value: &[u8], expiration: Option<i64>, metadata: Option<Value>) -> Self {
        let value = base64::engine::general_purpose::STANDARD.encode(value);
        Self { key, value, base64: true, expiration, metadata }
    }

    fn bytes(&self) -> usize {
        self.key.len() + self.value.len() + self.metadata.as_ref().map_or(0, |m| m.to_string().len()) + 64
    }
}

/// A value read by a bulk get, with its metadata and expiration.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteValue {
    pub value: Vec<u8>,
    pub metadata: Option<Value>,
    pub expiration: Option<i64>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    errors: Vec<ErrorItem>,
    #[serde(default)]
    result: Value,
    #[serde(default)]
    result_info: Value,
}

#[derive(Deserialize)]
struct ErrorItem {
    #[serde(default)]
    code: u32,
    #[serde(default)]
    message: String,
}

/// An answer's body, or word that it was larger than the caller takes.
enum Answer {
    Body(Vec<u8>),
    TooLarge,
}

/// Reads an answer's body, stopping at `cap` bytes (the declared length is looked at first).
async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Answer, reqwest::Error> {
    if response.content_length().is_some_and(|declared| declared > cap as u64) {
        return Ok(Answer::TooLarge);
    }
    // What the answer says it holds is taken as a hint only up to 1 MiB: the rest grows as it comes.
    let hint = response.content_length().map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let mut body = Vec::with_capacity(hint.min(1024 * 1024));
    while let Some(chunk) = response.chunk().await? {
        if body.len().saturating_add(chunk.len()) > cap {
            return Ok(Answer::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer::Body(body))
}

/// What a request carries.
enum Body {
    None,
    Json(Value),
    Bytes(Vec<u8>),
    Form { value: Vec<u8>, metadata: Value },
}

/// How a bulk write is split into Cloudflare requests: at most 10,000 keys and `max_bytes` each
/// (an item larger than that goes alone).
pub fn bulk_write_parts(items: &[BulkWrite], max_bytes: usize) -> Vec<std::ops::Range<usize>> {
    let mut parts = Vec::new();
    let mut start = 0;
    while start < items.len() {
        let mut end = start;
        let mut bytes = 0usize;
        while end < items.len()
            && end - start < BULK_WRITE_KEYS
            && (end == start || bytes.saturating_add(items[end].bytes()) <= max_bytes)
        {
            bytes = bytes.saturating_add(items[end].bytes());
            end += 1;
        }
        parts.push(start..end);
        start = end;
    }
    parts
}

impl CloudflareClient {
    /// How this client splits `items` into bulk write requests.
    pub fn bulk_write_parts(&self, items: &[BulkWrite]) -> Vec<std::ops::Range<usize>> {
        bulk_write_parts(items, self.inner.config.bulk_write_bytes)
    }

    pub fn new(config: CloudflareConfig) -> DomainResult<Self> {
        if config.api_token.trim().is_empty() {
            return Err(DomainError::invalid("api_token", "api_token: a Cloudflare API token is required"));
        }
        if config.account_id.trim().is_empty() {
            return Err(DomainError::invalid("account_id", "account_id: the Cloudflare account id is required"));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("kv-manager/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(DomainError::internal)?;
        let permits = Semaphore::new(config.concurrency.max(1));
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                http,
                permits,
                sent: AtomicU64::new(0),
                ok: AtomicU64::new(0),
                retried: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                latency_us: AtomicU64::new(0),
            }),
        })
    }

    /// Requests sent so far, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.inner.sent.load(Ordering::Relaxed)
    }

    /// Requests by outcome so far, and the time spent on them.
    pub fn stats(&self) -> ClientStats {
        let inner = &self.inner;
        ClientStats {
            requests: inner.sent.load(Ordering::Relaxed),
            ok: inner.ok.load(Ordering::Relaxed),
            retried: inner.retried.load(Ordering::Relaxed),
            failed: inner.failed.load(Ordering::Relaxed),
            latency_us: inner.latency_us.load(Ordering::Relaxed),
        }
    }

    fn namespaces_url(&self) -> String {
        format!("{}/accounts/{}/storage/kv/namespaces", self.inner.config.base_url, self.inner.config.account_id)
    }

    /// One request with retries; the body of a successful answer.
    async fn send(&self, method: Method, url: &str, query: &[(&str, String)], body: Body) -> DomainResult<Vec<u8>> {
        match self.send_capped(method, url, query, body, ANSWER_BYTES).await? {
            Answer::Body(bytes) => Ok(bytes),
            Answer::TooLarge => Err(too_large(url, ANSWER_BYTES)),
        }
    }

    /// One request with retries; the body of a successful answer, unless it passes `cap` bytes.
    async fn send_capped(
        &self,
        method: Method,
        url: &str,
        query: &[(&str, String)],
        body: Body,
        cap: usize,
    ) -> DomainResult<Answer> {
        let config = &self.inner.config;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = {
                let _permit = self.inner.permits.acquire().await.map_err(DomainError::internal)?;
                self.inner.sent.fetch_add(1, Ordering::Relaxed);
                let started = std::time::Instant::now();
                let mut request = self.inner.http.request(method.clone(), url).bearer_auth(&config.api_token);
                if !query.is_empty() {
                    request = request.query(query);
                }
                request = match &body {
                    Body::None => request,
                    Body::Json(value) => request.json(value),
                    Body::Bytes(bytes) => request.body(bytes.clone()),
                    Body::Form { value, metadata } => request.multipart(
                        reqwest::multipart::Form::new()
                            .part("value", reqwest::multipart::Part::bytes(value.clone()))
                            .text("metadata", metadata.to_string()),
                    ),
                };
                let outcome = match request.send().await {
                    Ok(response) => {
                        let status = response.status();
                        let retry_after = response
                            .headers()
                            .get(reqwest::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.trim().parse::<u64>().ok())
                            .map(Duration::from_secs);
                        // An error's body is read only for its message.
                        let cap = if status.is_success() { cap } else { 64 * 1024 };
                        let bytes = read_capped(response, cap).await;
                        Ok((status, retry_after, bytes))
                    }
                    Err(err) => Err(err),
                };
                let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                self.inner.latency_us.fetch_add(micros, Ordering::Relaxed);
                outcome
            };
            let (retryable, wait, failure) = match outcome {
                Ok((status, _, Ok(answer))) if status.is_success() => {
                    self.inner.ok.fetch_add(1, Ordering::Relaxed);
                    return Ok(answer);
                }
                Ok((status, retry_after, answer)) => {
                    let bytes = match answer {
                        Ok(Answer::Body(bytes)) => bytes,
                        _ => Vec::new(),
                    };
                    let failure = upstream_error(status, &bytes);
                    let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
                    (retryable, retry_after, failure)
                }
                Err(err) => {
                    let failure = DomainError::upstream(502, 0, format!("Cloudflare API unreachable: {err}"));
                    (err.is_timeout() || err.is_connect() || err.is_request(), None, failure)
                }
            };
            if !retryable || attempt >= config.attempts {
                self.inner.failed.fetch_add(1, Ordering::Relaxed);
                return Err(failure);
            }
            self.inner.retried.fetch_add(1, Ordering::Relaxed);
            let backoff = config.backoff.saturating_mul(1 << (attempt - 1).min(16)).min(config.max_backoff);
            // Full jitter on the computed backoff; a server's Retry-After is a floor.
            let jittered = backoff.mul_f64(0.5 + jitter() * 0.5);
            let delay = wait
                .map_or(jittered, |floor| floor.max(jittered))
                .min(config.max_backoff.max(wait.unwrap_or_default()));
            tracing::debug!(%url, attempt, ?delay, %failure, "Cloudflare request retried");
            tokio::time::sleep(delay).await;
        }
    }

    async fn call(&self, method: Method, url: &str, query: &[(&str, String)], body: Body) -> DomainResult<Envelope> {
        let bytes = self.send(method, url, query, body).await?;
        envelope_of(&bytes)
    }

    fn result<T: serde::de::DeserializeOwned>(envelope: Envelope) -> DomainResult<T> {
        serde_json::from_value(envelope.result)
            .map_err(|err| DomainError::upstream(502, 0, format!("Cloudflare answered an unexpected shape: {err}")))
    }

    /// One page of namespaces (1-based) and the total count.
    pub async fn list_namespaces(&self, page: u32, per_page: u32) -> DomainResult<(Vec<RemoteNamespace>, u64)> {
        let query = [
            ("page", page.to_string()),
            ("per_page", per_page.to_string()),
            ("order", "title".to_owned()),
            ("direction", "asc".to_owned()),
        ];
        let envelope = self.call(Method::GET, &self.namespaces_url(), &query, Body::None).await?;
        let total = envelope.result_info.get("total_count").and_then(Value::as_u64);
        let namespaces: Vec<RemoteNamespace> = Self::result(envelope)?;
        let total = total.unwrap_or(namespaces.len() as u64);
        Ok((namespaces, total))
    }

    /// Every namespace: pages of 1,000 until an empty or short one.
    pub async fn all_namespaces(&self) -> DomainResult<Vec<RemoteNamespace>> {
        let mut all = Vec::new();
        for page in 1.. {
            let (namespaces, _) = self.list_namespaces(page, 1000).await?;
            let done = namespaces.len() < 1000;
            all.extend(namespaces);
            if done {
                break;
            }
        }
        Ok(all)
    }

    pub async fn create_namespace(&self, title: &str) -> DomainResult<RemoteNamespace> {
        let envelope =
            self.call(Method::POST, &self.namespaces_url(), &[], Body::Json(json!({ "title": title }))).await?;
        Self::result(envelope)
    }

    pub async fn get_namespace(&self, id: &str) -> DomainResult<RemoteNamespace> {
        let envelope =
            self.call(Method::GET, &format!("{}/{}", self.namespaces_url(), enc(id)), &[], Body::None).await?;
        Self::result(envelope)
    }

    pub async fn rename_namespace(&self, id: &str, title: &str) -> DomainResult<()> {
        let url = format!("{}/{}", self.namespaces_url(), enc(id));
        self.call(Method::PUT, &url, &[], Body::Json(json!({ "title": title }))).await?;
        Ok(())
    }

    pub async fn delete_namespace(&self, id: &str) -> DomainResult<()> {
        self.call(Method::DELETE, &format!("{}/{}", self.namespaces_url(), enc(id)), &[], Body::None).await?;
        Ok(())
    }

    /// One page of keys (10..=1000) and the cursor of the next, `None` after the last.
    pub async fn list_keys(
        &self,
        namespace_id: &str,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> DomainResult<(Vec<RemoteKey>, Option<String>)> {
        let mut query = vec![("limit", limit.clamp(10, 1000).to_string())];
        if !prefix.is_empty() {
            query.push(("prefix", prefix.to_owned()));
        }
        if let Some(cursor) = cursor.filter(|c| !c.is_empty()) {
            query.push(("cursor", cursor.to_owned()));
        }
        let url = format!("{}/{}/keys", self.namespaces_url(), enc(namespace_id));
        let envelope = self.call(Method::GET, &url, &query, Body::None).await?;
        let cursor =
            envelope.result_info.get("cursor").and_then(Value::as_str).filter(|c| !c.is_empty()).map(str::to_owned);
        let keys: Vec<RemoteKey> = Self::result(envelope)?;
        Ok((keys, cursor))
    }

    /// Every key starting with `prefix`, page after page until the cursor runs out.
    pub async fn all_keys(&self, namespace_id: &str, prefix: &str) -> DomainResult<Vec<RemoteKey>> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let (keys, next) = self.list_keys(namespace_id, prefix, cursor.as_deref(), 1000).await?;
            all.extend(keys);
            match next {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// A value and its expiration, `None` when the key does not exist.
    pub async fn get_value(&self, namespace_id: &str, key: &str) -> DomainResult<Option<Vec<u8>>> {
        let url = format!("{}/{}/values/{}", self.namespaces_url(), enc(namespace_id), enc(key));
        match self.send(Method::GET, &url, &[], Body::None).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(DomainError::Upstream { status: 404, code: 10009, .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Writes one value with its metadata (multipart) and expiration.
    pub async fn put_value(
        &self,
        namespace_id: &str,
        key: &str,
        value: &[u8],
        metadata: Option<&Value>,
        expiration: Option<i64>,
    ) -> DomainResult<()> {
        let url = format!("{}/{}/values/{}", self.namespaces_url(), enc(namespace_id), enc(key));
        let query: Vec<(&str, String)> = expiration.map(|at| ("expiration", at.to_string())).into_iter().collect();
        let body = match metadata {
            Some(metadata) => Body::Form { value: value.to_vec(), metadata: metadata.clone() },
            None => Body::Bytes(value.to_vec()),
        };
        self.call(Method::PUT, &url, &query, body).await?;
        Ok(())
    }

    pub async fn delete_value(&self, namespace_id: &str, key: &str) -> DomainResult<()> {
        let url = format!("{}/{}/values/{}", self.namespaces_url(), enc(namespace_id), enc(key));
        self.call(Method::DELETE, &url, &[], Body::None).await?;
        Ok(())
    }

    /// Writes the items in as few requests as the limits allow (10,000 keys and about 95 MB a
    /// request); answers how many requests that took.
    pub async fn bulk_write(&self, namespace_id: &str, items: &[BulkWrite]) -> DomainResult<usize> {
        let url = format!("{}/{}/bulk", self.namespaces_url(), enc(namespace_id));
        let mut requests = 0;
        for part in bulk_write_parts(items, self.inner.config.bulk_write_bytes) {
            let count = part.len();
            let body = serde_json::to_value(&items[part]).map_err(DomainError::internal)?;
            let envelope = self.call(Method::PUT, &url, &[], Body::Json(body)).await?;
            let unsuccessful = envelope.result.get("unsuccessful_keys").and_then(Value::as_array).map_or(0, Vec::len);
            if unsuccessful > 0 {
                return Err(DomainError::upstream(
                    502,
                    0,
                    format!("Cloudflare did not write {unsuccessful} of {count} keys"),
                ));
            }
            requests += 1;
        }
        Ok(requests)
    }

    /// Deletes the keys, 10,000 a request; answers how many requests that took.
    pub async fn bulk_delete(&self, namespace_id: &str, keys: &[String]) -> DomainResult<usize> {
        let url = format!("{}/{}/bulk/delete", self.namespaces_url(), enc(namespace_id));
        let mut requests = 0;
        for chunk in keys.chunks(BULK_WRITE_KEYS) {
            self.call(Method::POST, &url, &[], Body::Json(json!(chunk))).await?;
            requests += 1;
        }
        Ok(requests)
    }

    /// Values with metadata and expiration, 100 keys a request; missing keys are absent. Bulk
    /// get reads values as text: a value that is not UTF-8 comes back with U+FFFD in it, and is
    /// read again on its own, as bytes. An answer for several keys larger than
    /// `bulk_get_bytes` is not read on: its keys are asked for again in halves.
    pub async fn bulk_get(
        &self,
        namespace_id: &str,
        keys: &[String],
    ) -> DomainResult<std::collections::HashMap<String, RemoteValue>> {
        let url = format!("{}/{}/bulk/get", self.namespaces_url(), enc(namespace_id));
        let mut found = std::collections::HashMap::new();
        // Key lists still to ask for, last first (so the halves of a split go in order).
        let mut pending: Vec<&[String]> = keys.chunks(BULK_GET_KEYS).rev().collect();
        while let Some(chunk) = pending.pop() {
            let cap = if chunk.len() > 1 { self.inner.config.bulk_get_bytes } else { ANSWER_BYTES };
            let body = json!({ "keys": chunk, "type": "text", "withMetadata": true });
            let bytes = match self.send_capped(Method::POST, &url, &[], Body::Json(body), cap).await? {
                Answer::Body(bytes) => bytes,
                Answer::TooLarge if chunk.len() > 1 => {
                    let (first, second) = chunk.split_at(chunk.len() / 2);
                    pending.push(second);
                    pending.push(first);
                    continue;
                }
                Answer::TooLarge => return Err(too_large(&url, cap)),
            };
            let envelope = envelope_of(&bytes)?;
            drop(bytes);
            let Value::Object(mut result) = envelope.result else {
                return Err(DomainError::upstream(502, 0, "Cloudflare's bulk get answered without values"));
            };
            let Some(Value::Object(values)) = result.remove("values") else {
                return Err(DomainError::upstream(502, 0, "Cloudflare's bulk get answered without values"));
            };
            for (key, entry) in values {
                let Value::Object(mut entry) = entry else { continue };
                let text = match entry.remove("value") {
                    Some(Value::String(text)) => text,
                    _ => String::new(),
                };
                let value = if text.contains('\u{FFFD}') {
                    match self.get_value(namespace_id, &key).await? {
                        Some(bytes) => bytes,
                        None => continue,
                    }
                } else {
                    text.into_bytes()
                };
                let metadata = entry.remove("metadata").filter(|m| !m.is_null());
                let expiration = entry.get("expiration").and_then(Value::as_i64);
                found.insert(key, RemoteValue { value, metadata, expiration });
            }
        }
        Ok(found)
    }
}

/// A path segment, percent-encoded as `encodeURIComponent` does.
fn enc(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A number in [0, 1) for jitter, without a random number generator dependency.
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let mixed = (u64::from(nanos) ^ 0x9E37_79B9_7F4A_7C15).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    (mixed >> 11) as f64 / (1u64 << 53) as f64
}

/// A successful answer's envelope.
fn envelope_of(bytes: &[u8]) -> DomainResult<Envelope> {
    let envelope: Envelope = serde_json::from_slice(bytes).map_err(|err| {
        DomainError::upstream(502, 0, format!("Cloudflare answered something that is not its API: {err}"))
    })?;
    if !envelope.success {
        return Err(envelope_error(200, &envelope));
    }
    Ok(envelope)
}

fn too_large(url: &str, cap: usize) -> DomainError {
    let path = url.split('?').next().unwrap_or_default();
    DomainError::upstream(502, 0, format!("Cloudflare's answer to {path} is larger than {cap} bytes; it was not read"))
}

fn upstream_error(status: StatusCode, body: &[u8]) -> DomainError {
    match serde_json::from_slice::<Envelope>(body) {
        Ok(envelope) if !envelope.errors.is_empty() => envelope_error(status.as_u16(), &envelope),
        _ => DomainError::upstream(
            status.as_u16(),
            0,
            format!("Cloudflare answered {status}: {}", String::from_utf8_lossy(&body[..body.len().min(200)])),
        ),
    }
}

fn envelope_error(status: u16, envelope: &Envelope) -> DomainError {
    let first = envelope.errors.first();
    let code = first.map_or(0, |e| e.code);
    let message = envelope.errors.iter().map(|e| format!("{} ({})", e.message, e.code)).collect::<Vec<_>>().join("; ");
    DomainError::upstream(status, code, format!("Cloudflare: {message}"))
}
