//! The audit log: who changed what, when and through which surface. Rows are written in the
//! transaction of the change they record (by [`crate::write::WriteTxn`]), so no change goes unrecorded and no row describes a
//! change that rolled back. Values and secrets are never recorded.

use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

use crate::entity::audit_log;
use crate::error::{DomainError, DomainResult};
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
pub const ADMIN_OPERATION_PREFIXES: [&str; 3] = ["token.", "service.", "backup_plan."];

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
        use audit_log::Column as C;
        let mut select = audit_log::Entity::find();
        for (column, values) in [
            (C::NamespaceId, &query.namespace_ids),
            (C::UserName, &query.users),
            (C::Operation, &query.operations),
            (C::Source, &query.sources),
        ] {
            if !values.is_empty() {
                select = select.filter(column.is_in(values.iter().map(String::as_str)));
            }
        }
        if !query.exclude_namespace_ids.is_empty() {
            let hidden = query.exclude_namespace_ids.iter().map(String::as_str);
            select =
                select.filter(Condition::any().add(C::NamespaceId.is_null()).add(C::NamespaceId.is_not_in(hidden)));
        }
        if query.namespace_rows_only {
            select = select.filter(C::NamespaceId.is_not_null());
            for prefix in ADMIN_OPERATION_PREFIXES {
                select = select.filter(C::Operation.not_like(format!("{prefix}%")));
            }
        }
        if let Some(prefix) = query.key_prefix.as_deref().filter(|p| !p.is_empty()) {
            select = select.filter(C::KeyName.gte(prefix));
            if let Some(upper) = crate::sql::prefix_upper_bound(prefix) {
                select = select.filter(C::KeyName.lt(upper));
            }
        }
        if let Some(from) = query.from {
            select = select.filter(C::At.gte(from));
        }
        if let Some(to) = query.to {
            select = select.filter(C::At.lte(to));
        }
        if let Some(cursor) = query.cursor.as_deref().filter(|c| !c.is_empty()) {
            let (at, id) = decode_time_cursor(cursor)?;
            let id: i64 = id
                .parse()
                .map_err(|_| DomainError::invalid("cursor", "cursor: not a cursor returned by a previous page"))?;
            select = select
                .filter(Condition::any().add(C::At.lt(at)).add(Condition::all().add(C::At.eq(at)).add(C::Id.lt(id))));
        }
        let rows = select.order_by_desc(C::At).order_by_desc(C::Id).limit(u64::from(limit) + 1).all(&self.conn).await?;
        let mut entries: Vec<AuditEntry> = rows
            .into_iter()
            .map(|row| AuditEntry {
                id: row.id,
                at: row.at,
                user: row.user_name,
                source: row.source,
                operation: row.operation,
                namespace_id: row.namespace_id,
                namespace_title: row.namespace_title,
                key: row.key_name,
                details: serde_json::from_str(&row.details).unwrap_or_default(),
                request_id: row.request_id,
            })
            .collect();
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
