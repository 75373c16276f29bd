//! Connecting to the SQL database (SQLite or PostgreSQL) and bringing its schema up to date.

use std::path::Path;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, DatabaseConnection, DbBackend};

use crate::error::{DomainError, DomainResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl DatabaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A migrated database connection pool.
#[derive(Clone, Debug)]
pub struct Database {
    pub conn: DatabaseConnection,
    pub kind: DatabaseKind,
    /// Whether webhook events are written (shared by every service on this database).
    pub events: crate::events::EventGate,
    /// Rows written since start, for [`Database::wrote_rows`].
    planner: std::sync::Arc<PlannerStats>,
}

/// When the key tables were last analyzed, counted in rows written by this process.
#[derive(Debug)]
struct PlannerStats {
    written: std::sync::atomic::AtomicU64,
    next: std::sync::atomic::AtomicU64,
}

/// Rows written before the first `ANALYZE`; each after it waits for twice as many.
const FIRST_ANALYZE_ROWS: u64 = 1000;

impl Database {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://...`), creating the SQLite file's
    /// folder when missing, and runs the migrations.
    pub async fn connect(url: &str) -> DomainResult<Self> {
        let kind = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DatabaseKind::Postgres
        } else if url.starts_with("sqlite:") {
            DatabaseKind::Sqlite
        } else {
            return Err(DomainError::invalid("database_url", "database_url: expected a sqlite:// or postgres:// URL"));
        };
        if kind == DatabaseKind::Sqlite {
            create_sqlite_parent(url)?;
        }
        let mut options = ConnectOptions::new(url.to_owned());
        options.sqlx_logging(false).connect_timeout(Duration::from_secs(10)).acquire_timeout(Duration::from_secs(30));
        if kind == DatabaseKind::Sqlite {
            options.max_connections(8).min_connections(1).map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(true)
                    // A larger page cache and memory-mapped reads keep index lookups off the
                    // read syscalls once the database outgrows SQLite's 2 MB default cache.
                    .pragma("cache_size", "-65536")
                    .pragma("mmap_size", "268435456")
                    .pragma("temp_store", "memory")
            });
        } else {
            options.max_connections(16);
        }
        if kind == DatabaseKind::Postgres {
            check_tls_files(url)?;
        }
        let conn = sea_orm::Database::connect(options).await.map_err(|err| {
            let message = match tls_failure(url, &err) {
                Some(why) => format!("database_url: cannot connect over TLS: {why}"),
                None => format!("database_url: cannot connect: {err}"),
            };
            tracing::error!(%err, "cannot connect to the database");
            DomainError::invalid("database_url", message)
        })?;
        migrate(&conn, kind).await?;
        let planner = PlannerStats {
            written: std::sync::atomic::AtomicU64::new(0),
            next: std::sync::atomic::AtomicU64::new(FIRST_ANALYZE_ROWS),
        };
        Ok(Self { conn, kind, events: Default::default(), planner: std::sync::Arc::new(planner) })
    }

    /// Counts rows written to the key tables. On PostgreSQL, when the count passes 1000, 2000,
    /// 4000, … rows, the key tables are analyzed in the background, so the planner keeps choosing
    /// the key index for the batched lookups of imports and bulk jobs even where autovacuum is
    /// off (without statistics it scanned the whole table for each batch: a 100,000-key import
    /// into a fresh database took 212 s instead of 6 s). SQLite plans by its indexes alone.
    pub(crate) fn wrote_rows(&self, rows: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        if self.kind != DatabaseKind::Postgres || rows == 0 {
            return;
        }
        let total = self.planner.written.fetch_add(rows, Relaxed).saturating_add(rows);
        let next = self.planner.next.load(Relaxed);
        if total < next || self.planner.next.compare_exchange(next, total.saturating_mul(2), Relaxed, Relaxed).is_err()
        {
            return;
        }
        let conn = self.conn.clone();
        tokio::spawn(async move {
            let sql = "ANALYZE kv_entries, key_versions, key_details, key_tags, namespaces";
            if let Err(err) = conn.execute_unprepared(sql).await {
                tracing::warn!(%err, "analyzing the key tables failed");
            }
        });
    }

    /// Answers whether the database responds to a trivial query.
    pub async fn ping(&self) -> bool {
        let backend: DbBackend = self.conn.get_database_backend();
        self.conn
            .execute_unprepared(if backend == DbBackend::Postgres { "SELECT 1" } else { "SELECT 1;" })
            .await
            .is_ok()
    }
}

/// The value of the first of `names` among a PostgreSQL URL's parameters (sqlx's spellings).
fn url_param(url: &str, names: &[&str]) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed.query_pairs().find(|(name, _)| names.contains(&name.as_ref())).map(|(_, value)| value.into_owned())
}

/// The certificate files a PostgreSQL URL names must be readable: sqlx would only say "No such
/// file or directory" without naming the file.
fn check_tls_files(url: &str) -> DomainResult<()> {
    let params: [(&str, &[&str]); 3] = [
        ("sslrootcert", &["sslrootcert", "ssl-root-cert", "ssl-ca"]),
        ("sslcert", &["sslcert", "ssl-cert"]),
        ("sslkey", &["sslkey", "ssl-key"]),
    ];
    for (param, names) in params {
        if let Some(path) = url_param(url, names)
            && let Err(err) = std::fs::File::open(&path)
        {
            return Err(DomainError::invalid(
                "database_url",
                format!("database_url: {param}={path}: cannot read it: {err}"),
            ));
        }
    }
    Ok(())
}

/// Why a PostgreSQL connection failed in its TLS step, in words, or `None` for any other failure.
fn tls_failure(url: &str, err: &sea_orm::DbErr) -> Option<String> {
    use rustls::{CertificateError, Error as TlsError};
    use sea_orm::sqlx::Error as SqlxError;
    let sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(err)) = err else {
        return None;
    };
    let tls: Option<&TlsError> = match &**err {
        SqlxError::Tls(inner) => match inner.downcast_ref::<TlsError>() {
            Some(tls) => Some(tls),
            // sqlx's own words: "server does not support TLS", an unreadable certificate file.
            None => {
                let text = inner.to_string();
                if text.contains("does not support TLS") {
                    return Some(format!(
                        "the PostgreSQL server does not offer TLS, which sslmode={} requires ({text})",
                        url_param(url, &["sslmode", "ssl-mode"]).unwrap_or_default()
                    ));
                }
                return Some(text);
            }
        },
        // A failed handshake comes back as an I/O error carrying rustls's.
        SqlxError::Io(io) => io.get_ref().and_then(|inner| inner.downcast_ref::<TlsError>()),
        _ => None,
    };
    let tls = tls?;
    // The URL's parameter, else PGSSLROOTCERT, which the driver reads as libpq does.
    let from_env = std::env::var("PGSSLROOTCERT").ok().filter(|path| !path.is_empty());
    let roots = match (url_param(url, &["sslrootcert", "ssl-root-cert", "ssl-ca"]), from_env) {
        (Some(path), _) => format!("sslrootcert={path}"),
        (None, Some(path)) => format!("PGSSLROOTCERT={path}"),
        (None, None) => {
            "the built-in public roots; set sslrootcert (or PGSSLROOTCERT) to the server's CA certificate".to_owned()
        }
    };
    let host = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    let why = match tls {
        TlsError::InvalidCertificate(CertificateError::UnknownIssuer) => {
            format!("the PostgreSQL server's certificate is not trusted: no root certificate vouches for it ({roots})")
        }
        TlsError::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => {
            format!(
                "the PostgreSQL server's certificate is not valid for the host {host:?} (sslmode=verify-full checks the name; \
                 connect by a name the certificate lists, or use sslmode=verify-ca)"
            )
        }
        TlsError::InvalidCertificate(
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. },
        ) => "the PostgreSQL server's certificate is expired or not yet valid".to_owned(),
        TlsError::InvalidCertificate(_) => "the PostgreSQL server's certificate was refused".to_owned(),
        TlsError::AlertReceived(_) => "the PostgreSQL server refused the TLS handshake".to_owned(),
        _ => "the TLS handshake with the PostgreSQL server failed".to_owned(),
    };
    Some(format!("{why} [{tls}]"))
}

/// Connections of the pool: open (idle or in use), and the most it opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolUse {
    pub open: u32,
    pub idle: u32,
    pub in_use: u32,
    pub max: u32,
}

/// Whether the database answers, and which one it is: what `/health` reports, without handing
/// out the connection.
#[derive(Clone, Debug)]
pub struct Health {
    db: Database,
}

impl Health {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    pub async fn ping(&self) -> bool {
        self.db.ping().await
    }

    pub fn kind(&self) -> DatabaseKind {
        self.db.kind
    }

    /// How the connection pool is used right now (for `/metrics`).
    pub fn pool_use(&self) -> PoolUse {
        // Each pool is taken only on the backend it belongs to (the getters panic otherwise).
        let (open, idle, max) = match self.db.kind {
            DatabaseKind::Sqlite => {
                let pool = self.db.conn.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle(), pool.options().get_max_connections())
            }
            DatabaseKind::Postgres => {
                let pool = self.db.conn.get_postgres_connection_pool();
                (pool.size(), pool.num_idle(), pool.options().get_max_connections())
            }
        };
        let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(open);
        PoolUse { open, idle, in_use: open - idle, max }
    }

    /// Closes the connection pool: every service over it fails from then on (shutdown; the
    /// health check's own test).
    pub async fn close(&self) {
        let _ = self.db.conn.clone().close().await;
    }
}

/// Instances starting together on one PostgreSQL database migrate it one after the other: each
/// holds this advisory lock while it migrates (without it, two first starts raced to create the
/// same tables and one failed).
const MIGRATION_LOCK: i64 = 0x6b76_6d5f_6d69_6772; // "kvm_migr"

/// Brings the schema up to this version's, refusing a database a newer version has migrated:
/// its migrations are unknown here, and what this version would write into it is not known to be
/// right. (Instances of this version already running go on working: every migration so far only
/// adds tables, nullable or defaulted columns and indexes.)
async fn migrate(conn: &DatabaseConnection, kind: DatabaseKind) -> DomainResult<()> {
    use sea_orm::TransactionTrait;
    let failed = |err: sea_orm::DbErr| {
        tracing::error!(%err, "migrating the database failed");
        DomainError::invalid("database_url", format!("database_url: migrating the database failed: {err}"))
    };
    // The lock is the transaction's: it ends with it, whatever happens below.
    let lock = match kind {
        DatabaseKind::Postgres => {
            let txn = conn.begin().await.map_err(failed)?;
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")).await.map_err(failed)?;
            Some(txn)
        }
        DatabaseKind::Sqlite => None,
    };
    let unknown = unknown_migrations(conn).await.map_err(failed)?;
    if !unknown.is_empty() {
        return Err(DomainError::conflict(
            "database_url",
            format!(
                "database_url: the database was migrated by a newer kv-manager ({}, unknown to version {}); start that \
                 version or a newer one (instances of this version that are running go on working until they stop)",
                unknown.join(", "),
                env!("CARGO_PKG_VERSION")
            ),
        ));
    }
    Migrator::up(conn, None).await.map_err(failed)?;
    if let Some(txn) = lock {
        txn.commit().await.map_err(failed)?;
    }
    Ok(())
}

/// Migrations recorded in the database that this version does not have.
async fn unknown_migrations(conn: &DatabaseConnection) -> Result<Vec<String>, sea_orm::DbErr> {
    use sea_orm::Statement;
    let backend = conn.get_database_backend();
    let exists = match backend {
        sea_orm::DbBackend::Postgres => {
            "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'seaql_migrations'"
        }
        _ => "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'",
    };
    if conn.query_one_raw(Statement::from_string(backend, exists)).await?.is_none() {
        return Ok(Vec::new());
    }
    let known: std::collections::HashSet<String> = Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
    let rows = conn
        .query_all_raw(Statement::from_string(backend, "SELECT version FROM seaql_migrations ORDER BY version"))
        .await?;
    let mut unknown = Vec::new();
    for row in rows {
        let version: String = row.try_get("", "version")?;
        if !known.contains(&version) {
            unknown.push(version);
        }
    }
    Ok(unknown)
}

fn create_sqlite_parent(url: &str) -> DomainResult<()> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|err| {
            DomainError::invalid("database_url", format!("database_url: cannot create {}: {err}", parent.display()))
        })?;
    }
    Ok(())
}

/// Begins a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`: the write lock is
/// taken at once, waiting for other writers up to the busy timeout. A deferred transaction takes
/// it at its first write instead, and when another connection committed since the transaction's
/// first read SQLite cannot wait: it fails at once with "database is locked" (code 517,
/// `SQLITE_BUSY_SNAPSHOT`), which made, say, a token created while a job ran answer 500.
/// PostgreSQL ignores the mode.
pub async fn begin_write(conn: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    conn.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}
