//! The bottom layer of the domain: what every feature's SQL needs and none of them owns: the
//! opaque cursors of every list, prefix bounds, LIKE escaping, the batch sizes, and a small
//! statement builder with placeholders for either backend. Everything else is written with
//! SeaORM's entities and query builder (`crate::entity`); the builder is kept for the few
//! statements that read best as SQL: the namespace lock that returns the title
//! (`UPDATE ... RETURNING`), the version kept by an insert-select numbered by a correlated
//! subquery, version pruning by rank, the tag counts, and the search with its planner hints and
//! row-value cursors. It knows no feature: no module of the domain is below it.

use base64::Engine;
use sea_orm::{DbBackend, QueryResult, Statement, Value};

use crate::error::{DomainError, DomainResult};

/// Rows per statement when a statement lists keys (well under SQLite's variable limit).
pub const ROWS_PER_STATEMENT: usize = 500;
/// Value bytes per insert statement.
pub const BYTES_PER_STATEMENT: usize = 16 * 1024 * 1024;
/// Keys per batch of a job: one transaction of the SQL store.
pub const BATCH_KEYS: usize = 1000;

/// One column of a raw row.
pub fn get<T: sea_orm::TryGetable>(row: &QueryResult, column: &str) -> DomainResult<T> {
    row.try_get::<T>("", column).map_err(DomainError::internal)
}

/// An integer column, whether the database holds it as 64 bits (SQLite's INTEGER, BIGINT) or 32
/// (PostgreSQL's INTEGER); the reading that fits is taken, and no error is logged for the other.
pub fn get_int(row: &QueryResult, column: &str) -> DomainResult<i64> {
    match row.try_get::<i64>("", column) {
        Ok(value) => Ok(value),
        Err(_) => get::<i32>(row, column).map(i64::from),
    }
}

/// [`get_int`] of a column that may be NULL.
pub fn get_opt_int(row: &QueryResult, column: &str) -> DomainResult<Option<i64>> {
    match row.try_get::<Option<i64>>("", column) {
        Ok(value) => Ok(value),
        Err(_) => get::<Option<i32>>(row, column).map(|v| v.map(i64::from)),
    }
}

/// A boolean column (PostgreSQL's BOOLEAN, or SQLite's 0 and 1).
pub fn get_flag(row: &QueryResult, column: &str) -> DomainResult<bool> {
    match row.try_get::<bool>("", column) {
        Ok(value) => Ok(value),
        Err(_) => get_int(row, column).map(|v| v != 0),
    }
}

/// Escapes `%`, `_` and `\` so a LIKE pattern matches them literally.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Stands for a bound value until the statement is numbered for its backend.
const SLOT: char = '\u{1}';

pub struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(backend: DbBackend, text: &str) -> Self {
        Self { backend, text: text.to_owned(), values: Vec::new() }
    }

    /// Appends SQL text.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        self.text.push(SLOT);
        self
    }

    /// Appends `(?, ?, ...)` bound to `values`.
    pub fn bind_list<V: Into<Value> + Clone>(&mut self, values: &[V]) -> &mut Self {
        self.text.push('(');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(value.clone());
        }
        self.text.push(')');
        self
    }

    /// Appends another builder's SQL and values.
    pub fn push_sql(&mut self, other: &Sql) -> &mut Self {
        self.text.push_str(&other.text);
        self.values.extend(other.values.iter().cloned());
        self
    }

    /// The statement with `?` (SQLite) or `$n` (PostgreSQL) placeholders.
    pub fn statement(&self) -> Statement {
        let mut text = String::with_capacity(self.text.len() + self.values.len() * 3);
        let mut n = 0;
        for c in self.text.chars() {
            if c == SLOT {
                n += 1;
                match self.backend {
                    DbBackend::Postgres => text.push_str(&format!("${n}")),
                    _ => text.push('?'),
                }
            } else {
                text.push(c);
            }
        }
        Statement::from_sql_and_values(self.backend, text, self.values.clone())
    }
}

/// Cursors are opaque to clients: the last key of a page, base64url-encoded.
pub fn encode_cursor(last_key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last_key.as_bytes())
}

pub fn decode_cursor(cursor: &str) -> DomainResult<String> {
    let invalid = || DomainError::invalid("cursor", "cursor: not a cursor returned by a previous page");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    // No key holds a NUL, so no cursor does (and PostgreSQL would refuse to compare with one).
    String::from_utf8(bytes).ok().filter(|key| !key.contains('\0')).ok_or_else(invalid)
}

/// Cursors of lists ordered by time, then id (jobs, audit entries): `"<unix seconds>|<id>"`,
/// base64url-encoded.
pub fn encode_time_cursor(at: i64, id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{at}|{id}"))
}

pub fn decode_time_cursor(cursor: &str) -> DomainResult<(i64, String)> {
    let invalid = || DomainError::invalid("cursor", "cursor: not a cursor returned by a previous page");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (at, id) = text.split_once('|').ok_or_else(invalid)?;
    Ok((at.parse().map_err(|_| invalid())?, id.to_owned()))
}

/// The smallest string greater than every string that starts with `prefix`, in byte order, or
/// `None` when no such string exists. UTF-8 byte order equals code point order, so bumping the
/// last character that can be bumped gives the bound.
pub fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_bound_bumps_the_last_character() {
        assert_eq!(prefix_upper_bound("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor("é/ü:1")).unwrap(), "é/ü:1");
        assert_eq!(decode_cursor("***").unwrap_err().field(), Some("cursor"));
    }
}
