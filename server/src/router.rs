//! The router: console pages, server functions under `/api`, `/health`, and the layers around
//! them (tracing, compression, body limit, identity).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::state::AppState;
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list, handle_server_fns_with_context};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

use crate::api_errors::refuse_oversize_api;
use crate::cf_api::CfState;
use crate::config::{Backend, Config};
use crate::kevi::KeviState;
use crate::kevi::wire::{Database, Health, HealthStatus};
use crate::metrics::Exporter;
use crate::runtime::Runtime;
use crate::security::{self, Identity};

/// Largest request body: a 25 MiB value, base64-encoded inside JSON, with room to spare.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// How often expired keys are purged and old versions pruned.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(30);
/// How often recorded key operations are written to the metric rollups.
const METRICS_FLUSH_INTERVAL: Duration = Duration::from_secs(10);
/// How often job heartbeats are written and cross-instance cancellations picked up.
const SUPERVISE_INTERVAL: Duration = Duration::from_secs(2);
/// How often the webhook sender looks for work (and at once when this instance commits events).
const WEBHOOK_INTERVAL: Duration = Duration::from_secs(1);
/// How often alert rules are checked (by the one instance holding their lease).
const ALERT_INTERVAL: Duration = Duration::from_secs(60);

/// Connects the database, runs migrations, starts background tasks and builds the router.
pub async fn build(config: &Config) -> anyhow::Result<(Router, AppState)> {
    config.check_listen()?;
    let Runtime { kv, jobs, tokens, services, audit, health, webhooks, alerts, dashboard } =
        Runtime::open(config, config.instance_id.clone(), config.max_jobs).await?;
    let identity = Arc::new(Identity::new(config, tokens.clone())?);
    if let Backend::Cloudflare { sync_minutes, .. } = config.backend {
        // Keys written or deleted on Cloudflare by others reach the search index and the mirror.
        let kv = kv.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(sync_minutes * 60));
            tick.tick().await;
            let actor = domain::Actor::new("cloudflare-sync", domain::Source::Job, domain::Role::Admin);
            loop {
                tick.tick().await;
                if let Err(err) = kv.sync_all(&actor).await {
                    tracing::warn!(%err, "syncing with Cloudflare failed");
                }
            }
        });
    }
    kv.spawn_maintenance(MAINTENANCE_INTERVAL, config.retention);
    kv.metrics().spawn_flusher(METRICS_FLUSH_INTERVAL);
    webhooks.spawn(WEBHOOK_INTERVAL);
    alerts.spawn(ALERT_INTERVAL);
    let exporter = Exporter::new(&kv, jobs.clone(), health.clone(), webhooks.clone(), config.metrics.token.clone())?;
    let interrupted = jobs.recover().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if interrupted > 0 {
        tracing::warn!(interrupted, "jobs left unfinished by the last run are marked interrupted; resume them");
    }
    jobs.spawn_supervisor(SUPERVISE_INTERVAL);
    match config.schedule_interval_secs {
        0 => tracing::info!("backup plans are not run by this instance (schedule interval 0)"),
        // The first look is at once: a run missed while the server was down runs now, once.
        secs => drop(jobs.spawn_scheduler(Duration::from_secs(secs))),
    }
    let orphan_age = Duration::from_secs(domain::limits::ORPHAN_UPLOAD_AGE_SECONDS);
    // At start-up no upload is being received, so any file no job will read goes at once.
    match jobs.purge_orphan_uploads(Duration::ZERO).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, "import uploads no job reads were removed"),
        Err(err) => tracing::warn!(%err, "removing orphaned import uploads failed"),
    }
    {
        let jobs = jobs.clone();
        let audit = audit.clone();
        let audit_days = config.audit_retention_days;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(MAINTENANCE_INTERVAL);
            loop {
                tick.tick().await;
                if let Ok(n @ 1..) = jobs.purge_exports().await {
                    tracing::info!(removed = n, "expired export files removed");
                }
                if let Ok(n @ 1..) = jobs.purge_orphan_uploads(orphan_age).await {
                    tracing::info!(removed = n, "import uploads no job reads were removed");
                }
                if let Some(days) = audit_days {
                    match audit.prune(days, domain::now_unix()).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(removed = n, "audit entries past retention removed"),
                        Err(err) => tracing::warn!(%err, "pruning the audit log failed"),
                    }
                }
            }
        });
    }
    let leptos_options = LeptosOptions::builder()
        .output_name("kv-manager")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .build();
    if let Some(path) = &config.kevi.services_file {
        let loaded = crate::kevi::load_services_file(&services, path).await?;
        tracing::info!(services = loaded, file = %path.display(), "services of /v1/kv loaded");
    }
    let kevi = KeviState::new(services.clone(), config.kevi.rate);
    let state = AppState { leptos_options, kv, jobs, tokens, services, audit, health, webhooks, alerts, dashboard };
    let cf = CfState { kv: state.kv.clone(), account_id: config.account_id.clone() };
    tracing::info!(account_id = %config.account_id, "Cloudflare-compatible API at /client/v4");
    let guard = Arc::new(security::HostGuard::new(config));
    let surfaces = Surfaces { cf, kevi, exporter };
    Ok((router(state.clone(), identity, guard, config.max_upload_bytes, surfaces), state))
}

/// The router over a ready state.
/// The console's routes, found once per process. leptos_router finds them by rendering the app
/// with resource loading suppressed through a process-wide flag (leptos_server's
/// `SuppressResourceLoad`, set by `generate_route_list`): a page rendered anywhere in the process
/// meanwhile waits forever for its resources (leptos-rs/leptos#4773). Done once, before the first
/// server of the process is built, nothing renders during that window; a second server in the
/// same process (tests, the CLI) reuses the list instead of suppressing resources under the first.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The states of the surfaces beside the console: `/client/v4`, `/v1/kv` and `/metrics`.
pub struct Surfaces {
    pub cf: CfState,
    pub kevi: KeviState,
    pub exporter: Exporter,
}

pub fn router(
    state: AppState,
    identity: Arc<Identity>,
    guard: Arc<security::HostGuard>,
    max_upload_bytes: u64,
    surfaces: Surfaces,
) -> Router {
    let Surfaces { cf, kevi, exporter } = surfaces;
    let routes = route_list();
    // Server functions are registered by `leptos_routes_with_context`; this catch-all serves
    // the names it does not know, so they too get a JSON error.
    let api = Router::new().route("/api/{*fn_name}", post(server_fn).get(server_fn));
    let console = Router::new()
        .route("/health", get(health))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .merge(api)
        .merge(crate::metrics::router(exporter.clone()))
        // Site files (the WASM, JS and CSS under pkg/) are served as files, and only paths with
        // no file reach the app's 404 page. (Leptos's combined file-and-error handler can hand a
        // page's response headers, its Content-Security-Policy among them, to a file fetched
        // while the page renders, leaving the page with none of its own.)
        .fallback_service(
            ServeDir::new(state.leptos_options.site_root.as_ref())
                .append_index_html_on_directories(false)
                .call_fallback_on_method_not_allowed(true)
                .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell).with_state(state.clone())),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::from_fn(refuse_oversize_api))
        // Import uploads are streamed to disk, so they are not held to the body limit.
        .merge(crate::jobs_api::router(max_upload_bytes))
        .nest_service(security::CF_API_PREFIX, crate::cf_api::router(cf))
        .route_layer(middleware::from_fn(crate::metrics::note_route))
        .layer(middleware::from_fn(security::csrf))
        .layer(middleware::from_fn_with_state(identity, security::identify))
        .with_state(state);
    // The multi-tenant KV API has its own tokens, CORS and error shape: it sits beside the
    // console's identity and CSRF layers, not under them.
    Router::new()
        .merge(crate::kevi::router(kevi).route_layer(middleware::from_fn(crate::metrics::note_route)))
        .merge(console)
        // Before any surface reads the request: the Host must be ours (DNS rebinding), and
        // without sign-in the peer must be this machine.
        .layer(middleware::from_fn_with_state(guard, security::guard))
        .layer(middleware::from_fn(security::security_headers))
        // Every request is counted, refusals before routing included.
        .layer(middleware::from_fn_with_state(exporter, crate::metrics::track_http))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}

/// Serves until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // The peer address is what `KVM_AUTH=none` checks (never the Host header).
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// [`serve`] over HTTPS: the same graceful shutdown (no new connection once `shutdown` resolves,
/// requests in flight finish) and the same `ConnectInfo<SocketAddr>`, HTTP/2 or HTTP/1.1 as the
/// client's ALPN asks (WebSockets over HTTP/1.1).
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    router: Router,
    tls: crate::tls::Tls,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use axum::serve::ListenerExt;
    // axum hands a tapped listener's address to `ConnectInfo`, as it does a `TcpListener`'s.
    let listener = tls.listener(listener)?.tap_io(|_| {});
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

async fn server_fn(State(state): State<AppState>, request: Request<Body>) -> impl IntoResponse {
    handle_server_fns_with_context(move || provide_context(state.clone()), request).await
}

fn health_example(status: HealthStatus, database: Database) -> Health {
    Health { status, version: env!("CARGO_PKG_VERSION"), timestamp: "2026-11-26T12:00:00Z".into(), database }
}

/// `GET /health`: 200 when the database answers, 503 when it does not.
#[utoipa::path(
    get, path = "/health", operation_id = "health", tag = "Health",
    summary = "Health of the server",
    description = "Whether the database answers. Needs no token or sign-in.",
    responses(
        (status = 200, description = "The database answers.", body = Health,
         examples(("ok" = (summary = "Healthy", value = json!(health_example(HealthStatus::Ok, Database::Sqlite)))))),
        (status = 503, description = "The database does not answer.", body = Health,
         examples(("unavailable" = (summary = "Database down", value = json!(health_example(HealthStatus::Unavailable, Database::Postgres)))))),
    ),
)]
pub(crate) async fn health(State(state): State<AppState>) -> Response {
    let ok = state.health.ping().await;
    let body = Health {
        status: if ok { HealthStatus::Ok } else { HealthStatus::Unavailable },
        version: env!("CARGO_PKG_VERSION"),
        timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        database: state.health.kind().into(),
    };
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(body)).into_response()
}
