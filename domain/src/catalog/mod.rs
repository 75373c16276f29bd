//! The catalog: what we keep about keys beside the store (tags and custom metadata, versions)
//! and the search over them. It always lives in our own SQL database.

mod rewind;
mod saved;
mod search;
mod undo;

pub use rewind::{KeptState, RewindKey, RewindPage};
pub use saved::{MAX_SAVED_SEARCHES, SEARCH_PARAMS, SETTINGS, SavedSearch, check_saved_search, check_setting};
pub use undo::UndoPage;

use std::collections::HashSet;
use std::sync::Arc;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::actor::Actor;
use crate::entity::{key_details, key_version, namespace};
use crate::error::{DomainError, DomainResult};
pub use crate::limits::{MAX_TAG_CHARS, normalize_tags};
use crate::model::*;
use crate::now_unix;
use crate::sql::{ROWS_PER_STATEMENT as NAMES_PER_STATEMENT, Sql, get};
use crate::store::KvStore;
use crate::write::{WriteTxn, details_of, details_row};

/// Tags, custom metadata, versions and search, over our SQL database. Whether a key is live is
/// the store's answer (see [`KvStore::live_names`]), so on Cloudflare a key written elsewhere
/// and not yet synced has details as soon as `get_key` finds it.
#[derive(Clone)]
pub(crate) struct Catalog {
    conn: DatabaseConnection,
    store: Arc<dyn KvStore>,
}

/// How a bulk tag job changes each key's tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagOperation {
    /// Adds the tags to those the key has.
    Add,
    /// Removes the tags (case-insensitively) from those the key has.
    Remove,
    /// Makes the tags the key's only tags.
    Replace,
}

/// What a bulk tag change did to the keys it was given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagsApplied {
    /// Live keys whose tags were set.
    pub changed: Vec<String>,
    /// Live keys left unchanged because they would have passed the tag limit.
    pub over_limit: Vec<String>,
}

/// The tags a key ends up with after `operation`.
pub fn apply_tag_operation(current: &[String], tags: &[String], operation: TagOperation) -> Vec<String> {
    match operation {
        TagOperation::Replace => tags.to_vec(),
        TagOperation::Add => {
            let mut out = current.to_vec();
            for tag in tags {
                if !out.iter().any(|t| t.to_lowercase() == tag.to_lowercase()) {
                    out.push(tag.clone());
                }
            }
            out
        }
        TagOperation::Remove => {
            current.iter().filter(|t| !tags.iter().any(|tag| tag.to_lowercase() == t.to_lowercase())).cloned().collect()
        }
    }
}

/// Fails with `not_found` when the namespace does not exist.
async fn require_namespace_on(conn: &impl ConnectionTrait, namespace_id: &str) -> DomainResult<()> {
    let found: Option<String> = namespace::Entity::find_by_id(namespace_id.to_owned())
        .select_only()
        .column(namespace::Column::Id)
        .into_tuple()
        .one(conn)
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(DomainError::namespace_not_found(namespace_id)),
    }
}

impl Catalog {
    pub fn new(conn: DatabaseConnection, store: Arc<dyn KvStore>) -> Self {
        Self { conn, store }
    }

    fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    async fn require_namespace(&self, namespace_id: &str) -> DomainResult<()> {
        require_namespace_on(&self.conn, namespace_id).await
    }

    /// Fails with `not_found` unless the key is live, as the store answers it.
    async fn require_live_key(&self, namespace_id: &str, key: &str) -> DomainResult<()> {
        self.require_namespace(namespace_id).await?;
        if self.store.live_names(namespace_id, &[key.to_owned()]).await?.is_empty() {
            return Err(DomainError::key_not_found(key));
        }
        Ok(())
    }

    /// The live keys among `names`, asked of a store whose keys live elsewhere before the
    /// namespace's lock is taken (`None` for a store read inside the transaction).
    async fn live_before_lock(&self, namespace_id: &str, names: &[String]) -> DomainResult<Option<HashSet<String>>> {
        if self.store.reads_in_transaction() {
            return Ok(None);
        }
        Ok(Some(self.store.live_names(namespace_id, names).await?))
    }

    /// The live keys among `names` for a writer holding the lock: what was asked before it, or
    /// read in the transaction.
    async fn live_under_lock(
        &self,
        txn: &WriteTxn,
        namespace_id: &str,
        names: &[String],
        asked: Option<HashSet<String>>,
    ) -> DomainResult<HashSet<String>> {
        match asked {
            Some(live) => Ok(live),
            None => self.store.live_names_in(txn, namespace_id, names).await,
        }
    }

    /// Stored details of the named keys that have any.
    pub async fn details_many(
        &self,
        namespace_id: &str,
        names: &[String],
    ) -> DomainResult<std::collections::HashMap<String, KeyDetails>> {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        details_of(&self.conn, namespace_id, &names).await
    }

    /// Stored details of the keys from `first` to `last` (byte order), by one range scan.
    pub async fn details_between(
        &self,
        namespace_id: &str,
        first: &str,
        last: &str,
    ) -> DomainResult<std::collections::HashMap<String, KeyDetails>> {
        let rows = key_details::Entity::find()
            .filter(key_details::Column::NamespaceId.eq(namespace_id))
            .filter(key_details::Column::Name.gte(first))
            .filter(key_details::Column::Name.lte(last))
            .all(&self.conn)
            .await?;
        Ok(rows.into_iter().map(|row| (row.name.clone(), details_row(row))).collect())
    }

    /// Changes the tags of the named live keys in one transaction. A key that would end with
    /// more than [`crate::limits::MAX_TAGS_PER_KEY`] tags (an `Add` to a key that has many) is
    /// left as it is and named in [`TagsApplied::over_limit`].
    pub async fn apply_tags(
        &self,
        actor: &Actor,
        namespace_id: &str,
        names: &[String],
        tags: &[String],
        operation: TagOperation,
    ) -> DomainResult<TagsApplied> {
        let asked = self.live_before_lock(namespace_id, names).await?;
        let mut txn = WriteTxn::begin(&self.conn, now_unix()).await?;
        txn.lock_namespace(namespace_id).await?;
        let live_set = self.live_under_lock(&txn, namespace_id, names, asked).await?;
        let mut live: Vec<String> = live_set.into_iter().collect();
        live.sort_unstable();
        let refs: Vec<&str> = live.iter().map(String::as_str).collect();
        let current = details_of(txn.conn(), namespace_id, &refs).await?;
        let mut writes: Vec<(String, DetailsWrite)> = Vec::with_capacity(live.len());
        let mut over_limit = Vec::new();
        for name in live {
            let now_tags = current.get(&name).map(|d| d.tags.as_slice()).unwrap_or_default();
            let tags = apply_tag_operation(now_tags, tags, operation);
            if tags.len() > crate::limits::MAX_TAGS_PER_KEY {
                over_limit.push(name);
            } else {
                writes.push((name, DetailsWrite { tags: Some(tags), custom_metadata: None }));
            }
        }
        txn.write_details(namespace_id, &writes).await?;
        if !writes.is_empty() {
            let refs: Vec<&str> = writes.iter().map(|(name, _)| name.as_str()).collect();
            let details = serde_json::json!({ "operation": operation, "tags": tags });
            txn.audit_keys(actor, ("key.tags", "keys.tags"), namespace_id, &refs, details).await?;
        }
        txn.commit().await?;
        Ok(TagsApplied { changed: writes.into_iter().map(|(name, _)| name).collect(), over_limit })
    }

    /// Tags and custom metadata of a live key (empty when it has none).
    pub async fn get_details(&self, namespace_id: &str, key: &str) -> DomainResult<KeyDetails> {
        self.require_live_key(namespace_id, key).await?;
        let row = key_details::Entity::find_by_id((namespace_id.to_owned(), key.to_owned())).one(&self.conn).await?;
        let Some(row) = row else {
            return Ok(KeyDetails {
                tags: Vec::new(),
                custom_metadata: serde_json::json!({}),
                created_at: None,
                updated_at: None,
            });
        };
        Ok(details_row(row))
    }

    /// Sets tags and/or custom metadata of a live key; an omitted field is left unchanged.
    pub async fn put_details(
        &self,
        actor: &Actor,
        namespace_id: &str,
        key: &str,
        tags: Option<Vec<String>>,
        custom_metadata: Option<serde_json::Value>,
    ) -> DomainResult<KeyDetails> {
        let tags = tags.map(|t| normalize_tags(&t)).transpose()?;
        if let Some(custom) = &custom_metadata {
            crate::limits::check_custom_metadata(custom)?;
        }
        let current = self.get_details(namespace_id, key).await?;
        let tags = tags.unwrap_or_else(|| current.tags.clone());
        let custom = custom_metadata.unwrap_or_else(|| current.custom_metadata.clone());
        let now = now_unix();
        let key_list = [key.to_owned()];
        let asked = self.live_before_lock(namespace_id, &key_list).await?;
        let mut txn = WriteTxn::begin(&self.conn, now).await?;
        // One writer per namespace (the lock row), as every write of its keys takes it.
        txn.lock_namespace(namespace_id).await?;
        if self.live_under_lock(&txn, namespace_id, &key_list, asked).await?.is_empty() {
            return Err(DomainError::key_not_found(key));
        }
        let write = DetailsWrite { tags: Some(tags.clone()), custom_metadata: Some(custom.clone()) };
        txn.write_details(namespace_id, &[(key.to_owned(), write)]).await?;
        let keys: Vec<&str> = custom.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
        let details = serde_json::json!({ "tags": tags, "custom_metadata_fields": keys });
        txn.audit_keys(actor, ("key.details", "keys.details"), namespace_id, &[key], details).await?;
        txn.commit().await?;
        // What was just written: no need to read it back.
        Ok(KeyDetails {
            tags,
            custom_metadata: custom,
            created_at: current.created_at.or(Some(now)),
            updated_at: Some(now),
        })
    }

    /// Every tag in use on live keys, with how many keys carry it, leaving out the namespaces in
    /// `exclude`.
    /// `limit` of them ordered by tag (case-insensitively), after the tag a previous page's
    /// `cursor` names; the cursor of the next page when there is one.
    pub async fn list_tags(
        &self,
        namespace_id: Option<&str>,
        exclude: &[String],
        cursor: Option<&str>,
        limit: u32,
    ) -> DomainResult<(Vec<TagCount>, Option<String>)> {
        if let Some(id) = namespace_id {
            self.require_namespace(id).await?;
        }
        let after = cursor.filter(|c| !c.is_empty()).map(crate::sql::decode_cursor).transpose()?;
        let mut sql = Sql::new(
            self.backend(),
            "SELECT MIN(t.tag) AS tag, t.tag_key AS tag_key, COUNT(*) AS n FROM key_tags t JOIN kv_entries e \
             ON e.namespace_id = t.namespace_id AND e.name = t.name WHERE (e.expiration IS NULL OR e.expiration > ",
        );
        sql.bind(now_unix()).push(")");
        if let Some(id) = namespace_id {
            sql.push(" AND t.namespace_id = ").bind(id);
        }
        if !exclude.is_empty() {
            sql.push(" AND t.namespace_id NOT IN ").bind_list(exclude);
        }
        if let Some(after) = after {
            sql.push(" AND t.tag_key > ").bind(after);
        }
        sql.push(&format!(" GROUP BY t.tag_key ORDER BY t.tag_key LIMIT {}", u64::from(limit) + 1));
        let rows = self.conn.query_all_raw(sql.statement()).await?;
        let mut tags = Vec::with_capacity(rows.len());
        let mut last_key = None;
        for row in rows.iter().take(limit as usize) {
            tags.push(TagCount { tag: get(row, "tag")?, count: u64::try_from(get::<i64>(row, "n")?).unwrap_or(0) });
            last_key = Some(get::<String>(row, "tag_key")?);
        }
        let next = if rows.len() > limit as usize { last_key.map(|k| crate::sql::encode_cursor(&k)) } else { None };
        Ok((tags, next))
    }

    /// The tags of the named keys that have any.
    pub async fn tags_of(
        &self,
        namespace_id: &str,
        names: &[String],
    ) -> DomainResult<std::collections::HashMap<String, Vec<String>>> {
        let mut found = std::collections::HashMap::new();
        for chunk in names.chunks(NAMES_PER_STATEMENT) {
            let rows: Vec<(String, String)> = key_details::Entity::find()
                .select_only()
                .columns([key_details::Column::Name, key_details::Column::Tags])
                .filter(key_details::Column::NamespaceId.eq(namespace_id))
                .filter(key_details::Column::Tags.ne("[]"))
                .filter(key_details::Column::Name.is_in(chunk.iter().map(String::as_str)))
                .into_tuple()
                .all(&self.conn)
                .await?;
            for (name, tags) in rows {
                found.insert(name, serde_json::from_str(&tags).unwrap_or_default());
            }
        }
        Ok(found)
    }

    /// Kept versions of a key, newest first: `limit` of them, older than the version a previous
    /// page's `cursor` names; the cursor of the next page when there is one.
    pub async fn list_versions(
        &self,
        namespace_id: &str,
        key: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> DomainResult<(Vec<VersionInfo>, Option<String>)> {
        self.require_namespace(namespace_id).await?;
        let before = match cursor.filter(|c| !c.is_empty()) {
            Some(c) => Some(
                c.parse::<i64>()
                    .map_err(|_| DomainError::invalid("cursor", "cursor: not a cursor returned by a previous page"))?,
            ),
            None => None,
        };
        use key_version::Column as C;
        let mut select = key_version::Entity::find()
            .select_only()
            .columns([C::Version, C::Size, C::Operation, C::CreatedAt, C::CreatedBy])
            .filter(C::NamespaceId.eq(namespace_id))
            .filter(C::Name.eq(key));
        if let Some(before) = before {
            select = select.filter(C::Version.lt(before));
        }
        let rows: Vec<(i64, i64, String, i64, String)> =
            select.order_by_desc(C::Version).limit(u64::from(limit) + 1).into_tuple().all(&self.conn).await?;
        let more = rows.len() > limit as usize;
        let versions: Vec<VersionInfo> = rows
            .into_iter()
            .take(limit as usize)
            .map(|(version, size, operation, created_at, created_by)| VersionInfo {
                version,
                size: size as u64,
                operation,
                created_at,
                created_by,
            })
            .collect();
        let next = if more { versions.last().map(|v: &VersionInfo| v.version.to_string()) } else { None };
        Ok((versions, next))
    }

    /// One kept version with its value.
    pub async fn get_version(&self, namespace_id: &str, key: &str, version: i64) -> DomainResult<VersionValue> {
        self.require_namespace(namespace_id).await?;
        use key_version::Column as C;
        let row: Option<(Vec<u8>, Option<String>, Option<i64>)> = key_version::Entity::find()
            .select_only()
            .columns([C::Value, C::Metadata, C::Expiration])
            .filter(C::NamespaceId.eq(namespace_id))
            .filter(C::Name.eq(key))
            .filter(C::Version.eq(version))
            .into_tuple()
            .one(&self.conn)
            .await?;
        let (value, metadata, expiration) =
            row.ok_or_else(|| DomainError::not_found("version", format!("version: {key:?} has no version {version}")))?;
        Ok(VersionValue { version, value, metadata: metadata.and_then(|m| serde_json::from_str(&m).ok()), expiration })
    }

    /// Drops versions that are both past the newest `keep` of their key and older than
    /// `keep_days`; returns how many.
    pub async fn prune_versions(&self, keep: u32, keep_days: u32) -> DomainResult<u64> {
        let cutoff = now_unix() - i64::from(keep_days) * 86_400;
        crate::write::prune_versions(&self.conn, keep, cutoff).await
    }
}
