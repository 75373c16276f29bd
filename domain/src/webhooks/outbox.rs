//! The outbox: events are written by the transaction of the change that causes them, so a
//! change is never committed without its events, nor an event without its change. Nothing is
//! written while no endpoint is enabled (the [`EventGate`]), so webhooks cost nothing unused.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::error::{DomainError, DomainResult};
use crate::sql::Sql;
use crate::write::WriteTxn;

/// Every event type an endpoint can subscribe to.
pub const EVENT_TYPES: &[&str] = &[
    KEY_CREATED,
    KEY_UPDATED,
    KEY_DELETED,
    JOB_COMPLETED,
    JOB_FAILED,
    THRESHOLD_BREACHED,
    THRESHOLD_RESOLVED,
    KEYS_EXPIRING,
];
pub const KEY_CREATED: &str = "key.created";
pub const KEY_UPDATED: &str = "key.updated";
pub const KEY_DELETED: &str = "key.deleted";
pub const JOB_COMPLETED: &str = "job.completed";
pub const JOB_FAILED: &str = "job.failed";
pub const THRESHOLD_BREACHED: &str = "threshold.breached";
pub const THRESHOLD_RESOLVED: &str = "threshold.resolved";
pub const KEYS_EXPIRING: &str = "keys.expiring";
/// Sent only by "send test event", never queued.
pub const TEST_EVENT: &str = "webhook.test";

/// Whether any endpoint is enabled, shared by everything on one database; refreshed by the
/// sender each pass (so an endpoint made on another instance is seen within a pass) and at
/// once when an endpoint changes here.
#[derive(Clone, Debug, Default)]
pub struct EventGate(Arc<GateState>);

#[derive(Debug, Default)]
struct GateState {
    open: AtomicBool,
    /// Woken when events were committed here, so they leave without waiting for the next pass.
    committed: tokio::sync::Notify,
}

impl EventGate {
    pub fn is_open(&self) -> bool {
        self.0.open.load(Ordering::Relaxed)
    }

    pub(crate) fn set(&self, open: bool) {
        self.0.open.store(open, Ordering::Relaxed);
    }

    pub(crate) fn wake(&self) {
        self.0.committed.notify_one();
    }

    pub(crate) async fn committed(&self) {
        self.0.committed.notified().await;
    }
}

/// One event as the outbox keeps it; the namespace, time and actor are the row's.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EventItem {
    #[serde(rename = "t")]
    pub kind: String,
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

impl EventItem {
    pub fn key(kind: &str, key: &str) -> Self {
        Self { kind: kind.to_owned(), key: Some(key.to_owned()), data: None }
    }

    pub fn with_data(kind: &str, data: serde_json::Value) -> Self {
        Self { kind: kind.to_owned(), key: None, data: Some(data) }
    }
}

impl WriteTxn {
    /// Writes `events` to the outbox in this transaction, when an endpoint may want them.
    pub async fn emit(
        &mut self,
        gate: &EventGate,
        actor: &Actor,
        namespace_id: Option<&str>,
        events: Vec<EventItem>,
    ) -> DomainResult<()> {
        if events.is_empty() || !gate.is_open() {
            return Ok(());
        }
        let title = match namespace_id {
            Some(id) => self.title_of(id).await?,
            None => None,
        };
        let mut kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let kinds = kinds.join(",");
        let payload = serde_json::to_string(&events).map_err(DomainError::internal)?;
        let mut sql = Sql::new(
            self.conn().get_database_backend(),
            "INSERT INTO webhook_outbox (at, namespace_id, namespace_title, user_name, source, kinds, events, dispatched) VALUES (",
        );
        sql.bind(self.now()).push(", ").bind(namespace_id.map(str::to_owned)).push(", ").bind(title);
        sql.push(", ").bind(actor.user.as_str()).push(", ").bind(actor.source.as_str());
        sql.push(", ").bind(kinds).push(", ").bind(payload).push(", ").bind(false).push(")");
        self.conn().execute_raw(sql.statement()).await?;
        self.emitted = Some(gate.clone());
        Ok(())
    }
}
