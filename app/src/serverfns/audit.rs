//! The audit log: every change, who made it, through which surface.

// One argument per JSON field of the script API.
#![allow(clippy::too_many_arguments)]

use crate::error::Json;
use leptos::prelude::*;

use crate::dto::AuditPageDto;
use crate::error::AppError;

/// Audit entries newest first. Each list matches any of its values; `from` / `to` are unix
/// seconds (inclusive); `limit` 1..1000 (default 100); pass `cursor` for the next page.
#[server(endpoint = "list_audit", input = Json)]
pub async fn list_audit(
    namespace_ids: Option<Vec<String>>,
    users: Option<Vec<String>>,
    operations: Option<Vec<String>>,
    sources: Option<Vec<String>>,
    key_prefix: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    limit: Option<u32>,
    cursor: Option<String>,
) -> Result<AuditPageDto, AppError> {
    let state = use_context::<crate::state::AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::internal()
    })?;
    let query = domain::audit::AuditQuery {
        namespace_ids: namespace_ids.unwrap_or_default(),
        users: users.unwrap_or_default(),
        operations: operations.unwrap_or_default(),
        sources: sources.unwrap_or_default(),
        key_prefix,
        from,
        to,
        limit,
        cursor,
        ..Default::default()
    };
    let query = state.kv.audit_scope(&crate::serverfns::ssr::actor(), query).await?;
    let page = state.audit.list(&query).await?;
    Ok(page.into())
}
