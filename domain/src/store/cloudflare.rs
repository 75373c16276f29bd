//! The Cloudflare Workers KV backend: Cloudflare holds the data, our database the rest.
//!
//! Cloudflare is the source of truth for namespaces, keys, values, metadata and expirations:
//! reads go to it, and a write goes to it first. What Cloudflare does not keep (tags, custom
//! metadata, versions, the audit log, the search index) lives in our database, in a mirror kept
//! by the SQL store: each write made through us is written there next, through the same write
//! path as the local store (one transaction: the mirror row, the version of what it replaced,
//! the search index, the audit row). Namespaces take Cloudflare's ids, and the mirror's list of
//! them is refreshed from Cloudflare whenever namespaces are listed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::KvStore;
use super::sql::SqlStore;
use crate::actor::Actor;
use crate::cloudflare::{BulkWrite, CloudflareClient, RemoteKey};
use crate::error::{DomainError, DomainResult};
use crate::limits;
use crate::model::*;
use crate::now_unix;

pub struct CloudflareStore {
    remote: CloudflareClient,
    mirror: SqlStore,
    /// Where Cloudflare's listing goes on after the last key a scan returned, keyed by
    /// (namespace, prefix, that key): Cloudflare pages with opaque cursors only, so a scan that
    /// starts where the previous one stopped continues with the cursor it left (the cursor of a
    /// page, `None` for the first, and how many of that page's keys were returned already).
    cursors: Mutex<HashMap<(String, String, String), ScanPosition>>,
    /// Namespaces where Cloudflare took a write the mirror then failed to record: their next
    /// sync reads every value again instead of only the keys whose metadata or expiration differ.
    dirty: Mutex<HashSet<String>>,
    /// One writer at a time per namespace through this instance: a bulk TTL change reads values
    /// and writes them back, and a write through us in between would otherwise be undone.
    writers: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Where a scan goes on: the Cloudflare cursor of a page (`None`: the first) and how many of its
/// keys were returned already.
type ScanPosition = (Option<String>, usize);

/// Scan positions remembered at most (an export holds one at a time).
const REMEMBERED_CURSORS: usize = 1024;

impl CloudflareStore {
    pub fn new(remote: CloudflareClient, mirror: SqlStore) -> Self {
        Self {
            remote,
            mirror,
            cursors: Mutex::new(HashMap::new()),
            dirty: Mutex::new(HashSet::new()),
            writers: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for this instance's other writes to the namespace to end.
    async fn write_lock(&self, namespace_id: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = match self.writers.lock() {
            Ok(mut writers) => writers.entry(namespace_id.to_owned()).or_default().clone(),
            Err(_) => Arc::new(tokio::sync::Mutex::new(())),
        };
        lock.lock_owned().await
    }

    /// The mirror's record of a write Cloudflare has taken: when it fails, the namespace is
    /// marked for a full re-read at its next sync, which repairs the mirror.
    fn mirrored<T>(&self, namespace_id: &str, recorded: DomainResult<T>) -> DomainResult<T> {
        if let Err(err) = &recorded {
            tracing::error!(%err, namespace_id, "Cloudflare took a write the mirror failed to record; the next sync repairs it");
            if let Ok(mut dirty) = self.dirty.lock() {
                dirty.insert(namespace_id.to_owned());
            }
        }
        recorded
    }

    /// Cloudflare's cursor that follows `after` in a scan, when a previous scan left one.
    fn resume_cursor(&self, namespace_id: &str, prefix: &str, after: &str) -> Option<ScanPosition> {
        self.cursors.lock().ok()?.remove(&(namespace_id.to_owned(), prefix.to_owned(), after.to_owned()))
    }

    fn remember_cursor(&self, namespace_id: &str, prefix: &str, after: &str, cursor: ScanPosition) {
        if let Ok(mut cursors) = self.cursors.lock() {
            if cursors.len() >= REMEMBERED_CURSORS {
                cursors.clear();
            }
            cursors.insert((namespace_id.to_owned(), prefix.to_owned(), after.to_owned()), cursor);
        }
    }

    /// Brings the mirror's namespaces in line with Cloudflare's: new ones adopted with their
    /// ids, renamed ones retitled, vanished ones dropped (with what we kept about them).
    pub async fn sync_namespaces(&self) -> DomainResult<()> {
        let remote = self.remote.all_namespaces().await?;
        let ids: HashSet<&str> = remote.iter().map(|n| n.id.as_str()).collect();
        for namespace in &remote {
            self.mirror.adopt_namespace(&namespace.id, &namespace.title).await?;
        }
        for id in self.mirror.namespace_ids().await? {
            if !ids.contains(id.as_str()) {
                self.mirror.forget_namespace(&id).await?;
            }
        }
        Ok(())
    }

    /// Brings the mirror of one namespace in line with Cloudflare, paging through every key:
    /// keys written elsewhere (or whose metadata or expiration changed) are read in bulk and
    /// taken in, keys gone from Cloudflare are dropped. Answers (taken in, dropped).
    pub async fn sync_namespace(&self, namespace_id: &str) -> DomainResult<(u64, u64)> {
        let full = self.dirty.lock().map(|mut dirty| dirty.remove(namespace_id)).unwrap_or(false);
        let synced = self.sync_keys(namespace_id, full).await;
        if full
            && synced.is_err()
            && let Ok(mut dirty) = self.dirty.lock()
        {
            dirty.insert(namespace_id.to_owned());
        }
        synced
    }

    /// [`Self::sync_namespace`]'s work; `full` reads every value again.
    async fn sync_keys(&self, namespace_id: &str, full: bool) -> DomainResult<(u64, u64)> {
        self.require_remote_namespace(namespace_id).await?;
        let remote = self.remote_names(namespace_id, "").await?;
        let mut mirrored = self.mirror.key_summaries(namespace_id).await?;
        let mut changed = Vec::new();
        for key in &remote {
            match mirrored.remove(&key.name) {
                Some(_) if full => changed.push(key.name.clone()),
                Some((kept_metadata, kept_expiration))
                    if kept_expiration == key.expiration
                        && kept_metadata
                            .as_deref()
                            .map(serde_json::from_str::<serde_json::Value>)
                            .and_then(Result::ok)
                            == key.metadata => {}
                _ => changed.push(key.name.clone()),
            }
        }
        let names = changed;
        let actor = super::mirror::sync_actor();
        let mut taken = 0;
        for chunk in names.chunks(crate::sql::BATCH_KEYS) {
            let items: Vec<ValidPut> =
                self.read_values(namespace_id, chunk).await?.into_iter().map(ValidPut::mirrored).collect();
            taken += items.len() as u64;
            self.mirror.put_many(&actor, namespace_id, items, WriteKind::Update).await?;
        }
        // What is left in the mirror is gone from Cloudflare.
        let vanished: Vec<String> = mirrored.into_keys().collect();
        for chunk in vanished.chunks(crate::sql::BATCH_KEYS) {
            self.mirror.delete_many(&actor, namespace_id, chunk).await?;
        }
        Ok((taken, vanished.len() as u64))
    }

    /// Every write of keys: to Cloudflare first, then the mirror (with the catalog and audit),
    /// one writer per namespace through this instance. A write that takes several Cloudflare
    /// requests is mirrored and audited part by part, so a refusal midway leaves the record of
    /// exactly what was written. `step` (a job's progress) goes with the last part's local
    /// records: a crash between Cloudflare's write and them has the batch written again on
    /// resume (the same values).
    async fn write(
        &self,
        actor: &Actor,
        namespace_id: &str,
        items: Vec<ValidPut>,
        kind: WriteKind,
        step: Option<&JobStep>,
    ) -> DomainResult<()> {
        self.known_namespace(namespace_id).await?;
        let _writer = self.write_lock(namespace_id).await;
        self.write_locked(actor, namespace_id, items, kind, step).await
    }

    /// One key as Cloudflare holds it, with its version (a hash of its content: bulk reads, for
    /// exports and jobs, leave it out rather than hash every value they pass on).
    async fn read_one(&self, namespace_id: &str, name: &str) -> DomainResult<Option<KeyValue>> {
        // One bulk get: value, metadata and expiration in one request.
        let found = self.read_values(namespace_id, &[name.to_owned()]).await?.pop();
        Ok(found.map(|key| {
            let metadata = key.metadata.as_ref().map(|m| m.to_string());
            let version = content_token(&key.value, metadata.as_deref(), key.expiration);
            KeyValue { version: Some(version), ..key }
        }))
    }

    /// As [`Self::write`], with the namespace's write lock held by the caller.
    async fn write_locked(
        &self,
        actor: &Actor,
        namespace_id: &str,
        items: Vec<ValidPut>,
        kind: WriteKind,
        step: Option<&JobStep>,
    ) -> DomainResult<()> {
        let bulk: Vec<BulkWrite> = items.iter().map(to_bulk).collect();
        let parts = self.remote.bulk_write_parts(&bulk);
        let (total, count) = (items.len(), parts.len());
        let mut items = items.into_iter();
        let mut written = 0;
        for (index, part) in parts.into_iter().enumerate() {
            let chunk: Vec<ValidPut> = items.by_ref().take(part.len()).collect();
            if let Err(err) = self.on(namespace_id, self.remote.bulk_write(namespace_id, &bulk[part]).await).await {
                return Err(match err {
                    DomainError::Upstream { status, code, message } if written > 0 => DomainError::Upstream {
                        status,
                        code,
                        message: format!(
                            "{message} (part {} of {count}; the first {written} of {total} keys were written)",
                            index + 1
                        ),
                    },
                    other => other,
                });
            }
            written += chunk.len();
            let recorded = match step {
                Some(step) if index + 1 == count => {
                    self.mirror.put_many_step(actor, namespace_id, chunk, kind, step).await
                }
                _ => self.mirror.put_many(actor, namespace_id, chunk, kind).await,
            };
            self.mirrored(namespace_id, recorded)?;
        }
        if count == 0
            && let Some(step) = step
        {
            // Nothing to write (every item of the batch failed validation): the progress still counts.
            self.mirror.put_many_step(actor, namespace_id, Vec::new(), kind, step).await?;
        }
        Ok(())
    }

    /// Cloudflare's "not found" as ours.
    async fn require_remote_namespace(&self, namespace_id: &str) -> DomainResult<()> {
        match self.remote.get_namespace(namespace_id).await {
            Ok(namespace) => self.mirror.adopt_namespace(&namespace.id, &namespace.title).await,
            Err(err) => Err(self.gone(namespace_id, err).await),
        }
    }

    /// Makes sure the mirror holds the namespace before keys are read or written: a namespace
    /// it knows costs no request (should it be gone from Cloudflare, the key request itself
    /// answers 404 and [`Self::gone`] tells); one it does not know is looked up and adopted.
    async fn known_namespace(&self, namespace_id: &str) -> DomainResult<()> {
        if self.mirror.knows_namespace(namespace_id).await? {
            return Ok(());
        }
        self.require_remote_namespace(namespace_id).await
    }

    /// A failed request on a namespace: when Cloudflare itself says it does not know the
    /// namespace (404 with its code 10013), it is dropped from the mirror (its versions, tags and
    /// details with it) and the error is our "not found". Any other 404 (a proxy's, a plain-text
    /// page, another code) is an upstream error and drops nothing.
    async fn gone(&self, namespace_id: &str, err: DomainError) -> DomainError {
        match err {
            DomainError::Upstream { status: 404, code: NAMESPACE_NOT_FOUND, .. } => {
                if let Err(err) = self.mirror.forget_namespace(namespace_id).await {
                    return err;
                }
                DomainError::namespace_not_found(namespace_id)
            }
            other => other,
        }
    }

    /// `result`, with a vanished namespace told as [`Self::gone`] does.
    async fn on<T>(&self, namespace_id: &str, result: DomainResult<T>) -> DomainResult<T> {
        match result {
            Ok(value) => Ok(value),
            Err(err) => Err(self.gone(namespace_id, err).await),
        }
    }

    /// Values with metadata and expiration of `names`, from Cloudflare: bulk gets of at most 100
    /// keys and, by the sizes the mirror knows, at most [`limits::BATCH_BYTES`] of values each (a
    /// larger key alone), so that no answer of Cloudflare's holds a thousand large values.
    async fn read_values(&self, namespace_id: &str, names: &[String]) -> DomainResult<Vec<KeyValue>> {
        let mut out = Vec::with_capacity(names.len());
        self.each_value(namespace_id, names, |key| out.push(key)).await?;
        Ok(out)
    }

    /// The live ones of `names`, in order, handed to `take` one bulk get at a time: a caller
    /// that keeps less than the value (the names, say) holds one bulk get's answer at most.
    async fn each_value(
        &self,
        namespace_id: &str,
        names: &[String],
        mut take: impl FnMut(KeyValue),
    ) -> DomainResult<()> {
        if names.is_empty() {
            return Ok(());
        }
        let sizes = self.mirror.sizes_of(namespace_id, names).await?;
        let now = now_unix();
        let mut start = 0;
        while start < names.len() {
            let (mut end, mut bytes) = (start, 0usize);
            while end < names.len() && end - start < crate::cloudflare::BULK_GET_KEYS {
                let size = sizes.get(&names[end]).map_or(0, |s| usize::try_from(*s).unwrap_or(usize::MAX));
                if end > start && bytes.saturating_add(size) > limits::BATCH_BYTES {
                    break;
                }
                bytes = bytes.saturating_add(size);
                end += 1;
            }
            let chunk = &names[start..end];
            start = end;
            let mut found = self.on(namespace_id, self.remote.bulk_get(namespace_id, chunk).await).await?;
            for name in chunk {
                let Some(value) = found.remove(name) else { continue };
                if value.expiration.is_some_and(|at| at <= now) {
                    continue;
                }
                take(KeyValue {
                    name: name.clone(),
                    value: value.value,
                    metadata: value.metadata,
                    expiration: value.expiration,
                    version: None,
                });
            }
        }
        Ok(())
    }

    /// The first of `names` whose values (by the sizes the mirror knows) fit in `max_bytes`, the
    /// first name always; and whether some were left out.
    async fn within(
        &self,
        namespace_id: &str,
        mut names: Vec<String>,
        max_bytes: usize,
    ) -> DomainResult<(Vec<String>, bool)> {
        let sizes = self.mirror.sizes_of(namespace_id, &names).await?;
        let mut bytes = 0usize;
        let mut keep = names.len();
        for (i, name) in names.iter().enumerate() {
            let size = sizes.get(name).map_or(0, |s| usize::try_from(*s).unwrap_or(usize::MAX));
            if i > 0 && bytes.saturating_add(size) > max_bytes {
                keep = i;
                break;
            }
            bytes = bytes.saturating_add(size);
        }
        let cut = keep < names.len();
        names.truncate(keep);
        Ok((names, cut))
    }

    async fn remote_names(&self, namespace_id: &str, prefix: &str) -> DomainResult<Vec<RemoteKey>> {
        let now = now_unix();
        let mut keys = self.on(namespace_id, self.remote.all_keys(namespace_id, prefix).await).await?;
        keys.retain(|k| k.expiration.is_none_or(|at| at > now));
        Ok(keys)
    }
}

fn to_bulk(item: &ValidPut) -> BulkWrite {
    let metadata = item.metadata().and_then(|m| serde_json::from_str(m).ok());
    BulkWrite::new(item.name().to_owned(), item.value(), item.expiration(), metadata)
}

#[async_trait]
impl KvStore for CloudflareStore {
    async fn list_namespaces(&self, query: &NamespaceQuery) -> DomainResult<NamespacePage> {
        self.sync_namespaces().await?;
        self.mirror.list_namespaces(query).await
    }

    async fn create_namespace(&self, actor: &Actor, title: &str) -> DomainResult<Namespace> {
        let created = self.remote.create_namespace(title).await.map_err(|err| match err {
            DomainError::Upstream { code: 10014, .. } => {
                DomainError::conflict("title", format!("title: a namespace titled {title:?} already exists"))
            }
            other => other,
        })?;
        self.mirror.record_created_namespace(actor, &created.id, &created.title).await
    }

    async fn rename_namespace(&self, actor: &Actor, namespace_id: &str, title: &str) -> DomainResult<Namespace> {
        self.require_remote_namespace(namespace_id).await?;
        self.remote.rename_namespace(namespace_id, title).await.map_err(|err| match err {
            DomainError::Upstream { code: 10014, .. } => {
                DomainError::conflict("title", format!("title: a namespace titled {title:?} already exists"))
            }
            other => other,
        })?;
        self.mirror.rename_namespace(actor, namespace_id, title).await
    }

    async fn delete_namespace(&self, actor: &Actor, namespace_id: &str) -> DomainResult<()> {
        self.require_remote_namespace(namespace_id).await?;
        self.remote.delete_namespace(namespace_id).await?;
        self.mirror.delete_namespace(actor, namespace_id).await
    }

    async fn get_namespace(&self, namespace_id: &str) -> DomainResult<Namespace> {
        self.require_remote_namespace(namespace_id).await?;
        self.mirror.get_namespace(namespace_id).await
    }

    async fn require_namespace(&self, namespace_id: &str) -> DomainResult<()> {
        // Known to the mirror is enough: the first request on it tells if Cloudflare lost it.
        self.known_namespace(namespace_id).await
    }

    async fn resolve_namespaces(&self, ids_or_titles: &[String]) -> DomainResult<Vec<String>> {
        self.mirror.resolve_namespaces(ids_or_titles).await
    }

    async fn sync_namespace(&self, namespace_id: &str) -> DomainResult<Option<(u64, u64)>> {
        CloudflareStore::sync_namespace(self, namespace_id).await.map(Some)
    }

    fn batch_keys(&self) -> usize {
        crate::cloudflare::BULK_WRITE_KEYS
    }

    async fn check_cursor(&self, cursor: &str) -> DomainResult<()> {
        // Cloudflare's cursors are its own; passed through as they are (ours mark a page read in
        // parts).
        if cursor.len() > 4096
            || cursor.chars().any(char::is_control)
            || (cursor.starts_with(PART_CURSOR) && split_cursor(cursor).is_none())
        {
            return Err(DomainError::invalid("cursor", "cursor: not a cursor returned by a previous page"));
        }
        Ok(())
    }

    async fn list_keys(&self, namespace_id: &str, query: &KeyQuery) -> DomainResult<KeyPage> {
        self.known_namespace(namespace_id).await?;
        let limit = query.limit.unwrap_or(1000);
        // Cloudflare lists at least 10 keys a page, and its cursors only point past a whole
        // page. A smaller page (or the rest of one) is the same Cloudflare page read again with
        // the keys already given skipped: our cursor says where the page starts and how many.
        let (remote_cursor, skip) = match query.cursor.as_deref().and_then(split_cursor) {
            Some((remote, skip)) => (remote, skip),
            None => (query.cursor.clone(), 0),
        };
        let fetch = skip.saturating_add(limit).clamp(10, 1000);
        let prefix = query.prefix.as_deref().unwrap_or_default();
        let listed = self.remote.list_keys(namespace_id, prefix, remote_cursor.as_deref(), fetch).await;
        let (mut keys, mut cursor) = self.on(namespace_id, listed).await?;
        let rest = keys.split_off((skip as usize).min(keys.len()));
        keys = rest;
        if keys.len() > limit as usize {
            keys.truncate(limit as usize);
            cursor = Some(join_cursor(remote_cursor.as_deref(), skip.saturating_add(limit)));
        }
        let now = now_unix();
        let keys: Vec<RemoteKey> = keys.into_iter().filter(|k| k.expiration.is_none_or(|at| at > now)).collect();
        let names: Vec<String> = keys.iter().map(|k| k.name.clone()).collect();
        let sizes = self.mirror.sizes_of(namespace_id, &names).await?;
        let keys = keys
            .into_iter()
            .map(|k| KeyEntry {
                size: sizes.get(&k.name).copied().unwrap_or(0),
                name: k.name,
                expiration: k.expiration,
                metadata: k.metadata,
            })
            .collect();
        Ok(KeyPage { keys, list_complete: cursor.is_none(), cursor })
    }

    async fn get_key(&self, namespace_id: &str, name: &str) -> DomainResult<Option<KeyValue>> {
        self.known_namespace(namespace_id).await?;
        self.read_one(namespace_id, name).await
    }

    async fn put_many(
        &self,
        actor: &Actor,
        namespace_id: &str,
        items: Vec<ValidPut>,
        kind: WriteKind,
    ) -> DomainResult<()> {
        self.write(actor, namespace_id, items, kind, None).await
    }

    async fn put_many_step(
        &self,
        actor: &Actor,
        namespace_id: &str,
        items: Vec<ValidPut>,
        kind: WriteKind,
        step: &JobStep,
    ) -> DomainResult<()> {
        self.write(actor, namespace_id, items, kind, Some(step)).await
    }

    async fn put_one(&self, actor: &Actor, namespace_id: &str, item: ValidPut) -> DomainResult<String> {
        self.known_namespace(namespace_id).await?;
        // No other write through this instance comes between the check and the write; one made
        // on Cloudflare by someone else can (Cloudflare has no compare-and-set).
        let _writer = self.write_lock(namespace_id).await;
        if let Some(expect) = item.expect() {
            let current = self.read_one(namespace_id, item.name()).await?;
            // Cloudflare keeps no writer or time: the conflict names neither.
            expect.check(current.and_then(|key| key.version).map(|version| Found { version, by: None, at: None }))?;
        }
        let token = item.content_token();
        // The mirror's revisions are not Cloudflare's tokens: it records the write unchecked.
        self.write_locked(actor, namespace_id, vec![item.expecting(None)], WriteKind::Update, None).await?;
        Ok(token)
    }

    async fn rename(&self, actor: &Actor, namespace_id: &str, rename: &Rename) -> DomainResult<String> {
        self.known_namespace(namespace_id).await?;
        let Rename { from, to, overwrite, expect } = rename;
        // As put_one: no write through this instance comes between the reads and the writes.
        let _writer = self.write_lock(namespace_id).await;
        let key = self.read_one(namespace_id, from).await?.ok_or_else(|| DomainError::key_not_found(from))?;
        if let Some(expect) = expect {
            expect.check(key.version.clone().map(|version| Found { version, by: None, at: None }))?;
        }
        // Only whether it is there: no version to hash.
        if !overwrite && !self.read_values(namespace_id, std::slice::from_ref(to)).await?.is_empty() {
            return Err(super::sql::name_taken(to));
        }
        // Cloudflare has no rename: the new key is written first, then the old one deleted (a
        // failure between the two leaves both, never neither).
        let item = super::sql::renamed(key.clone(), to, None, now_unix())?;
        let token = item.content_token();
        self.on(namespace_id, self.remote.bulk_write(namespace_id, &[to_bulk(&item)]).await).await?;
        self.on(namespace_id, self.remote.bulk_delete(namespace_id, std::slice::from_ref(from)).await).await?;
        // The mirror moves the details and versions, with the value as Cloudflare held it.
        self.mirrored(namespace_id, self.mirror.rename_in(actor, namespace_id, rename, Some(key)).await.map(|_| ()))?;
        Ok(token)
    }

    async fn delete_many(&self, actor: &Actor, namespace_id: &str, names: &[String]) -> DomainResult<u64> {
        self.known_namespace(namespace_id).await?;
        // How many of the keys were live: the mirror knows the keys written or synced through
        // us; only the others are asked of Cloudflare (none, for keys just listed and synced).
        let known = self.mirror.live_names(namespace_id, names).await?;
        let unknown: Vec<String> = names.iter().filter(|n| !known.contains(*n)).cloned().collect();
        let mut live = known.len() as u64;
        self.each_value(namespace_id, &unknown, |_| live += 1).await?;
        let _writer = self.write_lock(namespace_id).await;
        self.on(namespace_id, self.remote.bulk_delete(namespace_id, names).await).await?;
        self.mirrored(namespace_id, self.mirror.delete_many(actor, namespace_id, names).await)?;
        Ok(live)
    }

    async fn purge_expired(&self) -> DomainResult<u64> {
        // Cloudflare expires keys itself; the mirror drops its copies.
        self.mirror.purge_expired().await
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
        let now = now_unix();
        let wanted = |name: &str| after.is_none_or(|a| name > a) && upto.is_none_or(|u| name <= u);
        let (mut cursor, mut skip) = match after {
            None => (None, 0),
            Some(after) => match self.resume_cursor(namespace_id, prefix, after) {
                Some(position) => position,
                None => {
                    // No remembered position: list from the start and skip to it (slow, rare).
                    let names: Vec<String> = self
                        .remote_names(namespace_id, prefix)
                        .await?
                        .into_iter()
                        .map(|k| k.name)
                        .filter(|n| wanted(n))
                        .take(limit)
                        .collect();
                    let (names, cut) = self.within(namespace_id, names, max_bytes).await?;
                    return Ok(Scanned { keys: self.read_values(namespace_id, &names).await?, cut });
                }
            },
        };
        // One of Cloudflare's pages at a time (at most 1,000 keys); pages whose keys have all
        // expired are passed over, so an empty answer means the end.
        loop {
            let page_size = limit.saturating_add(skip).clamp(10, 1000) as u32;
            let listed = self.remote.list_keys(namespace_id, prefix, cursor.as_deref(), page_size).await;
            let (keys, next) = self.on(namespace_id, listed).await?;
            let listed_count = keys.len();
            // Keys of the page after those already returned, with their place in the page.
            let candidates: Vec<(usize, String)> = keys
                .into_iter()
                .enumerate()
                .skip(skip)
                .filter(|(_, k)| k.expiration.is_none_or(|at| at > now) && wanted(&k.name))
                .map(|(i, k)| (i, k.name))
                .take(limit)
                .collect();
            if candidates.is_empty() && next.is_some() {
                cursor = next;
                skip = 0;
                continue;
            }
            let names: Vec<String> = candidates.iter().map(|(_, n)| n.clone()).collect();
            let (names, cut) = self.within(namespace_id, names, max_bytes).await?;
            if let Some(last) = names.last() {
                // The place in the page just after the last key returned.
                let place = candidates.get(names.len() - 1).map_or(listed_count, |(i, _)| i + 1);
                if place < listed_count {
                    self.remember_cursor(namespace_id, prefix, last, (cursor.clone(), place));
                } else if let Some(next) = next {
                    self.remember_cursor(namespace_id, prefix, last, (Some(next), 0));
                }
            }
            return Ok(Scanned { keys: self.read_values(namespace_id, &names).await?, cut });
        }
    }

    async fn sizes_of(&self, namespace_id: &str, names: &[String]) -> DomainResult<HashMap<String, u64>> {
        self.mirror.sizes_of(namespace_id, names).await
    }

    async fn get_many(&self, namespace_id: &str, names: &[String]) -> DomainResult<Vec<KeyValue>> {
        self.read_values(namespace_id, names).await
    }

    async fn live_names(&self, namespace_id: &str, names: &[String]) -> DomainResult<HashSet<String>> {
        let mut live = HashSet::with_capacity(names.len());
        self.each_value(namespace_id, names, |key| {
            live.insert(key.name);
        })
        .await?;
        Ok(live)
    }

    async fn count_keys(&self, namespace_id: &str, prefix: &str) -> DomainResult<u64> {
        self.known_namespace(namespace_id).await?;
        Ok(self.remote_names(namespace_id, prefix).await?.len() as u64)
    }

    async fn set_expiration(
        &self,
        actor: &Actor,
        namespace_id: &str,
        names: &[String],
        expiration: Option<i64>,
    ) -> DomainResult<Vec<String>> {
        self.known_namespace(namespace_id).await?;
        // Cloudflare has no expiration-only update: the values are read in bulk and written back
        // in bulk with the new expiration (never one request per key). No other write through
        // this instance runs in between; Cloudflare has no compare-and-set, so a write made on
        // Cloudflare by someone else between the read and the write back is the one race left.
        let _writer = self.write_lock(namespace_id).await;
        let current = self.read_values(namespace_id, names).await?;
        let bulk: Vec<BulkWrite> =
            current.iter().map(|k| BulkWrite::new(k.name.clone(), &k.value, expiration, k.metadata.clone())).collect();
        self.on(namespace_id, self.remote.bulk_write(namespace_id, &bulk).await).await?;
        let changed: Vec<String> = current.iter().map(|k| k.name.clone()).collect();
        // The mirror may lack keys written elsewhere: it gets them whole.
        let known = self.mirror.sizes_of(namespace_id, &changed).await?;
        let missing: Vec<ValidPut> = current
            .into_iter()
            .filter(|k| !known.contains_key(&k.name))
            .map(|k| ValidPut::mirrored(KeyValue { expiration, ..k }))
            .collect();
        if !missing.is_empty() {
            self.mirrored(namespace_id, self.mirror.put_many(actor, namespace_id, missing, WriteKind::Update).await)?;
        }
        self.mirrored(namespace_id, self.mirror.set_expiration(actor, namespace_id, &changed, expiration).await)?;
        Ok(changed)
    }
}

/// Cloudflare's code for "namespace not found".
const NAMESPACE_NOT_FOUND: u32 = 10013;

/// Marks a cursor of ours: the rest of a Cloudflare page (`kvm-part:<skip>:<Cloudflare cursor>`).
const PART_CURSOR: &str = "kvm-part:";

fn join_cursor(remote: Option<&str>, skip: u32) -> String {
    format!("{PART_CURSOR}{skip}:{}", remote.unwrap_or_default())
}

/// The Cloudflare cursor (none: the first page) and the keys of its page already given.
fn split_cursor(cursor: &str) -> Option<(Option<String>, u32)> {
    let rest = cursor.strip_prefix(PART_CURSOR)?;
    let (skip, remote) = rest.split_once(':')?;
    let skip: u32 = skip.parse().ok().filter(|n| *n < 1000)?;
    Some((Some(remote.to_owned()).filter(|r| !r.is_empty()), skip))
}
