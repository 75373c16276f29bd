//! The SQL store: SQLite or PostgreSQL through one SeaORM code path.
//!
//! Key names sort by their UTF-8 bytes on both databases (see the migration). Namespace sizes are
//! counters kept in the same transaction as every key write; expired keys not yet purged are
//! subtracted at read time through the (namespace, expiration) index, so sizes are exact without
//! scanning keys.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::KvStore;
use crate::actor::Actor;
use crate::db::{Database, DatabaseKind};
use crate::entity::{kv_entry, namespace};
use crate::error::{DomainError, DomainResult};
use crate::events::{EventGate, EventItem, KEY_CREATED, KEY_DELETED, KEY_UPDATED};
use crate::limits::{DEFAULT_PER_PAGE, MAX_LIST_LIMIT};
use crate::model::*;
use crate::now_unix;
use crate::sql::{ROWS_PER_STATEMENT, decode_cursor, encode_cursor, prefix_upper_bound};
use crate::write::{WriteTxn, title_conflict};

/// How often `last_accessed` may be written for one namespace.
const ACCESS_WRITE_INTERVAL: i64 = 60;

pub struct SqlStore {
    db: Database,
    /// When this process last wrote `last_accessed` for a namespace.
    accessed: Mutex<HashMap<String, i64>>,
}

impl SqlStore {
    pub fn new(db: Database) -> Self {
        Self { db, accessed: Mutex::new(HashMap::new()) }
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Records an access, writing it at most once a minute per namespace.
    async fn touch(&self, namespace_id: &str) {
        let now = now_unix();
        {
            let Ok(mut seen) = self.accessed.lock() else { return };
            match seen.get(namespace_id) {
                Some(at) if now - at < ACCESS_WRITE_INTERVAL => return,
                _ => {
                    seen.insert(namespace_id.to_owned(), now);
                }
            }
        }
        // Written in the background: a read never waits for the write lock (which a long bulk
        // job takes batch after batch on SQLite).
        let (conn, namespace_id) = (self.db.conn.clone(), namespace_id.to_owned());
        tokio::spawn(async move {
            if let Err(err) = crate::write::record_access(&conn, &namespace_id, now, ACCESS_WRITE_INTERVAL).await {
                tracing::warn!(%err, namespace_id, "could not record namespace access");
            }
        });
    }

    /// Count and bytes of keys that have expired but are not purged yet, per namespace.
    async fn expired_totals(
        &self,
        conn: &impl ConnectionTrait,
        ids: &[String],
        now: i64,
    ) -> DomainResult<HashMap<String, (i64, i64)>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(String, i64, i64)> = kv_entry::Entity::find()
            .select_only()
            .column(kv_entry::Column::NamespaceId)
            .column_as(Expr::cust("COUNT(*)"), "n")
            .column_as(Expr::cust("CAST(COALESCE(SUM(size), 0) AS BIGINT)"), "bytes")
            .filter(kv_entry::Column::NamespaceId.is_in(ids.iter().map(String::as_str)))
            .filter(kv_entry::Column::Expiration.lte(now))
            .group_by(kv_entry::Column::NamespaceId)
            .into_tuple()
            .all(conn)
            .await?;
        Ok(rows.into_iter().map(|(id, n, bytes)| (id, (n, bytes))).collect())
    }

    async fn namespaces_with_sizes(
        &self,
        conn: &impl ConnectionTrait,
        models: Vec<namespace::Model>,
    ) -> DomainResult<Vec<Namespace>> {
        let ids: Vec<String> = models.iter().map(|m| m.id.clone()).collect();
        let expired = self.expired_totals(conn, &ids, now_unix()).await?;
        Ok(models
            .into_iter()
            .map(|m| {
                let (n, bytes) = expired.get(&m.id).copied().unwrap_or((0, 0));
                Namespace {
                    key_count: std::cmp::max(m.key_count - n, 0) as u64,
                    size_bytes: std::cmp::max(m.size_bytes - bytes, 0) as u64,
                    id: m.id,
                    title: m.title,
                    created_at: m.created_at,
                    last_accessed: m.last_accessed,
                }
            })
            .collect())
    }

    async fn require_namespace(&self, namespace_id: &str) -> DomainResult<namespace::Model> {
        namespace::Entity::find_by_id(namespace_id.to_owned())
            .one(&self.db.conn)
            .await?
            .ok_or_else(|| DomainError::namespace_not_found(namespace_id))
    }

    /// Writes `items` and, for a job, its progress `step`, in one transaction.
    async fn put_and_step(
        &self,
        actor: &Actor,
        namespace_id: &str,
        items: Vec<ValidPut>,
        kind: WriteKind,
        step: Option<&JobStep>,
    ) -> DomainResult<Option<i64>> {
        let items = dedupe(items);
        if items.is_empty() && step.is_none() {
            return Ok(None);
        }
        let rows = items.len() as u64;
        let mut txn = WriteTxn::begin(&self.db.conn, now_unix()).await?;
        write_in(&mut txn, &self.db.events, actor, namespace_id, items, kind).await?;
        let revision = txn.revision(namespace_id).ok();
        if let Some(step) = step {
            txn.save_job_step(step).await?;
        }
        txn.commit().await?;
        self.db.wrote_rows(rows);
        Ok(revision)
    }

    async fn title_taken(&self, title: &str, except_id: Option<&str>) -> DomainResult<bool> {
        let mut query = namespace::Entity::find().filter(namespace::Column::Title.eq(title));
        if let Some(id) = except_id {
            query = query.filter(namespace::Column::Id.ne(id));
        }
        Ok(query.count(&self.db.conn).await? > 0)
    }
}

fn parse_metadata(text: Option<String>) -> Option<serde_json::Value> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

/// Existing rows among `names`: name -> (size, expiration).
async fn existing_rows(
    txn: &impl ConnectionTrait,
    namespace_id: &str,
    names: &[&str],
) -> DomainResult<HashMap<String, (i64, Option<i64>)>> {
    let mut found = HashMap::new();
    for chunk in names.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<(String, i64, Option<i64>)> = kv_entry::Entity::find()
            .select_only()
            .columns([kv_entry::Column::Name, kv_entry::Column::Size, kv_entry::Column::Expiration])
            .filter(kv_entry::Column::NamespaceId.eq(namespace_id))
            .filter(kv_entry::Column::Name.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(txn)
            .await?;
        found.extend(rows.into_iter().map(|(name, size, exp)| (name, (size, exp))));
    }
    Ok(found)
}

/// Fails the write unless every item's precondition holds of its key as stored in `txn` (a
/// read only for the items that carry one: conditional writes are single keys).
async fn check_expected(txn: &WriteTxn, namespace_id: &str, items: &[ValidPut]) -> DomainResult<()> {
    let expecting: Vec<(&str, &Precondition)> =
        items.iter().filter_map(|item| item.expect().map(|expect| (item.name(), expect))).collect();
    check_preconditions(txn, namespace_id, &expecting).await
}

/// Fails unless each precondition holds of its key as stored in `txn`.
async fn check_preconditions(
    txn: &WriteTxn,
    namespace_id: &str,
    expecting: &[(&str, &Precondition)],
) -> DomainResult<()> {
    if expecting.is_empty() {
        return Ok(());
    }
    let mut stamps: HashMap<String, (i64, Option<String>, i64)> = HashMap::new();
    for chunk in expecting.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<(String, i64, Option<String>, i64)> = kv_entry::Entity::find()
            .select_only()
            .columns([
                kv_entry::Column::Name,
                kv_entry::Column::Revision,
                kv_entry::Column::UpdatedBy,
                kv_entry::Column::UpdatedAt,
            ])
            .filter(kv_entry::Column::NamespaceId.eq(namespace_id))
            .filter(kv_entry::Column::Name.is_in(chunk.iter().map(|(name, _)| *name)))
            .filter(live(txn.now()))
            .into_tuple()
            .all(txn.conn())
            .await?;
        stamps.extend(rows.into_iter().map(|(name, revision, by, at)| (name, (revision, by, at))));
    }
    for (name, expect) in expecting {
        let found = stamps.get(*name).map(|(revision, by, at)| Found {
            version: revision_token(*revision),
            by: by.as_deref(),
            at: Some(*at),
        });
        expect.check(found)?;
    }
    Ok(())
}

/// The refusal of a rename onto a live key without `overwrite`.
pub(crate) fn name_taken(to: &str) -> DomainError {
    DomainError::conflict(
        "new_name",
        format!("new_name: a key named {to:?} exists in this namespace; ask to overwrite it to replace it"),
    )
}

impl SqlStore {
    /// Renames `from` to `to` in one transaction (see [`KvStore::rename`]). `given` is the key as
    /// the store of truth holds it, when that is not this database (the Cloudflare backend's
    /// mirror): it is written under `to` whether or not `from` is here, unchecked.
    pub(crate) async fn rename_in(
        &self,
        actor: &Actor,
        namespace_id: &str,
        rename: &Rename,
        given: Option<KeyValue>,
    ) -> DomainResult<String> {
        let Rename { from, to, overwrite, expect } = rename;
        let now = now_unix();
        let mut txn = WriteTxn::begin(&self.db.conn, now).await?;
        txn.lock_namespace(namespace_id).await?;
        let names = [from.clone()];
        let key = match given {
            Some(key) => key,
            None => {
                let key = values_of(txn.conn(), namespace_id, &names, now)
                    .await?
                    .pop()
                    .ok_or_else(|| DomainError::key_not_found(from))?;
                if let Some(expect) = expect {
                    check_preconditions(&txn, namespace_id, &[(from.as_str(), expect)]).await?;
                }
                if !overwrite && !live_among(txn.conn(), namespace_id, std::slice::from_ref(to), now).await?.is_empty()
                {
                    return Err(name_taken(to));
                }
                key
            }
        };
        let details = crate::write::details_of(txn.conn(), namespace_id, &[from.as_str()]).await?;
        let item = renamed(key, to, details.get(from.as_str()), now)?;
        txn.move_versions(namespace_id, from, to).await?;
        write_in(&mut txn, &self.db.events, actor, namespace_id, vec![item], WriteKind::Update).await?;
        delete_in(&mut txn, &self.db.events, actor, namespace_id, &names).await?;
        let revision = txn.revision(namespace_id)?;
        txn.commit().await?;
        self.db.wrote_rows(2);
        Ok(revision_token(revision))
    }
}

/// Key `key` under the name `to`, with its details: what a rename writes.
pub(crate) fn renamed(key: KeyValue, to: &str, details: Option<&KeyDetails>, now: i64) -> DomainResult<ValidPut> {
    let write = DetailsWrite {
        tags: Some(details.map(|d| d.tags.clone()).unwrap_or_default()),
        custom_metadata: Some(details.map(|d| d.custom_metadata.clone()).unwrap_or_else(|| serde_json::json!({}))),
    };
    let put = PutKey {
        name: to.to_owned(),
        value: key.value,
        metadata: key.metadata,
        expiration: key.expiration,
        expiration_ttl: None,
    };
    ValidPut::new(put, write, now)
}

#[async_trait]
impl KvStore for SqlStore {
    async fn resolve_namespaces(&self, ids_or_titles: &[String]) -> DomainResult<Vec<String>> {
        if ids_or_titles.is_empty() {
            return Ok(Vec::new());
        }
        let given = || ids_or_titles.iter().map(String::as_str);
        Ok(namespace::Entity::find()
            .select_only()
            .column(namespace::Column::Id)
            .filter(
                Condition::any().add(namespace::Column::Id.is_in(given())).add(namespace::Column::Title.is_in(given())),
            )
            .into_tuple()
            .all(&self.db.conn)
            .await?)
    }

    async fn list_namespaces(&self, query: &NamespaceQuery) -> DomainResult<NamespacePage> {
        let page = std::cmp::max(query.page.unwrap_or(1), 1);
        let per_page = std::cmp::max(query.per_page.unwrap_or(DEFAULT_PER_PAGE), 1);
        let offset = u64::from(page - 1) * u64::from(per_page);
        let direction = if query.descending { sea_orm::Order::Desc } else { sea_orm::Order::Asc };
        let mut ordered = if query.order_by_id {
            namespace::Entity::find().order_by(namespace::Column::Id, direction)
        } else {
            namespace::Entity::find()
                .order_by(namespace::Column::Title, direction.clone())
                .order_by(namespace::Column::Id, direction)
        };
        if !query.exclude.is_empty() {
            ordered = ordered.filter(namespace::Column::Id.is_not_in(query.exclude.iter().map(String::as_str)));
        }
        let (total, models) = match query.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            // Titles are matched here rather than with LIKE: SQLite's lower() folds ASCII only (a
            // search for "École" would not find "École"), and PostgreSQL rejects a NUL in a
            // pattern. Namespaces are few, so reading their titles is cheap.
            Some(search) => {
                let needle = search.to_lowercase();
                let titles: Vec<(String, String)> = ordered
                    .clone()
                    .select_only()
                    .columns([namespace::Column::Id, namespace::Column::Title])
                    .into_tuple()
                    .all(&self.db.conn)
                    .await?;
                let matching: Vec<String> = titles
                    .into_iter()
                    .filter(|(_, title)| title.to_lowercase().contains(&needle))
                    .map(|(id, _)| id)
                    .collect();
                let page_ids: Vec<&str> =
                    matching.iter().skip(offset as usize).take(per_page as usize).map(String::as_str).collect();
                let models = if page_ids.is_empty() {
                    Vec::new()
                } else {
                    ordered.filter(namespace::Column::Id.is_in(page_ids)).all(&self.db.conn).await?
                };
                (matching.len() as u64, models)
            }
            None => {
                let total = ordered.clone().count(&self.db.conn).await?;
                (total, ordered.offset(offset).limit(u64::from(per_page)).all(&self.db.conn).await?)
            }
        };
        let namespaces = self.namespaces_with_sizes(&self.db.conn, models).await?;
        Ok(NamespacePage { namespaces, total, page, per_page })
    }

    async fn create_namespace(&self, actor: &Actor, title: &str) -> DomainResult<Namespace> {
        if self.title_taken(title, None).await? {
            return Err(title_conflict(title));
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let mut txn = WriteTxn::begin(&self.db.conn, now_unix()).await?;
        txn.insert_namespace(&id, title, false).await?;
        txn.audit_namespace(actor, "namespace.create", &id, serde_json::json!({ "title": title })).await?;
        txn.commit().await?;
        self.get_namespace(&id).await
    }

    async fn rename_namespace(&self, actor: &Actor, namespace_id: &str, title: &str) -> DomainResult<Namespace> {
        if self.title_taken(title, Some(namespace_id)).await? {
            return Err(title_conflict(title));
        }
        let mut txn = WriteTxn::begin(&self.db.conn, now_unix()).await?;
        txn.lock_namespace(namespace_id).await?;
        let before = txn.title_of(namespace_id).await?;
        txn.rename_namespace(namespace_id, title).await?;
        let details = serde_json::json!({ "from": before, "to": title });
        txn.audit_namespace(actor, "namespace.rename", namespace_id, details).await?;
        txn.commit().await?;
        self.get_namespace(namespace_id).await
    }

    async fn delete_namespace(&self, actor: &Actor, namespace_id: &str) -> DomainResult<()> {
        let mut txn = WriteTxn::begin(&self.db.conn, now_unix()).await?;
        txn.lock_namespace(namespace_id).await?;
        let title = txn.title_of(namespace_id).await?;
        txn.audit_namespace(actor, "namespace.delete", namespace_id, serde_json::json!({ "title": title })).await?;
        txn.delete_namespace(namespace_id).await?;
        txn.commit().await?;
        if let Ok(mut seen) = self.accessed.lock() {
            seen.remove(namespace_id);
        }
        Ok(())
    }

    async fn get_namespace(&self, namespace_id: &str) -> DomainResult<Namespace> {
        let model = self.require_namespace(namespace_id).await?;
        let mut list = self.namespaces_with_sizes(&self.db.conn, vec![model]).await?;
        list.pop().ok_or_else(|| DomainError::namespace_not_found(namespace_id))
    }

    async fn list_keys(&self, namespace_id: &str, query: &KeyQuery) -> DomainResult<KeyPage> {
        self.require_namespace(namespace_id).await?;
        let limit = std::cmp::max(query.limit.unwrap_or(MAX_LIST_LIMIT), 1) as usize;
        let now = now_unix();
        let mut select = kv_entry::Entity::find()
            .select_only()
            .columns([
                kv_entry::Column::Name,
                kv_entry::Column::Expiration,
                kv_entry::Column::Metadata,
                kv_entry::Column::Size,
            ])
            .filter(kv_entry::Column::NamespaceId.eq(namespace_id))
            .filter(live(now))
            .filter(name_prefix(query.prefix.as_deref().unwrap_or_default()));
        if let Some(cursor) = query.cursor.as_deref().filter(|c| !c.is_empty()) {
            select = select.filter(kv_entry::Column::Name.gt(decode_cursor(cursor)?));
        }
        let mut rows: Vec<(String, Option<i64>, Option<String>, i64)> =
            select.order_by_asc(kv_entry::Column::Name).limit(limit as u64 + 1).into_tuple().all(&self.db.conn).await?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let cursor = if more { rows.last().map(|(name, ..)| encode_cursor(name)) } else { None };
        let keys = rows
            .into_iter()
            .map(|(name, expiration, metadata, size)| KeyEntry {
                name,
                expiration,
                metadata: parse_metadata(metadata),
                size: size as u64,
            })
            .collect();
        self.touch(namespace_id).await;
        Ok(KeyPage { keys, cursor, list_complete: !more })
    }

    async fn get_key(&self, namespace_id: &str, name: &str) -> DomainResult<Option<KeyValue>> {
        self.require_namespace(namespace_id).await?;
        let row = kv_entry::Entity::find_by_id((namespace_id.to_owned(), name.to_owned()))
            .filter(
                Condition::any()
                    .add(kv_entry::Column::Expiration.is_null())
                    .add(kv_entry::Column::Expiration.gt(now_unix())),
            )
            .one(&self.db.conn)
            .await?;
        self.touch(namespace_id).await;
        Ok(row.map(|m| KeyValue {
            name: m.name,
            value: m.value,
            metadata: parse_metadata(m.metadata),
            expiration: m.expiration,
            version: Some(revision_token(m.revision)),
        }))
    }

    async fn put_many(
        &self,
        actor: &Actor,
        namespace_id: &str,
        items: Vec<ValidPut>,
        kind: WriteKind,
    ) -> DomainResult<()> {
        self.put_and_step(actor, namespace_id, items, kind, None).await.map(|_| ())
    }

    async fn put_one(&self, actor: &Actor, namespace_id: &str, item: ValidPut) -> DomainResult<String> {
        let revision = self.put_and_step(actor, namespace_id, vec![item], WriteKind::Update, None).await?;
        revision.map(revision_token).ok_or_else(|| DomainError::internal("a write took no revision"))
    }

    async fn put_many_step(
        &self,
        actor: &Actor,
        namespace_id: &str,
        items: Vec<ValidPut>,
        kind: WriteKind,
        step: &JobStep,
    ) -> DomainResult<()> {
        self.put_and_step(actor, namespace_id, items, kind, Some(step)).await.map(|_| ())
    }

    async fn delete_many(&self, actor: &Actor, namespace_id: &str, names: &[String]) -> DomainResult<u64> {
        let mut txn = WriteTxn::begin(&self.db.conn, now_unix()).await?;
        let live = delete_in(&mut txn, &self.db.events, actor, namespace_id, names).await?;
        txn.commit().await?;
        self.db.wrote_rows(names.len() as u64);
        Ok(live)
    }

    async fn transfer(
        &self,
        actor: &Actor,
        source: &str,
        target: &str,
        names: &[String],
        overwrite: bool,
        remove_source: bool,
    ) -> DomainResult<Option<Transfer>> {
        let now = now_unix();
        let mut txn = WriteTxn::begin(&self.db.conn, now).await?;
        // Both namespaces are locked before anything is read, always in the order of their ids
        // (two moves in opposite directions cannot deadlock): no write to the source can come
        // between reading a value here and deleting it, so what is deleted is what was copied.
        let (first, second) = if source <= target { (source, target) } else { (target, source) };
        txn.lock_namespace(first).await?;
        txn.lock_namespace(second).await?;
        let mut values = Vec::with_capacity(names.len());
        let mut existing = HashSet::new();
        for chunk in names.chunks(ROWS_PER_STATEMENT) {
            values.extend(values_of(txn.conn(), source, chunk, now).await?);
            if !overwrite {
                existing.extend(live_among(txn.conn(), target, chunk, now).await?);
            }
        }
        let found: Vec<&str> = values.iter().map(|v| v.name.as_str()).collect();
        let details = crate::write::details_of(txn.conn(), source, &found).await?;
        let (items, done) = super::plan_transfer(names, values, &details, &existing, now);
        write_in(&mut txn, &self.db.events, actor, target, dedupe(items), WriteKind::Update).await?;
        if remove_source && !done.written.is_empty() {
            delete_in(&mut txn, &self.db.events, actor, source, &done.written).await?;
        }
        txn.commit().await?;
        Ok(Some(done))
    }

    async fn rename(&self, actor: &Actor, namespace_id: &str, rename: &Rename) -> DomainResult<String> {
        self.rename_in(actor, namespace_id, rename, None).await
    }

    async fn purge_expired(&self) -> DomainResult<u64> {
        let now = now_unix();
        let namespaces: Vec<String> = kv_entry::Entity::find()
            .select_only()
            .column(kv_entry::Column::NamespaceId)
            .filter(kv_entry::Column::Expiration.lte(now))
            .group_by(kv_entry::Column::NamespaceId)
            .into_tuple()
            .all(&self.db.conn)
            .await?;
        let mut purged = 0u64;
        for namespace_id in namespaces {
            let mut txn = WriteTxn::begin(&self.db.conn, now).await?;
            if txn.lock_namespace(&namespace_id).await.is_err() {
                continue;
            }
            let totals = self.expired_totals(txn.conn(), std::slice::from_ref(&namespace_id), now).await?;
            let (n, bytes) = totals.get(&namespace_id).copied().unwrap_or((0, 0));
            txn.purge_expired(&namespace_id, n, bytes).await?;
            txn.commit().await?;
            purged += n as u64;
        }
        Ok(purged)
    }

    async fn scan(
        &self,
        namespace_id: &str,
        prefix: &str,
        after: Option<&str>,
        upto: Option<&str>,
        limit: usize,
        max_bytes: usize,
    ) -> DomainResult<Scanned> {
        if self.db.kind == DatabaseKind::Sqlite {
            let mut page = super::sqlite_scan::Page::range(namespace_id, prefix, after, upto, limit);
            page.max_bytes = max_bytes;
            return super::sqlite_scan::scan(self.db.conn.get_sqlite_connection_pool(), page).await;
        }
        // Names and sizes first (no values), to find where the byte budget ends the page; then
        // the values of that much.
        let now = now_unix();
        let mut sized = kv_entry::Entity::find()
            .select_only()
            .columns([kv_entry::Column::Name, kv_entry::Column::Size])
            .filter(kv_entry::Column::NamespaceId.eq(namespace_id))
            .filter(live(now))
            .filter(name_prefix(prefix));
        if let Some(after) = after {
            sized = sized.filter(kv_entry::Column::Name.gt(after));
        }
        if let Some(upto) = upto {
            sized = sized.filter(kv_entry::Column::Name.lte(upto));
        }
        let sizes: Vec<(String, i64)> =
            sized.order_by_asc(kv_entry::Column::Name).limit(limit as u64).into_tuple().all(&self.db.conn).await?;
        let (mut taken, mut bytes) = (0usize, 0usize);
        for (_, size) in &sizes {
            let size = usize::try_from(*size).unwrap_or(0);
            if taken > 0 && bytes.saturating_add(size) > max_bytes {
                break;
            }
            bytes = bytes.saturating_add(size);
            taken += 1;
        }
        let cut = taken < sizes.len();
        let upto = match taken.checked_sub(1).and_then(|last| sizes.get(last)) {
            Some((name, _)) => Some(name.as_str()),
            None => return Ok(Scanned::default()),
        };
        let mut select = kv_entry::Entity::find()
            .select_only()
            .columns([
                kv_entry::Column::Name,
                kv_entry::Column::Value,
                kv_entry::Column::Metadata,
                kv_entry::Column::Expiration,
            ])
            .filter(kv_entry::Column::NamespaceId.eq(namespace_id))
            .filter(live(now));
        select = select.filter(name_prefix(prefix));
        if let Some(after) = after {
            select = select.filter(kv_entry::Column::Name.gt(after));
        }
        if let Some(upto) = upto {
            select = select.filter(kv_entry::Column::Name.lte(upto));
        }
        let rows: Vec<(String, Vec<u8>, Option<String>, Option<i64>)> =
            select.order_by_asc(kv_entry::Column::Name).limit(taken as u64).into_tuple().all(&self.db.conn).await?;
        let keys = rows
            .into_iter()
            .map(|(name, value, metadata, expiration)| KeyValue {
                name,
                value,
                metadata: parse_metadata(metadata),
                expiration,
                version: None,
            })
            .collect();
        Ok(Scanned { keys, cut })
    }

    async fn sizes_of(&self, namespace_id: &str, names: &[String]) -> DomainResult<HashMap<String, u64>> {
        SqlStore::sizes_of(self, namespace_id, names).await
    }

    async fn page_end(
        &self,
        namespace_id: &str,
        prefix: &str,
        after: Option<&str>,
        n: usize,
    ) -> DomainResult<Option<String>> {
        // Names only: answered from the primary key index, without touching the rows.
        if self.db.kind == DatabaseKind::Sqlite {
            let page = super::sqlite_scan::Page::range(namespace_id, prefix, after, None, n);
            return super::sqlite_scan::page_end(self.db.conn.get_sqlite_connection_pool(), page, n).await;
        }
        let mut select = kv_entry::Entity::find()
            .select_only()
            .column(kv_entry::Column::Name)
            .filter(kv_entry::Column::NamespaceId.eq(namespace_id));
        select = select.filter(name_prefix(prefix));
        if let Some(after) = after {
            select = select.filter(kv_entry::Column::Name.gt(after));
        }
        let offset = n.saturating_sub(1) as u64;
        Ok(select.order_by_asc(kv_entry::Column::Name).offset(offset).limit(1).into_tuple().one(&self.db.conn).await?)
    }

    async fn get_many(&self, namespace_id: &str, names: &[String]) -> DomainResult<Vec<KeyValue>> {
        let now = now_unix();
        let mut out = Vec::with_capacity(names.len());
        for chunk in names.chunks(ROWS_PER_STATEMENT) {
            out.extend(values_of(&self.db.conn, namespace_id, chunk, now).await?);
        }
        Ok(out)
    }

    async fn live_names(&self, namespace_id: &str, names: &[String]) -> DomainResult<HashSet<String>> {
        let now = now_unix();
        let mut out = HashSet::new();
        for chunk in names.chunks(ROWS_PER_STATEMENT) {
            out.extend(live_among(&self.db.conn, namespace_id, chunk, now).await?);
        }
        Ok(out)
    }

    fn reads_in_transaction(&self) -> bool {
        true
    }

    async fn live_names_in(
        &self,
        txn: &WriteTxn,
        namespace_id: &str,
        names: &[String],
    ) -> DomainResult<HashSet<String>> {
        let mut out = HashSet::new();
        for chunk in names.chunks(ROWS_PER_STATEMENT) {
            out.extend(live_among(txn.conn(), namespace_id, chunk, txn.now()).await?);
        }
        Ok(out)
    }

    async fn count_keys(&self, namespace_id: &str, prefix: &str) -> DomainResult<u64> {
        self.require_namespace(namespace_id).await?;
        let mut select =
            kv_entry::Entity::find().filter(kv_entry::Column::NamespaceId.eq(namespace_id)).filter(live(now_unix()));
        select = select.filter(name_prefix(prefix));
        Ok(select.count(&self.db.conn).await?)
    }

    async fn set_expiration(
        &self,
        actor: &Actor,
        namespace_id: &str,
        names: &[String],
        expiration: Option<i64>,
    ) -> DomainResult<Vec<String>> {
        let now = now_unix();
        let mut txn = WriteTxn::begin(&self.db.conn, now).await?;
        txn.lock_namespace(namespace_id).await?;
        let mut changed = Vec::new();
        for chunk in names.chunks(ROWS_PER_STATEMENT) {
            let live = live_among(txn.conn(), namespace_id, chunk, now).await?;
            if live.is_empty() {
                continue;
            }
            let refs: Vec<&str> = live.iter().map(String::as_str).collect();
            txn.record_versions(namespace_id, &refs, "ttl", actor).await?;
            txn.set_expiration(actor, namespace_id, &refs, expiration).await?;
            changed.extend(live);
        }
        if !changed.is_empty() {
            let refs: Vec<&str> = changed.iter().map(String::as_str).collect();
            let details = serde_json::json!({ "expiration": expiration, "changed": changed.len() });
            let events = || {
                let data = serde_json::json!({ "expiration": expiration });
                changed
                    .iter()
                    .map(|name| EventItem { data: Some(data.clone()), ..EventItem::key(KEY_UPDATED, name) })
                    .collect()
            };
            let operations = ("key.ttl", "keys.ttl");
            txn.audit_keys_emitting(actor, operations, namespace_id, &refs, details, &self.db.events, events).await?;
        }
        txn.commit().await?;
        Ok(changed)
    }
}

/// The last write of a name wins, as if the items were written one after another.
fn dedupe(items: Vec<ValidPut>) -> Vec<ValidPut> {
    let mut position: HashMap<String, usize> = HashMap::with_capacity(items.len());
    let mut deduped: Vec<ValidPut> = Vec::with_capacity(items.len());
    for item in items {
        match position.get(item.name()) {
            Some(&i) => deduped[i] = item,
            None => {
                position.insert(item.name().to_owned(), deduped.len());
                deduped.push(item);
            }
        }
    }
    deduped
}

/// Writes `items` (each name once) in `txn`: the rows, their details, the versions of what they
/// replace, the audit row and the namespace's counters.
async fn write_in(
    txn: &mut WriteTxn,
    events: &EventGate,
    actor: &Actor,
    namespace_id: &str,
    items: Vec<ValidPut>,
    kind: WriteKind,
) -> DomainResult<()> {
    if items.is_empty() {
        return Ok(());
    }
    txn.lock_namespace(namespace_id).await?;
    let names: Vec<&str> = items.iter().map(ValidPut::name).collect();
    let sizes: usize = items.iter().map(|i| i.value().len()).sum();
    check_expected(txn, namespace_id, &items).await?;
    let existing = existing_rows(txn.conn(), namespace_id, &names).await?;
    let replaced: Vec<&str> = names.iter().copied().filter(|n| existing.contains_key(*n)).collect();
    txn.record_versions(namespace_id, &replaced, kind.as_str(), actor).await?;
    let mut added_keys = 0i64;
    let mut added_bytes = 0i64;
    for item in &items {
        let size = item.value().len() as i64;
        match existing.get(item.name()) {
            Some((old, _)) => added_bytes += size - old,
            None => {
                added_keys += 1;
                added_bytes += size;
            }
        }
    }
    let one = match (kind, names.first()) {
        (WriteKind::Restore, _) => "key.restore",
        (_, Some(name)) if existing.contains_key(*name) => "key.update",
        _ => "key.create",
    };
    let summary =
        serde_json::json!({ "created": added_keys, "updated": names.len() as i64 - added_keys, "bytes": sizes });
    let changes = || {
        names
            .iter()
            .map(|name| EventItem::key(if existing.contains_key(*name) { KEY_UPDATED } else { KEY_CREATED }, name))
            .collect()
    };
    txn.audit_keys_emitting(actor, (one, "keys.put"), namespace_id, &names, summary, events, changes).await?;
    let details: Vec<(String, DetailsWrite)> = items
        .iter()
        .filter(|item| !item.details().is_empty())
        .map(|item| (item.name().to_owned(), item.details().clone()))
        .collect();
    txn.put_values(actor, namespace_id, items).await?;
    if !details.is_empty() {
        txn.write_details(namespace_id, &details).await?;
    }
    txn.add_to_counters(namespace_id, added_keys, added_bytes).await
}

/// Deletes the named keys in `txn`, keeping their values as versions, with the audit row and
/// the namespace's counters; answers how many live keys were removed.
async fn delete_in(
    txn: &mut WriteTxn,
    events: &EventGate,
    actor: &Actor,
    namespace_id: &str,
    names: &[String],
) -> DomainResult<u64> {
    txn.lock_namespace(namespace_id).await?;
    let now = txn.now();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let existing = existing_rows(txn.conn(), namespace_id, &names).await?;
    if existing.is_empty() {
        return Ok(0);
    }
    let mut found: Vec<&str> = existing.keys().map(String::as_str).collect();
    found.sort_unstable();
    txn.record_versions(namespace_id, &found, "delete", actor).await?;
    let items = || found.iter().map(|name| EventItem::key(KEY_DELETED, name)).collect();
    let operations = ("key.delete", "keys.delete");
    txn.audit_keys_emitting(actor, operations, namespace_id, &found, serde_json::json!({}), events, items).await?;
    txn.forget_details(namespace_id, &found).await?;
    txn.delete_values(namespace_id, &found).await?;
    let bytes: i64 = existing.values().map(|(size, _)| size).sum();
    let live = existing.values().filter(|(_, exp)| exp.is_none_or(|e| e > now)).count() as u64;
    txn.add_to_counters(namespace_id, -(existing.len() as i64), -bytes).await?;
    Ok(live)
}

/// The live keys among `names` (at most [`ROWS_PER_STATEMENT`]) with their values.
async fn values_of(
    conn: &impl ConnectionTrait,
    namespace_id: &str,
    names: &[String],
    now: i64,
) -> DomainResult<Vec<KeyValue>> {
    let rows = kv_entry::Entity::find()
        .filter(kv_entry::Column::NamespaceId.eq(namespace_id))
        .filter(kv_entry::Column::Name.is_in(names.iter().map(String::as_str)))
        .filter(live(now))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|m| KeyValue {
            name: m.name,
            value: m.value,
            metadata: parse_metadata(m.metadata),
            expiration: m.expiration,
            version: Some(revision_token(m.revision)),
        })
        .collect())
}

/// The names among `names` (at most [`ROWS_PER_STATEMENT`]) that are live keys at `now`.
async fn live_among(
    conn: &impl ConnectionTrait,
    namespace_id: &str,
    names: &[String],
    now: i64,
) -> DomainResult<Vec<String>> {
    Ok(kv_entry::Entity::find()
        .select_only()
        .column(kv_entry::Column::Name)
        .filter(kv_entry::Column::NamespaceId.eq(namespace_id))
        .filter(kv_entry::Column::Name.is_in(names.iter().map(String::as_str)))
        .filter(live(now))
        .into_tuple()
        .all(conn)
        .await?)
}

/// Key names starting with `prefix` (every name for an empty one), as a range on the key index.
fn name_prefix(prefix: &str) -> Condition {
    let mut range = Condition::all();
    if !prefix.is_empty() {
        range = range.add(kv_entry::Column::Name.gte(prefix));
        if let Some(upper) = prefix_upper_bound(prefix) {
            range = range.add(kv_entry::Column::Name.lt(upper));
        }
    }
    range
}

/// Rows that have not expired at `now`.
fn live(now: i64) -> Condition {
    Condition::any().add(kv_entry::Column::Expiration.is_null()).add(kv_entry::Column::Expiration.gt(now))
}
