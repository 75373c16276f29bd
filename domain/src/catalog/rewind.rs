//! A namespace's state at a past moment, read from the versions kept of its keys, a page of keys
//! at a time (never a whole namespace in memory).
//!
//! A version keeps a state that was live from `written_at` (when it was written) to `created_at`
//! (when a write replaced it or a delete removed it). The state of a key at the moment `at` is
//! therefore the state kept by its first version replaced after `at`, when that state was
//! written at or before `at`; the key's current row when it was last written at or before `at`;
//! and nothing (absent) when the first state written after `at` follows a delete, an expiry or
//! the key's creation. When versions of the key were pruned and the oldest one kept was written
//! after `at`, the state at `at` is no longer known: the key is *incomplete*.
//!
//! Times are unix seconds: every write stamped at or before `at` counts as before the moment.
//! Versions kept before `written_at` was recorded (NULL) fall back on the version before them: a
//! state that followed an update was written when that update was made.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::Catalog;
use crate::entity::{key_version, kv_entry};
use crate::error::{DomainError, DomainResult};
use crate::limits;
use crate::model::RewindClass;
use crate::sql::{ROWS_PER_STATEMENT, Sql, get, prefix_upper_bound};

/// A kept state a rewind writes back (its value is read when it is written).
#[derive(Clone, Debug, PartialEq)]
pub struct KeptState {
    /// The version's row.
    pub id: i64,
    pub metadata: Option<serde_json::Value>,
    pub expiration: Option<i64>,
    pub size: u64,
}

/// One key of a rewind: what the rewind does with it and, for a key created or changed, the
/// state it writes.
#[derive(Clone, Debug, PartialEq)]
pub struct RewindKey {
    pub name: String,
    pub class: RewindClass,
    pub target: Option<KeptState>,
}

/// One page of a rewind's walk over a namespace's keys.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RewindPage {
    /// The keys the rewind has something to say about (keys absent then and now are left out).
    pub keys: Vec<RewindKey>,
    /// Names walked.
    pub walked: usize,
    /// The last name walked.
    pub last: Option<String>,
    /// Whether names may follow.
    pub more: bool,
}

/// A row of `kv_entries` as [`Current`] reads it: name, metadata, expiration, created, updated.
type CurrentRow = (String, Option<String>, Option<i64>, i64, i64);

/// The key's row now (without its value).
struct Current {
    metadata: Option<String>,
    expiration: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

/// The key's first version replaced after the moment.
struct FirstAfter {
    id: i64,
    version: i64,
    metadata: Option<String>,
    expiration: Option<i64>,
    size: i64,
    written_at: Option<i64>,
    /// The operation of the version before it, when that one is still kept.
    previous: Option<String>,
    /// Whether its value is the current row's.
    same_value: bool,
}

/// The state at the moment, as far as the records tell.
enum Then {
    Absent,
    /// The current row, unchanged since.
    Current,
    Kept(FirstAfter),
    Unknown,
}

fn parse(text: &Option<String>) -> Option<serde_json::Value> {
    text.as_deref().and_then(|t| serde_json::from_str(t).ok())
}

fn state_then(first: Option<FirstAfter>, current: Option<&Current>, at: i64) -> Then {
    match (first, current) {
        (Some(first), _) => {
            let after_update = first.previous.as_deref().is_some_and(|p| p != "delete");
            state_kept(first, after_update, at)
        }
        (None, Some(current)) if current.updated_at <= at => Then::Current,
        // Overwritten after the moment with no version of what it replaced: pruned (or an
        // expired row written again, which tells nothing either).
        (None, Some(current)) if current.created_at <= at => Then::Unknown,
        (None, _) => Then::Absent,
    }
}

/// The state at `at` of a key whose first version replaced after `at` is `first`;
/// `after_update`: the version before it is kept and was not a delete.
fn state_kept(first: FirstAfter, after_update: bool, at: i64) -> Then {
    match first.written_at {
        Some(written) if written <= at => Then::Kept(first),
        // Written after the moment: absent then, unless older versions, which could have
        // held the state at the moment, were pruned.
        Some(_) if first.previous.is_none() && first.version > 1 => Then::Unknown,
        Some(_) => Then::Absent,
        // Kept before `written_at` was recorded: a state that followed an update (not a
        // delete) was written by that update, at or before the moment.
        None if after_update => Then::Kept(first),
        None => Then::Unknown,
    }
}

/// What a rewind does with a key, from its state then and its row now (`None` when it is
/// absent both then and now: nothing to do, not counted).
fn classify(name: &str, then: Then, current: Option<&Current>, now: i64) -> Option<RewindKey> {
    let live_now = current.filter(|c| c.expiration.is_none_or(|e| e > now));
    let key = |class, target| Some(RewindKey { name: name.to_owned(), class, target });
    match then {
        Then::Unknown => key(RewindClass::Incomplete, None),
        Then::Current => live_now.and_then(|_| key(RewindClass::Unchanged, None)),
        Then::Absent => live_now.and_then(|_| key(RewindClass::Deleted, None)),
        Then::Kept(first) => {
            let metadata = parse(&first.metadata);
            if let Some(current) = live_now
                && first.same_value
                && first.expiration == current.expiration
                && metadata == parse(&current.metadata)
            {
                return key(RewindClass::Unchanged, None);
            }
            // A state whose expiration has passed, or is under a minute away (no write may set
            // it), would be gone by now: the key counts as absent.
            if first.expiration.is_some_and(|e| !limits::far_enough(e, now)) {
                return live_now.and_then(|_| key(RewindClass::Deleted, None));
            }
            let target =
                KeptState { id: first.id, metadata, expiration: first.expiration, size: first.size.max(0) as u64 };
            let class = if live_now.is_some() { RewindClass::Changed } else { RewindClass::Created };
            key(class, Some(target))
        }
    }
}

/// `AND name` within `prefix` and after `after`.
fn push_range(sql: &mut Sql, prefix: &str, after: Option<&str>) {
    if !prefix.is_empty() {
        sql.push(" AND name >= ").bind(prefix);
        if let Some(upper) = prefix_upper_bound(prefix) {
            sql.push(" AND name < ").bind(upper);
        }
    }
    if let Some(after) = after {
        sql.push(" AND name > ").bind(after);
    }
}

impl Catalog {
    /// Refuses a store whose keys do not live in our database (Cloudflare): their history is
    /// only what was written through us.
    fn require_sql_store(&self) -> DomainResult<()> {
        self.require_history("namespace_id", "rewinding")
    }

    /// Refuses a store without a complete history (see [`Self::require_sql_store`]), naming
    /// `field` and what needs the history (`doing`).
    pub(super) fn require_history(&self, field: &str, doing: &str) -> DomainResult<()> {
        if self.store.reads_in_transaction() {
            Ok(())
        } else {
            Err(DomainError::invalid(
                field,
                format!(
                    "{field}: {doing} needs the local or PostgreSQL store (with Cloudflare, keys written elsewhere have no history here)"
                ),
            ))
        }
    }

    /// Up to `limit` names after `after`, in byte order, of the keys that have a row or kept
    /// versions in the namespace (within `prefix`).
    pub async fn rewind_names(
        &self,
        namespace_id: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> DomainResult<Vec<String>> {
        self.require_sql_store()?;
        let limit = limit.max(1) as i64;
        let mut sql = Sql::new(
            self.backend(),
            "SELECT name FROM (SELECT name FROM (SELECT name FROM kv_entries WHERE namespace_id = ",
        );
        sql.bind(namespace_id);
        push_range(&mut sql, prefix, after);
        sql.push(" ORDER BY name LIMIT ").bind(limit);
        sql.push(") a UNION SELECT name FROM (SELECT DISTINCT name FROM key_versions WHERE namespace_id = ")
            .bind(namespace_id);
        push_range(&mut sql, prefix, after);
        sql.push(" ORDER BY name LIMIT ").bind(limit);
        sql.push(") b) u ORDER BY name LIMIT ").bind(limit);
        let rows = self.conn.query_all_raw(sql.statement()).await?;
        rows.iter().map(|row| get::<String>(row, "name")).collect()
    }

    /// How many keys have a row or kept versions in the namespace (within `prefix`).
    pub async fn count_rewind_names(&self, namespace_id: &str, prefix: &str) -> DomainResult<u64> {
        self.require_sql_store()?;
        let mut sql =
            Sql::new(self.backend(), "SELECT COUNT(*) AS n FROM (SELECT name FROM kv_entries WHERE namespace_id = ");
        sql.bind(namespace_id);
        push_range(&mut sql, prefix, None);
        sql.push(" UNION SELECT name FROM key_versions WHERE namespace_id = ").bind(namespace_id);
        push_range(&mut sql, prefix, None);
        sql.push(") u");
        let row = self.conn.query_one_raw(sql.statement()).await?;
        Ok(row.map(|row| get::<i64>(&row, "n")).transpose()?.unwrap_or(0).max(0) as u64)
    }

    /// What a rewind to `at` does with each of `names` (in their order), judged at `now`; keys
    /// absent both then and now are left out.
    pub async fn rewind_keys(
        &self,
        namespace_id: &str,
        names: &[String],
        at: i64,
        now: i64,
    ) -> DomainResult<Vec<RewindKey>> {
        self.require_sql_store()?;
        let mut current: HashMap<String, Current> = HashMap::new();
        let mut first: HashMap<String, FirstAfter> = HashMap::new();
        for chunk in names.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<CurrentRow> = kv_entry::Entity::find()
                .select_only()
                .columns([
                    kv_entry::Column::Name,
                    kv_entry::Column::Metadata,
                    kv_entry::Column::Expiration,
                    kv_entry::Column::CreatedAt,
                    kv_entry::Column::UpdatedAt,
                ])
                .filter(kv_entry::Column::NamespaceId.eq(namespace_id))
                .filter(kv_entry::Column::Name.is_in(chunk.iter().map(String::as_str)))
                .into_tuple()
                .all(&self.conn)
                .await?;
            for (name, metadata, expiration, created_at, updated_at) in rows {
                current.insert(name, Current { metadata, expiration, created_at, updated_at });
            }
            let mut sql = Sql::new(
                self.backend(),
                "SELECT v.id, v.name, v.version, v.metadata, v.expiration, v.size, v.written_at, \
                 (SELECT p.operation FROM key_versions p WHERE p.namespace_id = v.namespace_id AND p.name = v.name \
                 AND p.version = v.version - 1) AS previous, \
                 CASE WHEN EXISTS (SELECT 1 FROM kv_entries e WHERE e.namespace_id = v.namespace_id AND e.name = v.name \
                 AND e.value = v.value) THEN 1 ELSE 0 END AS same_value \
                 FROM key_versions v WHERE v.namespace_id = ",
            );
            sql.bind(namespace_id).push(" AND v.name IN ").bind_list(chunk);
            sql.push(
                " AND v.version = (SELECT MIN(f.version) FROM key_versions f WHERE f.namespace_id = v.namespace_id \
                 AND f.name = v.name AND f.created_at > ",
            );
            sql.bind(at).push(")");
            for row in self.conn.query_all_raw(sql.statement()).await? {
                let same: i32 = get(&row, "same_value")?;
                first.insert(
                    get(&row, "name")?,
                    FirstAfter {
                        id: get(&row, "id")?,
                        version: get(&row, "version")?,
                        metadata: get(&row, "metadata")?,
                        expiration: get(&row, "expiration")?,
                        size: get(&row, "size")?,
                        written_at: get(&row, "written_at")?,
                        previous: get(&row, "previous")?,
                        same_value: same != 0,
                    },
                );
            }
        }
        Ok(names
            .iter()
            .filter_map(|name| {
                let row = current.get(name);
                classify(name, state_then(first.remove(name), row, at), row, now)
            })
            .collect())
    }

    /// The values of kept versions (by row id) of the namespace.
    pub async fn kept_values(&self, namespace_id: &str, ids: &[i64]) -> DomainResult<HashMap<i64, Vec<u8>>> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<(i64, Vec<u8>)> = key_version::Entity::find()
                .select_only()
                .columns([key_version::Column::Id, key_version::Column::Value])
                .filter(key_version::Column::NamespaceId.eq(namespace_id))
                .filter(key_version::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(&self.conn)
                .await?;
            out.extend(rows);
        }
        Ok(out)
    }
}
