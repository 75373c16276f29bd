//! A namespace as one actor may reach it: [`NamespaceAccess`], made only by [`Kv::namespace`]
//! after the id is checked and the actor's access (read or write) granted. Its methods are the
//! only way to a namespace's keys, details and versions, so no caller can forget the check.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use super::{Kv, Need};
use crate::actor::Actor;
use crate::catalog::{RewindKey, RewindPage, TagOperation, TagsApplied, UndoPage};
use crate::error::{DomainError, DomainResult};
use crate::limits;
use crate::metrics::Operation;
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

    /// Counts one operation that started at `started` and ended with `result`, with the keys
    /// `keys` says it touched, and hands the result back.
    fn measured<T>(
        &self,
        operation: Operation,
        started: Instant,
        result: DomainResult<T>,
        keys: impl FnOnce(&T) -> u64,
    ) -> DomainResult<T> {
        let touched = result.as_ref().map_or(0, keys);
        self.kv.metrics.record(&self.actor, &self.id, operation, touched, started, &result);
        result
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
        let started = Instant::now();
        let result = self.list_keys_unmeasured(query).await;
        self.measured(Operation::List, started, result, |page| page.keys.len() as u64)
    }

    async fn list_keys_unmeasured(&self, query: KeyQuery) -> DomainResult<KeyPage> {
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
        let started = Instant::now();
        let result = match limits::check_key_name(name) {
            Ok(()) => self.kv.store.get_key(&self.id, name).await,
            Err(err) => Err(err),
        };
        let result = result.and_then(|found| found.ok_or_else(|| DomainError::key_not_found(name)));
        self.measured(Operation::Read, started, result, |_| 1)
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
        let started = Instant::now();
        let result = self.kv.store.scan(&self.id, prefix, after, upto, limit, max_bytes).await;
        self.measured(Operation::Read, started, result, |scanned| scanned.keys.len() as u64)
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
        let started = Instant::now();
        let result = self.kv.store.get_many(&self.id, names).await;
        self.measured(Operation::Read, started, result, |found| found.len() as u64)
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

    /// Writes one key when `expect` holds of it (a check-and-set: the version a read answered
    /// is still the key's, or the key does not exist) and answers the version token it has now.
    /// Without `expect`, a plain write that tells the new version.
    pub async fn put_key_checked(&self, put: PutKey, expect: Option<Precondition>) -> DomainResult<String> {
        let started = Instant::now();
        let checked = self
            .writable()
            .and_then(|()| expect.as_ref().map_or(Ok(()), Precondition::check_input))
            .and_then(|()| ValidPut::new(put, DetailsWrite::default(), now_unix()));
        let result = match checked {
            Ok(item) => self.kv.store.put_one(&self.actor, &self.id, item.expecting(expect)).await,
            Err(err) => Err(err),
        };
        self.measured(Operation::Write, started, result, |_| 1)
    }

    /// Renames a key within this namespace, keeping its value, metadata, expiration, tags,
    /// custom metadata and kept versions; answers its version token under the new name. `404`
    /// (`field: key`) when `from` is not live, `409` (`field: new_name`) when `to` is and
    /// `overwrite` was not asked, `409` (`field: version`) when `expect` does not hold of `from`.
    pub async fn rename_key(&self, rename: Rename) -> DomainResult<String> {
        let started = Instant::now();
        let result = async {
            self.writable()?;
            limits::check_key_name(&rename.from)?;
            limits::check_key_name_as("new_name", &rename.to)?;
            if rename.from == rename.to {
                return Err(DomainError::invalid("new_name", "new_name: is the key's name already"));
            }
            if let Some(expect) = &rename.expect {
                expect.check_input()?;
            }
            self.kv.store.rename(&self.actor, &self.id, &rename).await
        }
        .await;
        self.measured(Operation::Write, started, result, |_| 1)
    }

    /// Writes many keys at once: all of them or, when any is invalid, none.
    pub async fn put_many(&self, puts: Vec<PutKey>) -> DomainResult<()> {
        self.write_many(puts, WriteKind::Update).await
    }

    async fn write_many(&self, puts: Vec<PutKey>, kind: WriteKind) -> DomainResult<()> {
        let started = Instant::now();
        let count = puts.len() as u64;
        let result = self.write_many_unmeasured(puts, kind).await;
        self.measured(Operation::Write, started, result, |_| count)
    }

    async fn write_many_unmeasured(&self, puts: Vec<PutKey>, kind: WriteKind) -> DomainResult<()> {
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
        let started = Instant::now();
        let count = items.len() as u64;
        let result = async {
            self.writable()?;
            let now = now_unix();
            let valid = items
                .into_iter()
                .map(|(put, details)| ValidPut::new(put, details, now))
                .collect::<DomainResult<Vec<_>>>()?;
            self.kv.store.put_many(&self.actor, &self.id, valid, WriteKind::Update).await
        }
        .await;
        self.measured(Operation::Write, started, result, |_| count)
    }

    /// Writes validated items (see [`ValidPut::new`]).
    pub async fn put_valid(&self, items: Vec<ValidPut>) -> DomainResult<()> {
        let started = Instant::now();
        let count = items.len() as u64;
        let result = match self.writable() {
            Ok(()) => self.kv.store.put_many(&self.actor, &self.id, items, WriteKind::Update).await,
            Err(err) => Err(err),
        };
        self.measured(Operation::Write, started, result, |_| count)
    }

    /// Writes validated items and a job's progress as of them (see
    /// [`crate::store::KvStore::put_many_step`]).
    pub async fn put_valid_step(&self, items: Vec<ValidPut>, step: &JobStep) -> DomainResult<()> {
        let started = Instant::now();
        let count = items.len() as u64;
        let result = match self.writable() {
            Ok(()) => self.kv.store.put_many_step(&self.actor, &self.id, items, WriteKind::Update, step).await,
            Err(err) => Err(err),
        };
        self.measured(Operation::Write, started, result, |_| count)
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
        let started = Instant::now();
        let result = self.transfer_unmeasured(target, names, overwrite, remove_source).await;
        // The keys written count on the target; a move's deletes count on the source.
        if remove_source {
            let moved = result.as_ref().map_or(0, |done| done.written.len() as u64);
            self.kv.metrics.record(&self.actor, &self.id, Operation::Delete, moved, started, &result);
        }
        target.measured(Operation::Write, started, result, |done| done.written.len() as u64)
    }

    async fn transfer_unmeasured(
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
        let started = Instant::now();
        let result = match self.writable() {
            Ok(()) => self.kv.store.set_expiration(&self.actor, &self.id, names, expiration).await,
            Err(err) => Err(err),
        };
        self.measured(Operation::Write, started, result, |changed| changed.len() as u64)
    }

    /// Deletes one key; answers whether a live key was there.
    pub async fn delete_key(&self, name: &str) -> DomainResult<bool> {
        Ok(self.delete_many(&[name.to_owned()]).await? > 0)
    }

    /// Deletes many keys at once; answers how many live keys were removed.
    pub async fn delete_many(&self, names: &[String]) -> DomainResult<u64> {
        let started = Instant::now();
        let result = self.delete_many_unmeasured(names).await;
        self.measured(Operation::Delete, started, result, |deleted| *deleted)
    }

    async fn delete_many_unmeasured(&self, names: &[String]) -> DomainResult<u64> {
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
        let started = Instant::now();
        let result = async {
            self.writable()?;
            limits::check_key_name(key)?;
            self.kv.catalog.put_details(&self.actor, &self.id, key, tags, custom_metadata).await
        }
        .await;
        tracing::debug!(user = %self.actor.user, namespace_id = %self.id, written = result.is_ok(), "key details");
        self.measured(Operation::Write, started, result, |_| 1)
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
        let started = Instant::now();
        let result = match self.writable() {
            Ok(()) => self.kv.catalog.apply_tags(&self.actor, &self.id, names, tags, operation).await,
            Err(err) => Err(err),
        };
        self.measured(Operation::Write, started, result, |applied| applied.changed.len() as u64)
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

    // ---- rewinding ----

    /// How many keys a rewind within `prefix` walks: those with a row or kept versions.
    pub async fn count_rewind_keys(&self, prefix: &str) -> DomainResult<u64> {
        self.require().await?;
        self.kv.catalog.count_rewind_names(&self.id, prefix).await
    }

    /// What a rewind to `at` (unix seconds) does with the next keys after `after` within
    /// `prefix`: up to `limit` names are walked, in byte order (see [`RewindPage`]). Judged
    /// from the versions as they are now, at `now`.
    pub async fn rewind_page(
        &self,
        prefix: &str,
        at: i64,
        after: Option<&str>,
        limit: usize,
        now: i64,
    ) -> DomainResult<RewindPage> {
        let names = self.kv.catalog.rewind_names(&self.id, prefix, after, limit).await?;
        let keys = self.kv.catalog.rewind_keys(&self.id, &names, at, now).await?;
        Ok(RewindPage { keys, walked: names.len(), more: names.len() >= limit.max(1), last: names.last().cloned() })
    }

    /// What undoing job `job_id` does with the next `limit` keys it wrote here after `after`
    /// (see [`UndoPage`]), judged at `now`. Written with [`Self::rewind_write`].
    pub async fn undo_page(&self, job_id: &str, after: Option<&str>, limit: usize, now: i64) -> DomainResult<UndoPage> {
        self.require().await?;
        self.kv.catalog.undo_page(job_id, &self.id, after, limit, now).await
    }

    /// The preview of a rewind to `at` (unix seconds) within `prefix`: counts of each class and
    /// the first `sample` names of each. Walks the keys a page at a time; writes nothing.
    pub async fn rewind_preview(&self, prefix: Option<&str>, at: i64, sample: usize) -> DomainResult<RewindPreview> {
        let now = now_unix();
        check_rewind(prefix, at, now)?;
        self.require().await?;
        let walk = prefix.unwrap_or_default();
        let mut preview = RewindPreview {
            namespace_id: self.id.clone(),
            prefix: prefix.map(str::to_owned),
            at,
            ..Default::default()
        };
        let mut after: Option<String> = None;
        let mut changed = Vec::new();
        loop {
            let page = self.rewind_page(walk, at, after.as_deref(), self.batch_keys(), now).await?;
            for key in page.keys {
                preview.record(&key.name, key.class, sample);
                if key.class == RewindClass::Changed && changed.len() < sample.min(CHANGE_SAMPLE) {
                    changed.push(key);
                }
            }
            if !page.more {
                break;
            }
            after = page.last;
        }
        preview.complete = preview.counts.incomplete == 0;
        preview.changes = self.rewind_changes(&changed).await?;
        Ok(preview)
    }

    /// The value comparisons of changed keys of a rewind: each one's value now and the one it
    /// had then. A key changed or deleted meanwhile, or whose kept version was pruned, is left out.
    pub(crate) async fn rewind_changes(&self, keys: &[RewindKey]) -> DomainResult<Vec<ValueChange>> {
        let ids: Vec<i64> = keys.iter().filter_map(|k| k.target.as_ref().map(|t| t.id)).collect();
        let names: Vec<String> = keys.iter().map(|k| k.name.clone()).collect();
        let mut kept = self.kv.catalog.kept_values(&self.id, &ids).await?;
        let mut now: HashMap<String, KeyValue> =
            self.get_many(&names).await?.into_iter().map(|k| (k.name.clone(), k)).collect();
        Ok(keys
            .iter()
            .filter_map(|key| {
                let then = key.target.as_ref()?;
                let current = now.remove(&key.name)?;
                let value = kept.remove(&then.id)?;
                let mut also = Vec::new();
                if current.metadata != then.metadata {
                    also.push("metadata".to_owned());
                }
                if current.expiration != then.expiration {
                    also.push("expiration".to_owned());
                }
                Some(ValueChange::new(&key.name, &current.value, &value, also))
            })
            .collect())
    }

    /// Writes one page of a rewind as planned at `now` (see [`NamespaceAccess::rewind_page`]):
    /// the keys to delete in one transaction, then the kept states of the keys to create or
    /// change, read and written a byte budget at a time ([`limits::BATCH_BYTES`]); the last
    /// write carries the job's `step`. Tags and custom metadata are not kept by versions: a key
    /// written back keeps its current ones (a key created again has none).
    pub async fn rewind_write(&self, keys: &[RewindKey], now: i64, step: &JobStep) -> DomainResult<()> {
        self.writable()?;
        let deleted: Vec<String> =
            keys.iter().filter(|k| k.class == RewindClass::Deleted).map(|k| k.name.clone()).collect();
        if !deleted.is_empty() {
            self.delete_many(&deleted).await?;
        }
        let writes: Vec<&RewindKey> = keys.iter().filter(|k| k.target.is_some()).collect();
        let mut start = 0;
        loop {
            let mut end = start;
            let mut bytes = 0u64;
            while let Some(key) = writes.get(end) {
                let size = key.target.as_ref().map_or(0, |t| t.size);
                if end > start && bytes.saturating_add(size) > limits::BATCH_BYTES as u64 {
                    break;
                }
                bytes = bytes.saturating_add(size);
                end += 1;
            }
            let chunk = &writes[start..end];
            let ids: Vec<i64> = chunk.iter().filter_map(|k| k.target.as_ref().map(|t| t.id)).collect();
            let mut values = self.kv.catalog.kept_values(&self.id, &ids).await?;
            let mut items = Vec::with_capacity(chunk.len());
            for key in chunk {
                let Some(target) = &key.target else { continue };
                let value = values.remove(&target.id).ok_or_else(|| {
                    DomainError::conflict(
                        "at",
                        format!("at: the version of {:?} to write back was pruned meanwhile", key.name),
                    )
                })?;
                let put = PutKey {
                    name: key.name.clone(),
                    value,
                    metadata: target.metadata.clone(),
                    expiration: target.expiration,
                    expiration_ttl: None,
                };
                items.push(ValidPut::new(put, DetailsWrite::default(), now)?);
            }
            if end >= writes.len() {
                return self.put_valid_step(items, step).await;
            }
            self.put_valid(items).await?;
            start = end;
        }
    }
}

/// Checks a rewind's moment (unix seconds, not after `now`) and prefix.
pub fn check_rewind(prefix: Option<&str>, at: i64, now: i64) -> DomainResult<()> {
    if at > now {
        return Err(DomainError::invalid(
            "at",
            format!("at: {at} is in the future (now is {now}); a rewind goes back to a moment that has passed"),
        ));
    }
    if at < 0 {
        return Err(DomainError::invalid("at", format!("at: {at} is before 1970; give unix seconds")));
    }
    if let Some(prefix) = prefix
        && (prefix.len() > limits::MAX_KEY_BYTES || prefix.contains('\0'))
    {
        return Err(DomainError::invalid(
            "prefix",
            format!("prefix: must be at most {} bytes, without NUL", limits::MAX_KEY_BYTES),
        ));
    }
    Ok(())
}
