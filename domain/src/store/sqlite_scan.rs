//! The one read that bypasses sqlx's row channel: paging through a namespace's live keys on
//! SQLite (exports and bulk jobs read every key this way).
//!
//! sqlx runs each SQLite connection on a worker thread and hands every row across a channel,
//! which costs about 2 µs a row, five times what SQLite itself needs to step through the rows.
//! Here a pooled connection's handle is locked away from its worker
//! ([`SqliteConnection::lock_handle`], sqlx's documented way to make direct SQLite calls), and
//! one page of rows is stepped through with SQLite's C API. The statement is finalized before
//! the handle is given back, and the connection goes back to the same pool.
//!
//! `libsqlite3-sys` is pinned to the version sqlx links (one copy of SQLite in the binary).

use std::ffi::{CStr, c_int};
use std::ptr::{NonNull, null_mut};

use libsqlite3_sys as ffi;
use sea_orm::sqlx::sqlite::SqlitePool;

use crate::error::{DomainError, DomainResult};
use crate::model::{KeyValue, Scanned};

/// Bounds of one page: keys of `namespace_id`, at least `from` (inclusive), after `after`
/// (exclusive), before `until` (exclusive), up to `upto` (inclusive), live at `now`, in name
/// order, at most `limit` and (values) at most `max_bytes`, the first key always.
pub(crate) struct Page {
    pub namespace_id: String,
    pub from: Option<String>,
    pub after: Option<String>,
    pub until: Option<String>,
    pub upto: Option<String>,
    pub now: i64,
    pub limit: usize,
    pub max_bytes: usize,
}

impl Page {
    /// Keys starting with `prefix` (all for an empty one), after `after`, up to `upto`, live now.
    pub fn range(namespace_id: &str, prefix: &str, after: Option<&str>, upto: Option<&str>, limit: usize) -> Self {
        let from = (!prefix.is_empty()).then(|| prefix.to_owned());
        let until = from.as_deref().and_then(crate::sql::prefix_upper_bound);
        Self {
            namespace_id: namespace_id.to_owned(),
            from,
            after: after.map(str::to_owned),
            until,
            upto: upto.map(str::to_owned),
            now: crate::now_unix(),
            limit,
            max_bytes: usize::MAX,
        }
    }
}

pub(crate) async fn scan(pool: &SqlitePool, page: Page) -> DomainResult<Scanned> {
    with_small_cache(pool, move |db| read_page(db, &page_sql(&page), &page)).await
}

/// The name of the `n`th key of `namespace_id` at or after `from`, after `after` and before
/// `until`, live or not (from the key index alone).
pub(crate) async fn page_end(pool: &SqlitePool, page: Page, n: usize) -> DomainResult<Option<String>> {
    let mut sql = String::from("SELECT name FROM kv_entries WHERE namespace_id = ?1");
    for (clause, bound) in
        [(" AND name >= ?3", &page.from), (" AND name > ?4", &page.after), (" AND name < ?5", &page.until)]
    {
        if bound.is_some() {
            sql.push_str(clause);
        }
    }
    sql.push_str(" ORDER BY name LIMIT 1 OFFSET ?6");
    with_small_cache(pool, move |db| {
        let mut stmt = Statement::prepare(db, &sql)?;
        stmt.bind_text(1, &page.namespace_id)?;
        for (index, bound) in [(3, &page.from), (4, &page.after), (5, &page.until)] {
            if let Some(text) = bound {
                stmt.bind_text(index, text)?;
            }
        }
        stmt.bind_i64(6, i64::try_from(n.saturating_sub(1)).unwrap_or(i64::MAX))?;
        if stmt.step()? {
            Ok(Some(String::from_utf8(stmt.bytes(0).to_vec()).map_err(DomainError::internal)?))
        } else {
            Ok(None)
        }
    })
    .await
}

fn page_sql(page: &Page) -> String {
    let mut sql = String::from(
        "SELECT name, value, metadata, expiration, size FROM kv_entries \
         WHERE namespace_id = ?1 AND (expiration IS NULL OR expiration > ?2)",
    );
    for (clause, bound) in [
        (" AND name >= ?3", &page.from),
        (" AND name > ?4", &page.after),
        (" AND name < ?5", &page.until),
        (" AND name <= ?7", &page.upto),
    ] {
        if bound.is_some() {
            sql.push_str(clause);
        }
    }
    sql.push_str(" ORDER BY name LIMIT ?6");
    sql
}

/// Runs `read` on a pooled connection's locked handle with a small page cache, on a blocking
/// thread: stepping through SQLite (a page of large values takes a while) never holds up the
/// async workers. The blocking task owns the connection, so a caller that stops waiting (an
/// export cancelled) leaves it to finish and give the connection back to the pool.
async fn with_small_cache<T: Send + 'static>(
    pool: &SqlitePool,
    read: impl FnOnce(NonNull<ffi::sqlite3>) -> DomainResult<T> + Send + 'static,
) -> DomainResult<T> {
    let mut conn = pool.acquire().await.map_err(DomainError::internal)?;
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut handle = runtime.block_on(conn.lock_handle()).map_err(DomainError::internal)?;
        let db = handle.as_raw_handle();
        // A scan reads each page once: it runs with a small page cache, so that a large export
        // does not grow every pooled connection's cache to its limit (the memory of an export
        // stays flat however large the namespace); the connection's own size is restored
        // afterwards.
        let cache_size = {
            let mut pragma = Statement::prepare(db, "PRAGMA cache_size")?;
            if pragma.step()? { Some(pragma.i64(0)) } else { None }
        };
        exec(db, &format!("PRAGMA cache_size = -{SCAN_CACHE_KIB}"))?;
        let result = read(db);
        // The pages it read are of no use to the next caller: they go, so that the pool's
        // connections do not each keep a scan's worth.
        exec(db, "PRAGMA shrink_memory")?;
        if let Some(size) = cache_size {
            exec(db, &format!("PRAGMA cache_size = {size}"))?;
        }
        drop(handle);
        drop(conn);
        result
    })
    .await
    .map_err(DomainError::internal)?
}

/// Page cache of a connection while it scans, in KiB.
const SCAN_CACHE_KIB: i64 = 2048;

fn exec(db: NonNull<ffi::sqlite3>, sql: &str) -> DomainResult<()> {
    let mut stmt = Statement::prepare(db, sql)?;
    while stmt.step()? {}
    Ok(())
}

fn read_page(db: NonNull<ffi::sqlite3>, sql: &str, page: &Page) -> DomainResult<Scanned> {
    let mut stmt = Statement::prepare(db, sql)?;
    stmt.bind_text(1, &page.namespace_id)?;
    stmt.bind_i64(2, page.now)?;
    for (index, bound) in [(3, &page.from), (4, &page.after), (5, &page.until), (7, &page.upto)] {
        if let Some(text) = bound {
            stmt.bind_text(index, text)?;
        }
    }
    stmt.bind_i64(6, i64::try_from(page.limit).unwrap_or(i64::MAX))?;
    let mut rows = Vec::with_capacity(page.limit.min(4096));
    let mut bytes = 0usize;
    let mut cut = false;
    while stmt.step()? {
        // The stored size, read before the value is copied: a key that would take the page past
        // its budget ends it (and is read by the next page).
        let size = usize::try_from(stmt.i64(4)).unwrap_or(0);
        if !rows.is_empty() && bytes.saturating_add(size) > page.max_bytes {
            cut = true;
            break;
        }
        bytes = bytes.saturating_add(size);
        let name = String::from_utf8(stmt.bytes(0).to_vec()).map_err(DomainError::internal)?;
        let value = stmt.bytes(1).to_vec();
        let metadata = if stmt.is_null(2) { None } else { serde_json::from_slice(stmt.bytes(2)).ok() };
        let expiration = if stmt.is_null(3) { None } else { Some(stmt.i64(3)) };
        rows.push(KeyValue { name, value, metadata, expiration, version: None });
    }
    Ok(Scanned { keys: rows, cut })
}

/// A prepared statement on a locked handle; finalized on drop.
struct Statement {
    db: NonNull<ffi::sqlite3>,
    raw: NonNull<ffi::sqlite3_stmt>,
}

impl Statement {
    fn prepare(db: NonNull<ffi::sqlite3>, sql: &str) -> DomainResult<Self> {
        let mut raw = null_mut();
        let len = c_int::try_from(sql.len()).map_err(DomainError::internal)?;
        // SAFETY: `db` is a live handle locked away from sqlx's worker for this call's whole
        // duration; `sql` is valid for `len` bytes and SQLite copies what it needs.
        let rc = unsafe { ffi::sqlite3_prepare_v2(db.as_ptr(), sql.as_ptr().cast(), len, &mut raw, null_mut()) };
        check(db, rc)?;
        let raw = NonNull::new(raw).ok_or_else(|| DomainError::internal("SQLite prepared an empty statement"))?;
        Ok(Statement { db, raw })
    }

    fn bind_text(&mut self, index: c_int, text: &str) -> DomainResult<()> {
        let len = c_int::try_from(text.len()).map_err(DomainError::internal)?;
        // SAFETY: SQLITE_TRANSIENT makes SQLite copy the bytes before this returns.
        let rc = unsafe {
            ffi::sqlite3_bind_text(self.raw.as_ptr(), index, text.as_ptr().cast(), len, ffi::SQLITE_TRANSIENT())
        };
        check(self.db, rc)
    }

    fn bind_i64(&mut self, index: c_int, value: i64) -> DomainResult<()> {
        // SAFETY: the statement is live (finalized only on drop).
        let rc = unsafe { ffi::sqlite3_bind_int64(self.raw.as_ptr(), index, value) };
        check(self.db, rc)
    }

    /// Steps to the next row: `true` when there is one.
    fn step(&mut self) -> DomainResult<bool> {
        // SAFETY: the statement is live and only this thread uses it.
        match unsafe { ffi::sqlite3_step(self.raw.as_ptr()) } {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            rc => check(self.db, rc).map(|()| false),
        }
    }

    fn is_null(&self, column: c_int) -> bool {
        // SAFETY: called only while the statement is on a row.
        unsafe { ffi::sqlite3_column_type(self.raw.as_ptr(), column) == ffi::SQLITE_NULL }
    }

    fn i64(&self, column: c_int) -> i64 {
        // SAFETY: called only while the statement is on a row.
        unsafe { ffi::sqlite3_column_int64(self.raw.as_ptr(), column) }
    }

    /// The column's bytes (text or blob), valid until the next step; empty for NULL.
    fn bytes(&self, column: c_int) -> &[u8] {
        // SAFETY: called only while the statement is on a row. `sqlite3_column_blob` is called
        // before `sqlite3_column_bytes`, as SQLite's documentation asks, and the slice borrows
        // `self`, so it cannot outlive the next `step` (which takes `&mut self`).
        unsafe {
            let data = ffi::sqlite3_column_blob(self.raw.as_ptr(), column);
            let len = ffi::sqlite3_column_bytes(self.raw.as_ptr(), column);
            if data.is_null() || len <= 0 { &[] } else { std::slice::from_raw_parts(data.cast::<u8>(), len as usize) }
        }
    }
}

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: finalized exactly once, while the handle is still locked.
        unsafe {
            ffi::sqlite3_finalize(self.raw.as_ptr());
        }
    }
}

fn check(db: NonNull<ffi::sqlite3>, rc: c_int) -> DomainResult<()> {
    if rc == ffi::SQLITE_OK {
        return Ok(());
    }
    // SAFETY: the handle is live; SQLite owns the message, which is copied at once.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) }.to_string_lossy().into_owned();
    Err(DomainError::internal(format!("SQLite error {rc}: {message}")))
}
