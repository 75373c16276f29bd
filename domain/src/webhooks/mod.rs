//! Webhooks that never drop an event. A change writes its events to the outbox in its own
//! transaction ([`crate::write::WriteTxn::emit`]): one row, and nothing else is written for it
//! until it is pruned. Each endpoint keeps a cursor, its place in the outbox; the sender, run by
//! one instance at a time (a lease in the database), delivers to each endpoint what it wants
//! after its cursor, in order: batches of at most [`WebhookConfig::batch_max`] events, signed
//! ([`sign`]), sent only to permitted addresses ([`guard`]), retried with exponential backoff (or
//! the receiver's `Retry-After`), every attempt logged. An endpoint that keeps failing is paused
//! with the reason; what it waits for stays in the outbox and is replayed when it is resumed.
//! At-least-once: a cursor moves past an event only after a 2xx answer, and the event's id
//! (`evt_<row>_<index>`) stays the same on every attempt.
//!
//! The outbox is read in the order of [`Place`]. On SQLite writers take turns, so row ids come in
//! commit order. On PostgreSQL they do not (a transaction that took id 10 may commit after the
//! one that took id 11), so a row also records the transaction that wrote it, and the sender
//! reads only rows of transactions older than every transaction still running: those are final,
//! and any row that commits later sorts after them. A cursor therefore never passes a row that
//! is not there yet.

pub mod guard;
pub mod sign;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult};
use serde::{Deserialize, Serialize};

pub use crate::events::*;
pub use guard::{AddressPolicy, IpNet};

use crate::actor::Actor;
use crate::error::{DomainError, DomainResult};
use crate::kv::Kv;
use crate::sql::{Sql, get, get_flag, get_int, get_opt_int};
use crate::write::WriteTxn;
use crate::{now_unix, rfc3339};

/// Endpoints one server keeps at most.
pub const MAX_ENDPOINTS: usize = 50;
const MAX_DESCRIPTION_CHARS: usize = 200;
const MAX_PREFIX_BYTES: usize = 512;
const MIN_SECRET_CHARS: usize = 16;
const MAX_SECRET_CHARS: usize = 256;
/// Bytes of a receiver's answer kept in the delivery log.
const RESPONSE_EXCERPT_BYTES: usize = 512;
/// Outbox rows read to make one delivery: as many as events fit in one, when each change is one.
const QUEUE_ROWS: u64 = 100;
/// Passes woken by commits start at most this often, so a stream of single-key writes is sent
/// in batches rather than a pass (and its lease and cursor writes) per write.
const MIN_PASS_GAP: Duration = Duration::from_millis(250);
const LEASE: &str = "webhooks";
/// The longest wait a `Retry-After` may ask for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// Attempts listed per page of the delivery log.
pub const ATTEMPTS_PER_PAGE: u64 = 50;

/// How the sender behaves; [`Default`] is what the server runs with.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// Names this process on the lease.
    pub instance_id: String,
    /// Address ranges webhooks may reach although they are internal (loopback, private...).
    pub allow_networks: Vec<IpNet>,
    /// Time allowed for one attempt, connection to last byte.
    pub timeout: Duration,
    /// The wait after the first failure; it doubles with each failure after it.
    pub retry_base: Duration,
    /// The longest wait between attempts.
    pub retry_max: Duration,
    /// Failures in a row after which an endpoint is paused.
    pub pause_after: u32,
    /// Events per delivery at most.
    pub batch_max: usize,
    /// How long a lease lasts without renewal; a pass stops starting deliveries halfway.
    pub lease: Duration,
    /// Delivery attempts are kept this long.
    pub keep_attempts: Duration,
    /// Changes wait in an endpoint's queue (paused, or failing) at most this long; older ones are
    /// dropped and the drop is written to its delivery log, so a dead receiver cannot grow the
    /// database without bound.
    pub keep_queued: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            instance_id: format!("instance-{}", ulid::Ulid::new().to_string().to_lowercase()),
            allow_networks: Vec::new(),
            timeout: Duration::from_secs(10),
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(3600),
            pause_after: 12,
            batch_max: 100,
            lease: Duration::from_secs(30),
            keep_attempts: Duration::from_secs(30 * 86_400),
            keep_queued: Duration::from_secs(30 * 86_400),
        }
    }
}

/// An endpoint as listed (its secret is shown once, when it is made or rotated).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub namespace_id: Option<String>,
    pub prefix: Option<String>,
    pub enabled: bool,
    /// Why the sender paused it (`None` while it delivers).
    pub paused_reason: Option<String>,
    /// Failed attempts since the last success.
    pub failures: i64,
    /// When the next attempt is due (unix milliseconds), after a failure.
    pub next_attempt_at: Option<i64>,
    pub last_delivered_at: Option<i64>,
    /// Changes waiting in its queue (each one or more events).
    pub pending: i64,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an admin sets on an endpoint.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EndpointInput {
    pub url: String,
    #[serde(default)]
    pub description: String,
    pub events: Vec<String>,
    #[serde(default)]
    pub namespace_id: Option<String>,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Given: this secret (at least 16 characters); absent: one is generated.
    #[serde(default)]
    pub secret: Option<String>,
}

fn yes() -> bool {
    true
}

/// An endpoint just made or given a new secret, with that secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EndpointSecret {
    pub endpoint: Endpoint,
    pub secret: String,
}

/// One delivery attempt, as the log shows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Attempt {
    pub id: i64,
    pub endpoint_id: String,
    pub at: i64,
    /// `delivered`, `failed`, `test_delivered` or `test_failed`.
    pub outcome: String,
    pub events: i64,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub response: Option<String>,
    pub duration_ms: i64,
    /// When the next attempt is due (unix milliseconds), after a failure.
    pub retry_at: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AttemptPage {
    pub attempts: Vec<Attempt>,
    /// Pass as `before` for the next (older) page.
    pub next_before: Option<i64>,
}

/// What one pass of the sender did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassSummary {
    /// False when another instance holds the lease (nothing was done).
    pub leader: bool,
    pub delivered: u64,
    pub failed: u64,
    pub paused: u64,
}

/// Endpoints by state and the queued changes, for `/metrics` and the health panel.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookStats {
    pub delivering: i64,
    pub paused: i64,
    pub disabled: i64,
    /// Changes queued for endpoints, all endpoints together.
    pub pending: i64,
}

/// Counters of deliveries since start, for `/metrics`.
#[derive(Debug, Default)]
pub struct DeliveryCounters {
    pub delivered: std::sync::atomic::AtomicU64,
    pub failed: std::sync::atomic::AtomicU64,
    pub events: std::sync::atomic::AtomicU64,
}

#[derive(Clone)]
pub struct Webhooks {
    inner: Arc<Inner>,
}

struct Inner {
    conn: DatabaseConnection,
    kv: Kv,
    config: WebhookConfig,
    policy: Arc<AddressPolicy>,
    client: reqwest::Client,
    counters: DeliveryCounters,
    last_prune: std::sync::Mutex<Option<Instant>>,
    /// Until when (unix seconds) this instance's lease runs, as it last wrote it; 0 when not held.
    lease_until: std::sync::Mutex<i64>,
}

/// One endpoint as the sender reads it.
#[derive(Clone, Debug)]
struct Target {
    id: String,
    url: String,
    secret: String,
    events: Vec<String>,
    namespace_id: Option<String>,
    prefix: Option<String>,
    failures: i64,
    /// Everything up to here is delivered (or was not wanted)...
    cursor: Place,
    /// ...and this many events of the row right after it.
    skip: i64,
}

/// A row's place in the outbox: rows are read in this order (see the module's notes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    /// The writing transaction on PostgreSQL; 0 on SQLite.
    txid: i64,
    id: i64,
}

impl Place {
    /// The place right before `self`: after every row that sorts before it.
    fn before(self) -> Self {
        Self { txid: self.txid, id: self.id.saturating_sub(1) }
    }
}

const TARGET_COLUMNS: &str =
    "id, url, secret, events, namespace_id, prefix, failures, cursor_txid, cursor_id, cursor_skip";

impl Target {
    fn wants(&self, item: &EventItem) -> bool {
        self.events.contains(&item.kind)
            && match (&self.prefix, &item.key) {
                (Some(prefix), Some(key)) => key.starts_with(prefix.as_str()),
                _ => true,
            }
    }
}

/// What sending one request came to.
#[derive(Default)]
struct Sent {
    status: Option<u16>,
    error: Option<String>,
    response: Option<String>,
    retry_after: Option<Duration>,
    duration_ms: i64,
}

impl Sent {
    fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    fn reason(&self) -> String {
        match (&self.error, self.status) {
            (Some(error), _) => error.clone(),
            (None, Some(status)) => format!("the receiver answered {status}"),
            (None, None) => "no answer".to_owned(),
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn require_admin(actor: &Actor) -> DomainResult<()> {
    if actor.is_admin() { Ok(()) } else { Err(DomainError::forbidden("only an admin can manage webhooks")) }
}

fn new_secret() -> String {
    format!("whsec_{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

impl Webhooks {
    pub fn new(kv: Kv, conn: DatabaseConnection, config: WebhookConfig) -> DomainResult<Self> {
        let policy = Arc::new(AddressPolicy::new(config.allow_networks.clone()));
        let client = reqwest::Client::builder()
            .dns_resolver(guard::GuardedResolver(policy.clone()))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("kv-manager/", env!("CARGO_PKG_VERSION"), " (webhooks)"))
            .build()
            .map_err(DomainError::internal)?;
        Ok(Self {
            inner: Arc::new(Inner {
                conn,
                kv,
                config,
                policy,
                client,
                counters: DeliveryCounters::default(),
                last_prune: std::sync::Mutex::new(None),
                lease_until: std::sync::Mutex::new(0),
            }),
        })
    }

    fn conn(&self) -> &DatabaseConnection {
        &self.inner.conn
    }

    fn backend(&self) -> DbBackend {
        self.inner.conn.get_database_backend()
    }

    fn gate(&self) -> &EventGate {
        self.inner.kv.events()
    }

    pub fn counters(&self) -> &DeliveryCounters {
        &self.inner.counters
    }

    /// Endpoints by state and what waits in their queues (no actor: for `/metrics`).
    pub async fn stats(&self) -> DomainResult<WebhookStats> {
        let mut sql = Sql::new(
            self.backend(),
            "SELECT \
             (SELECT COUNT(*) FROM webhook_endpoints WHERE enabled = ",
        );
        sql.bind(true).push(
            " AND paused_reason IS NULL) AS delivering, (SELECT COUNT(*) FROM webhook_endpoints WHERE enabled = ",
        );
        sql.bind(true).push(
            " AND paused_reason IS NOT NULL) AS paused, (SELECT COUNT(*) FROM webhook_endpoints WHERE enabled = ",
        );
        sql.bind(false).push(") AS disabled");
        let row = self.conn().query_one_raw(sql.statement()).await?.ok_or_else(|| DomainError::internal("stats"))?;
        let end = self.outbox_end().await?;
        let mut pending = 0i64;
        for target in self.targets("").await? {
            pending = pending.saturating_add(self.pending(&target, end).await?);
        }
        Ok(WebhookStats {
            delivering: get_int(&row, "delivering")?,
            paused: get_int(&row, "paused")?,
            disabled: get_int(&row, "disabled")?,
            pending,
        })
    }

    // ---- endpoints ----

    /// Every endpoint, oldest first.
    pub async fn list(&self, actor: &Actor) -> DomainResult<Vec<Endpoint>> {
        require_admin(actor)?;
        let sql = Sql::new(self.backend(), "SELECT * FROM webhook_endpoints ORDER BY created_at, id");
        let rows = self.conn().query_all_raw(sql.statement()).await?;
        let end = self.outbox_end().await?;
        let mut endpoints = Vec::with_capacity(rows.len());
        for row in &rows {
            endpoints.push(self.endpoint_with_pending(row, end).await?);
        }
        Ok(endpoints)
    }

    /// An endpoint row with the changes it waits for counted (none when it is disabled).
    async fn endpoint_with_pending(&self, row: &QueryResult, end: Place) -> DomainResult<Endpoint> {
        let mut endpoint = endpoint_row(row)?;
        if endpoint.enabled {
            endpoint.pending = self.pending(&target_row(row)?, end).await?;
        }
        Ok(endpoint)
    }

    pub async fn get(&self, actor: &Actor, id: &str) -> DomainResult<Endpoint> {
        require_admin(actor)?;
        self.find(id).await
    }

    async fn find(&self, id: &str) -> DomainResult<Endpoint> {
        let mut sql = Sql::new(self.backend(), "SELECT * FROM webhook_endpoints WHERE id = ");
        sql.bind(id);
        match self.conn().query_one_raw(sql.statement()).await? {
            Some(row) => self.endpoint_with_pending(&row, self.outbox_end().await?).await,
            None => Err(DomainError::not_found("id", format!("id: no webhook endpoint {id:?}"))),
        }
    }

    async fn validate(&self, actor: &Actor, input: &EndpointInput) -> DomainResult<EndpointInput> {
        let url = self.inner.policy.check_url(&input.url)?.to_string();
        let description = input.description.trim().to_owned();
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(DomainError::invalid(
                "description",
                format!("description: at most {MAX_DESCRIPTION_CHARS} characters"),
            ));
        }
        let mut events: Vec<String> = Vec::new();
        for event in &input.events {
            let event = event.trim();
            if !EVENT_TYPES.contains(&event) {
                return Err(DomainError::invalid(
                    "events",
                    format!("events: {event:?} is not an event type; choose from {}", EVENT_TYPES.join(", ")),
                ));
            }
            if !events.iter().any(|e| e == event) {
                events.push(event.to_owned());
            }
        }
        if events.is_empty() {
            return Err(DomainError::invalid("events", "events: choose at least one event type"));
        }
        let namespace_id = input.namespace_id.as_deref().map(str::trim).filter(|id| !id.is_empty());
        if let Some(id) = namespace_id {
            self.inner.kv.get_namespace(actor, id).await.map_err(|err| match err {
                DomainError::NotFound { .. } => {
                    DomainError::invalid("namespace_id", format!("namespace_id: no namespace {id:?}"))
                }
                other => other,
            })?;
        }
        let prefix = input.prefix.clone().filter(|p| !p.is_empty());
        if prefix.as_ref().is_some_and(|p| p.len() > MAX_PREFIX_BYTES) {
            return Err(DomainError::invalid("prefix", format!("prefix: at most {MAX_PREFIX_BYTES} bytes")));
        }
        if let Some(secret) = &input.secret {
            let chars = secret.chars().count();
            if !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&chars) || !secret.chars().all(|c| c.is_ascii_graphic())
            {
                return Err(DomainError::invalid(
                    "secret",
                    format!("secret: {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} printable characters without spaces"),
                ));
            }
        }
        Ok(EndpointInput {
            url,
            description,
            events,
            namespace_id: namespace_id.map(str::to_owned),
            prefix,
            enabled: input.enabled,
            secret: input.secret.clone(),
        })
    }

    /// Makes an endpoint; answers it with its secret (shown this once).
    pub async fn create(&self, actor: &Actor, input: EndpointInput) -> DomainResult<EndpointSecret> {
        require_admin(actor)?;
        let input = self.validate(actor, &input).await?;
        let secret = input.secret.clone().unwrap_or_else(new_secret);
        let id = format!("whk_{}", ulid::Ulid::new().to_string().to_lowercase());
        let now = now_unix();
        let txn = WriteTxn::begin(self.conn(), now).await?;
        let count: i64 = {
            let sql = Sql::new(self.backend(), "SELECT COUNT(*) AS n FROM webhook_endpoints");
            let row = txn.conn().query_one_raw(sql.statement()).await?.ok_or_else(|| DomainError::internal("count"))?;
            get(&row, "n")?
        };
        if count >= MAX_ENDPOINTS as i64 {
            return Err(DomainError::conflict(
                "url",
                format!("url: at most {MAX_ENDPOINTS} endpoints; delete one first"),
            ));
        }
        let events = serde_json::to_string(&input.events).map_err(DomainError::internal)?;
        // It is sent what happens from now on.
        let end = self.outbox_end().await?;
        let mut sql = Sql::new(
            self.backend(),
            "INSERT INTO webhook_endpoints (id, url, description, events, namespace_id, prefix, secret, enabled, failures, cursor_txid, cursor_id, created_by, created_at, updated_at) VALUES (",
        );
        sql.bind(id.as_str()).push(", ").bind(input.url.as_str()).push(", ").bind(input.description.as_str());
        sql.push(", ").bind(events).push(", ").bind(input.namespace_id.clone()).push(", ").bind(input.prefix.clone());
        sql.push(", ").bind(secret.as_str()).push(", ").bind(input.enabled).push(", 0, ");
        sql.bind(end.txid).push(", ").bind(end.id).push(", ");
        sql.bind(actor.user.as_str()).push(", ").bind(now).push(", ").bind(now).push(")");
        txn.conn().execute_raw(sql.statement()).await?;
        txn.audit(actor, "webhook.create", None, None, audit_details(&id, &input)).await?;
        txn.commit().await?;
        self.refresh_gate().await?;
        Ok(EndpointSecret { endpoint: self.find(&id).await?, secret })
    }

    /// Changes an endpoint's settings (its secret only when `input.secret` is given).
    pub async fn update(&self, actor: &Actor, id: &str, input: EndpointInput) -> DomainResult<Endpoint> {
        require_admin(actor)?;
        let was = self.find(id).await?;
        let input = self.validate(actor, &input).await?;
        // A disabled endpoint is sent nothing, now or later: enabled again, it starts from now.
        let restart = (input.enabled && !was.enabled).then_some(self.outbox_end().await?);
        let now = now_unix();
        let txn = WriteTxn::begin(self.conn(), now).await?;
        let events = serde_json::to_string(&input.events).map_err(DomainError::internal)?;
        let mut sql = Sql::new(self.backend(), "UPDATE webhook_endpoints SET url = ");
        sql.bind(input.url.as_str()).push(", description = ").bind(input.description.as_str());
        sql.push(", events = ").bind(events).push(", namespace_id = ").bind(input.namespace_id.clone());
        sql.push(", prefix = ").bind(input.prefix.clone()).push(", enabled = ").bind(input.enabled);
        if let Some(secret) = &input.secret {
            sql.push(", secret = ").bind(secret.as_str());
        }
        if let Some(end) = restart {
            sql.push(", cursor_txid = ").bind(end.txid).push(", cursor_id = ").bind(end.id).push(", cursor_skip = 0");
        }
        sql.push(", updated_at = ").bind(now).push(" WHERE id = ").bind(id);
        txn.conn().execute_raw(sql.statement()).await?;
        txn.audit(actor, "webhook.update", None, None, audit_details(id, &input)).await?;
        txn.commit().await?;
        self.refresh_gate().await?;
        self.find(id).await
    }

    /// Deletes an endpoint with its delivery log.
    pub async fn delete(&self, actor: &Actor, id: &str) -> DomainResult<()> {
        require_admin(actor)?;
        let endpoint = self.find(id).await?;
        let txn = WriteTxn::begin(self.conn(), now_unix()).await?;
        let mut sql = Sql::new(self.backend(), "DELETE FROM webhook_attempts WHERE endpoint_id = ");
        sql.bind(id);
        txn.conn().execute_raw(sql.statement()).await?;
        let mut sql = Sql::new(self.backend(), "DELETE FROM webhook_endpoints WHERE id = ");
        sql.bind(id);
        txn.conn().execute_raw(sql.statement()).await?;
        let details = serde_json::json!({ "endpoint_id": id, "url": endpoint.url });
        txn.audit(actor, "webhook.delete", None, None, details).await?;
        txn.commit().await?;
        self.refresh_gate().await
    }

    /// Ends a pause: everything since the pause is delivered from where it stopped.
    pub async fn resume(&self, actor: &Actor, id: &str) -> DomainResult<Endpoint> {
        require_admin(actor)?;
        let endpoint = self.find(id).await?;
        let txn = WriteTxn::begin(self.conn(), now_unix()).await?;
        let mut sql = Sql::new(
            self.backend(),
            "UPDATE webhook_endpoints SET paused_reason = NULL, failures = 0, next_attempt_at = NULL, updated_at = ",
        );
        sql.bind(txn.now()).push(" WHERE id = ").bind(id);
        txn.conn().execute_raw(sql.statement()).await?;
        let details = serde_json::json!({ "endpoint_id": id, "url": endpoint.url, "pending": endpoint.pending });
        txn.audit(actor, "webhook.resume", None, None, details).await?;
        txn.commit().await?;
        self.gate().wake();
        self.find(id).await
    }

    /// Sends one `webhook.test` event to the endpoint now (paused or not) and logs the attempt.
    pub async fn send_test(&self, actor: &Actor, id: &str) -> DomainResult<Attempt> {
        require_admin(actor)?;
        self.find(id).await?;
        let target = self.target(id).await?;
        let now = now_unix();
        let event_id = format!("evt_test_{}", ulid::Ulid::new().to_string().to_lowercase());
        let event = serde_json::json!({
            "id": event_id,
            "type": TEST_EVENT,
            "at": rfc3339(now),
            "namespace": null,
            "actor": { "user": actor.user, "source": actor.source.as_str() },
            "data": { "message": "A test event from kv-manager." },
        });
        let sent = self.post(&target, vec![event]).await;
        let outcome = if sent.ok() { "test_delivered" } else { "test_failed" };
        let attempt = self
            .log_attempt(self.conn(), &target.id, outcome, 1, Some(&event_id), Some(&event_id), &sent, None)
            .await?;
        Ok(attempt)
    }

    /// The delivery log of an endpoint, newest first, a page at a time.
    pub async fn attempts(&self, actor: &Actor, id: &str, before: Option<i64>) -> DomainResult<AttemptPage> {
        require_admin(actor)?;
        self.find(id).await?;
        let mut sql = Sql::new(self.backend(), "SELECT * FROM webhook_attempts WHERE endpoint_id = ");
        sql.bind(id);
        if let Some(before) = before {
            sql.push(" AND id < ").bind(before);
        }
        sql.push(" ORDER BY id DESC LIMIT ").push(&(ATTEMPTS_PER_PAGE + 1).to_string());
        let rows = self.conn().query_all_raw(sql.statement()).await?;
        let mut attempts = rows.iter().map(attempt_row).collect::<DomainResult<Vec<_>>>()?;
        let next_before = if attempts.len() as u64 > ATTEMPTS_PER_PAGE {
            attempts.truncate(ATTEMPTS_PER_PAGE as usize);
            attempts.last().map(|a| a.id)
        } else {
            None
        };
        Ok(AttemptPage { attempts, next_before })
    }

    // ---- the sender ----

    /// Opens the gate when an endpoint is enabled, closes it otherwise.
    pub async fn refresh_gate(&self) -> DomainResult<()> {
        let sql = Sql::new(self.backend(), "SELECT COUNT(*) AS n FROM webhook_endpoints WHERE enabled = ");
        let mut sql = sql;
        sql.bind(true);
        let row = self.conn().query_one_raw(sql.statement()).await?.ok_or_else(|| DomainError::internal("count"))?;
        let enabled: i64 = get(&row, "n")?;
        self.gate().set(enabled > 0);
        Ok(())
    }

    /// Runs the sender until the process ends: a pass every `interval`, and at once when this
    /// instance commits events.
    pub fn spawn(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                let started = tokio::time::Instant::now();
                if let Err(err) = this.run_pass().await {
                    tracing::warn!(%err, "webhook sender pass failed");
                }
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = this.gate().committed() => {}
                }
                tokio::time::sleep_until(started + MIN_PASS_GAP).await;
            }
        })
    }

    /// One pass: refresh the gate; if this instance holds (or takes) the lease, deliver to each
    /// endpoint what it waits for.
    pub async fn run_pass(&self) -> DomainResult<PassSummary> {
        self.refresh_gate().await?;
        let mut summary = PassSummary::default();
        let started = Instant::now();
        if !self.hold_lease().await? {
            return Ok(summary);
        }
        summary.leader = true;
        let deadline = started + self.inner.config.lease / 2;
        let end = self.outbox_end().await?;
        let due = self.due_targets(end).await?;
        let results: Vec<DomainResult<(u64, u64, u64)>> = futures_util::stream::iter(due)
            .map(|target| self.drain(target, end, deadline))
            .buffer_unordered(4)
            .collect()
            .await;
        for result in results {
            let (delivered, failed, paused) = result?;
            summary.delivered += delivered;
            summary.failed += failed;
            summary.paused += paused;
        }
        self.prune().await?;
        Ok(summary)
    }

    /// Takes or renews the sender's lease; false when another live instance holds it.
    /// Renewed only once half of it has passed: a lease this instance wrote is its own until
    /// it expires, so the passes between renewals take no write lock for it.
    async fn hold_lease(&self) -> DomainResult<bool> {
        let ttl = self.inner.config.lease.as_secs().max(1) as i64;
        let now = now_unix();
        let held_until = self.inner.lease_until.lock().map(|until| *until).unwrap_or(0);
        if now.saturating_add(ttl / 2) < held_until {
            return Ok(true);
        }
        let held = crate::write::hold_lease(self.conn(), LEASE, &self.inner.config.instance_id, now, ttl).await?;
        if let Ok(mut until) = self.inner.lease_until.lock() {
            *until = if held { now.saturating_add(ttl) } else { 0 };
        }
        Ok(held)
    }

    async fn targets(&self, filter: &str) -> DomainResult<Vec<Target>> {
        let mut sql =
            Sql::new(self.backend(), &format!("SELECT {TARGET_COLUMNS} FROM webhook_endpoints WHERE enabled = "));
        sql.bind(true).push(filter);
        let rows = self.conn().query_all_raw(sql.statement()).await?;
        rows.iter().map(target_row).collect()
    }

    async fn target(&self, id: &str) -> DomainResult<Target> {
        let mut sql = Sql::new(self.backend(), &format!("SELECT {TARGET_COLUMNS} FROM webhook_endpoints WHERE id = "));
        sql.bind(id);
        let row = self
            .conn()
            .query_one_raw(sql.statement())
            .await?
            .ok_or_else(|| DomainError::not_found("id", format!("id: no webhook endpoint {id:?}")))?;
        target_row(&row)
    }

    fn postgres(&self) -> bool {
        self.backend() == DbBackend::Postgres
    }

    /// The place of the last outbox row the sender may read now (the start when there is none):
    /// on PostgreSQL, the last row of a transaction older than every one still running.
    async fn outbox_end(&self) -> DomainResult<Place> {
        let sql = if self.postgres() {
            "SELECT txid, id FROM webhook_outbox \
             WHERE txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint ORDER BY txid DESC, id DESC LIMIT 1"
        } else {
            "SELECT txid, id FROM webhook_outbox ORDER BY id DESC LIMIT 1"
        };
        let row = self.conn().query_one_raw(Sql::new(self.backend(), sql).statement()).await?;
        Ok(match row {
            Some(row) => Place { txid: get_int(&row, "txid")?, id: get_int(&row, "id")? },
            None => Place::default(),
        })
    }

    /// Appends the condition "after `after`, up to `upto` (included)" on outbox rows.
    fn push_between(&self, sql: &mut Sql, after: Place, upto: Place) {
        if self.postgres() {
            sql.push(" AND (txid, id) > (").bind(after.txid).push(", ").bind(after.id).push(")");
            sql.push(" AND (txid, id) <= (").bind(upto.txid).push(", ").bind(upto.id).push(")");
        } else {
            sql.push(" AND id > ").bind(after.id).push(" AND id <= ").bind(upto.id);
        }
    }

    /// Appends the conditions that keep the outbox rows `target` may want: its namespace, and
    /// one of its event types among the row's (each event is checked again when it is sent).
    fn push_wanted(sql: &mut Sql, target: &Target) {
        if let Some(namespace_id) = &target.namespace_id {
            sql.push(" AND namespace_id = ").bind(namespace_id.as_str());
        }
        sql.push(" AND (");
        for (i, kind) in target.events.iter().enumerate() {
            if i > 0 {
                sql.push(" OR ");
            }
            sql.push("(',' || kinds || ',') LIKE ").bind(format!("%,{kind},%"));
        }
        if target.events.is_empty() {
            sql.push("1 = 0");
        }
        sql.push(")");
    }

    fn order(&self, descending: bool) -> &'static str {
        match (self.postgres(), descending) {
            (true, false) => " ORDER BY txid, id",
            (true, true) => " ORDER BY txid DESC, id DESC",
            (false, false) => " ORDER BY id",
            (false, true) => " ORDER BY id DESC",
        }
    }

    /// How many outbox rows after `target`'s cursor, up to `end`, it may want.
    async fn pending(&self, target: &Target, end: Place) -> DomainResult<i64> {
        if target.cursor >= end {
            return Ok(0);
        }
        let mut sql = Sql::new(self.backend(), "SELECT COUNT(*) AS n FROM webhook_outbox WHERE 1 = 1");
        self.push_between(&mut sql, target.cursor, end);
        Self::push_wanted(&mut sql, target);
        let row = self.conn().query_one_raw(sql.statement()).await?.ok_or_else(|| DomainError::internal("count"))?;
        get_int(&row, "n")
    }

    /// Enabled, unpaused endpoints with no wait pending and something after their cursor.
    async fn due_targets(&self, end: Place) -> DomainResult<Vec<Target>> {
        let mut filter =
            Sql::new(self.backend(), " AND paused_reason IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= ");
        filter.bind(now_ms()).push(")");
        let mut sql =
            Sql::new(self.backend(), &format!("SELECT {TARGET_COLUMNS} FROM webhook_endpoints WHERE enabled = "));
        sql.bind(true).push_sql(&filter);
        let rows = self.conn().query_all_raw(sql.statement()).await?;
        let targets = rows.iter().map(target_row).collect::<DomainResult<Vec<_>>>()?;
        Ok(targets.into_iter().filter(|target| target.cursor < end).collect())
    }

    /// Delivers what an endpoint waits for, in order, until it has it all, an attempt fails, or
    /// the pass's time is up: (delivered, failed, paused).
    async fn drain(&self, mut target: Target, end: Place, deadline: Instant) -> DomainResult<(u64, u64, u64)> {
        let mut delivered = 0;
        while Instant::now() < deadline {
            match self.deliver_next(&mut target, end).await? {
                Step::Empty => break,
                Step::Skipped => {}
                Step::Delivered => delivered += 1,
                Step::Failed { paused } => return Ok((delivered, 1, u64::from(paused))),
            }
        }
        Ok((delivered, 0, 0))
    }

    async fn deliver_next(&self, target: &mut Target, end: Place) -> DomainResult<Step> {
        if target.cursor >= end {
            return Ok(Step::Empty);
        }
        let mut sql = Sql::new(
            self.backend(),
            "SELECT txid, id, at, namespace_id, namespace_title, user_name, source, events FROM webhook_outbox WHERE 1 = 1",
        );
        self.push_between(&mut sql, target.cursor, end);
        Self::push_wanted(&mut sql, target);
        sql.push(self.order(false)).push(" LIMIT ").push(&QUEUE_ROWS.to_string());
        let rows = self.conn().query_all_raw(sql.statement()).await?;
        let cap = self.inner.config.batch_max.max(1);
        let mut batch: Vec<serde_json::Value> = Vec::new();
        let mut last_read = target.cursor;
        let mut partial: Option<(Place, i64)> = None;
        let next = Place { txid: target.cursor.txid, id: target.cursor.id.saturating_add(1) };
        'rows: for row in &rows {
            let place = Place { txid: get_int(row, "txid")?, id: get_int(row, "id")? };
            let skip = if place == next { target.skip } else { 0 };
            let items: Vec<EventItem> = serde_json::from_str(&get::<String>(row, "events")?).unwrap_or_default();
            for (index, item) in items.iter().enumerate().skip(usize::try_from(skip).unwrap_or(0)) {
                if batch.len() >= cap {
                    partial = Some((place, index as i64));
                    break 'rows;
                }
                if target.wants(item) {
                    batch.push(render(row, place.id, index, item)?);
                }
            }
            last_read = place;
        }
        // Where the cursor goes once this batch is delivered: before the row it stopped in,
        // after the last row read, or, when the read took every row it could, to the end.
        let cursor = match partial {
            Some((place, index)) => (place.before(), index),
            None if (rows.len() as u64) < QUEUE_ROWS => (end, 0),
            None => (last_read, 0),
        };
        if batch.is_empty() {
            self.advance(target, cursor, None).await?;
            return Ok(if rows.is_empty() { Step::Empty } else { Step::Skipped });
        }
        let first = batch.first().and_then(|e| e["id"].as_str()).map(str::to_owned);
        let last = batch.last().and_then(|e| e["id"].as_str()).map(str::to_owned);
        let count = batch.len() as i64;
        let sent = self.post(target, batch).await;
        use std::sync::atomic::Ordering::Relaxed;
        if sent.ok() {
            self.inner.counters.delivered.fetch_add(1, Relaxed);
            self.inner.counters.events.fetch_add(count as u64, Relaxed);
            let log = (count, first.as_deref(), last.as_deref(), &sent);
            self.advance(target, cursor, Some(log)).await?;
            target.failures = 0;
            Ok(Step::Delivered)
        } else {
            self.inner.counters.failed.fetch_add(1, Relaxed);
            let paused = self.record_failure(target, count, first.as_deref(), last.as_deref(), &sent).await?;
            Ok(Step::Failed { paused })
        }
    }

    /// Moves an endpoint's cursor past what was delivered (or not wanted), and logs the
    /// delivery if any, in one transaction.
    async fn advance(
        &self,
        target: &mut Target,
        (cursor, skip): (Place, i64),
        delivered: Option<(i64, Option<&str>, Option<&str>, &Sent)>,
    ) -> DomainResult<()> {
        let txn = WriteTxn::begin(self.conn(), now_unix()).await?;
        let mut sql = Sql::new(self.backend(), "UPDATE webhook_endpoints SET cursor_txid = ");
        sql.bind(cursor.txid).push(", cursor_id = ").bind(cursor.id).push(", cursor_skip = ").bind(skip);
        if delivered.is_some() {
            sql.push(", failures = 0, next_attempt_at = NULL, last_delivered_at = ").bind(txn.now());
        }
        sql.push(" WHERE id = ").bind(target.id.as_str());
        txn.conn().execute_raw(sql.statement()).await?;
        if let Some((count, first, last, sent)) = delivered {
            self.log_attempt(txn.conn(), &target.id, "delivered", count, first, last, sent, None).await?;
        }
        txn.commit().await?;
        target.cursor = cursor;
        target.skip = skip;
        Ok(())
    }

    /// Counts a failure: the next attempt waits (doubling, or what `Retry-After` asked), and
    /// the endpoint is paused after [`WebhookConfig::pause_after`] in a row. True when paused.
    async fn record_failure(
        &self,
        target: &Target,
        count: i64,
        first: Option<&str>,
        last: Option<&str>,
        sent: &Sent,
    ) -> DomainResult<bool> {
        let config = &self.inner.config;
        let failures = target.failures.saturating_add(1);
        let doubling = config
            .retry_base
            .checked_mul(1u32.checked_shl(u32::try_from(failures - 1).unwrap_or(31).min(30)).unwrap_or(u32::MAX))
            .unwrap_or(config.retry_max)
            .min(config.retry_max);
        let wait = sent.retry_after.map(|asked| asked.min(MAX_RETRY_AFTER)).unwrap_or(doubling);
        let retry_at = now_ms().saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2));
        let paused = failures >= i64::from(config.pause_after.max(1));
        let reason =
            paused.then(|| format!("paused after {failures} failed deliveries in a row; the last: {}", sent.reason()));
        let txn = WriteTxn::begin(self.conn(), now_unix()).await?;
        let mut sql = Sql::new(self.backend(), "UPDATE webhook_endpoints SET failures = ");
        sql.bind(failures).push(", next_attempt_at = ").bind(retry_at);
        if let Some(reason) = &reason {
            sql.push(", paused_reason = ").bind(reason.as_str());
        }
        sql.push(" WHERE id = ").bind(target.id.as_str());
        txn.conn().execute_raw(sql.statement()).await?;
        self.log_attempt(txn.conn(), &target.id, "failed", count, first, last, sent, (!paused).then_some(retry_at))
            .await?;
        if let Some(reason) = &reason {
            let system = Actor::new("system", crate::actor::Source::Job, crate::actor::Role::Admin);
            let details = serde_json::json!({ "endpoint_id": target.id, "url": target.url, "reason": reason });
            txn.audit(&system, "webhook.paused", None, None, details).await?;
            tracing::warn!(endpoint = %target.id, %reason, "webhook endpoint paused");
        }
        txn.commit().await?;
        Ok(paused)
    }

    #[allow(clippy::too_many_arguments)]
    async fn log_attempt(
        &self,
        conn: &impl ConnectionTrait,
        endpoint_id: &str,
        outcome: &str,
        events: i64,
        first: Option<&str>,
        last: Option<&str>,
        sent: &Sent,
        retry_at: Option<i64>,
    ) -> DomainResult<Attempt> {
        let at = now_unix();
        let mut sql = Sql::new(
            self.backend(),
            "INSERT INTO webhook_attempts (endpoint_id, at, outcome, events, first_event, last_event, status_code, error, response, duration_ms, retry_at) VALUES (",
        );
        sql.bind(endpoint_id).push(", ").bind(at).push(", ").bind(outcome).push(", ").bind(events);
        sql.push(", ").bind(first.map(str::to_owned)).push(", ").bind(last.map(str::to_owned));
        sql.push(", ").bind(sent.status.map(i32::from)).push(", ").bind(sent.error.clone());
        sql.push(", ").bind(sent.response.clone()).push(", ").bind(sent.duration_ms).push(", ").bind(retry_at);
        sql.push(") RETURNING id");
        let row = conn.query_one_raw(sql.statement()).await?.ok_or_else(|| DomainError::internal("no id"))?;
        Ok(Attempt {
            id: get(&row, "id")?,
            endpoint_id: endpoint_id.to_owned(),
            at,
            outcome: outcome.to_owned(),
            events,
            first_event: first.map(str::to_owned),
            last_event: last.map(str::to_owned),
            status_code: sent.status.map(i64::from),
            error: sent.error.clone(),
            response: sent.response.clone(),
            duration_ms: sent.duration_ms,
            retry_at,
        })
    }

    /// Sends one signed delivery of `events` to the endpoint.
    async fn post(&self, target: &Target, events: Vec<serde_json::Value>) -> Sent {
        let started = Instant::now();
        let timestamp = now_unix();
        let delivery = format!("dlv_{}", ulid::Ulid::new().to_string().to_lowercase());
        let body = serde_json::json!({ "delivery_id": delivery, "endpoint_id": target.id, "events": events });
        let body = match serde_json::to_vec(&body) {
            Ok(body) => body,
            Err(err) => {
                return Sent {
                    status: None,
                    error: Some(err.to_string()),
                    response: None,
                    retry_after: None,
                    duration_ms: 0,
                };
            }
        };
        let elapsed = |started: Instant| i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        // The URL was checked when it was stored; checked again, as the ranges may have changed.
        if let Err(err) = self.inner.policy.check_url(&target.url) {
            return Sent {
                status: None,
                error: Some(err.to_string()),
                response: None,
                retry_after: None,
                duration_ms: 0,
            };
        }
        let request = self
            .inner
            .client
            .post(&target.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(sign::DELIVERY_HEADER, &delivery)
            .header(sign::TIMESTAMP_HEADER, timestamp.to_string())
            .header(sign::SIGNATURE_HEADER, sign::sign(&target.secret, timestamp, &body))
            .body(body);
        match request.send().await {
            Err(err) => Sent {
                status: None,
                error: Some(describe(&err)),
                response: None,
                retry_after: None,
                duration_ms: elapsed(started),
            },
            Ok(mut response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_retry_after);
                let mut excerpt: Vec<u8> = Vec::new();
                while excerpt.len() < RESPONSE_EXCERPT_BYTES {
                    match response.chunk().await {
                        Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                        _ => break,
                    }
                }
                excerpt.truncate(RESPONSE_EXCERPT_BYTES);
                let text = String::from_utf8_lossy(&excerpt).trim().to_owned();
                let error = if (300..400).contains(&status) {
                    Some(format!("the receiver answered {status}; redirects are not followed"))
                } else {
                    None
                };
                Sent {
                    status: Some(status),
                    error,
                    response: (!text.is_empty()).then_some(text),
                    retry_after,
                    duration_ms: elapsed(started),
                }
            }
        }
    }

    /// Moves every enabled endpoint's cursor past changes older than `keep_queued` (as of `now`,
    /// unix seconds) that it still waits for, and writes a `dropped` entry with their count and
    /// first and last event ids to its delivery log; answers how many changes were dropped.
    pub async fn drop_stale_queues(&self, now: i64) -> DomainResult<u64> {
        let cutoff = now.saturating_sub(i64::try_from(self.inner.config.keep_queued.as_secs()).unwrap_or(i64::MAX));
        let end = self.outbox_end().await?;
        let mut dropped = 0u64;
        for target in self.targets("").await? {
            if target.cursor >= end {
                continue;
            }
            // The oldest row waited for is the first after the cursor; only when it is stale is
            // the last stale row looked for (rows come nearly in the order of their times).
            let mut sql = Sql::new(self.backend(), "SELECT at FROM webhook_outbox WHERE 1 = 1");
            self.push_between(&mut sql, target.cursor, end);
            sql.push(self.order(false)).push(" LIMIT 1");
            let first_at = match self.conn().query_one_raw(sql.statement()).await? {
                Some(row) => get_int(&row, "at")?,
                None => continue,
            };
            if first_at >= cutoff {
                continue;
            }
            let mut sql = Sql::new(self.backend(), "SELECT txid, id FROM webhook_outbox WHERE at < ");
            sql.bind(cutoff);
            self.push_between(&mut sql, target.cursor, end);
            sql.push(self.order(true)).push(" LIMIT 1");
            let Some(row) = self.conn().query_one_raw(sql.statement()).await? else { continue };
            let upto = Place { txid: get_int(&row, "txid")?, id: get_int(&row, "id")? };
            let mut sql = Sql::new(
                self.backend(),
                "SELECT COUNT(*) AS n, MIN(id) AS first, MAX(id) AS last FROM webhook_outbox WHERE 1 = 1",
            );
            self.push_between(&mut sql, target.cursor, upto);
            Self::push_wanted(&mut sql, &target);
            let row =
                self.conn().query_one_raw(sql.statement()).await?.ok_or_else(|| DomainError::internal("count"))?;
            let n = get_int(&row, "n")?;
            let txn = WriteTxn::begin(self.conn(), now).await?;
            let mut sql = Sql::new(self.backend(), "UPDATE webhook_endpoints SET cursor_txid = ");
            sql.bind(upto.txid).push(", cursor_id = ").bind(upto.id).push(", cursor_skip = 0 WHERE id = ");
            sql.bind(target.id.as_str());
            txn.conn().execute_raw(sql.statement()).await?;
            if n > 0 {
                let (first, last) = (get_opt_int(&row, "first")?.unwrap_or(0), get_opt_int(&row, "last")?.unwrap_or(0));
                let days = self.inner.config.keep_queued.as_secs() / 86_400;
                let reason = format!(
                    "{n} queued change(s) older than {} dropped undelivered",
                    if days > 0 {
                        format!("{days} day(s)")
                    } else {
                        format!("{} s", self.inner.config.keep_queued.as_secs())
                    }
                );
                let sent = Sent { error: Some(reason.clone()), ..Sent::default() };
                let (first, last) = (format!("evt_{first}_0"), format!("evt_{last}_0"));
                self.log_attempt(txn.conn(), &target.id, "dropped", n, Some(&first), Some(&last), &sent, None).await?;
                tracing::warn!(endpoint = %target.id, %reason, "webhook queue trimmed");
                dropped = dropped.saturating_add(u64::try_from(n).unwrap_or(0));
            }
            txn.commit().await?;
        }
        Ok(dropped)
    }

    /// Drops what nobody waits for any more (at most every ten seconds): changes older than
    /// [`WebhookConfig::keep_queued`] are taken off the endpoints' queues, outbox rows behind
    /// every enabled endpoint's cursor go, and attempts older than
    /// [`WebhookConfig::keep_attempts`].
    async fn prune(&self) -> DomainResult<()> {
        {
            let Ok(mut last) = self.inner.last_prune.lock() else { return Ok(()) };
            if last.is_some_and(|at| at.elapsed() < Duration::from_secs(10)) {
                return Ok(());
            }
            *last = Some(Instant::now());
        }
        self.drop_stale_queues(now_unix()).await?;
        let end = self.outbox_end().await?;
        let floor = self.targets("").await?.iter().map(|target| target.cursor).min().unwrap_or(end).min(end);
        let mut sql = Sql::new(self.backend(), "DELETE FROM webhook_outbox WHERE ");
        if self.postgres() {
            sql.push("(txid, id) <= (").bind(floor.txid).push(", ").bind(floor.id).push(")");
        } else {
            sql.push("id <= ").bind(floor.id);
        }
        self.conn().execute_raw(sql.statement()).await?;
        let cutoff = now_unix().saturating_sub(self.inner.config.keep_attempts.as_secs() as i64);
        let mut sql = Sql::new(self.backend(), "DELETE FROM webhook_attempts WHERE at < ");
        sql.bind(cutoff);
        self.conn().execute_raw(sql.statement()).await?;
        Ok(())
    }
}

enum Step {
    /// The queue is empty.
    Empty,
    /// Queued changes held nothing this endpoint wants; they were taken off.
    Skipped,
    Delivered,
    Failed {
        paused: bool,
    },
}

/// An error of the HTTP client, said with its causes (the refused address, the timeout...).
fn describe(err: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = if err.is_timeout() { "timed out".to_owned() } else { err.to_string() };
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// `Retry-After` in seconds or as an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.timestamp().saturating_sub(now_unix());
    Some(Duration::from_secs(u64::try_from(wait).unwrap_or(0)))
}

fn render(row: &QueryResult, outbox_id: i64, index: usize, item: &EventItem) -> DomainResult<serde_json::Value> {
    let at: i64 = get(row, "at")?;
    let namespace_id: Option<String> = get(row, "namespace_id")?;
    let namespace_title: Option<String> = get(row, "namespace_title")?;
    let mut event = serde_json::json!({
        "id": format!("evt_{outbox_id}_{index}"),
        "type": item.kind,
        "at": rfc3339(at),
        "namespace": namespace_id.map(|id| serde_json::json!({ "id": id, "title": namespace_title })),
        "actor": { "user": get::<String>(row, "user_name")?, "source": get::<String>(row, "source")? },
    });
    if let Some(key) = &item.key {
        event["key"] = key.clone().into();
    }
    if let Some(data) = &item.data {
        event["data"] = data.clone();
    }
    Ok(event)
}

fn audit_details(id: &str, input: &EndpointInput) -> serde_json::Value {
    serde_json::json!({
        "endpoint_id": id,
        "url": input.url,
        "events": input.events,
        "namespace_id": input.namespace_id,
        "prefix": input.prefix,
        "enabled": input.enabled,
        "secret_changed": input.secret.is_some(),
    })
}

fn events_of(row: &QueryResult) -> DomainResult<Vec<String>> {
    Ok(serde_json::from_str(&get::<String>(row, "events")?).unwrap_or_default())
}

fn target_row(row: &QueryResult) -> DomainResult<Target> {
    Ok(Target {
        id: get(row, "id")?,
        url: get(row, "url")?,
        secret: get(row, "secret")?,
        events: events_of(row)?,
        namespace_id: get(row, "namespace_id")?,
        prefix: get(row, "prefix")?,
        failures: get_int(row, "failures")?,
        cursor: Place { txid: get_int(row, "cursor_txid")?, id: get_int(row, "cursor_id")? },
        skip: get_int(row, "cursor_skip")?,
    })
}

fn endpoint_row(row: &QueryResult) -> DomainResult<Endpoint> {
    Ok(Endpoint {
        id: get(row, "id")?,
        url: get(row, "url")?,
        description: get(row, "description")?,
        events: events_of(row)?,
        namespace_id: get(row, "namespace_id")?,
        prefix: get(row, "prefix")?,
        enabled: get_flag(row, "enabled")?,
        paused_reason: get(row, "paused_reason")?,
        failures: get_int(row, "failures")?,
        next_attempt_at: get_opt_int(row, "next_attempt_at")?,
        last_delivered_at: get_opt_int(row, "last_delivered_at")?,
        pending: 0,
        created_by: get(row, "created_by")?,
        created_at: get_int(row, "created_at")?,
        updated_at: get_int(row, "updated_at")?,
    })
}

fn attempt_row(row: &QueryResult) -> DomainResult<Attempt> {
    Ok(Attempt {
        id: get_int(row, "id")?,
        endpoint_id: get(row, "endpoint_id")?,
        at: get_int(row, "at")?,
        outcome: get(row, "outcome")?,
        events: get_int(row, "events")?,
        first_event: get(row, "first_event")?,
        last_event: get(row, "last_event")?,
        status_code: get_opt_int(row, "status_code")?,
        error: get(row, "error")?,
        response: get(row, "response")?,
        duration_ms: get_int(row, "duration_ms")?,
        retry_at: get_opt_int(row, "retry_at")?,
    })
}
