//! The shapes that cross the wire between the console, scripts and the server.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamespaceDto {
    pub id: String,
    pub title: String,
    pub key_count: u64,
    pub size_bytes: u64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub last_accessed: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamespacePageDto {
    pub namespaces: Vec<NamespaceDto>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyEntryDto {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    /// Value size in bytes.
    pub size: u64,
    /// The key's tags, when it has any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyListDto {
    pub keys: Vec<KeyEntryDto>,
    pub cursor: Option<String>,
    pub list_complete: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyDto {
    pub name: String,
    /// The value when it is UTF-8 text.
    pub value: Option<String>,
    /// The value, base64-encoded, when it is not UTF-8 text.
    pub value_base64: Option<String>,
    pub size: u64,
    pub metadata: Option<serde_json::Value>,
    pub expiration: Option<i64>,
    /// The key's version token: send it back with a write (`put_key`'s `version`) and the write
    /// fails with 409 if the key changed meanwhile.
    #[serde(default)]
    pub version: Option<String>,
}

/// A key written, with the version token it has now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    pub ok: bool,
    pub version: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    pub deleted: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ok {
    pub ok: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyDetailsDto {
    pub tags: Vec<String>,
    pub custom_metadata: serde_json::Value,
    /// RFC 3339, UTC; null while the key has no details.
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagCountDto {
    pub tag: String,
    pub count: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagsDto {
    pub tags: Vec<TagCountDto>,
    /// The next page's cursor; none on the last page.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchResultDto {
    pub namespace_id: String,
    pub namespace_title: String,
    pub key: String,
    pub tags: Vec<String>,
    pub size: u64,
    pub expiration: Option<i64>,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchPageDto {
    pub results: Vec<SearchResultDto>,
    pub cursor: Option<String>,
    /// Every match; given on the first page only.
    pub total: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionDto {
    pub version: i64,
    pub size: u64,
    pub operation: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub created_by: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionsDto {
    pub versions: Vec<VersionDto>,
    /// The next page's cursor; none on the last page.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyVersionDto {
    pub version: i64,
    pub value: Option<String>,
    pub value_base64: Option<String>,
    pub size: u64,
    pub metadata: Option<serde_json::Value>,
    pub expiration: Option<i64>,
}

/// What every job starter returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobStartedDto {
    pub job_id: String,
    pub status: String,
    pub ws_url: String,
}

/// One changed key in a preview: its value now and as the change writes it (each cut at 8 KiB),
/// and which other parts differ.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ValueChangeDto {
    pub name: String,
    /// The value now; `None` when it is not UTF-8 text.
    pub before: Option<String>,
    /// The value written; `None` when it is not UTF-8 text.
    pub after: Option<String>,
    pub before_bytes: u64,
    pub after_bytes: u64,
    /// Either text was cut.
    pub cut: bool,
    pub value_differs: bool,
    /// The other parts that differ: `metadata`, `expiration`, `tags`, `custom_metadata`.
    pub also: Vec<String>,
}

/// How many keys of each class a rewind finds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RewindCountsDto {
    pub created: u64,
    pub changed: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub incomplete: u64,
}

/// What a rewind to `at` would do (a dry run): counts, and the first names of each class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RewindPreviewDto {
    pub namespace_id: String,
    pub prefix: Option<String>,
    /// Unix seconds.
    pub at: i64,
    pub counts: RewindCountsDto,
    pub created: Vec<String>,
    pub changed: Vec<String>,
    pub deleted: Vec<String>,
    pub incomplete: Vec<String>,
    /// False when some keys' state at `at` is no longer kept (they are left alone).
    pub complete: bool,
    /// The first 10 changed keys: each one's value now and at `at`.
    #[serde(default)]
    pub changes: Vec<ValueChangeDto>,
}

/// What `rewind` answers: the preview of a dry run, or the job started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RewindDto {
    Preview(RewindPreviewDto),
    Started(JobStartedDto),
}

/// A saved search: its name and the query string of `/search`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedSearchDto {
    pub id: String,
    pub name: String,
    /// The query string of `/search` (without `?`): `/search?{query}` runs it.
    pub query: String,
    pub created_at: i64,
}

/// How many keys a bulk job would create, change, delete or skip.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanCountsDto {
    pub created: u64,
    pub changed: u64,
    pub deleted: u64,
    pub skipped: u64,
}

/// What a bulk job would do (a dry run): counts, the first 20 names of each class, and value
/// comparisons of the first 10 keys it would change (a copy's or move's overwrites).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BulkPreviewDto {
    pub job_type: String,
    pub counts: PlanCountsDto,
    pub created: Vec<String>,
    pub changed: Vec<String>,
    pub deleted: Vec<String>,
    pub skipped: Vec<String>,
    pub changes: Vec<ValueChangeDto>,
}

/// What a bulk job's server function answers: the preview of a dry run, or the job started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BulkDto {
    Preview(BulkPreviewDto),
    Started(JobStartedDto),
}

/// What undoing a job would do (a dry run): counts as a rewind's, the first names of each
/// class, and the keys changed again since the job, which the undo leaves alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UndoPreviewDto {
    pub job_id: String,
    /// The undone job's type.
    pub job_type: String,
    pub counts: RewindCountsDto,
    pub created: Vec<String>,
    pub changed: Vec<String>,
    pub deleted: Vec<String>,
    pub incomplete: Vec<String>,
    pub changed_since_count: u64,
    pub changed_since: Vec<String>,
    /// The first 10 changed keys: each one's value now and before the job.
    pub changes: Vec<ValueChangeDto>,
    /// True when every key the job wrote goes back.
    pub complete: bool,
}

/// What `undo_job` answers: the preview of a dry run, or the job started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UndoDto {
    Preview(UndoPreviewDto),
    Started(JobStartedDto),
}

/// A backup as listed: from its manifest (`complete`), or `incomplete` without one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupDto {
    pub backup_id: String,
    pub status: String,
    pub namespace_id: Option<String>,
    pub namespace_title: Option<String>,
    pub prefix: Option<String>,
    pub key_count: Option<u64>,
    /// Bytes stored (compressed data and manifest).
    pub bytes: u64,
    /// The moment the backup began reading keys (unix seconds).
    pub snapshot_at: Option<i64>,
    pub sha256: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupListDto {
    pub backups: Vec<BackupDto>,
}

/// A backup plan: a cron expression (UTC) for one namespace or every one (`namespace_id` null),
/// a target and a retention. Times are unix seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupPlanDto {
    pub id: String,
    pub namespace_id: Option<String>,
    pub prefix: Option<String>,
    pub cron: String,
    pub target: String,
    /// The newest backups of the plan kept (per namespace).
    pub keep_last: Option<u32>,
    /// Days a backup of the plan is kept.
    pub keep_days: Option<u32>,
    pub paused: bool,
    pub next_run_at: i64,
    pub last_run_at: Option<i64>,
    pub last_job_ids: Vec<String>,
    /// Why the last run could not start a job, if it could not.
    pub last_error: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupPlanListDto {
    pub plans: Vec<BackupPlanDto>,
}

/// The jobs a plan's "run now" started (one per namespace).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupPlanRunDto {
    pub jobs: Vec<JobStartedDto>,
}

/// How many keys of each class a restore finds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RestoreCountsDto {
    pub created: u64,
    pub changed: u64,
    pub deleted: u64,
    pub unchanged: u64,
    /// Different from the backup (or absent from it) but left as they are by the mode.
    pub kept: u64,
    /// In the backup with an expiration that has passed: not written.
    pub expired: u64,
    pub failed: u64,
}

/// What a restore would do (a dry run): counts, and the first 20 names of each class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RestorePreviewDto {
    pub backup_id: String,
    /// The target namespace; `None` for a new one.
    pub namespace_id: Option<String>,
    pub prefix: Option<String>,
    pub mode: String,
    pub counts: RestoreCountsDto,
    pub created: Vec<String>,
    pub changed: Vec<String>,
    pub deleted: Vec<String>,
    pub unchanged: Vec<String>,
    pub kept: Vec<String>,
    pub expired: Vec<String>,
    pub failed: Vec<String>,
    /// The first 10 changed keys: each one's value now and in the backup.
    #[serde(default)]
    pub changes: Vec<ValueChangeDto>,
}

/// What `restore_backup` answers: the preview of a dry run, or the job started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RestoreDto {
    Preview(Box<RestorePreviewDto>),
    Started(JobStartedDto),
}

/// A key a job failed on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyFailureDto {
    pub key: String,
    pub reason: String,
}

/// A background job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobDto {
    pub id: String,
    #[serde(rename = "type")]
    pub job_type: String,
    pub namespace_id: String,
    pub target_namespace_id: Option<String>,
    pub status: String,
    pub total: u64,
    pub processed: u64,
    pub errors: u64,
    pub skipped: u64,
    pub current_key: Option<String>,
    pub percentage: f64,
    pub error_message: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub updated_at: i64,
    pub params: serde_json::Value,
    pub result: Option<serde_json::Value>,
    #[serde(default)]
    pub failures: Vec<KeyFailureDto>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobPageDto {
    pub jobs: Vec<JobDto>,
    pub cursor: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobEventDto {
    pub id: i64,
    pub job_id: String,
    pub event: String,
    pub details: serde_json::Value,
    pub created_at: i64,
}

/// One change in the audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntryDto {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub user: String,
    pub source: String,
    pub operation: String,
    pub namespace_id: Option<String>,
    pub namespace_title: Option<String>,
    pub key: Option<String>,
    pub details: serde_json::Value,
    pub request_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditPageDto {
    pub entries: Vec<AuditEntryDto>,
    pub cursor: Option<String>,
}

/// An API token of the Cloudflare-compatible API (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenDto {
    pub id: String,
    pub name: String,
    pub read_only: bool,
    pub created_at: String,
    pub created_by: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A token just made, with its secret: shown once, kept nowhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedTokenDto {
    pub token: ApiTokenDto,
    pub secret: String,
}

/// What a sync with Cloudflare changed in our records of a namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncedDto {
    /// Keys taken in (new or changed on Cloudflare).
    pub taken: u64,
    /// Keys dropped (gone from Cloudflare).
    pub dropped: u64,
}

/// A service of the multi-tenant KV API (`/v1/kv`): its namespace, role, key prefix, the
/// browser origins it accepts and the keys anyone may read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDto {
    pub name: String,
    pub namespace_id: String,
    /// The namespace's title; null when the namespace is gone.
    pub namespace_title: Option<String>,
    /// `admin` (reads and writes) or `read-only`.
    pub role: String,
    pub prefix: String,
    pub allowed_origins: Vec<String>,
    pub public_keys: Vec<String>,
    pub description: String,
    pub disabled: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub created_by: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

/// A token of a service (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceTokenDto {
    pub id: String,
    pub service: String,
    pub created_at: String,
    pub created_by: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A service token just made (with a new service, or issued for one), with its secret: shown
/// once, kept nowhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSecretDto {
    pub service: ServiceDto,
    pub token: ServiceTokenDto,
    pub secret: String,
}

/// A place backups go: its name (`local`, `s3`) and where it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupTargetDto {
    pub name: String,
    pub location: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupTargetsDto {
    pub targets: Vec<BackupTargetDto>,
}

/// A webhook endpoint (never its secret). Times are unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDto {
    pub id: String,
    pub url: String,
    pub description: String,
    /// The event types it is sent.
    pub events: Vec<String>,
    /// Only events of this namespace; null: every namespace.
    pub namespace_id: Option<String>,
    /// Only events of keys starting with this; null: every key.
    pub prefix: Option<String>,
    pub enabled: bool,
    /// Why the sender paused it; null while it delivers.
    pub paused_reason: Option<String>,
    /// Failed attempts since the last success.
    pub failures: i64,
    /// When the next attempt is due, after a failure.
    pub next_attempt_at: Option<i64>,
    pub last_delivered_at: Option<i64>,
    /// Changes waiting in its queue (each one or more events).
    pub pending: i64,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The webhook endpoints, oldest first, and every event type one can be sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookListDto {
    pub endpoints: Vec<WebhookDto>,
    pub event_types: Vec<String>,
}

/// A webhook endpoint just made, with its signing secret: shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSecretDto {
    pub endpoint: WebhookDto,
    pub secret: String,
}

/// One delivery attempt of a webhook endpoint. Times are unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookAttemptDto {
    pub id: i64,
    pub endpoint_id: String,
    pub at: i64,
    /// `delivered`, `failed`, `test_delivered`, `test_failed`, or `dropped` (queued changes
    /// older than the queue keeps, taken off undelivered).
    pub outcome: String,
    /// Events in the delivery.
    pub events: i64,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    /// The receiver's HTTP status; null when it did not answer.
    pub status_code: Option<i64>,
    pub error: Option<String>,
    /// The start of the receiver's answer.
    pub response: Option<String>,
    pub duration_ms: i64,
    /// When the next attempt is due, after a failure.
    pub retry_at: Option<i64>,
}

/// A page of an endpoint's delivery log, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookAttemptPageDto {
    pub attempts: Vec<WebhookAttemptDto>,
    /// Pass as `before` for the next (older) page; null on the last page.
    pub next_before: Option<i64>,
}

/// Operations in one point of a dashboard chart. Times are unix seconds; latencies are
/// milliseconds (the upper bound of the histogram bucket the percentile falls in; 1000 means
/// a second or more), null without operations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpsPointDto {
    pub start: i64,
    pub reads: u64,
    pub writes: u64,
    pub deletes: u64,
    pub lists: u64,
    pub errors: u64,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl OpsPointDto {
    /// Operations of every kind.
    pub fn operations(&self) -> u64 {
        self.reads.saturating_add(self.writes).saturating_add(self.deletes).saturating_add(self.lists)
    }
}

/// Keys and bytes at one point of a dashboard chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoragePointDto {
    pub start: i64,
    pub key_count: u64,
    pub size_bytes: u64,
}

/// A namespace's share of a dashboard's range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamespaceUsageDto {
    pub id: String,
    /// Null when it has been deleted since.
    pub title: Option<String>,
    pub key_count: u64,
    pub size_bytes: u64,
    pub operations: u64,
    pub errors: u64,
    /// Its storage over the range (the largest namespaces only).
    pub trend: Vec<StoragePointDto>,
    /// Now minus the first sample of the range.
    pub key_change: i64,
    pub byte_change: i64,
}

/// Operations of one `/v1/kv` service or one surface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageDto {
    pub name: String,
    pub operations: u64,
    pub errors: u64,
}

/// A dashboard's range added up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TotalsDto {
    pub reads: u64,
    pub writes: u64,
    pub deletes: u64,
    pub lists: u64,
    pub errors: u64,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl TotalsDto {
    /// Operations of every kind.
    pub fn operations(&self) -> u64 {
        self.reads.saturating_add(self.writes).saturating_add(self.deletes).saturating_add(self.lists)
    }
}

/// A namespace (or endpoint, job) named in the health panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedDto {
    pub id: String,
    pub name: String,
}

/// A threshold rule breached now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BreachDto {
    pub rule_id: String,
    pub namespace_id: String,
    pub namespace_title: Option<String>,
    /// `storage_bytes`, `key_count`, `ops_per_hour` or `p99_ms`.
    pub metric: String,
    pub threshold: f64,
    pub value: Option<f64>,
    pub since: Option<i64>,
}

/// A webhook endpoint failing or paused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailingWebhookDto {
    pub id: String,
    pub url: String,
    pub failures: i64,
    pub paused_reason: Option<String>,
    pub pending: i64,
}

/// A key an expiry rule fired for, not expired yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiringKeyDto {
    pub rule_id: String,
    pub namespace_id: String,
    pub key: String,
    pub expiration: i64,
    pub fired_at: i64,
}

/// The health panel (admins): what needs looking at, each with where it is fixed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthDto {
    /// Jobs that failed in the last 24 hours, and the newest of them.
    pub failed_jobs: u64,
    pub failed_job_ids: Vec<String>,
    pub breaches: Vec<BreachDto>,
    /// Namespaces no running backup plan covers, and the first of them.
    pub without_backup: u64,
    pub without_backup_names: Vec<NamedDto>,
    pub failing_webhooks: Vec<FailingWebhookDto>,
    pub expiring: Vec<ExpiringKeyDto>,
}

/// The dashboard over one range: of every namespace the caller sees, or of one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DashboardDto {
    /// `1h`, `24h`, `7d`, `30d` or `90d`.
    pub range: String,
    /// Its first and past-the-last second, and the seconds one point stands for.
    pub from: i64,
    pub to: i64,
    pub step: i64,
    pub namespace_id: Option<String>,
    /// One point per step, zeros where nothing happened.
    pub ops: Vec<OpsPointDto>,
    pub totals: TotalsDto,
    /// Storage per step (steps without a sample are absent).
    pub storage: Vec<StoragePointDto>,
    /// Keys and bytes now.
    pub key_count: u64,
    pub size_bytes: u64,
    /// The busiest namespaces (empty for one namespace).
    pub top_namespaces: Vec<NamespaceUsageDto>,
    /// The largest namespaces with their trend (empty for one namespace).
    pub largest: Vec<NamespaceUsageDto>,
    /// The busiest `/v1/kv` services; admins only.
    pub services: Option<Vec<UsageDto>>,
    pub surfaces: Vec<UsageDto>,
    /// Admins, for every namespace: the health panel.
    pub health: Option<HealthDto>,
}

/// An alert rule. Times are unix seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRuleDto {
    pub id: String,
    /// `expiry` or `threshold`.
    pub kind: String,
    pub namespace_id: String,
    pub prefix: Option<String>,
    pub tag: Option<String>,
    /// Expiry: the window in seconds.
    pub within_secs: Option<i64>,
    /// Threshold: `storage_bytes`, `key_count`, `ops_per_hour` or `p99_ms`.
    pub metric: Option<String>,
    pub threshold: Option<f64>,
    pub cooldown_secs: i64,
    pub enabled: bool,
    /// Threshold: over it at the last check.
    pub breached: bool,
    pub last_value: Option<f64>,
    pub breached_at: Option<i64>,
    pub last_fired_at: Option<i64>,
    pub checked_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}
