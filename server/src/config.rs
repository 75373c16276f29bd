//! The server's configuration, built once at start-up from, in order: defaults, `Leptos.toml`,
//! environment variables, command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use domain::VersionRetention;
use serde::Deserialize;

pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/kv-manager.db?mode=rwc";
pub const DEFAULT_SITE_ROOT: &str = "target/site";
/// Days changes wait in a webhook endpoint's queue at most, unless configured.
pub const DEFAULT_WEBHOOK_QUEUE_DAYS: u32 = 30;
/// Seconds a shutdown waits for jobs to stop and requests to finish (below the 10 s a container engine waits by default before it kills).
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 8;

#[derive(Debug, Parser)]
#[command(name = "kv-manager", version, about = "A console and HTTP API for key-value namespaces")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the console and the APIs (the default).
    Serve(ServeArgs),
    /// Import a JSON or NDJSON file into a namespace, on the configured database.
    Import(ImportArgs),
    /// Export a namespace to a JSON or NDJSON file, from the configured database.
    Export(ExportArgs),
    /// Rewind a namespace (or a prefix) to a moment, from the versions kept; --dry-run previews.
    Rewind(RewindArgs),
    /// Back up a namespace (or every namespace, --all) to the backup directory (or --to <dir>).
    Backup(BackupArgs),
    /// Restore a backup into a namespace (an existing one, or a new one by that title); --dry-run previews.
    Restore(RestoreArgs),
    /// API tokens for the Cloudflare-compatible API (/client/v4).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Services of the multi-tenant KV API (/v1/kv) and their tokens.
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Webhook endpoints: signed deliveries of key changes, job outcomes and alerts.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Alert rules: keys about to expire, and thresholds on a namespace's storage, keys, operations or latency.
    #[command(subcommand)]
    Alert(AlertCommand),
    /// The database itself: a consistent copy of the SQLite file while the server runs.
    #[command(subcommand)]
    Db(DbCommand),
    /// Ask the server these settings describe for /health, on this machine (a container's HEALTHCHECK); exit 0 when healthy.
    Health(ServeArgs),
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy the SQLite database to <file> (a new file), consistent while the server writes, checked before it is kept.
    Backup(DbBackupArgs),
}

#[derive(Debug, Clone, Args)]
pub struct DbBackupArgs {
    /// Where the copy goes: a file that does not exist yet
    pub file: PathBuf,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// Add a rule: --expiring-within <seconds> (an expiry rule) or --metric <m> --above <n> (a threshold).
    Add(AlertAddArgs),
    /// List rules with their state.
    List(TokenListArgs),
    /// Delete a rule.
    Remove(AlertIdArgs),
}

#[derive(Debug, Clone, Args)]
pub struct AlertAddArgs {
    /// The namespace watched (id)
    #[arg(long)]
    pub namespace: String,
    /// Expiry rule: warn this many seconds before a key expires (60 to 31536000)
    #[arg(long, conflicts_with_all = ["metric", "above"])]
    pub expiring_within: Option<i64>,
    /// Expiry rule: only keys starting with this
    #[arg(long)]
    pub prefix: Option<String>,
    /// Expiry rule: only keys with this tag
    #[arg(long)]
    pub tag: Option<String>,
    /// Threshold: storage_bytes, key_count, ops_per_hour or p99_ms
    #[arg(long, requires = "above")]
    pub metric: Option<String>,
    /// Threshold: breached when the value is above this
    #[arg(long, requires = "metric")]
    pub above: Option<f64>,
    /// Threshold: seconds before a lasting breach fires again [default: 3600]
    #[arg(long)]
    pub cooldown: Option<i64>,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct AlertIdArgs {
    /// The rule's id (alr_...)
    pub id: String,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Add an endpoint; its signing secret is printed once, alone on the last line of standard output.
    Add(WebhookAddArgs),
    /// List endpoints with their state and queue (never their secrets).
    List(TokenListArgs),
    /// Delete an endpoint, its queue and its delivery log.
    Remove(WebhookIdArgs),
    /// Resume a paused endpoint: what it missed is delivered from where it stopped.
    Resume(WebhookIdArgs),
    /// Send a test event now and print the receiver's answer.
    Test(WebhookIdArgs),
    /// Show an endpoint's latest delivery attempts, newest first.
    Log(WebhookIdArgs),
}

#[derive(Debug, Clone, Args)]
pub struct WebhookAddArgs {
    /// The receiver: an http or https URL
    pub url: String,
    /// An event type to send (repeat for more): key.created, key.updated, key.deleted, job.completed, job.failed, threshold.breached, threshold.resolved, keys.expiring
    #[arg(long = "event", required = true)]
    pub events: Vec<String>,
    /// Only events of this namespace (id)
    #[arg(long)]
    pub namespace: Option<String>,
    /// Only key events of keys starting with this
    #[arg(long)]
    pub prefix: Option<String>,
    /// What the endpoint is for
    #[arg(long, default_value = "")]
    pub description: String,
    /// The signing secret (16 to 256 printable characters) [default: generated]
    #[arg(long, env = "KVM_WEBHOOK_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct WebhookIdArgs {
    /// The endpoint's id (whk_...)
    pub id: String,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Make a service and its first token; the token is printed once, alone on the last line of standard output.
    Create(ServiceCreateArgs),
    /// List services (never their tokens).
    List(TokenListArgs),
    /// Issue one more token for a service (rotation); printed once, alone on the last line.
    Token(ServiceNameArgs),
    /// Revoke one token of a service by its id; it stops working at once.
    Revoke(ServiceRevokeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServiceCreateArgs {
    /// 3 to 30 of a-z, 0-9 and -
    pub name: String,
    /// The namespace its keys live in (id or title)
    #[arg(long)]
    pub storage: String,
    /// admin (reads and writes) or read-only
    #[arg(long, default_value = "read-only")]
    pub role: String,
    /// Its keys are stored as <prefix>:<key> (1 to 64 of A-Z, a-z, 0-9, '.', '_', '-')
    #[arg(long)]
    pub prefix: String,
    /// A browser origin allowed to call it (repeat for more; * for any)
    #[arg(long = "origin")]
    pub origins: Vec<String>,
    /// A key anyone may read from any origin: an exact name, or a prefix ending in * (repeat for more)
    #[arg(long = "public")]
    pub public_keys: Vec<String>,
    #[arg(long, default_value = "")]
    pub description: String,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ServiceNameArgs {
    pub name: String,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ServiceRevokeArgs {
    pub name: String,
    /// The token's id (from the console or `service create`)
    pub token_id: String,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token; its secret is printed once, alone on the last line of standard output.
    Create(TokenCreateArgs),
    /// List tokens (never their secrets).
    List(TokenListArgs),
    /// Revoke a token by id or name; it stops working at once.
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct TokenCreateArgs {
    /// What the token is for; audit rows name it
    #[arg(long)]
    pub name: String,
    /// Reads only: every change through it is refused
    #[arg(long)]
    pub read_only: bool,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct TokenListArgs {
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct TokenRevokeArgs {
    /// The token's id or name
    pub token: String,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The namespace: its id or its exact title
    pub namespace: String,
    /// The file to import (JSON array or NDJSON; `-` reads standard input)
    pub file: PathBuf,
    /// What to do with keys that already exist: skip, overwrite or fail (fail writes nothing)
    #[arg(long, default_value = "skip", value_parser = ["skip", "overwrite", "fail"])]
    pub collision: String,
    /// The file's format
    #[arg(long, default_value = "auto", value_parser = ["auto", "json", "ndjson"])]
    pub format: String,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The namespace: its id or its exact title
    pub namespace: String,
    /// json (one array) or ndjson (one object per line)
    #[arg(long, default_value = "ndjson", value_parser = ["json", "ndjson"])]
    pub format: String,
    /// Only keys starting with this
    #[arg(long)]
    pub prefix: Option<String>,
    /// Where to write the file (`-` for standard output) [default: <title>-<time>.<format> here]
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RewindArgs {
    /// The namespace: its id or its exact title
    pub namespace: String,
    /// The moment to go back to, RFC 3339 (2026-11-30T12:00:00Z); writes stamped later are undone
    #[arg(long = "to")]
    pub to: String,
    /// Only keys starting with this
    #[arg(long)]
    pub prefix: Option<String>,
    /// Print what the rewind would do (counts and the first keys of each kind); write nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The namespace: its id or its exact title
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub namespace: Option<String>,
    /// Every namespace, one backup (and one job) each, one after the other
    #[arg(long)]
    pub all: bool,
    /// Only keys starting with this
    #[arg(long)]
    pub prefix: Option<String>,
    /// Where this run's backups go: a directory, or s3://bucket/prefix [default: --backup-dir]
    #[arg(long = "to")]
    pub to: Option<String>,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// The backup's id (its folder's name)
    pub backup: String,
    /// The namespace to restore into: its id or exact title; a title no namespace has makes a new one
    #[arg(long)]
    pub into: String,
    /// add (only keys the namespace lacks), overwrite (every key of the backup) or equal (also delete keys the backup lacks)
    #[arg(long, default_value = "add")]
    pub mode: String,
    /// Only keys starting with this
    #[arg(long)]
    pub prefix: Option<String>,
    /// Where the backup is: a directory, or s3://bucket/prefix [default: --backup-dir]
    #[arg(long = "from")]
    pub from: Option<String>,
    /// Print what the restore would do (counts and the first keys of each kind); write nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:3000]
    #[arg(long, env = "KVM_ADDR")]
    pub addr: Option<SocketAddr>,
    /// Database URL: sqlite://path?mode=rwc or postgres://user@host/db [default: sqlite://data/kv-manager.db?mode=rwc]
    #[arg(long, env = "KVM_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Folder with the compiled site (pkg/ holds the JS, WASM and CSS) [default: target/site]
    #[arg(long, env = "KVM_SITE_ROOT")]
    pub site_root: Option<String>,
    /// Versions kept per key, at least (older ones go once past the age below) [default: 10]
    #[arg(long, env = "KVM_KEEP_VERSIONS")]
    pub keep_versions: Option<u32>,
    /// Days every version is kept, whatever the count [default: 30]
    #[arg(long, env = "KVM_KEEP_VERSIONS_DAYS")]
    pub keep_versions_days: Option<u32>,
    /// Folder for export files and import uploads [default: data]
    #[arg(long, env = "KVM_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Folder of backups, one folder each [default: <data-dir>/backups]
    #[arg(long, env = "KVM_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,
    /// An S3-compatible bucket for backups, the `s3` target: s3://bucket/prefix; keys, region and endpoint from the AWS_* variables
    #[arg(long, env = "KVM_BACKUP_S3_URL")]
    pub backup_s3_url: Option<String>,
    /// Background jobs running at once; the rest wait queued [default: 2]
    #[arg(long, env = "KVM_MAX_JOBS")]
    pub max_jobs: Option<usize>,
    /// Largest import upload in bytes; a larger one is refused with 413 while it streams [default: 2147483648 (2 GiB)]
    #[arg(long, env = "KVM_MAX_UPLOAD_BYTES")]
    pub max_upload_bytes: Option<u64>,
    /// Hours an export file stays downloadable [default: 24]
    #[arg(long, env = "KVM_EXPORT_TTL_HOURS")]
    pub export_ttl_hours: Option<u64>,
    /// This instance's name on the jobs it runs, unique per instance sharing a database [default: the host name]
    #[arg(long, env = "KVM_INSTANCE_ID")]
    pub instance_id: Option<String>,
    /// Days audit entries are kept [default: forever]
    #[arg(long, env = "KVM_AUDIT_RETENTION_DAYS")]
    pub audit_retention_days: Option<u32>,
    /// Seconds between looks for due backup plans (also once at start-up, for missed runs); 0 turns the scheduler off [default: 30]
    #[arg(long, env = "KVM_SCHEDULE_INTERVAL_SECS")]
    pub schedule_interval_secs: Option<u64>,
    /// Seconds a shutdown (SIGTERM, Ctrl-C) waits for running jobs to stop at a checkpoint and requests to finish; jobs end interrupted, to be resumed [default: 8]
    #[arg(long = "shutdown-grace", env = "KVM_SHUTDOWN_GRACE_SECS", value_name = "SECS")]
    pub shutdown_grace_secs: Option<u64>,
    /// Sign-in: `access` (Cloudflare Access tokens) or `none` (one person on this machine) [default: access when a team domain is set, else none]
    #[arg(long, env = "KVM_AUTH", value_parser = ["access", "none"])]
    pub auth: Option<String>,
    /// Cloudflare Access team domain, https://<team>.cloudflareaccess.com (also read from TEAM_DOMAIN)
    #[arg(long, env = "KVM_TEAM_DOMAIN")]
    pub team_domain: Option<String>,
    /// Audience tag of the Access application (also read from POLICY_AUD)
    #[arg(long, env = "KVM_POLICY_AUD")]
    pub policy_aud: Option<String>,
    /// Emails (comma-separated) that see every job, download and audit row
    #[arg(long, env = "KVM_ADMINS")]
    pub admins: Option<String>,
    /// Emails (comma-separated) with a read-only console: every change is refused
    #[arg(long, env = "KVM_READONLY_USERS")]
    pub readonly_users: Option<String>,
    /// Namespaces (ids or titles, comma-separated) hidden from the console, its scripts, search and jobs
    #[arg(long, env = "KVM_PROTECTED_NAMESPACES")]
    pub protected_namespaces: Option<String>,
    /// With `--auth none`, allow listening on a non-loopback address (requests from other machines are still refused)
    #[arg(long)]
    pub insecure_no_auth: bool,
    /// Host names (comma-separated; `*.example.com` for subdomains) answered besides localhost, 127.0.0.1 and [::1]; other `Host` headers get 421 [default: loopback names only]
    #[arg(long, env = "KVM_ALLOWED_HOSTS")]
    pub allowed_hosts: Option<String>,
    /// Account id of the Cloudflare-compatible API (/client/v4/accounts/<id>/...) [default: a fixed id, logged at start-up]
    #[arg(long, env = "KVM_ACCOUNT_ID")]
    pub account_id: Option<String>,
    /// Where keys live: `local` (the SQL database) or `cloudflare` (Workers KV through its API) [default: local]
    #[arg(long, env = "KVM_BACKEND", value_parser = ["local", "cloudflare"])]
    pub backend: Option<String>,
    /// Cloudflare account id, for the cloudflare backend (also read from ACCOUNT_ID)
    #[arg(long, env = "CLOUDFLARE_ACCOUNT_ID")]
    pub cloudflare_account_id: Option<String>,
    /// Cloudflare API token with Workers KV access, for the cloudflare backend (also read from API_KEY)
    #[arg(long, env = "CLOUDFLARE_API_TOKEN", hide_env_values = true)]
    pub cloudflare_api_token: Option<String>,
    /// Cloudflare API base URL [default: https://api.cloudflare.com/client/v4]
    #[arg(long, env = "CLOUDFLARE_API_BASE_URL")]
    pub cloudflare_api_base_url: Option<String>,
    /// Requests to Cloudflare in flight at most [default: 4]
    #[arg(long, env = "KVM_CF_CONCURRENCY")]
    pub cf_concurrency: Option<usize>,
    /// Minutes between syncs of every namespace with Cloudflare (keys written elsewhere) [default: 15]
    #[arg(long, env = "KVM_CF_SYNC_MINUTES")]
    pub cf_sync_minutes: Option<u64>,
    /// Master token of the multi-tenant KV API (/v1/kv): acts on any service named in X-Kevi-Service (also read from API_TOKEN)
    #[arg(long, env = "KEVI_API_TOKEN", hide_env_values = true)]
    pub kevi_api_token: Option<String>,
    /// TOML file of /v1/kv services (with SHA-256 hashes of their tokens), loaded at start-up
    #[arg(long, env = "KVM_SERVICES_FILE")]
    pub services_file: Option<PathBuf>,
    /// Requests per second per /v1/kv token (bursts of twice that) [default: 100]
    #[arg(long, env = "KVM_KEVI_RATE")]
    pub kevi_rate: Option<u32>,
    /// Bearer token that may read /metrics without signing in (admins may read it signed in); at least 16 characters
    #[arg(long, env = "KVM_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Address ranges (comma-separated CIDR, such as 10.0.0.0/8) webhooks may reach although they are loopback, private or otherwise internal [default: none: only public addresses]
    #[arg(long, env = "KVM_WEBHOOK_ALLOW_NETWORKS")]
    pub webhook_allow_networks: Option<String>,
    /// Days changes wait in a webhook endpoint's queue (paused or failing) before they are dropped, 1 to 365 [default: 30]
    #[arg(long, env = "KVM_WEBHOOK_QUEUE_DAYS")]
    pub webhook_queue_days: Option<u32>,
    /// HTTPS without a proxy: the certificate chain, PEM (leaf first); needs --tls-key. Reloaded when the file changes [default: plain HTTP]
    #[arg(long, env = "KVM_TLS_CERT", value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key, PEM (PKCS #8, PKCS #1 or SEC1); needs --tls-cert. Reloaded when the file changes
    #[arg(long, env = "KVM_TLS_KEY", value_name = "PEM")]
    pub tls_key: Option<PathBuf>,
    /// Runtime settings file [default: Leptos.toml, when present]
    #[arg(long, env = "KVM_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Settings a `Leptos.toml` may hold.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct FileConfig {
    addr: Option<SocketAddr>,
    database_url: Option<String>,
    site_root: Option<String>,
    keep_versions: Option<u32>,
    keep_versions_days: Option<u32>,
    data_dir: Option<PathBuf>,
    backup_dir: Option<PathBuf>,
    backup_s3_url: Option<String>,
    max_jobs: Option<usize>,
    max_upload_bytes: Option<u64>,
    export_ttl_hours: Option<u64>,
    instance_id: Option<String>,
    audit_retention_days: Option<u32>,
    schedule_interval_secs: Option<u64>,
    shutdown_grace_secs: Option<u64>,
    auth: Option<String>,
    team_domain: Option<String>,
    policy_aud: Option<String>,
    admins: Option<Vec<String>>,
    readonly_users: Option<Vec<String>>,
    protected_namespaces: Option<Vec<String>>,
    allowed_hosts: Option<Vec<String>>,
    account_id: Option<String>,
    backend: Option<String>,
    cloudflare_account_id: Option<String>,
    cloudflare_api_base_url: Option<String>,
    cf_concurrency: Option<usize>,
    cf_sync_minutes: Option<u64>,
    services_file: Option<PathBuf>,
    kevi_rate: Option<u32>,
    webhook_allow_networks: Option<Vec<String>>,
    webhook_queue_days: Option<u32>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
}

/// Everything the server needs to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub addr: SocketAddr,
    pub database_url: String,
    pub site_root: String,
    pub retention: VersionRetention,
    pub data_dir: PathBuf,
    /// Where backups go (the `local` target); `None`: `<data_dir>/backups`.
    pub backup_dir: Option<PathBuf>,
    /// The `s3` backup target's address (`s3://bucket/prefix`), when there is one.
    pub backup_s3_url: Option<String>,
    pub max_jobs: usize,
    /// The largest import upload, in bytes.
    pub max_upload_bytes: u64,
    pub export_ttl_hours: u64,
    pub instance_id: String,
    /// `None`: audit entries are kept forever.
    pub audit_retention_days: Option<u32>,
    /// Seconds between looks for due backup plans; 0: backup plans are not run by this instance.
    pub schedule_interval_secs: u64,
    /// How long a shutdown waits for jobs to stop and requests to finish.
    pub shutdown_grace: std::time::Duration,
    pub auth: Auth,
    pub admins: Vec<String>,
    pub readonly_users: Vec<String>,
    pub protected_namespaces: Vec<String>,
    /// `Host` names answered besides the loopback ones (lower case, no port; `*.` for subdomains).
    pub allowed_hosts: Vec<String>,
    pub account_id: String,
    pub backend: Backend,
    pub kevi: KeviSettings,
    pub metrics: MetricsSettings,
    /// Internal address ranges webhooks may reach.
    pub webhook_allow_networks: Vec<domain::webhooks::IpNet>,
    /// Days changes wait in a webhook endpoint's queue at most.
    pub webhook_queue_days: u32,
    /// HTTPS: the certificate and key files; `None`: plain HTTP.
    pub tls: Option<TlsFiles>,
}

/// The PEM files HTTPS is served with (both are needed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The leaf certificate's private key.
    pub key: PathBuf,
}

/// Who may read `/metrics` besides admins.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MetricsSettings {
    /// `KVM_METRICS_TOKEN`: a bearer token that may read `/metrics` without signing in.
    pub token: Option<String>,
}

impl std::fmt::Debug for MetricsSettings {
    /// Never prints the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsSettings").field("token", &self.token.as_ref().map(|_| "<set>")).finish()
    }
}

/// The fewest characters a metrics token may have.
pub const MIN_METRICS_TOKEN_CHARS: usize = 16;

/// The multi-tenant KV API (`/v1/kv`).
#[derive(Clone, PartialEq, Eq)]
pub struct KeviSettings {
    /// `KEVI_API_TOKEN` (or `API_TOKEN`): may act on any service.
    pub master_token: Option<String>,
    pub services_file: Option<PathBuf>,
    /// Requests per second per token; bursts of twice that.
    pub rate: u32,
}

impl Default for KeviSettings {
    fn default() -> Self {
        Self { master_token: None, services_file: None, rate: 100 }
    }
}

impl std::fmt::Debug for KeviSettings {
    /// Never prints the master token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeviSettings")
            .field("master_token", &self.master_token.as_ref().map(|_| "<set>"))
            .field("services_file", &self.services_file)
            .field("rate", &self.rate)
            .finish()
    }
}

/// Where keys live.
#[derive(Clone, PartialEq, Eq)]
pub enum Backend {
    /// The SQL database (SQLite or PostgreSQL).
    Local,
    /// Cloudflare Workers KV; our database keeps the catalog (tags, versions, audit, search).
    Cloudflare { account_id: String, api_token: String, base_url: String, concurrency: usize, sync_minutes: u64 },
}

impl std::fmt::Debug for Backend {
    /// Never prints the API token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local => f.write_str("Local"),
            Self::Cloudflare { account_id, base_url, concurrency, sync_minutes, .. } => f
                .debug_struct("Cloudflare")
                .field("account_id", account_id)
                .field("base_url", base_url)
                .field("concurrency", concurrency)
                .field("sync_minutes", sync_minutes)
                .finish_non_exhaustive(),
        }
    }
}

/// How requests are signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Every request but `/health` carries a Cloudflare Access token for this team and application.
    Access { team_domain: String, audience: String },
    /// One person on this machine: requests from any other machine are refused.
    None { insecure_no_auth: bool },
}

impl Config {
    /// Refuses to serve without sign-in on an address other machines can reach, unless asked to
    /// with `--insecure-no-auth` (and even then only this machine's requests are answered).
    pub fn check_listen(&self) -> anyhow::Result<()> {
        if let Auth::None { insecure_no_auth: false } = self.auth
            && !self.addr.ip().to_canonical().is_loopback()
        {
            anyhow::bail!(
                "refusing to listen on {} without sign-in (KVM_AUTH=none): set TEAM_DOMAIN and POLICY_AUD for \
                 Cloudflare Access, listen on 127.0.0.1, or pass --insecure-no-auth (requests from other machines \
                 are refused even then)",
                self.addr
            );
        }
        Ok(())
    }
}

impl Config {
    /// Where backups go: `--backup-dir`, else `<data-dir>/backups`.
    pub fn backup_dir(&self) -> PathBuf {
        self.backup_dir.clone().unwrap_or_else(|| self.data_dir.join("backups"))
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            site_root: DEFAULT_SITE_ROOT.to_owned(),
            retention: VersionRetention::default(),
            data_dir: PathBuf::from("data"),
            backup_dir: None,
            backup_s3_url: None,
            max_jobs: 2,
            max_upload_bytes: domain::limits::DEFAULT_MAX_UPLOAD_BYTES,
            export_ttl_hours: 24,
            instance_id: domain::jobs::default_instance_id(),
            audit_retention_days: None,
            schedule_interval_secs: domain::jobs::schedule::DEFAULT_SCHEDULE_INTERVAL_SECS,
            shutdown_grace: std::time::Duration::from_secs(DEFAULT_SHUTDOWN_GRACE_SECS),
            auth: Auth::None { insecure_no_auth: false },
            admins: Vec::new(),
            readonly_users: Vec::new(),
            protected_namespaces: Vec::new(),
            allowed_hosts: Vec::new(),
            account_id: crate::cf_api::DEFAULT_ACCOUNT_ID.to_owned(),
            backend: Backend::Local,
            kevi: KeviSettings::default(),
            metrics: MetricsSettings::default(),
            webhook_allow_networks: Vec::new(),
            webhook_queue_days: DEFAULT_WEBHOOK_QUEUE_DAYS,
            tls: None,
        }
    }
}

impl Config {
    /// Resolves defaults < file < environment < flags (clap has already merged the last two).
    pub fn resolve(args: &ServeArgs) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None if Path::new("Leptos.toml").exists() => read_file(Path::new("Leptos.toml"))?,
            None => FileConfig::default(),
        };
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let team_domain = args.team_domain.clone().or_else(|| env("TEAM_DOMAIN")).or(file.team_domain);
        let audience = args.policy_aud.clone().or_else(|| env("POLICY_AUD")).or(file.policy_aud);
        let mode = args.auth.clone().or(file.auth);
        let auth = match (mode.as_deref(), team_domain, audience) {
            (Some("none"), _, _) | (None, None, _) => Auth::None { insecure_no_auth: args.insecure_no_auth },
            (Some("access") | None, Some(team_domain), Some(audience)) => Auth::Access { team_domain, audience },
            (Some("access") | None, Some(_), None) => {
                anyhow::bail!("policy-aud: Cloudflare Access sign-in needs the application's audience tag (POLICY_AUD)")
            }
            (Some("access"), None, _) => {
                anyhow::bail!("team-domain: KVM_AUTH=access needs the team domain (TEAM_DOMAIN)")
            }
            (Some(other), _, _) => anyhow::bail!("auth: {other:?} is not one of access, none"),
        };
        let list = |flag: &Option<String>, file: Option<Vec<String>>| -> Vec<String> {
            match flag {
                Some(text) => text.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect(),
                None => file.unwrap_or_default(),
            }
        };
        let account_id =
            args.account_id.clone().or(file.account_id).unwrap_or_else(|| crate::cf_api::DEFAULT_ACCOUNT_ID.to_owned());
        if account_id.is_empty() || account_id.len() > 64 || !account_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            anyhow::bail!("account-id: 1 to 64 letters and digits");
        }
        let backend = match args.backend.clone().or(file.backend).as_deref() {
            None | Some("local") => Backend::Local,
            Some("cloudflare") => {
                let account_id = args
                    .cloudflare_account_id
                    .clone()
                    .or_else(|| env("ACCOUNT_ID"))
                    .or(file.cloudflare_account_id)
                    .context("cloudflare-account-id: the cloudflare backend needs CLOUDFLARE_ACCOUNT_ID")?;
                let api_token = args
                    .cloudflare_api_token
                    .clone()
                    .or_else(|| env("API_KEY"))
                    .context("cloudflare-api-token: the cloudflare backend needs CLOUDFLARE_API_TOKEN")?;
                let base_url = args
                    .cloudflare_api_base_url
                    .clone()
                    .or(file.cloudflare_api_base_url)
                    .unwrap_or_else(|| domain::cloudflare::DEFAULT_BASE_URL.to_owned());
                let concurrency = match args.cf_concurrency.or(file.cf_concurrency).unwrap_or(4) {
                    0 => anyhow::bail!("cf-concurrency: must be at least 1"),
                    n => n,
                };
                let sync_minutes = match args.cf_sync_minutes.or(file.cf_sync_minutes).unwrap_or(15) {
                    0 => anyhow::bail!("cf-sync-minutes: must be at least 1"),
                    n @ 1..=525_600 => n,
                    n => anyhow::bail!("cf-sync-minutes: {n} is more than a year (525600 minutes)"),
                };
                Backend::Cloudflare { account_id, api_token, base_url, concurrency, sync_minutes }
            }
            Some(other) => anyhow::bail!("backend: {other:?} is not one of local, cloudflare"),
        };
        let kevi_rate = args.kevi_rate.or(file.kevi_rate).unwrap_or(100);
        if kevi_rate == 0 {
            anyhow::bail!("kevi-rate: must be at least 1 request per second");
        }
        let allowed_hosts = list(&args.allowed_hosts, file.allowed_hosts)
            .into_iter()
            .map(|entry| crate::security::allowed_host_entry(&entry))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let kevi = KeviSettings {
            master_token: args.kevi_api_token.clone().or_else(|| env("API_TOKEN")).filter(|t| !t.trim().is_empty()),
            services_file: args.services_file.clone().or(file.services_file),
            rate: kevi_rate,
        };
        let metrics = MetricsSettings {
            token: match args.metrics_token.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                None => None,
                Some(t) if t.chars().count() < MIN_METRICS_TOKEN_CHARS || t.chars().any(char::is_whitespace) => {
                    anyhow::bail!(
                        "metrics-token: at least {MIN_METRICS_TOKEN_CHARS} characters, without spaces (say, openssl rand -hex 32)"
                    )
                }
                Some(t) => Some(t.to_owned()),
            },
        };
        let webhook_allow_networks = domain::webhooks::AddressPolicy::parse_list(
            &list(&args.webhook_allow_networks, file.webhook_allow_networks).join(","),
        )
        .map_err(|why| anyhow::anyhow!("webhook-allow-networks: {why}"))?;
        let webhook_queue_days = match args.webhook_queue_days.or(file.webhook_queue_days) {
            None => DEFAULT_WEBHOOK_QUEUE_DAYS,
            Some(days @ 1..=365) => days,
            Some(days) => anyhow::bail!("webhook-queue-days: {days} is not from 1 to 365"),
        };
        let tls = match (args.tls_cert.clone().or(file.tls_cert), args.tls_key.clone().or(file.tls_key)) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            (Some(_), None) => anyhow::bail!(
                "tls-key: HTTPS needs the private key as well as the certificate (--tls-key or KVM_TLS_KEY)"
            ),
            (None, Some(_)) => anyhow::bail!(
                "tls-cert: HTTPS needs the certificate as well as the private key (--tls-cert or KVM_TLS_CERT)"
            ),
        };
        Ok(Self {
            tls,
            kevi,
            metrics,
            webhook_allow_networks,
            webhook_queue_days,
            backend,
            account_id,
            auth,
            admins: list(&args.admins, file.admins),
            readonly_users: list(&args.readonly_users, file.readonly_users),
            protected_namespaces: list(&args.protected_namespaces, file.protected_namespaces),
            allowed_hosts,
            addr: match args.addr.or(file.addr) {
                Some(addr) => addr,
                None => DEFAULT_ADDR.parse()?,
            },
            database_url: args
                .database_url
                .clone()
                .or(file.database_url)
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            site_root: args.site_root.clone().or(file.site_root).unwrap_or_else(|| DEFAULT_SITE_ROOT.to_owned()),
            retention: VersionRetention {
                keep: args.keep_versions.or(file.keep_versions).unwrap_or(VersionRetention::default().keep),
                keep_days: args
                    .keep_versions_days
                    .or(file.keep_versions_days)
                    .unwrap_or(VersionRetention::default().keep_days),
            },
            data_dir: args.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from("data")),
            backup_dir: args.backup_dir.clone().or(file.backup_dir),
            backup_s3_url: args.backup_s3_url.clone().or(file.backup_s3_url),
            max_jobs: match args.max_jobs.or(file.max_jobs).unwrap_or(2) {
                0 => anyhow::bail!("max-jobs: must be at least 1"),
                n => n,
            },
            max_upload_bytes: match args.max_upload_bytes.or(file.max_upload_bytes) {
                Some(0) => anyhow::bail!("max-upload-bytes: must be at least 1"),
                Some(n) => n,
                None => domain::limits::DEFAULT_MAX_UPLOAD_BYTES,
            },
            export_ttl_hours: match args.export_ttl_hours.or(file.export_ttl_hours).unwrap_or(24) {
                n @ 0..=87_600 => n,
                n => anyhow::bail!("export-ttl-hours: {n} is more than ten years (87600 hours)"),
            },
            instance_id: args
                .instance_id
                .clone()
                .or(file.instance_id)
                .unwrap_or_else(domain::jobs::default_instance_id),
            audit_retention_days: match args.audit_retention_days.or(file.audit_retention_days) {
                Some(0) => {
                    anyhow::bail!("audit-retention-days: must be at least 1 (leave it unset to keep everything)")
                }
                days => days,
            },
            schedule_interval_secs: match args.schedule_interval_secs.or(file.schedule_interval_secs) {
                None => domain::jobs::schedule::DEFAULT_SCHEDULE_INTERVAL_SECS,
                Some(n @ 0..=86_400) => n,
                Some(n) => anyhow::bail!("schedule-interval-secs: {n} is more than a day (86400 seconds)"),
            },
            shutdown_grace: match args.shutdown_grace_secs.or(file.shutdown_grace_secs) {
                None => std::time::Duration::from_secs(DEFAULT_SHUTDOWN_GRACE_SECS),
                Some(n @ 0..=3_600) => std::time::Duration::from_secs(n),
                Some(n) => anyhow::bail!("shutdown-grace: {n} seconds is more than an hour (3600)"),
            },
        })
    }
}

/// A database URL fit for a log: the password (in the user part or a `password=` parameter)
/// replaced by `***`.
pub fn redacted_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => {
            // The user part ends at the last '@' before the path.
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => {
                    let user = &rest[..at];
                    let user = match user.split_once(':') {
                        Some((name, _)) => format!("{name}:***"),
                        None => user.to_owned(),
                    };
                    format!("{scheme}://{user}{}", &rest[at..])
                }
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("Leptos.toml");
        std::fs::write(&file, "addr = \"127.0.0.1:4000\"\nsite-root = \"site\"\nkeep-versions = 3\n").unwrap();
        let args = ServeArgs { config: Some(file.clone()), ..Default::default() };
        let config = Config::resolve(&args).unwrap();
        assert_eq!(config.addr.port(), 4000);
        assert_eq!(config.site_root, "site");
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.retention, VersionRetention { keep: 3, keep_days: 30 });
        let args =
            ServeArgs { config: Some(file), addr: Some("127.0.0.1:5000".parse().unwrap()), ..Default::default() };
        assert_eq!(Config::resolve(&args).unwrap().addr.port(), 5000);
    }

    /// Every flag `serve` takes, with its environment variable, is in the README's table.
    #[test]
    fn the_readme_lists_every_setting() {
        use clap::CommandFactory;
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
        let table: Vec<&str> = readme.lines().filter(|l| l.starts_with("| `--")).collect();
        let command = Cli::command();
        for arg in command.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if matches!(long, "help" | "version") {
                continue;
            }
            let row = table.iter().find(|l| l.starts_with(&format!("| `--{long}`")));
            let row = row.unwrap_or_else(|| panic!("README: no row for --{long}"));
            if let Some(env) = arg.get_env() {
                let env = env.to_string_lossy();
                assert!(row.contains(&format!("`{env}`")), "README: --{long} row does not name {env}");
            }
        }
    }

    #[test]
    fn access_sign_in_needs_both_settings_and_none_stays_on_loopback() {
        let resolve = |args: ServeArgs| Config::resolve(&ServeArgs { config: Some("/dev/null".into()), ..args });
        let access = resolve(ServeArgs {
            team_domain: Some("https://team.cloudflareaccess.com".into()),
            policy_aud: Some("aud".into()),
            admins: Some(" a@example.com , b@example.com ".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            access.auth,
            Auth::Access { team_domain: "https://team.cloudflareaccess.com".into(), audience: "aud".into() }
        );
        assert_eq!(access.admins, ["a@example.com", "b@example.com"]);
        let err =
            resolve(ServeArgs { team_domain: Some("https://t.cloudflareaccess.com".into()), ..Default::default() });
        assert!(format!("{:#}", err.unwrap_err()).contains("policy-aud"));
        let err = resolve(ServeArgs { auth: Some("access".into()), ..Default::default() });
        assert!(format!("{:#}", err.unwrap_err()).contains("team-domain"));
        // `none` wins over a configured team when asked for explicitly.
        let none = resolve(ServeArgs {
            auth: Some("none".into()),
            team_domain: Some("https://t.cloudflareaccess.com".into()),
            addr: Some("0.0.0.0:3000".parse().unwrap()),
            ..Default::default()
        })
        .unwrap();
        assert!(none.check_listen().is_err());
        let insecure = Config { auth: Auth::None { insecure_no_auth: true }, ..none.clone() };
        assert!(insecure.check_listen().is_ok());
        let loopback = Config { addr: "[::1]:3000".parse().unwrap(), ..none };
        assert!(loopback.check_listen().is_ok());
    }

    #[test]
    fn database_passwords_never_reach_the_log() {
        assert_eq!(redacted_url("postgres://kv:s3cr:et@db.example:5432/kv"), "postgres://kv:***@db.example:5432/kv");
        assert_eq!(
            redacted_url("postgres://kv@db/kv?sslmode=require&password=hunter2"),
            "postgres://kv@db/kv?sslmode=require&password=***"
        );
        assert_eq!(redacted_url("postgres://p%40ss:x@db/kv"), "postgres://p%40ss:***@db/kv");
        assert_eq!(redacted_url(DEFAULT_DATABASE_URL), DEFAULT_DATABASE_URL);
        assert_eq!(redacted_url("sqlite:///tmp/a@b/kv.db"), "sqlite:///tmp/a@b/kv.db");
    }

    #[test]
    fn allowed_hosts_are_names_without_ports() {
        let resolve = |hosts: &str| {
            Config::resolve(&ServeArgs {
                config: Some("/dev/null".into()),
                allowed_hosts: Some(hosts.into()),
                ..Default::default()
            })
        };
        assert_eq!(
            resolve("KV.Example.com, *.corp.example:8443").unwrap().allowed_hosts,
            ["kv.example.com", "*.corp.example"]
        );
        let err = resolve("kv example").unwrap_err();
        assert!(format!("{err:#}").contains("allowed-hosts"), "{err:#}");
        assert!(resolve("*").is_err());
    }

    #[test]
    fn unknown_settings_in_the_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("Leptos.toml");
        std::fs::write(&file, "adress = \"127.0.0.1:4000\"\n").unwrap();
        let err = Config::resolve(&ServeArgs { config: Some(file), ..Default::default() }).unwrap_err();
        assert!(format!("{err:#}").contains("adress"), "{err:#}");
    }

    #[test]
    fn the_webhook_queue_keeps_changes_one_to_365_days() {
        let with = |days: Option<u32>| ServeArgs {
            webhook_queue_days: days,
            config: Some(PathBuf::from("/dev/null")),
            ..Default::default()
        };
        assert_eq!(Config::resolve(&with(None)).unwrap().webhook_queue_days, DEFAULT_WEBHOOK_QUEUE_DAYS);
        assert_eq!(Config::resolve(&with(Some(365))).unwrap().webhook_queue_days, 365);
        for days in [0, 366, u32::MAX] {
            let err = Config::resolve(&with(Some(days))).unwrap_err().to_string();
            assert!(err.starts_with("webhook-queue-days:"), "{err}");
        }
    }

    #[test]
    fn the_metrics_token_is_long_enough_and_never_printed() {
        let with = |token: &str| ServeArgs {
            metrics_token: Some(token.into()),
            config: Some(PathBuf::from("/dev/null")),
            ..Default::default()
        };
        let err = Config::resolve(&with("short")).unwrap_err().to_string();
        assert!(err.starts_with("metrics-token:"), "{err}");
        let config = Config::resolve(&with("0123456789abcdef0123")).unwrap();
        assert_eq!(config.metrics.token.as_deref(), Some("0123456789abcdef0123"));
        assert!(!format!("{config:?}").contains("0123456789abcdef"), "the token is never printed");
        assert_eq!(Config::resolve(&with("  ")).unwrap().metrics.token, None, "blank: no token");
    }

    #[test]
    fn tls_needs_both_files_and_names_the_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("Leptos.toml");
        std::fs::write(&file, "tls-cert = \"/etc/kv/cert.pem\"\n").unwrap();
        let with = |key: Option<&str>| ServeArgs {
            config: Some(file.clone()),
            tls_key: key.map(PathBuf::from),
            ..Default::default()
        };
        let err = Config::resolve(&with(None)).unwrap_err().to_string();
        assert!(err.starts_with("tls-key:"), "{err}");
        let tls = Config::resolve(&with(Some("/etc/kv/key.pem"))).unwrap().tls.unwrap();
        assert_eq!(tls, TlsFiles { cert: "/etc/kv/cert.pem".into(), key: "/etc/kv/key.pem".into() });
        let only_key = ServeArgs {
            config: Some(PathBuf::from("/dev/null")),
            tls_key: Some("/etc/kv/key.pem".into()),
            ..Default::default()
        };
        let err = Config::resolve(&only_key).unwrap_err().to_string();
        assert!(err.starts_with("tls-cert:"), "{err}");
        let plain = ServeArgs { config: Some(PathBuf::from("/dev/null")), ..Default::default() };
        assert_eq!(Config::resolve(&plain).unwrap().tls, None);
    }

    #[test]
    fn the_schedule_interval_is_30_seconds_0_to_turn_it_off_and_at_most_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("Leptos.toml");
        std::fs::write(&file, "schedule-interval-secs = 0\n").unwrap();
        let with = |secs: Option<u64>| ServeArgs {
            config: Some(file.clone()),
            schedule_interval_secs: secs,
            ..Default::default()
        };
        assert_eq!(Config::resolve(&with(None)).unwrap().schedule_interval_secs, 0, "the file's 0");
        assert_eq!(Config::resolve(&with(Some(45))).unwrap().schedule_interval_secs, 45);
        let err = Config::resolve(&with(Some(86_401))).unwrap_err();
        assert!(err.to_string().starts_with("schedule-interval-secs:"), "{err}");
        let defaults = ServeArgs { config: Some(dir.path().join("none.toml")), ..Default::default() };
        std::fs::write(dir.path().join("none.toml"), "").unwrap();
        assert_eq!(Config::resolve(&defaults).unwrap().schedule_interval_secs, 30);
    }
}
