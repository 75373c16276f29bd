//! Server-only logic of kv-manager: the storage backends behind one `KvStore` trait, and the
//! [`Kv`] service through which every read and write of every surface passes. The stores, the
//! catalog and the write transaction are private to the crate: outside it, a namespace's keys are
//! reached only through [`Kv::namespace`], which checks access.

pub mod actor;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod cloudflare;
pub mod dashboard;
pub mod db;
pub mod db_copy;
pub mod entity;
pub mod error;
pub mod events;
pub mod jobs;
pub mod kv;
pub mod limits;
pub mod metrics;
pub mod model;
pub mod services;
pub mod sql;
pub(crate) mod store;
pub mod tokens;
pub mod webhooks;
pub(crate) mod write;

pub use actor::{Actor, Role, Source};
pub use db::{Database, DatabaseKind, Health, PoolUse};
pub use error::{DomainError, DomainResult};
pub use kv::{Kv, NamespaceAccess, Need, VersionRetention};
pub use model::*;

/// Current time as unix seconds.
pub fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Formats unix seconds as RFC 3339 in UTC.
pub fn rfc3339(unix_seconds: i64) -> String {
    chrono::DateTime::from_timestamp(unix_seconds, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}
