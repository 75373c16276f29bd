//! The one path every read and write takes, whatever the surface: validate against Cloudflare's
//! limits, then hand the store a write it can persist as a whole.

use std::sync::Arc;
use std::time::Duration;

use crate::actor::Actor;
use crate::catalog::Catalog;
use crate::error::{DomainError, DomainResult};
use crate::limits;
use crate::metrics::{Metrics, Operation};
use crate::model::*;
use crate::store::KvStore;

mod namespace;
pub use namespace::{NamespaceAccess, check_rewind};

/// The KV service shared by the console, scripts and (later) jobs and the other APIs.
#[derive(Clone)]
pub struct Kv {
    store: Arc<dyn KvStore>,
    catalog: Catalog,
    /// Namespaces (ids or titles) the console and its scripts never see (`KVM_PROTECTED_NAMESPACES`).
    protected: Arc<Vec<String>>,
    /// Where every key operation is counted.
    metrics: Metrics,
    /// Whether webhook events are written.
    events: crate::events::EventGate,
    /// The Cloudflare client of the Cloudflare backend (its request counters for `/metrics`).
    remote: Option<crate::cloudflare::CloudflareClient>,
}

/// What an operation on a namespace needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    Read,
    Write,
}

/// How long versions are kept: the newest `keep` of each key, and every one younger than
/// `keep_days`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionRetention {
    pub keep: u32,
    pub keep_days: u32,
}

impl Default for VersionRetention {
    fn default() -> Self {
        Self { keep: 10, keep_days: 30 }
    }
}

impl Kv {
    pub(crate) fn new(
        store: Arc<dyn KvStore>,
        catalog: Catalog,
        metrics: Metrics,
        events: crate::events::EventGate,
    ) -> Self {
        Self { store, catalog, protected: Arc::new(Vec::new()), metrics, events, remote: None }
    }

    /// The Cloudflare client keys go through, on the Cloudflare backend.
    pub fn cloudflare_client(&self) -> Option<&crate::cloudflare::CloudflareClient> {
        self.remote.as_ref()
    }

    /// Whether changes write webhook events (shared with every service on the database).
    pub fn events(&self) -> &crate::events::EventGate {
        &self.events
    }

    /// The recorder of this service's key operations (shared by its clones): flushes, storage
    /// samples, pruning, the rollups, and turning recording on or off.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The same service with these namespaces (ids or titles) hidden from the console and its
    /// scripts: absent from every listing, search and job, and 404 on every direct call.
    pub fn with_protected(mut self, namespaces: Vec<String>) -> Self {
        self.protected = Arc::new(namespaces.into_iter().filter(|n| !n.trim().is_empty()).collect());
        self
    }

    /// Ids of the namespaces `actor` may not see (none for most deployments).
    pub async fn hidden_namespaces(&self, actor: &Actor) -> DomainResult<Vec<String>> {
        if self.protected.is_empty() || !actor.source.hides_protected() {
            return Ok(Vec::new());
        }
        self.store.resolve_namespaces(&self.protected).await
    }

    /// `query` narrowed to the audit rows `actor` may read: those of the namespaces they can see,
    /// and for anyone but an admin, none about API tokens, services or sign-in.
    pub async fn audit_scope(
        &self,
        actor: &Actor,
        mut query: crate::audit::AuditQuery,
    ) -> DomainResult<crate::audit::AuditQuery> {
        query.exclude_namespace_ids.extend(self.hidden_namespaces(actor).await?);
        query.namespace_rows_only = !actor.is_admin();
        Ok(query)
    }

    /// Refuses a title `actor` may not take because a namespace hidden from them holds it, or
    /// the protected list names it. Both get the same answer, "reserved", so the reply never
    /// tells whether a protected namespace exists, nor its id: titles named in the list are
    /// reserved whether or not a namespace has them, and a namespace protected by id reserves
    /// its title the same way.
    async fn check_title_free(&self, actor: &Actor, title: &str, renaming: Option<&str>) -> DomainResult<()> {
        if !actor.source.hides_protected() || self.protected.is_empty() {
            return Ok(());
        }
        let mut reserved = self.protected.iter().any(|p| p == title);
        if !reserved {
            // Our own records answer which namespace holds the title (no request to the backend).
            let holders = self.store.resolve_namespaces(&[title.to_owned()]).await?;
            let hidden = self.hidden_namespaces(actor).await?;
            reserved = holders.iter().any(|id| Some(id.as_str()) != renaming && hidden.contains(id));
        }
        if reserved {
            return Err(DomainError::conflict("title", format!("title: {title:?} is reserved on this server")));
        }
        Ok(())
    }

    /// Refuses what `actor` may not do on `namespace_id`: a write by a read-only user (403), any
    /// access to a namespace hidden from them (404, worded as for a namespace that does not exist).
    pub async fn authorize(&self, actor: &Actor, namespace_id: &str, need: Need) -> DomainResult<()> {
        if need == Need::Write {
            require_write(actor)?;
        }
        if self.hidden_namespaces(actor).await?.iter().any(|id| id == namespace_id) {
            return Err(DomainError::namespace_not_found(namespace_id));
        }
        Ok(())
    }

    /// `actor`'s saved searches, by name.
    pub async fn saved_searches(&self, actor: &Actor) -> DomainResult<Vec<crate::catalog::SavedSearch>> {
        self.catalog.saved_searches(actor).await
    }

    /// Saves a search (the search page's query string) for `actor` under `name`, replacing one
    /// of that name.
    pub async fn save_search(
        &self,
        actor: &Actor,
        name: &str,
        query: &str,
    ) -> DomainResult<crate::catalog::SavedSearch> {
        self.catalog.save_search(actor, name, query, crate::now_unix()).await
    }

    /// Deletes one of `actor`'s saved searches.
    pub async fn delete_saved_search(&self, actor: &Actor, id: &str) -> DomainResult<()> {
        self.catalog.delete_saved_search(actor, id).await
    }

    /// `actor`'s console settings, each as kept or its default.
    pub async fn settings(&self, actor: &Actor) -> DomainResult<Vec<(String, String)>> {
        self.catalog.settings(actor).await
    }

    /// Keeps one of `actor`'s console settings (see [`crate::catalog::SETTINGS`]).
    pub async fn set_setting(&self, actor: &Actor, name: &str, value: &str) -> DomainResult<()> {
        self.catalog.set_setting(actor, name, value, crate::now_unix()).await
    }

    /// The namespaces a job wrote keys in (what undoing it walks), in id order. Refuses a store
    /// whose keys do not live in our database (Cloudflare).
    pub async fn undo_namespaces(&self, job_id: &str) -> DomainResult<Vec<String>> {
        self.catalog.undo_namespaces(job_id).await
    }

    /// How many keys a job wrote (counted once per namespace).
    pub async fn count_undo_keys(&self, job_id: &str) -> DomainResult<u64> {
        self.catalog.count_undo_keys(job_id).await
    }

    /// The SQL store over `db`, with its catalog in the same database.
    pub fn sql(db: crate::Database) -> Self {
        let store: Arc<dyn KvStore> = Arc::new(crate::store::sql::SqlStore::new(db.clone()));
        let metrics = Metrics::new(db.conn.clone());
        let events = db.events.clone();
        Self::new(store.clone(), Catalog::new(db.conn, store), metrics, events)
    }

    /// Cloudflare Workers KV through `client`, with the catalog and the mirror in `db`.
    pub fn cloudflare(db: crate::Database, client: crate::cloudflare::CloudflareClient) -> Self {
        let store: Arc<dyn KvStore> = Arc::new(crate::store::cloudflare::CloudflareStore::new(
            client.clone(),
            crate::store::sql::SqlStore::new(db.clone()),
        ));
        let metrics = Metrics::new(db.conn.clone());
        let events = db.events.clone();
        Self { remote: Some(client), ..Self::new(store.clone(), Catalog::new(db.conn, store), metrics, events) }
    }

    /// One page of namespaces, ordered by title, optionally filtered by a title substring.
    pub async fn list_namespaces(&self, actor: &Actor, query: NamespaceQuery) -> DomainResult<NamespacePage> {
        let (page, per_page) = limits::check_page(query.page, query.per_page)?;
        let mut exclude = query.exclude;
        exclude.extend(self.hidden_namespaces(actor).await?);
        let query = NamespaceQuery { page: Some(page), per_page: Some(per_page), exclude, ..query };
        self.store.list_namespaces(&query).await
    }

    /// Creates a namespace; titles are unique.
    pub async fn create_namespace(&self, actor: &Actor, title: &str) -> DomainResult<Namespace> {
        require_write(actor)?;
        limits::check_title(title)?;
        self.check_title_free(actor, title, None).await?;
        let namespace = self.store.create_namespace(actor, title).await?;
        tracing::info!(user = %actor.user, namespace_id = %namespace.id, "namespace created");
        Ok(namespace)
    }

    /// Gives a namespace a new, unique title.
    pub async fn rename_namespace(&self, actor: &Actor, namespace_id: &str, title: &str) -> DomainResult<Namespace> {
        limits::check_namespace_id(namespace_id)?;
        self.authorize(actor, namespace_id, Need::Write).await?;
        limits::check_title(title)?;
        self.check_title_free(actor, title, Some(namespace_id)).await?;
        let namespace = self.store.rename_namespace(actor, namespace_id, title).await?;
        tracing::info!(user = %actor.user, namespace_id, "namespace renamed");
        Ok(namespace)
    }

    /// Deletes a namespace and every key in it.
    pub async fn delete_namespace(&self, actor: &Actor, namespace_id: &str) -> DomainResult<()> {
        limits::check_namespace_id(namespace_id)?;
        self.authorize(actor, namespace_id, Need::Write).await?;
        self.store.delete_namespace(actor, namespace_id).await?;
        tracing::info!(user = %actor.user, namespace_id, "namespace deleted");
        Ok(())
    }

    /// One namespace with its exact key count and size.
    pub async fn get_namespace(&self, actor: &Actor, namespace_id: &str) -> DomainResult<Namespace> {
        self.namespace(actor, namespace_id, Need::Read).await?.get().await
    }

    /// Fails unless the namespace exists and `actor` may use it as `need` says: the check made
    /// before a request's body is read (an import upload, say).
    pub async fn require_namespace(&self, actor: &Actor, namespace_id: &str, need: Need) -> DomainResult<()> {
        self.namespace(actor, namespace_id, need).await?.require().await
    }

    // The per-key operations below are shorthands for one call through [`Kv::namespace`]: the
    // handle checks the id and the actor's access; its methods do the rest.

    /// One page of live keys in byte order of their names.
    pub async fn list_keys(&self, actor: &Actor, namespace_id: &str, query: KeyQuery) -> DomainResult<KeyPage> {
        self.namespace(actor, namespace_id, Need::Read).await?.list_keys(query).await
    }

    /// A live key with its value, metadata and expiration.
    pub async fn get_key(&self, actor: &Actor, namespace_id: &str, name: &str) -> DomainResult<KeyValue> {
        self.namespace(actor, namespace_id, Need::Read).await?.get_key(name).await
    }

    /// Writes value, metadata and expiration of one key together.
    pub async fn put_key(&self, actor: &Actor, namespace_id: &str, put: PutKey) -> DomainResult<()> {
        self.namespace(actor, namespace_id, Need::Write).await?.put_key(put).await
    }

    /// Writes one key when `expect` holds of it, answering its new version token (see
    /// [`NamespaceAccess::put_key_checked`]).
    pub async fn put_key_checked(
        &self,
        actor: &Actor,
        namespace_id: &str,
        put: PutKey,
        expect: Option<Precondition>,
    ) -> DomainResult<String> {
        self.namespace(actor, namespace_id, Need::Write).await?.put_key_checked(put, expect).await
    }

    /// Renames a key within a namespace (see [`NamespaceAccess::rename_key`]).
    pub async fn rename_key(&self, actor: &Actor, namespace_id: &str, rename: Rename) -> DomainResult<String> {
        self.namespace(actor, namespace_id, Need::Write).await?.rename_key(rename).await
    }

    /// Writes many keys at once: all of them or, when any is invalid, none.
    pub async fn put_many(&self, actor: &Actor, namespace_id: &str, puts: Vec<PutKey>) -> DomainResult<()> {
        self.namespace(actor, namespace_id, Need::Write).await?.put_many(puts).await
    }

    /// Writes many keys with their tags and custom metadata (see
    /// [`NamespaceAccess::put_many_with_details`]).
    pub async fn put_many_with_details(
        &self,
        actor: &Actor,
        namespace_id: &str,
        items: Vec<(PutKey, DetailsWrite)>,
    ) -> DomainResult<()> {
        self.namespace(actor, namespace_id, Need::Write).await?.put_many_with_details(items).await
    }

    /// Writes validated items (see [`ValidPut::new`]).
    pub async fn put_valid(&self, actor: &Actor, namespace_id: &str, items: Vec<ValidPut>) -> DomainResult<()> {
        self.namespace(actor, namespace_id, Need::Write).await?.put_valid(items).await
    }

    /// Copies (or with `remove_source` moves) the named live keys with their details from
    /// `source` to `target` (see [`NamespaceAccess::transfer_to`]).
    pub async fn transfer(
        &self,
        actor: &Actor,
        source: &str,
        target: &str,
        names: &[String],
        overwrite: bool,
        remove_source: bool,
    ) -> DomainResult<Transfer> {
        limits::check_namespace_id(source)?;
        limits::check_namespace_id(target)?;
        let need = if remove_source { Need::Write } else { Need::Read };
        let source = self.namespace(actor, source, need).await?;
        let target = self.namespace(actor, target, Need::Write).await?;
        source.transfer_to(&target, names, overwrite, remove_source).await
    }

    /// The store itself, for domain code that needs what `Kv` does not wrap.
    pub(crate) fn store(&self) -> &Arc<dyn KvStore> {
        &self.store
    }

    /// Sets or removes the expiration of the named live keys; values and metadata stay. Answers
    /// the names changed.
    pub async fn set_expiration(
        &self,
        actor: &Actor,
        namespace_id: &str,
        names: &[String],
        expiration: Option<i64>,
    ) -> DomainResult<Vec<String>> {
        self.namespace(actor, namespace_id, Need::Write).await?.set_expiration(names, expiration).await
    }

    /// Adds, removes or replaces tags on the named live keys (see [`NamespaceAccess::apply_tags`]).
    pub async fn apply_tags(
        &self,
        actor: &Actor,
        namespace_id: &str,
        names: &[String],
        tags: &[String],
        operation: crate::catalog::TagOperation,
    ) -> DomainResult<crate::catalog::TagsApplied> {
        self.namespace(actor, namespace_id, Need::Write).await?.apply_tags(names, tags, operation).await
    }

    /// Deletes one key; answers whether a live key was there.
    pub async fn delete_key(&self, actor: &Actor, namespace_id: &str, name: &str) -> DomainResult<bool> {
        limits::check_key_name(name)?;
        self.namespace(actor, namespace_id, Need::Write).await?.delete_key(name).await
    }

    /// Deletes many keys at once; answers how many live keys were removed.
    pub async fn delete_many(&self, actor: &Actor, namespace_id: &str, names: &[String]) -> DomainResult<u64> {
        self.namespace(actor, namespace_id, Need::Write).await?.delete_many(names).await
    }

    /// Removes expired keys now; returns how many.
    pub async fn purge_expired(&self) -> DomainResult<u64> {
        self.store.purge_expired().await
    }

    /// Drops versions past their retention now; returns how many.
    pub async fn prune_versions(&self, retention: VersionRetention) -> DomainResult<u64> {
        self.catalog.prune_versions(retention.keep, retention.keep_days).await
    }

    /// Brings our records of a namespace in line with the backend where its keys live (keys
    /// written or deleted outside us, on Cloudflare); `None` when the backend is our own database.
    pub async fn sync_namespace(&self, actor: &Actor, namespace_id: &str) -> DomainResult<Option<(u64, u64)>> {
        limits::check_namespace_id(namespace_id)?;
        self.authorize(actor, namespace_id, Need::Write).await?;
        let synced = self.store.sync_namespace(namespace_id).await?;
        if let Some((taken, dropped)) = synced {
            tracing::info!(user = %actor.user, namespace_id, taken, dropped, "namespace synced");
        }
        Ok(synced)
    }

    /// Every namespace the backend has, synced in turn; failures are logged and the rest go on.
    pub async fn sync_all(&self, actor: &Actor) -> DomainResult<()> {
        let mut ids = Vec::new();
        for page in 1.. {
            let query = NamespaceQuery { page: Some(page), per_page: Some(limits::MAX_PER_PAGE), ..Default::default() };
            let listed = self.store.list_namespaces(&query).await?;
            let done = listed.namespaces.len() < limits::MAX_PER_PAGE as usize;
            ids.extend(listed.namespaces.into_iter().map(|n| n.id));
            if done {
                break;
            }
        }
        for id in ids {
            if let Err(err) = self.sync_namespace(actor, &id).await {
                tracing::warn!(%err, namespace_id = %id, "syncing a namespace failed");
            }
        }
        Ok(())
    }

    /// Purges expired keys and prunes versions every `every` until the process ends.
    pub fn spawn_maintenance(&self, every: Duration, retention: VersionRetention) -> tokio::task::JoinHandle<()> {
        let kv = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                match kv.purge_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(purged = n, "expired keys purged"),
                    Err(err) => tracing::warn!(%err, "purging expired keys failed"),
                }
                match kv.prune_versions(retention).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(pruned = n, "old versions pruned"),
                    Err(err) => tracing::warn!(%err, "pruning versions failed"),
                }
            }
        })
    }

    /// Tags and custom metadata of a key.
    pub async fn get_key_details(&self, actor: &Actor, namespace_id: &str, key: &str) -> DomainResult<KeyDetails> {
        self.namespace(actor, namespace_id, Need::Read).await?.get_key_details(key).await
    }

    /// Sets tags and/or custom metadata of a key; an omitted field is left unchanged.
    pub async fn put_key_details(
        &self,
        actor: &Actor,
        namespace_id: &str,
        key: &str,
        tags: Option<Vec<String>>,
        custom_metadata: Option<serde_json::Value>,
    ) -> DomainResult<KeyDetails> {
        self.namespace(actor, namespace_id, Need::Write).await?.put_key_details(key, tags, custom_metadata).await
    }

    /// Tags in use, with counts, in one namespace or all (the first page of at most 1,000).
    pub async fn list_tags(&self, actor: &Actor, namespace_id: Option<&str>) -> DomainResult<Vec<TagCount>> {
        Ok(self.list_tags_page(actor, namespace_id, None, None).await?.0)
    }

    /// One page of the tags in use, ordered by tag: `limit` 1..1000 (default 1000), `cursor` from
    /// the previous page; answers the cursor of the next.
    pub async fn list_tags_page(
        &self,
        actor: &Actor,
        namespace_id: Option<&str>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> DomainResult<(Vec<TagCount>, Option<String>)> {
        if let Some(id) = namespace_id {
            limits::check_namespace_id(id)?;
            self.authorize(actor, id, Need::Read).await?;
        }
        let limit = limits::check_list_limit(limit)?;
        let hidden = self.hidden_namespaces(actor).await?;
        self.catalog.list_tags(namespace_id, &hidden, cursor, limit).await
    }

    /// Live keys across namespaces matching every filter given.
    pub async fn search_keys(&self, actor: &Actor, query: SearchQuery) -> DomainResult<SearchPage> {
        let started = std::time::Instant::now();
        // A search of one namespace counts as a listing of it; of several, as one across them.
        let namespace_id = match query.namespace_ids.as_slice() {
            [one] if limits::check_namespace_id(one).is_ok() => one.clone(),
            _ => String::new(),
        };
        let result = self.search_visible(actor, query).await;
        let found = result.as_ref().map_or(0, |page| page.results.len() as u64);
        self.metrics.record(actor, &namespace_id, Operation::List, found, started, &result);
        result
    }

    async fn search_visible(&self, actor: &Actor, mut query: SearchQuery) -> DomainResult<SearchPage> {
        for id in &query.namespace_ids {
            limits::check_namespace_id(id)?;
        }
        let hidden = self.hidden_namespaces(actor).await?;
        if !hidden.is_empty() {
            if query.namespace_ids.is_empty() {
                query.exclude_namespace_ids = hidden;
            } else {
                // Asking for a hidden namespace by id finds nothing in it, as if it did not exist.
                query.namespace_ids.retain(|id| !hidden.contains(id));
                if query.namespace_ids.is_empty() {
                    return Ok(SearchPage { results: Vec::new(), cursor: None, total: Some(0) });
                }
            }
        }
        self.catalog.search(&query).await
    }

    /// Kept versions of a key, newest first (the first page of at most 1,000).
    pub async fn list_key_versions(
        &self,
        actor: &Actor,
        namespace_id: &str,
        key: &str,
    ) -> DomainResult<Vec<VersionInfo>> {
        Ok(self.list_key_versions_page(actor, namespace_id, key, None, None).await?.0)
    }

    /// One page of a key's kept versions (see [`NamespaceAccess::list_key_versions_page`]).
    pub async fn list_key_versions_page(
        &self,
        actor: &Actor,
        namespace_id: &str,
        key: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> DomainResult<(Vec<VersionInfo>, Option<String>)> {
        self.namespace(actor, namespace_id, Need::Read).await?.list_key_versions_page(key, limit, cursor).await
    }

    /// One kept version with its value.
    pub async fn get_key_version(
        &self,
        actor: &Actor,
        namespace_id: &str,
        key: &str,
        version: i64,
    ) -> DomainResult<VersionValue> {
        self.namespace(actor, namespace_id, Need::Read).await?.get_key_version(key, version).await
    }

    /// Writes a kept version back as the key's current state (see
    /// [`NamespaceAccess::restore_key_version`]).
    pub async fn restore_key_version(
        &self,
        actor: &Actor,
        namespace_id: &str,
        key: &str,
        version: i64,
    ) -> DomainResult<()> {
        self.namespace(actor, namespace_id, Need::Write).await?.restore_key_version(key, version).await
    }
}

pub use crate::actor::require_write;
