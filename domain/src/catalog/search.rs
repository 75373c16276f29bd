//! `search_keys`: substring of the key name through an index fit for it (SQLite FTS5 trigram,
//! PostgreSQL pg_trgm), tags, and the other filters, ordered by namespace title then key bytes.

use base64::Engine;
use sea_orm::{ConnectionTrait, DbBackend};

use super::Catalog;
use crate::error::{DomainError, DomainResult};
use crate::model::*;
use crate::now_unix;
use crate::sql::escape_like;
use crate::sql::{Sql, get};

pub const DEFAULT_SEARCH_LIMIT: u32 = 100;
pub const MAX_SEARCH_LIMIT: u32 = 1000;
/// Trigram indexes serve queries of at least this many characters.
const MIN_INDEXED_CHARS: usize = 3;

fn encode_cursor(title: &str, namespace_id: &str, key: &str) -> String {
    let json = serde_json::json!([title, namespace_id, key]).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(cursor: &str) -> DomainResult<(String, String, String)> {
    let invalid = || DomainError::invalid("cursor", "cursor: not a cursor returned by a previous search");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

/// Quotes a query as one FTS5 phrase, so no character has a meaning of its own.
fn fts_phrase(query: &str) -> String {
    format!("\"{}\"", query.replace('"', "\"\""))
}

impl Catalog {
    /// Live keys carrying `tag`, from the tag index alone: every tagged row, less the expired
    /// keys not purged yet (few, found through the expiration index).
    async fn count_tagged(&self, tag: &str, namespace_ids: &[String]) -> DomainResult<u64> {
        let backend = self.backend();
        let mut tagged = Sql::new(backend, "SELECT COUNT(*) AS n FROM key_tags t0 WHERE t0.tag_key = ");
        tagged.bind(tag);
        let join = if backend == DbBackend::Sqlite { "CROSS JOIN" } else { "JOIN" };
        let mut expired = Sql::new(
            backend,
            &format!(
                "SELECT COUNT(*) AS n FROM kv_entries e {join} key_tags t0 ON t0.namespace_id = e.namespace_id AND t0.name = e.name AND t0.tag_key = "
            ),
        );
        expired.bind(tag).push(" WHERE e.expiration IS NOT NULL AND e.expiration <= ").bind(now_unix());
        if !namespace_ids.is_empty() {
            tagged.push(" AND t0.namespace_id IN ").bind_list(namespace_ids);
            expired.push(" AND e.namespace_id IN ").bind_list(namespace_ids);
        }
        let mut counts = Vec::new();
        for sql in [tagged, expired] {
            let row = self.conn.query_one_raw(sql.statement()).await?;
            counts.push(row.map(|r| get::<i64>(&r, "n")).transpose()?.unwrap_or(0));
        }
        Ok((counts[0] - counts[1]).max(0) as u64)
    }

    /// Live keys across namespaces that match every given filter.
    pub async fn search(&self, query: &SearchQuery) -> DomainResult<SearchPage> {
        let limit = query.limit.unwrap_or(DEFAULT_SEARCH_LIMIT);
        if !(1..=MAX_SEARCH_LIMIT).contains(&limit) {
            return Err(DomainError::invalid("limit", format!("limit: {limit} is out of range 1..{MAX_SEARCH_LIMIT}")));
        }
        if let (Some(min), Some(max)) = (query.min_size, query.max_size)
            && min > max
        {
            return Err(DomainError::invalid("max_size", "max_size: must not be smaller than min_size"));
        }
        crate::limits::check_filter_list("tags", &query.tags)?;
        crate::limits::check_filter_list("namespace_ids", &query.namespace_ids)?;
        for (field, text) in [("query", query.query.as_deref()), ("prefix", query.prefix.as_deref())] {
            if text.is_some_and(|t| t.contains('\0')) {
                return Err(DomainError::invalid(
                    field,
                    format!("{field}: no key contains the NUL character (U+0000)"),
                ));
            }
        }
        let tags: Vec<String> = super::normalize_tags(&query.tags)?.iter().map(|t| t.to_lowercase()).collect();
        let cursor = query.cursor.as_deref().filter(|c| !c.is_empty()).map(decode_cursor).transpose()?;
        let text = query.query.as_deref().filter(|q| !q.is_empty());

        let backend = self.backend();
        let title = if backend == DbBackend::Postgres { "n.title COLLATE \"C\"" } else { "n.title" };
        // Order by the columns of the table that drives the search, so its index gives the order.
        let order_keys = if tags.is_empty() { "e.namespace_id, e.name" } else { "n.id, t0.name" };
        // With tags, the first one drives the search through the tag index (a few keys of
        // many); without, the key table does.
        let mut filter = match tags.first() {
            Some(first) => {
                // Namespaces in title order, then the tag index in name order within each: the
                // rows come out in result order, so a page stops after `limit` keys instead of
                // sorting every tagged one. SQLite keeps the written join order for CROSS JOIN.
                let join = if backend == DbBackend::Sqlite { "CROSS JOIN" } else { "JOIN" };
                let mut sql = Sql::new(
                    backend,
                    &format!(" FROM namespaces n {join} key_tags t0 ON t0.namespace_id = n.id AND t0.tag_key = "),
                );
                sql.bind(first.as_str());
                sql.push(&format!(" {join} kv_entries e ON e.namespace_id = t0.namespace_id AND e.name = t0.name "));
                sql.push("LEFT JOIN key_details d ON d.namespace_id = e.namespace_id AND d.name = e.name ");
                sql.push("WHERE (e.expiration IS NULL OR e.expiration > ").bind(now_unix()).push(")");
                sql
            }
            None => {
                let mut sql = Sql::new(backend, " FROM kv_entries e JOIN namespaces n ON n.id = e.namespace_id ");
                sql.push("LEFT JOIN key_details d ON d.namespace_id = e.namespace_id AND d.name = e.name ");
                sql.push("WHERE (e.expiration IS NULL OR e.expiration > ").bind(now_unix()).push(")");
                sql
            }
        };
        if let Some(text) = text {
            match backend {
                DbBackend::Postgres => {
                    let pattern = format!("%{}%", escape_like(&text.to_lowercase()));
                    filter.push(" AND lower(e.name) LIKE ").bind(pattern).push(" ESCAPE '\\'");
                }
                _ if text.chars().count() >= MIN_INDEXED_CHARS => {
                    filter
                        .push(" AND e.rowid IN (SELECT rowid FROM kv_names WHERE kv_names MATCH ")
                        .bind(fts_phrase(text))
                        .push(")");
                }
                _ => {
                    // Too short for trigrams: scan, with the same case folding as the index.
                    filter.push(" AND instr(lower(e.name), ").bind(text.to_lowercase()).push(") > 0");
                }
            }
        }
        if let Some(prefix) = query.prefix.as_deref().filter(|p| !p.is_empty()) {
            filter.push(" AND e.name >= ").bind(prefix);
            if let Some(upper) = crate::sql::prefix_upper_bound(prefix) {
                filter.push(" AND e.name < ").bind(upper);
            }
        }
        if !query.namespace_ids.is_empty() {
            filter.push(" AND e.namespace_id IN ").bind_list(&query.namespace_ids);
        }
        if !query.exclude_namespace_ids.is_empty() {
            filter.push(" AND e.namespace_id NOT IN ").bind_list(&query.exclude_namespace_ids);
        }
        for tag in tags.iter().skip(1) {
            filter.push(" AND EXISTS (SELECT 1 FROM key_tags t WHERE t.namespace_id = e.namespace_id AND t.name = e.name AND t.tag_key = ");
            filter.bind(tag.as_str()).push(")");
        }
        match query.has_expiration {
            Some(true) => {
                filter.push(" AND e.expiration IS NOT NULL");
            }
            Some(false) => {
                filter.push(" AND e.expiration IS NULL");
            }
            None => {}
        }
        if let Some(before) = query.expires_before {
            filter.push(" AND e.expiration IS NOT NULL AND e.expiration < ").bind(before);
        }
        if let Some(after) = query.updated_after {
            filter.push(" AND e.updated_at > ").bind(after);
        }
        if let Some(min) = query.min_size {
            filter.push(" AND e.size >= ").bind(crate::limits::to_i64("min_size", min)?);
        }
        if let Some(max) = query.max_size {
            filter.push(" AND e.size <= ").bind(crate::limits::to_i64("max_size", max)?);
        }

        let only_one_tag = tags.len() == 1
            && query.exclude_namespace_ids.is_empty()
            && text.is_none()
            && query.prefix.as_deref().is_none_or(str::is_empty)
            && query.has_expiration.is_none()
            && query.expires_before.is_none()
            && query.updated_after.is_none()
            && query.min_size.is_none()
            && query.max_size.is_none();
        let total = match (&cursor, only_one_tag) {
            (Some(_), _) => None,
            (None, true) => Some(self.count_tagged(&tags[0], &query.namespace_ids).await?),
            (None, false) => {
                let mut count = Sql::new(backend, "SELECT COUNT(*) AS n");
                count.push_sql(&filter);
                let row = self.conn.query_one_raw(count.statement()).await?;
                row.map(|r| get::<i64>(&r, "n")).transpose()?.map(|n| n as u64)
            }
        };

        let mut page =
            Sql::new(backend, "SELECT e.namespace_id, n.title, e.name, e.size, e.expiration, e.updated_at, d.tags");
        page.push_sql(&filter);
        if let Some((t, ns, key)) = &cursor {
            page.push(&format!(" AND ({title}, {order_keys}) > (")).bind(t.as_str()).push(", ");
            page.bind(ns.as_str()).push(", ").bind(key.as_str()).push(")");
        }
        page.push(&format!(" ORDER BY {title}, {order_keys} LIMIT ")).bind(i64::from(limit) + 1);
        let rows = self.conn.query_all_raw(page.statement()).await?;
        let mut results = rows
            .iter()
            .map(|row| {
                Ok(SearchHit {
                    namespace_id: get(row, "namespace_id")?,
                    namespace_title: get(row, "title")?,
                    key: get(row, "name")?,
                    tags: get::<Option<String>>(row, "tags")?
                        .and_then(|t| serde_json::from_str(&t).ok())
                        .unwrap_or_default(),
                    size: get::<i64>(row, "size")? as u64,
                    expiration: get(row, "expiration")?,
                    updated_at: get(row, "updated_at")?,
                })
            })
            .collect::<DomainResult<Vec<_>>>()?;
        let more = results.len() > limit as usize;
        results.truncate(limit as usize);
        let cursor = if more {
            results.last().map(|hit| encode_cursor(&hit.namespace_title, &hit.namespace_id, &hit.key))
        } else {
            None
        };
        Ok(SearchPage { results, cursor, total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_quote_everything() {
        assert_eq!(fts_phrase(r#"a"b%_\"#), r#""a""b%_\""#);
    }

    #[test]
    fn cursors_round_trip() {
        let c = encode_cursor("Title", "0123", "k/é");
        assert_eq!(decode_cursor(&c).unwrap(), ("Title".to_owned(), "0123".to_owned(), "k/é".to_owned()));
        assert_eq!(decode_cursor("nope").unwrap_err().field(), Some("cursor"));
    }
}
