//! What the server hands every server function and page (server only).

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

/// Shared state of the running server.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub kv: domain::Kv,
    pub jobs: domain::jobs::Jobs,
    /// API tokens of the Cloudflare-compatible API.
    pub tokens: domain::tokens::Tokens,
    /// Services and tokens of the multi-tenant KV API (`/v1/kv`).
    pub services: domain::services::Services,
    /// The audit log, read.
    pub audit: domain::audit::Audit,
    /// Whether the database answers (`/health`).
    pub health: domain::Health,
    /// Webhook endpoints and their delivery logs.
    pub webhooks: domain::webhooks::Webhooks,
    /// Expiry and threshold alert rules.
    pub alerts: domain::alerts::Alerts,
    /// The dashboard's usage and health panel.
    pub dashboard: domain::dashboard::Dashboard,
}
