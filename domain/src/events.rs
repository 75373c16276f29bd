//! Webhook events as the write path knows them: their types, one event as the outbox keeps it,
//! and the gate that says whether any endpoint wants events at all. The outbox itself is
//! written by [`crate::write::WriteTxn::emit`], in the transaction of the change that causes the
//! events, so a change is never committed without its events, nor an event without its change;
//! [`crate::webhooks`] delivers them. Nothing here depends on the rest of the crate.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

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

    pub fn set(&self, open: bool) {
        self.0.open.store(open, Ordering::Relaxed);
    }

    pub fn wake(&self) {
        self.0.committed.notify_one();
    }

    pub async fn committed(&self) {
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
