//! The audit log: who changed what, when and through which surface. Rows are written in the
//! transaction of the change they record (by [`crate::write::WriteTxn`]), so no change goes unrecorded and no row describes a
//! change that rolled back. Values and secrets are never recorded.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, DomainResult};
use crate::sql::{Sql, get as col};
use crate::sql::{decode_time_cursor, encode_time_cursor};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub user: String,
    pub source: String,
    pub operation: String,
    pub namespace_id: Option<String>,
    /// The namespace's title when the change was made.
    pub namespace_title: Option<String>,
    pub key: Option<String>,
    pub details: serde_json::Value,
    pub request_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub namespace_ids: Vec<String>,
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub operations: Vec<String>,
    #[serde(default)]
    pub sources: Vec<String>,
    pub key_prefix: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Entries about these namespaces (ids) are left out (see [`crate::Kv::audit_scope`]).
    #[serde(skip)]
    pub exclude_namespace_ids: Vec<String>,
    /// Leaves out the rows only admins read: those of no namespace (API tokens, sign-in) and
    /// those of `/v1/kv` services and their tokens (see [`crate::Kv::audit_scope`]).
    #[serde(skip)]
    pub namespace_rows_only: bool,
}

/// Operations whose rows only admins read, wherever they were made.
pub const ADMIN_OPERATION_PREFIXES: [&str; 2] = ["token.", "service."];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub cursor: Option<String>,
}

/// The audit log, read.
#[derive(Clone, Debug)]
pub struct Audit {
    conn: DatabaseConnection,
}

impl Audit {
    pub fn new(conn: DatabaseConnection) -> Self {
        Self { conn }
    }

    /// Entries newest first, filtered: each list matches any of its values, the lists all of
    /// them; `from` / `to` are unix seconds, inclusive.
    pub async fn list(&self, query: &AuditQuery) -> DomainResult<AuditPage> {
        let limit = query.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(DomainError::invalid("limit", format!("limit: {limit} is not between 1 and 1000")));
        }
        for (field, values) in [
            ("namespace_ids", &query.namespace_ids),
            ("users", &query.users),
            ("operations", &query.operations),
            ("sources", &query.sources),
        ] {
            crate::limits::check_filter_list(field, values)?;
        }
        for id in &query.namespace_ids {
            crate::limits::check_namespace_id(id).map_err(|_| {
                DomainError::invalid("namespace_ids", format!("namespace_ids: {id:?} is not a namespace id"))
            })?;
        }
        if let (Some(from), Some(to)) = (query.from, query.to)
            && from > to
        {
            return Err(DomainError::invalid("from", "from: must not be after to"));
        }
        let mut sql = Sql::new(
            self.conn.get_database_backend(),
            "SELECT id, at, user_name, source, operation, namespace_id, namespace_title, key_name, details, request_id \
             FROM audit_log WHERE 1 = 1",
        );
        for (column, values) in [
            ("namespace_id", &query.namespace_ids),
            ("user_name", &query.users),
            ("operation", &query.operations),
            ("source", &query.sources),
        ] {
            if !values.is_empty() {
                sql.push(&format!(" AND {column} IN ")).bind_list(values);
            }
        }
        if !query.exclude_namespace_ids.is_empty() {
            sql.push(" AND (namespace_id IS NULL OR namespace_id NOT IN ").bind_list(&query.exclude_namespace_ids);
            sql.push(")");
        }
        if query.namespace_rows_only {
            sql.push(" AND namespace_id IS NOT NULL");
            for prefix in ADMIN_OPERATION_PREFIXES {
                sql.push(" AND operation NOT LIKE ").bind(format!("{prefix}%"));
            }
        }
        if let Some(prefix) = query.key_prefix.as_deref().filter(|p| !p.is_empty()) {
            sql.push(" AND key_name >= ").bind(prefix);
            if let Some(upper) = crate::sql::prefix_upper_bound(prefix) {
                sql.push(" AND key_name < ").bind(upper);
            }
        }
        if let Some(from) = query.from {
            sql.push(" AND at >= ").bind(from);
        }
        if let Some(to) = query.to {
            sql.push(" AND at <= ").bind(to);
        }
        if let Some(cursor) = query.cursor.as_deref().filter(|c| !c.is_empty()) {
            let (at, id) = decode_time_cursor(cursor)?;
            let id: i64 = id
                .parse()
                .map_err(|_| DomainError::invalid("cursor", "cursor: not a cursor returned by a previous page"))?;
            sql.push(" AND (at < ").bind(at).push(" OR (at = ").bind(at).push(" AND id < ").bind(id).push("))");
        }
        sql.push(&format!(" ORDER BY at DESC, id DESC LIMIT {}", limit + 1));
        let rows = self.conn.query_all_raw(sql.statement()).await?;
        let mut entries = rows
            .iter()
            .map(|row| {
                Ok(AuditEntry {
                    id: col(row, "id")?,
                    at: col(row, "at")?,
                    user: col(row, "user_name")?,
                    source: col(row, "source")?,
                    operation: col(row, "operation")?,
                    namespace_id: col(row, "namespace_id")?,
                    namespace_title: col(row, "namespace_title")?,
                    key: col(row, "key_name")?,
                    details: serde_json::from_str(&col::<String>(row, "details")?).unwrap_or_default(),
                    request_id: col(row, "request_id")?,
                })
            })
            .collect::<DomainResult<Vec<_>>>()?;
        let more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        let cursor = if more { entries.last().map(|e| encode_time_cursor(e.at, &e.id.to_string())) } else { None };
        Ok(AuditPage { entries, cursor })
    }

    /// Removes entries older than `days`; returns how many.
    pub async fn prune(&self, days: u32, now: i64) -> DomainResult<u64> {
        crate::write::prune_audit(&self.conn, now - i64::from(days) * 86_400).await
    }
}

/// One CSV field, quoted when it holds a quote, comma, CR or LF (RFC 4180). A field a
/// spreadsheet would read as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage
/// return) gets a leading `'`, so it is shown as text and never evaluated (OWASP's advice on CSV
/// injection): a key named `=HYPERLINK(…)` cannot run anything in whoever opens the export.
pub fn csv_field(text: &str) -> String {
    let guarded;
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        guarded = format!("'{text}");
        guarded.as_str()
    } else {
        text
    };
    if text.contains(['"', ',', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

pub const CSV_HEADER: &str = "id,time,user,source,operation,namespace_id,namespace_title,key,details,request_id\r\n";

/// One entry as a CSV record, CRLF-terminated.
pub fn csv_record(entry: &AuditEntry) -> String {
    let fields = [
        entry.id.to_string(),
        crate::rfc3339(entry.at),
        entry.user.clone(),
        entry.source.clone(),
        entry.operation.clone(),
        entry.namespace_id.clone().unwrap_or_default(),
        entry.namespace_title.clone().unwrap_or_default(),
        entry.key.clone().unwrap_or_default(),
        entry.details.to_string(),
        entry.request_id.clone().unwrap_or_default(),
    ];
    let mut line = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}
