//! `GET /metrics` in Prometheus's text format (the `prometheus` crate, one registry per server):
//! HTTP requests by route template, method, status and surface with a latency histogram; key
//! operations by surface, `/v1/kv` service, operation and outcome, as the domain records them;
//! jobs by status; the database connection pool; webhook deliveries and endpoints; on the
//! Cloudflare backend, requests to Cloudflare's API by outcome (ok, retried, failed) and the
//! time spent on them. Admins may read it, and so may anyone holding
//! the bearer token `KVM_METRICS_TOKEN` (a scraper, which has no Access sign-in).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::extract::{Extension, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::jobs::Jobs;
use domain::metrics::{LATENCY_BOUNDS_US, Observation};
use domain::{Actor, DomainError, Health, Kv, Source};
use prometheus::{Counter, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

use crate::security::CF_API_PREFIX;
use domain::webhooks::Webhooks;

/// The registry of one server and what its scrapes read besides the counters.
#[derive(Clone)]
pub struct Exporter {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    http_requests: IntCounterVec,
    http_seconds: HistogramVec,
    jobs: IntGaugeVec,
    pool: IntGaugeVec,
    job_engine: Jobs,
    health: Health,
    /// The domain's recorder: off (benchmarks), HTTP requests are not counted either.
    recorder: domain::metrics::Metrics,
    /// `KVM_METRICS_TOKEN`: a bearer token that may read `/metrics` without signing in.
    token: Option<String>,
    webhooks: Webhooks,
    deliveries: IntCounterVec,
    endpoints: IntGaugeVec,
    /// The Cloudflare backend's client, and its counters as last scraped.
    cloudflare: Option<(domain::cloudflare::CloudflareClient, IntCounterVec, Counter)>,
    scrape: Mutex<()>,
}

/// The latency buckets in seconds: the rollups' bounds, so both tell the same story.
fn buckets() -> Vec<f64> {
    LATENCY_BOUNDS_US.iter().map(|us| *us as f64 / 1_000_000.0).collect()
}

/// The route and surface a request was answered by, noted by [`note_route`] once routing
/// matched it and read by [`track_http`] when the response is ready.
#[derive(Clone, Default)]
struct RouteNote(Arc<Mutex<Option<(String, &'static str)>>>);

impl Exporter {
    /// A registry with every metric, fed by `kv`'s key operations from now on.
    pub fn new(kv: &Kv, jobs: Jobs, health: Health, webhooks: Webhooks, token: Option<String>) -> anyhow::Result<Self> {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "kvm_http_requests_total",
                "HTTP requests answered, by route template, method, status and surface",
            ),
            &["route", "method", "status", "surface"],
        )?;
        let http_seconds = HistogramVec::new(
            HistogramOpts::new("kvm_http_request_duration_seconds", "Time to answer an HTTP request (to its headers)")
                .buckets(buckets()),
            &["route", "surface"],
        )?;
        let key_operations = IntCounterVec::new(
            Opts::new("kvm_key_operations_total", "Key operations, by surface, /v1/kv service, operation and outcome"),
            &["surface", "service", "operation", "outcome"],
        )?;
        let key_count = IntCounterVec::new(
            Opts::new("kvm_key_operation_keys_total", "Keys read, written, deleted or listed by key operations"),
            &["surface", "service", "operation"],
        )?;
        let key_seconds = HistogramVec::new(
            HistogramOpts::new("kvm_key_operation_duration_seconds", "Time a key operation took in the domain")
                .buckets(buckets()),
            &["surface", "operation"],
        )?;
        let jobs_gauge = IntGaugeVec::new(Opts::new("kvm_jobs", "Jobs by status (every instance's)"), &["status"])?;
        let pool = IntGaugeVec::new(
            Opts::new("kvm_db_pool_connections", "Database pool connections: open, idle, in_use, max"),
            &["state"],
        )?;
        let deliveries = IntCounterVec::new(
            Opts::new(
                "kvm_webhook_deliveries_total",
                "Webhook delivery attempts made by this instance, by outcome (delivered, failed), and events delivered (events)",
            ),
            &["outcome"],
        )?;
        let endpoints = IntGaugeVec::new(
            Opts::new(
                "kvm_webhook_endpoints",
                "Webhook endpoints by state (delivering, paused, disabled), and changes queued for them (pending)",
            ),
            &["state"],
        )?;
        let cloudflare = match kv.cloudflare_client() {
            Some(client) => {
                let requests = IntCounterVec::new(
                    Opts::new(
                        "kvm_cloudflare_requests_total",
                        "Requests to Cloudflare's API by outcome: ok, retried (failed and tried again), failed (for good)",
                    ),
                    &["outcome"],
                )?;
                let seconds = Counter::new(
                    "kvm_cloudflare_request_seconds_total",
                    "Seconds spent waiting for Cloudflare's answers (not the waits between retries)",
                )?;
                registry.register(Box::new(requests.clone()))?;
                registry.register(Box::new(seconds.clone()))?;
                Some((client.clone(), requests, seconds))
            }
            None => None,
        };
        registry.register(Box::new(deliveries.clone()))?;
        registry.register(Box::new(endpoints.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_seconds.clone()))?;
        registry.register(Box::new(key_operations.clone()))?;
        registry.register(Box::new(key_count.clone()))?;
        registry.register(Box::new(key_seconds.clone()))?;
        registry.register(Box::new(jobs_gauge.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        let observer = move |seen: &Observation<'_>| {
            let surface = seen.surface.as_str();
            let operation = seen.operation.as_str();
            let outcome = if seen.failed { "error" } else { "ok" };
            if let Ok(counter) =
                key_operations.get_metric_with_label_values(&[surface, seen.service, operation, outcome])
            {
                counter.inc();
            }
            if let Ok(counter) = key_count.get_metric_with_label_values(&[surface, seen.service, operation]) {
                counter.inc_by(seen.keys);
            }
            if let Ok(histogram) = key_seconds.get_metric_with_label_values(&[surface, operation]) {
                histogram.observe(seen.elapsed.as_secs_f64());
            }
        };
        kv.metrics().set_observer(Arc::new(observer)).map_err(|e| anyhow::anyhow!("{e}"))?;
        let token = token.filter(|t| !t.is_empty());
        Ok(Self {
            inner: Arc::new(Inner {
                registry,
                http_requests,
                http_seconds,
                jobs: jobs_gauge,
                pool,
                job_engine: jobs,
                health,
                recorder: kv.metrics().clone(),
                token,
                webhooks,
                deliveries,
                endpoints,
                cloudflare,
                scrape: Mutex::new(()),
            }),
        })
    }

    /// The text a scrape answers: the gauges read now, then every metric.
    async fn render(&self) -> Result<String, DomainError> {
        let inner = &self.inner;
        let counts = inner.job_engine.count_by_status().await?;
        for (status, n) in counts {
            if let Ok(gauge) = inner.jobs.get_metric_with_label_values(&[status.as_str()]) {
                gauge.set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
        let pool = inner.health.pool_use();
        for (state, n) in [("open", pool.open), ("idle", pool.idle), ("in_use", pool.in_use), ("max", pool.max)] {
            if let Ok(gauge) = inner.pool.get_metric_with_label_values(&[state]) {
                gauge.set(i64::from(n));
            }
        }
        let stats = inner.webhooks.stats().await?;
        for (state, n) in [
            ("delivering", stats.delivering),
            ("paused", stats.paused),
            ("disabled", stats.disabled),
            ("pending", stats.pending),
        ] {
            if let Ok(gauge) = inner.endpoints.get_metric_with_label_values(&[state]) {
                gauge.set(n);
            }
        }
        // Counters kept elsewhere are brought up to date by their growth since the last scrape:
        // one scrape at a time, or two would both add the same growth.
        let _one_at_a_time = inner.scrape.lock().unwrap_or_else(PoisonError::into_inner);
        let counters = inner.webhooks.counters();
        use std::sync::atomic::Ordering::Relaxed;
        for (outcome, total) in [
            ("delivered", counters.delivered.load(Relaxed)),
            ("failed", counters.failed.load(Relaxed)),
            ("events", counters.events.load(Relaxed)),
        ] {
            if let Ok(counter) = inner.deliveries.get_metric_with_label_values(&[outcome]) {
                counter.inc_by(total.saturating_sub(counter.get()));
            }
        }
        if let Some((client, requests, seconds)) = &inner.cloudflare {
            let stats = client.stats();
            for (outcome, total) in [("ok", stats.ok), ("retried", stats.retried), ("failed", stats.failed)] {
                if let Ok(counter) = requests.get_metric_with_label_values(&[outcome]) {
                    counter.inc_by(total.saturating_sub(counter.get()));
                }
            }
            let spent = stats.latency_us as f64 / 1_000_000.0;
            let more = spent - seconds.get();
            if more > 0.0 {
                seconds.inc_by(more);
            }
        }
        TextEncoder::new().encode_to_string(&inner.registry.gather()).map_err(DomainError::internal)
    }

    /// Whether `presented` is the metrics token (compared in constant time).
    fn token_matches(&self, presented: &str) -> bool {
        self.inner.token.as_deref().is_some_and(|token| {
            aws_lc_rs::constant_time::verify_slices_are_equal(token.as_bytes(), presented.as_bytes()).is_ok()
        })
    }
}

/// The route `/metrics`, to merge into a router of any state.
pub fn router<S: Clone + Send + Sync + 'static>(exporter: Exporter) -> Router<S> {
    Router::new().route("/metrics", get(scrape)).with_state(exporter)
}

/// The bearer token of a request's `Authorization` header, when it has one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
}

/// `GET /metrics`: the metrics for an admin or the holder of the metrics token; 401 for a
/// wrong token or none, 403 for a signed-in user who is not an admin.
async fn scrape(State(exporter): State<Exporter>, actor: Option<Extension<Actor>>, headers: HeaderMap) -> Response {
    let allowed = match (bearer(&headers), actor) {
        (Some(presented), _) if exporter.token_matches(presented) => Ok(()),
        (Some(_), _) => Err(DomainError::unauthorized(
            "metrics: the bearer token is not this server's metrics token (KVM_METRICS_TOKEN)",
        )),
        (None, Some(Extension(actor))) if actor.is_admin() => Ok(()),
        (None, Some(Extension(actor))) => Err(DomainError::forbidden(format!(
            "metrics: {} is not an admin; admins, or a bearer token (KVM_METRICS_TOKEN), may read them",
            actor.user
        ))),
        (None, None) => Err(DomainError::unauthorized(
            "metrics: sign in as an admin, or send Authorization: Bearer <KVM_METRICS_TOKEN>",
        )),
    };
    if let Err(err) = allowed {
        return crate::jobs_api::error_response(err);
    }
    match exporter.render().await {
        Ok(text) => {
            let kind = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
            (StatusCode::OK, [(header::CONTENT_TYPE, kind)], text).into_response()
        }
        Err(err) => crate::jobs_api::error_response(err),
    }
}

/// The surface a path belongs to, for requests no route matched or no identity was given.
fn surface_of_path(path: &str) -> &'static str {
    let under = |prefix: &str| path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    if under(CF_API_PREFIX) {
        Source::CfApi.as_str()
    } else if under("/v1") {
        Source::Kevi.as_str()
    } else {
        Source::Console.as_str()
    }
}

/// A method as a label: the standard ones by name, anything else `other` (bounded labels).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// Outermost layer: counts every request with the route and surface [`note_route`] noted
/// (`unmatched` when no route took it: a refusal before routing, a static file, a 404), its
/// status and the time to its response.
pub async fn track_http(State(exporter): State<Exporter>, mut request: Request, next: Next) -> Response {
    if !exporter.inner.recorder.enabled() {
        return next.run(request).await;
    }
    let started = Instant::now();
    let note = RouteNote::default();
    request.extensions_mut().insert(note.clone());
    let method = method_label(request.method());
    let path_surface = surface_of_path(request.uri().path());
    let response = next.run(request).await;
    let noted = note.0.lock().unwrap_or_else(PoisonError::into_inner).take();
    let (route, surface) = noted.unwrap_or_else(|| ("unmatched".to_owned(), path_surface));
    let inner = &exporter.inner;
    let status = response.status();
    if let Ok(counter) =
        inner.http_requests.get_metric_with_label_values(&[route.as_str(), method, status.as_str(), surface])
    {
        counter.inc();
    }
    if let Ok(histogram) = inner.http_seconds.get_metric_with_label_values(&[route.as_str(), surface]) {
        histogram.observe(started.elapsed().as_secs_f64());
    }
    response
}

/// Route layer: notes the matched route template (never the raw path) and the surface: the
/// actor's when the identity layer made one (console or script, `/client/v4`), else the path's.
pub async fn note_route(request: Request, next: Next) -> Response {
    if let (Some(note), Some(matched)) =
        (request.extensions().get::<RouteNote>(), request.extensions().get::<MatchedPath>())
    {
        let surface = match request.extensions().get::<Actor>() {
            Some(actor) => actor.source.as_str(),
            None => surface_of_path(request.uri().path()),
        };
        *note.0.lock().unwrap_or_else(PoisonError::into_inner) = Some((matched.as_str().to_owned(), surface));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_belong_to_their_surfaces() {
        assert_eq!(surface_of_path("/client/v4/accounts"), "cf-api");
        assert_eq!(surface_of_path("/client/v4"), "cf-api");
        assert_eq!(surface_of_path("/client/v40"), "console");
        assert_eq!(surface_of_path("/v1/kv/a"), "kevi");
        assert_eq!(surface_of_path("/api/put_key"), "console");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
