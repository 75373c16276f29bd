//! The storage backends behind one trait.

pub mod cloudflare;
mod mirror;
pub mod sql;
mod sqlite_scan;

use std::collections::HashSet;

use async_trait::async_trait;

use crate::actor::Actor;
use crate::error::DomainResult;
use crate::model::*;
use crate::write::WriteTxn;

/// Namespaces and keys with Cloudflare's semantics. Inputs are validated by [`crate::Kv`] before
/// a store sees them; a store only persists and reads.
#[async_trait]
pub trait KvStore: Send + Sync + 'static {
    async fn list_namespaces(&self, query: &NamespaceQuery) -> DomainResult<NamespacePage>;
    async fn create_namespace(&self, actor: &Actor, title: &str) -> DomainResult<Namespace>;
    async fn rename_namespace(&self, actor: &Actor, namespace_id: &str, title: &str) -> DomainResult<Namespace>;
    async fn delete_namespace(&self, actor: &Actor, namespace_id: &str) -> DomainResult<()>;
    async fn get_namespace(&self, namespace_id: &str) -> DomainResult<Namespace>;
    /// Fails with "not found" unless the namespace exists (as cheaply as the store can tell).
    async fn require_namespace(&self, namespace_id: &str) -> DomainResult<()> {
        self.get_namespace(namespace_id).await.map(|_| ())
    }
    /// Ids of the namespaces whose id or title is in `ids_or_titles`.
    async fn resolve_namespaces(&self, ids_or_titles: &[String]) -> DomainResult<Vec<String>>;

    /// Brings what our database keeps about a namespace in line with where its keys live;
    /// answers (keys taken in, keys dropped), or `None` for a store that is its own truth.
    async fn sync_namespace(&self, _namespace_id: &str) -> DomainResult<Option<(u64, u64)>> {
        Ok(None)
    }
    /// Keys a job handles per batch: what one write to this store takes at best (one
    /// transaction on the SQL store; one bulk request of Cloudflare's).
    fn batch_keys(&self) -> usize {
        crate::sql::BATCH_KEYS
    }
    /// Refuses a cursor this store did not hand out.
    async fn check_cursor(&self, cursor: &str) -> DomainResult<()> {
        crate::sql::decode_cursor(cursor).map(|_| ())
    }
    /// Keys in the byte order of their names, from after the cursor's position.
    async fn list_keys(&self, namespace_id: &str, query: &KeyQuery) -> DomainResult<KeyPage>;
    /// A live key, or `None` when it is missing or expired.
    async fn get_key(&self, namespace_id: &str, name: &str) -> DomainResult<Option<KeyValue>>;
    /// Writes every item or none, keeping the values they replace as versions.
    async fn put_many(
        &self,
        actor: &Actor,
        namespace_id: &str,
        items: Vec<ValidPut>,
        kind: WriteKind,
    ) -> DomainResult<()>;
    /// Writes one key when its precondition holds ([`ValidPut::expecting`]), and answers the
    /// version token it has now. The SQL store checks the precondition in the write's own
    /// transaction; Cloudflare has no conditional write, so there it is checked by a read just
    /// before the write (a write elsewhere between the two is not seen).
    async fn put_one(&self, actor: &Actor, namespace_id: &str, item: ValidPut) -> DomainResult<String>;
    /// As `put_many`, and saves `step` (a job's progress once this batch is written) with the
    /// write: in the same transaction where the store has one, so that a job resumed after a
    /// crash continues right after the last batch written, never before it.
    async fn put_many_step(
        &self,
        actor: &Actor,
        namespace_id: &str,
        items: Vec<ValidPut>,
        kind: WriteKind,
        step: &JobStep,
    ) -> DomainResult<()>;
    /// Copies the named live keys with their details to `target` (skipping those live there
    /// unless `overwrite`) and, with `remove_source`, deletes from `source` what was copied: in
    /// one transaction that reads the values itself, on a store that can (the SQL store), so that
    /// a write to the source meanwhile is never lost and a crash never leaves both copies.
    /// `None` from a store that cannot; the caller then goes step by step.
    async fn transfer(
        &self,
        _actor: &Actor,
        _source: &str,
        _target: &str,
        _names: &[String],
        _overwrite: bool,
        _remove_source: bool,
    ) -> DomainResult<Option<Transfer>> {
        Ok(None)
    }
    /// Renames live key `from` to `to` within a namespace, keeping its value, metadata,
    /// expiration, tags, custom metadata and kept versions (see [`Rename`]), and answers its
    /// version token under the new name.
    async fn rename(&self, actor: &Actor, namespace_id: &str, rename: &Rename) -> DomainResult<String>;
    /// Deletes every named key or none, keeping their values as versions and dropping their
    /// details; returns how many live keys were removed.
    async fn delete_many(&self, actor: &Actor, namespace_id: &str, names: &[String]) -> DomainResult<u64>;
    /// Removes expired keys; returns how many.
    async fn purge_expired(&self) -> DomainResult<u64>;

    /// Up to `limit` live keys with their values, in byte order, starting with `prefix`, after
    /// the key `after` and up to the key `upto` (included): one range scan, for exports. It stops
    /// before a key that would take its values past `max_bytes` (the first key always comes), and
    /// then says so (`cut`).
    async fn scan(
        &self,
        namespace_id: &str,
        prefix: &str,
        after: Option<&str>,
        upto: Option<&str>,
        limit: usize,
        max_bytes: usize,
    ) -> DomainResult<Scanned>;
    /// Stored sizes of the values of those of `names` that are known (missing keys are absent).
    async fn sizes_of(
        &self,
        namespace_id: &str,
        names: &[String],
    ) -> DomainResult<std::collections::HashMap<String, u64>>;
    /// The name of the `n`th stored key (live or expired) starting with `prefix` after `after`,
    /// or `None` when there are fewer: where a page of `n` keys ends, found without reading
    /// values, so that several pages can be read at once. Stores that cannot tell answer `None`.
    async fn page_end(
        &self,
        _namespace_id: &str,
        _prefix: &str,
        _after: Option<&str>,
        _n: usize,
    ) -> DomainResult<Option<String>> {
        Ok(None)
    }
    /// The live keys among `names`, with their values (missing and expired ones left out).
    async fn get_many(&self, namespace_id: &str, names: &[String]) -> DomainResult<Vec<KeyValue>>;
    /// The names among `names` that are live keys.
    async fn live_names(&self, namespace_id: &str, names: &[String]) -> DomainResult<HashSet<String>>;
    /// Whether this store keeps its keys in the catalog's own database, so that a writer holding
    /// the namespace's lock can read them in its transaction ([`KvStore::live_names_in`]). A
    /// store whose keys live elsewhere (Cloudflare) is asked before the lock is taken instead:
    /// no request to it is ever made while the database is locked for writing.
    fn reads_in_transaction(&self) -> bool {
        false
    }
    /// As `live_names`, read inside `txn` (exact until the commit); only for a store that
    /// [`KvStore::reads_in_transaction`], the default asks where the keys live.
    async fn live_names_in(
        &self,
        _txn: &WriteTxn,
        namespace_id: &str,
        names: &[String],
    ) -> DomainResult<HashSet<String>> {
        self.live_names(namespace_id, names).await
    }
    /// How many live keys start with `prefix` (all of them for an empty prefix).
    async fn count_keys(&self, namespace_id: &str, prefix: &str) -> DomainResult<u64>;
    /// Sets (or with `None` removes) the expiration of the named live keys, leaving values and
    /// metadata untouched; returns the names changed (the others are missing or expired).
    async fn set_expiration(
        &self,
        actor: &Actor,
        namespace_id: &str,
        names: &[String],
        expiration: Option<i64>,
    ) -> DomainResult<Vec<String>>;
}

/// What copying `values` (the live keys among `names`) to another namespace writes: each with
/// its details, validated as any write is (an expiration now under a minute away fails the key),
/// except the names in `existing` (skipped); names without a value fail as missing.
pub(crate) fn plan_transfer(
    names: &[String],
    values: Vec<KeyValue>,
    details: &std::collections::HashMap<String, KeyDetails>,
    existing: &std::collections::HashSet<String>,
    now: i64,
) -> (Vec<ValidPut>, Transfer) {
    let found: std::collections::HashSet<&str> = values.iter().map(|v| v.name.as_str()).collect();
    let failures = names
        .iter()
        .filter(|n| !found.contains(n.as_str()))
        .map(|n| KeyFailure { key: n.clone(), reason: "the key does not exist (or has expired)".into() })
        .collect();
    let mut done = Transfer { failures, ..Transfer::default() };
    let mut items = Vec::with_capacity(values.len());
    for key in values {
        if existing.contains(&key.name) {
            done.skipped += 1;
            continue;
        }
        let d = details.get(&key.name);
        let write = DetailsWrite {
            tags: Some(d.map(|d| d.tags.clone()).unwrap_or_default()),
            custom_metadata: Some(d.map(|d| d.custom_metadata.clone()).unwrap_or_else(|| serde_json::json!({}))),
        };
        let name = key.name.clone();
        let put = PutKey {
            name: key.name,
            value: key.value,
            metadata: key.metadata,
            expiration: key.expiration,
            expiration_ttl: None,
        };
        match ValidPut::new(put, write, now) {
            Ok(item) => {
                done.written.push(item.name().to_owned());
                items.push(item);
            }
            Err(err) => done.failures.push(KeyFailure { key: name, reason: err.to_string() }),
        }
    }
    (items, done)
}
