//! A namespace as one actor may reach it: [`NamespaceAccess`], made only by [`Kv::namespace`]
//! after the id is checked and the actor's access (read or write) granted. Its methods are the
//! only way to a namespace's keys, details and versions, so no caller can forget the check.

use std::collections::{HashMap, HashSet};

use super::{Kv, Need};
use crate::actor::Actor;
use crate::catalog::{TagOperation, TagsApplied};
use crate::error::{DomainError, DomainResult};
use crate::limits;
use crate::model::*;
use crate::now_unix;

/// One namespace, reachable by one actor for reading or for writing.
#[derive(Clone)]
pub struct NamespaceAccess {
    kv: Kv,
    actor: Actor,
    id: String,
    need: Need,
}

impl Kv {
    /// The namespace `namespace_id` for `actor`, once the id is well formed and `actor` may use
    /// it as `need` says (a read-only user cannot write; a namespace hidden from the actor
    /// answers "not found"). Whether it exists is answered by what is then done with it.
    pub async fn namespace(&self, actor: &Actor, namespace_id: &str, need: Need) -> DomainResult<NamespaceAccess> {
        limits::check_namespace_id(namespace_id)?;
        self.authorize(actor, namespace_id, need).await?;
        Ok(NamespaceAccess { kv: self.clone(), actor: actor.clone(), id: namespace_id.to_owned(), need })
    }
}

impl NamespaceAccess {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Refuses a write through a handle opened for reading.
    fn writable(&self) -> DomainResult<()> {
        match self.need {
            Need::Write => Ok(()),
            Need::Read => Err(DomainError::internal(format!(
                "namespace {} was opened for reading and cannot be written through",
                self.id
            ))),
        }
    }

    // ---- the namespace ----

    /// The namespace with its exact key count and size.
    pub async fn get(&self) -> DomainResult<Namespace> {
        self.kv.store.get_namespace(&self.id).await
    }

    /// Fails unless the namespace exists (as cheaply as the store can tell).
    pub async fn require(&self) -> DomainResult<()> {
        self.kv.store.require_namespace(&self.id).await
    }

    /// Keys a job handles per batch on this store.
    pub fn batch_keys(&self) -> usize {
        self.kv.store.batch_keys()
    }

    // ---- reading keys ----

    /// One page of live keys in byte order of their names.
    pub async fn list_keys(&self, query: KeyQuery) -> DomainResult<KeyPage> {
        let limit = limits::check_list_limit(query.limit)?;
        if let Some(prefix) = &query.prefix
            && prefix.len() > limits::MAX_KEY_BYTES
        {
            return Err(DomainError::invalid(
                "prefix",
                format!(
                    "prefix: {} bytes is longer than any key can be ({} bytes)",
                    prefix.len(),
                    limits::MAX_KEY_BYTES
                ),
            ));
        }
        if let Some(prefix) = &query.prefix
            && prefix.contains('\0')
        {
            return Err(DomainError::invalid("prefix", "prefix: no key contains the NUL character (U+0000)"));
        }
        if let Some(cursor) = query.cursor.as_deref().filter(|c| !c.is_empty()) {
            self.kv.store.check_cursor(cursor).await?;
        }
        self.kv.store.list_keys(&self.id, &KeyQuery { limit: Some(limit), ..query }).await
    }

    /// A live key with its value, metadata and expiration.
    pub async fn get_key(&self, name: &str) -> DomainResult<KeyValue> {
        limits::check_key_name(name)?;
        self.kv.store.get_key(&self.id, name).await?.ok_or_else(|| DomainError::key_not_found(name))
    }

    /// Up to `limit` live keys with values after `after` and up to `upto`, in byte order,
    /// stopping at `max_bytes` of values (see [`crate::store::KvStore::scan`]; exports).
    pub async fn scan(
        &self,
        prefix: &str,
        after: Option<&str>,
        upto: Option<&str>,
        limit: usize,
        max_bytes: usize,
    ) -> DomainResult<Scanned> {
        self.kv.store.scan(&self.id, prefix, after, upto, limit, max_bytes).await
    }

    /// Stored sizes of the values of the known keys among `names`.
    pub async fn sizes_of(&self, names: &[String]) -> DomainResult<HashMap<String, u64>> {
        self.kv.store.sizes_of(&self.id, names).await
    }

    /// Where a page of `n` stored keys after `after` ends (see [`crate::store::KvStore::page_end`]).
    pub async fn page_end(&self, prefix: &str, after: Option<&str>, n: usize) -> DomainResult<Option<String>> {
        self.kv.store.page_end(&self.id, prefix, after, n).await
    }

    /// The live keys among `names`, with values.
    pub async fn get_many(&self, names: &[String]) -> DomainResult<Vec<KeyValue>> {
        self.kv.store.get_many(&self.id, names).await
    }

    /// The names among `names` that are live keys.
    pub async fn live_names(&self, names: &[String]) -> DomainResult<HashSet<String>> {
        self.kv.store.live_names(&self.id, names).await
    }

    /// How many live keys start with `prefix`.
    pub async fn count_keys(&self, prefix: &str) -> DomainResult<u64> {
        self.kv.store.count_keys(&self.id, prefix).await
    }

    // ---- writing keys ----

    /// Writes value, metadata and expiration of one key together.
    pub async fn put_key(&self, put: PutKey) -> DomainResult<()> {
        self.put_many(vec![put]).await
    }

    /// Writes many keys at once: all of them or, when any is invalid, none.
    pub async fn put_many(&self, puts: Vec<PutKey>) -> DomainResult<()> {
        self.write_many(puts, WriteKind::Update).await
    }

    async fn write_many(&self, puts: Vec<PutKey>, kind: WriteKind) -> DomainResult<()> {
        self.writable()?;
        let now = now_unix();
        let valid = puts
            .into_iter()
            .map(|put| ValidPut::new(put, DetailsWrite::default(), now))
            .collect::<DomainResult<Vec<_>>>()?;
        let count = valid.len();
        self.kv.store.put_many(&self.actor, &self.id, valid, kind).await?;
        tracing::debug!(user = %self.actor.user, namespace_id = %self.id, count, "keys written");
        Ok(())
    }

    /// Writes many keys with their tags and custom metadata, each item with its details in the
    /// same transaction: all of them or, when any is invalid, none.
    pub async fn put_many_with_details(&self, items: Vec<(PutKey, DetailsWrite)>) -> DomainResult<()> {
        self.writable()?;
        let now = now_unix();
        let valid = items
            .into_iter()
            .map(|(put, details)| ValidPut::new(put, details, now))
            .collect::<DomainResult<Vec<_>>>()?;
        self.kv.store.put_many(&self.actor, &self.id, valid, WriteKind::Update).await
    }

    /// Writes validated items (see [`ValidPut::new`]).
    pub async fn put_valid(&self, items: Vec<ValidPut>) -> DomainResult<()> {
        self.writable()?;
        self.kv.store.put_many(&self.actor, &self.id, items, WriteKind::Update).await
    }

    /// Writes validated items and a job's progress as of them (see
    /// [`crate::store::KvStore::put_many_step`]).
    pub async fn put_valid_step(&self, items: Vec<ValidPut>, step: &JobStep) -> DomainResult<()> {
        self.writable()?;
        self.kv.store.put_many_step(&self.actor, &self.id, items, WriteKind::Update, step).await
    }

    /// Copies the named live keys of this namespace with their details to `target` (keys live
    /// there are skipped unless `overwrite`) and, with `remove_source`, deletes here what was
    /// copied (a move: this handle must then be writable). On the SQL store a batch is one
    /// transaction that reads the values itself: a write to the source meanwhile is never lost,
    /// a crash never leaves both copies. On Cloudflare the target is written first, then the
    /// source deleted: a write to a source key between the two is lost (Cloudflare has no
    /// conditional delete).
    pub async fn transfer_to(
        &self,
        target: &NamespaceAccess,
        names: &[String],
        overwrite: bool,
        remove_source: bool,
    ) -> DomainResult<Transfer> {
        target.writable()?;
        if remove_source {
            self.writable()?;
        }
        let store = &self.kv.store;
        if let Some(done) = store.transfer(&self.actor, &self.id, &target.id, names, overwrite, remove_source).await? {
            return Ok(done);
        }
        let values = store.get_many(&self.id, names).await?;
        let existing = if overwrite { HashSet::new() } else { store.live_names(&target.id, names).await? };
        let details = self.kv.catalog.details_many(&self.id, names).await?;
        let (items, done) = crate::store::plan_transfer(names, values, &details, &existing, now_unix());
        store.put_many(&target.actor, &target.id, items, WriteKind::Update).await?;
        if remove_source && !done.written.is_empty() {
            store.delete_many(&self.actor, &self.id, &done.written).await?;
        }
        Ok(done)
    }

    /// Sets or removes the expiration of the named live keys; values and metadata stay. Answers
    /// the names changed.
    pub async fn set_expiration(&self, names: &[String], expiration: Option<i64>) -> DomainResult<Vec<String>> {
        self.writable()?;
        self.kv.store.set_expiration(&self.actor, &self.id, names, expiration).await
    }

    /// Deletes one key; answers whether a live key was there.
    pub async fn delete_key(&self, name: &str) -> DomainResult<bool> {
        Ok(self.delete_many(&[name.to_owned()]).await? > 0)
    }

    /// Deletes many keys at once; answers how many live keys were removed.
    pub async fn delete_many(&self, names: &[String]) -> DomainResult<u64> {
        self.writable()?;
        for name in names {
            limits::check_key_name(name)?;
        }
        let deleted = self.kv.store.delete_many(&self.actor, &self.id, names).await?;
        tracing::debug!(user = %self.actor.user, namespace_id = %self.id, deleted, "keys deleted");
        Ok(deleted)
    }

    // ---- details and tags ----

    /// Tags and custom metadata of a key.
    pub async fn get_key_details(&self, key: &str) -> DomainResult<KeyDetails> {
        limits::check_key_name(key)?;
        self.kv.catalog.get_details(&self.id, key).await
    }

    /// Sets tags and/or custom metadata of a key; an omitted field is left unchanged.
    pub async fn put_key_details(
        &self,
        key: &str,
        tags: Option<Vec<String>>,
        custom_metadata: Option<serde_json::Value>,
    ) -> DomainResult<KeyDetails> {
        self.writable()?;
        limits::check_key_name(key)?;
        let details = self.kv.catalog.put_details(&self.actor, &self.id, key, tags, custom_metadata).await?;
        tracing::debug!(user = %self.actor.user, namespace_id = %self.id, "key details written");
        Ok(details)
    }

    /// Stored tags and custom metadata of the named keys that have any.
    pub async fn details_many(&self, names: &[String]) -> DomainResult<HashMap<String, KeyDetails>> {
        self.kv.catalog.details_many(&self.id, names).await
    }

    /// Stored details of the keys from `first` to `last` in byte order.
    pub async fn details_between(&self, first: &str, last: &str) -> DomainResult<HashMap<String, KeyDetails>> {
        self.kv.catalog.details_between(&self.id, first, last).await
    }

    /// The tags of the named keys that have any (for key listings).
    pub async fn tags_of(&self, names: &[String]) -> DomainResult<HashMap<String, Vec<String>>> {
        self.kv.catalog.tags_of(&self.id, names).await
    }

    /// Adds, removes or replaces tags on the named live keys; says which changed and which
    /// were left as they were because they would pass the tag limit.
    pub async fn apply_tags(
        &self,
        names: &[String],
        tags: &[String],
        operation: TagOperation,
    ) -> DomainResult<TagsApplied> {
        self.writable()?;
        self.kv.catalog.apply_tags(&self.actor, &self.id, names, tags, operation).await
    }

    // ---- versions ----

    /// One page of a key's kept versions, newest first: `limit` 1..1000 (default 1000), `cursor`
    /// from the previous page; answers the cursor of the next.
    pub async fn list_key_versions_page(
        &self,
        key: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> DomainResult<(Vec<VersionInfo>, Option<String>)> {
        limits::check_key_name(key)?;
        let limit = limits::check_list_limit(limit)?;
        self.kv.catalog.list_versions(&self.id, key, cursor, limit).await
    }

    /// One kept version with its value.
    pub async fn get_key_version(&self, key: &str, version: i64) -> DomainResult<VersionValue> {
        limits::check_key_name(key)?;
        self.kv.catalog.get_version(&self.id, key, version).await
    }

    /// Writes a kept version back as the key's current state (itself kept as a version). An
    /// expiration that has passed, or is under a minute away, is dropped so the key lives.
    pub async fn restore_key_version(&self, key: &str, version: i64) -> DomainResult<()> {
        self.writable()?;
        let kept = self.get_key_version(key, version).await?;
        let now = now_unix();
        let expiration = kept.expiration.filter(|at| limits::far_enough(*at, now));
        let put = PutKey {
            name: key.to_owned(),
            value: kept.value,
            metadata: kept.metadata,
            expiration,
            expiration_ttl: None,
        };
        self.write_many(vec![put], WriteKind::Restore).await
    }
}
