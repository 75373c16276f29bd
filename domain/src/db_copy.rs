//! A consistent copy of the embedded SQLite database taken while the server runs
//! (`kv-manager db backup <file>`): `VACUUM INTO` reads the database in one read transaction, so
//! writers go on (WAL) and the copy holds every transaction committed before it began and none
//! after. The copy is written beside its destination under a temporary name, checked with
//! `PRAGMA integrity_check`, flushed to disk and only then renamed into place.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sea_orm::sqlx::{ConnectOptions, Connection, Row};

use crate::error::{DomainError, DomainResult};

/// What a copy holds, for its report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCopy {
    pub path: PathBuf,
    pub bytes: u64,
    pub namespaces: u64,
    pub keys: u64,
    /// The newest migration the copy's schema has: a server at least that new opens it.
    pub schema: String,
    pub took: Duration,
}

/// The SQLite file a `sqlite:` URL names; `None` for an in-memory database.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Copies the SQLite database `url` names to `dest`, a file that must not exist yet.
pub async fn backup_sqlite(url: &str, dest: &Path) -> DomainResult<FileCopy> {
    let started = Instant::now();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(DomainError::invalid(
            "database_url",
            "database_url: `db backup` copies the embedded SQLite database; this server's database is PostgreSQL: \
             back it up with pg_dump (or your provider's snapshots), or back up namespaces with `kv-manager backup`",
        ));
    }
    let Some(source) = sqlite_path(url) else {
        return Err(DomainError::invalid(
            "database_url",
            "database_url: expected the sqlite:// URL of a database file",
        ));
    };
    if !source.is_file() {
        return Err(DomainError::not_found(
            "database_url",
            format!("database_url: there is no database at {} (has the server run with this URL?)", source.display()),
        ));
    }
    if dest.as_os_str().is_empty() {
        return Err(DomainError::invalid("file", "file: name the file to write the copy to"));
    }
    if dest.exists() {
        return Err(DomainError::conflict(
            "file",
            format!("file: {} exists; name a new file (a backup never overwrites one)", dest.display()),
        ));
    }
    let dir = match dest.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(DomainError::not_found("file", format!("file: the folder {} does not exist", dir.display())));
    }
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let partial = dir.join(format!(".{name}.{}.partial", ulid::Ulid::new().to_string().to_lowercase()));
    let result = copy_into(&source, &partial).await;
    let copied = match result {
        Ok(()) => check(&partial).await,
        Err(err) => Err(err),
    };
    let (namespaces, keys, schema) = match copied {
        Ok(found) => found,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            return Err(err);
        }
    };
    let finish = || -> std::io::Result<u64> {
        let file = std::fs::File::open(&partial)?;
        file.sync_all()?;
        let bytes = file.metadata()?.len();
        // No overwrite even of a file made meanwhile: a hard link fails when the name is taken.
        std::fs::hard_link(&partial, dest)?;
        std::fs::remove_file(&partial)?;
        std::fs::File::open(&dir)?.sync_all()?;
        Ok(bytes)
    };
    let bytes = finish().map_err(|err| {
        let _ = std::fs::remove_file(&partial);
        DomainError::invalid("file", format!("file: cannot write {}: {err}", dest.display()))
    })?;
    Ok(FileCopy { path: dest.to_owned(), bytes, namespaces, keys, schema, took: started.elapsed() })
}

async fn copy_into(source: &Path, partial: &Path) -> DomainResult<()> {
    let options = SqliteConnectOptions::new()
        .filename(source)
        .create_if_missing(false)
        // Waits for a writer's checkpoint rather than failing while the server writes.
        .busy_timeout(Duration::from_secs(30))
        .disable_statement_logging();
    let mut conn = SqliteConnection::connect_with(&options).await.map_err(|err| {
        DomainError::invalid("database_url", format!("database_url: cannot open {}: {err}", source.display()))
    })?;
    let target = partial
        .to_str()
        .ok_or_else(|| DomainError::invalid("file", format!("file: {} is not a UTF-8 path", partial.display())))?;
    let copied = sea_orm::sqlx::query("VACUUM INTO ?").bind(target).execute(&mut conn).await;
    let _ = conn.close().await;
    copied.map(drop).map_err(|err| {
        DomainError::invalid("file", format!("file: copying the database to {} failed: {err}", partial.display()))
    })
}

/// Checks the copy's integrity and reads what it holds.
async fn check(partial: &Path) -> DomainResult<(u64, u64, String)> {
    let options = SqliteConnectOptions::new().filename(partial).read_only(true).disable_statement_logging();
    let fail = |err: sea_orm::sqlx::Error| {
        DomainError::invalid("file", format!("file: the copy at {} cannot be read: {err}", partial.display()))
    };
    let mut conn = SqliteConnection::connect_with(&options).await.map_err(fail)?;
    let verdict: String =
        sea_orm::sqlx::query("PRAGMA integrity_check").fetch_one(&mut conn).await.map_err(fail)?.get(0);
    if verdict != "ok" {
        let _ = conn.close().await;
        return Err(DomainError::invalid("file", format!("file: the copy failed its integrity check: {verdict}")));
    }
    let count = |sql: &'static str| sea_orm::sqlx::query(sql);
    let namespaces: i64 = count("SELECT COUNT(*) FROM namespaces").fetch_one(&mut conn).await.map_err(fail)?.get(0);
    let keys: i64 = count("SELECT COUNT(*) FROM kv_entries").fetch_one(&mut conn).await.map_err(fail)?.get(0);
    let schema: Option<String> =
        count("SELECT MAX(version) FROM seaql_migrations").fetch_one(&mut conn).await.map_err(fail)?.get(0);
    let _ = conn.close().await;
    Ok((
        u64::try_from(namespaces).unwrap_or(0),
        u64::try_from(keys).unwrap_or(0),
        schema.unwrap_or_else(|| "none".to_owned()),
    ))
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn the_file_of_a_sqlite_url() {
        assert_eq!(sqlite_path("sqlite://data/kv.db?mode=rwc").unwrap().to_str(), Some("data/kv.db"));
        assert_eq!(sqlite_path("sqlite:///abs/kv.db").unwrap().to_str(), Some("/abs/kv.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x/y"), None);
    }
}
