//! The one owner of every write: [`WriteTxn`], a write transaction through which alone values,
//! versions, details, namespace rows and counters, and audit rows are written. A change and its
//! audit row are therefore always in one transaction: both are committed or neither is.
//!
//! Features (the SQL store, the catalog, jobs, services, tokens) open a `WriteTxn`, read through
//! [`WriteTxn::conn`] and write their own tables (jobs, services, tokens) there, and call its
//! methods for everything else. The few writes that record no change (an access time, a
//! namespace adopted from Cloudflare, pruning) are the free functions at the end.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, SqlErr,
};

use crate::actor::Actor;
use crate::entity::{audit_log, job, job_failure, key_details, key_tag, key_version, kv_entry, namespace};
use crate::error::{DomainError, DomainResult};
use crate::model::{DetailsWrite, JobStep, KeyDetails, KeyFailure, ValidPut};
use crate::sql::{BYTES_PER_STATEMENT, ROWS_PER_STATEMENT, Sql, get};

/// Keys named in the details of a change to many keys.
const NAMED_KEYS: usize = 10;

/// A write transaction: on SQLite `BEGIN IMMEDIATE` (see [`crate::db::begin_write`]). Dropped
/// without [`WriteTxn::commit`], it rolls back.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    backend: DbBackend,
    now: i64,
    /// Titles of the namespaces locked in this transaction, read by the lock's own statement.
    titles: HashMap<String, String>,
    /// The revision each namespace locked in this transaction took: what the keys it writes
    /// there record as their version.
    revisions: HashMap<String, i64>,
    /// Set when this transaction wrote webhook events: the sender is woken once it commits.
    pub(crate) emitted: Option<crate::events::EventGate>,
    /// Set once this transaction kept a version of a key (it replaced a live state).
    kept_versions: std::sync::atomic::AtomicBool,
}

pub(crate) fn title_conflict(title: &str) -> DomainError {
    DomainError::conflict("title", format!("title: a namespace titled {title:?} already exists"))
}

fn map_unique(err: sea_orm::DbErr, title: &str) -> DomainError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => title_conflict(title),
        _ => DomainError::internal(err),
    }
}

impl WriteTxn {
    /// Begins a write transaction; `now` is the time every row it writes records.
    pub async fn begin(conn: &DatabaseConnection, now: i64) -> DomainResult<Self> {
        let txn = crate::db::begin_write(conn).await?;
        Ok(Self {
            txn,
            backend: conn.get_database_backend(),
            now,
            titles: HashMap::new(),
            revisions: HashMap::new(),
            emitted: None,
            kept_versions: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Reads inside the transaction, and writes of a feature's own tables (jobs, services, tokens).
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    pub fn now(&self) -> i64 {
        self.now
    }

    pub async fn commit(self) -> DomainResult<()> {
        self.txn.commit().await?;
        if let Some(gate) = &self.emitted {
            gate.wake();
        }
        Ok(())
    }

    /// Takes the namespace's row lock (PostgreSQL) or holds the write lock (SQLite) so that
    /// concurrent writers to one namespace keep its counters exact, takes the namespace's next
    /// revision (the version of the keys this transaction writes there), and reads its title
    /// for the audit row, in one statement. Fails when the namespace does not exist.
    pub async fn lock_namespace(&mut self, namespace_id: &str) -> DomainResult<()> {
        if self.titles.contains_key(namespace_id) {
            return Ok(());
        }
        let mut sql = Sql::new(self.backend, "UPDATE namespaces SET last_accessed = ");
        sql.bind(self.now).push(", revision = revision + 1 WHERE id = ").bind(namespace_id);
        sql.push(" RETURNING title, revision");
        let row = self
            .txn
            .query_one_raw(sql.statement())
            .await?
            .ok_or_else(|| DomainError::namespace_not_found(namespace_id))?;
        self.titles.insert(namespace_id.to_owned(), get(&row, "title")?);
        self.revisions.insert(namespace_id.to_owned(), crate::sql::get_int(&row, "revision")?);
        Ok(())
    }

    /// The revision a namespace locked in this transaction took (see [`Self::lock_namespace`]).
    pub fn revision(&self, namespace_id: &str) -> DomainResult<i64> {
        self.revisions
            .get(namespace_id)
            .copied()
            .ok_or_else(|| DomainError::internal(format!("namespace {namespace_id} written without its lock")))
    }

    /// The title of a namespace: as locked in this transaction, else read (`None` when missing).
    pub async fn title_of(&self, namespace_id: &str) -> DomainResult<Option<String>> {
        if let Some(title) = self.titles.get(namespace_id) {
            return Ok(Some(title.clone()));
        }
        let row = namespace::Entity::find_by_id(namespace_id.to_owned()).one(&self.txn).await?;
        Ok(row.map(|namespace| namespace.title))
    }

    // ---- audit rows ----

    /// Records one change. `namespace` is (id, title at the time).
    pub async fn audit(
        &self,
        actor: &Actor,
        operation: &str,
        namespace: Option<(&str, Option<&str>)>,
        key: Option<&str>,
        details: serde_json::Value,
    ) -> DomainResult<()> {
        let sql = self.audit_sql(actor, operation, namespace, key, &details);
        self.txn.execute_raw(sql.statement()).await?;
        Ok(())
    }

    /// The insert of one audit row.
    fn audit_sql(
        &self,
        actor: &Actor,
        operation: &str,
        namespace: Option<(&str, Option<&str>)>,
        key: Option<&str>,
        details: &serde_json::Value,
    ) -> Sql {
        let mut sql = Sql::new(
            self.backend,
            "INSERT INTO audit_log (at, user_name, source, operation, namespace_id, namespace_title, key_name, details, request_id) VALUES (",
        );
        sql.bind(self.now).push(", ").bind(actor.user.as_str()).push(", ").bind(actor.source.as_str());
        sql.push(", ").bind(operation).push(", ").bind(namespace.map(|(id, _)| id.to_owned()));
        sql.push(", ").bind(namespace.and_then(|(_, title)| title.map(str::to_owned)));
        sql.push(", ").bind(key.map(str::to_owned)).push(", ").bind(details.to_string());
        sql.push(", ").bind(actor.request_id.clone()).push(")");
        sql
    }

    /// Records a change about a namespace (its title as locked or read in this transaction).
    pub async fn audit_namespace(
        &self,
        actor: &Actor,
        operation: &str,
        namespace_id: &str,
        details: serde_json::Value,
    ) -> DomainResult<()> {
        let title = self.title_of(namespace_id).await?;
        self.audit(actor, operation, Some((namespace_id, title.as_deref())), None, details).await
    }

    /// Records a change to keys (as [`Self::audit_keys`]) with the webhook events it causes (as
    /// [`Self::emit`]; none while no endpoint is enabled) in one statement: the hot path of a
    /// key write pays one round trip to the database for both rows, not two.
    #[allow(clippy::too_many_arguments)]
    pub async fn audit_keys_emitting(
        &mut self,
        actor: &Actor,
        operations: (&str, &str),
        namespace_id: &str,
        names: &[&str],
        details: serde_json::Value,
        gate: &crate::events::EventGate,
        events: impl FnOnce() -> Vec<crate::events::EventItem>,
    ) -> DomainResult<()> {
        let events = if gate.is_open() { events() } else { Vec::new() };
        if events.is_empty() {
            return self.audit_keys(actor, operations, namespace_id, names, details).await;
        }
        self.record_job_writes(actor, operations.0, namespace_id, names).await?;
        let title = self.title_of(namespace_id).await?;
        let (operation, key, details) = keys_row(operations, names, details);
        let audit = self.audit_sql(actor, operation, Some((namespace_id, title.as_deref())), key, &details);
        let outbox = self.outbox_sql(actor, Some(namespace_id), title, &events)?;
        let mut sql = match self.backend {
            // A data-modifying CTE: both inserts in one statement.
            DbBackend::Postgres => {
                let mut sql = Sql::new(self.backend, "WITH audit_row AS (");
                sql.push_sql(&audit).push(") ");
                sql
            }
            // Two statements in one call: SQLite runs them in turn, binding each its values.
            _ => {
                let mut sql = Sql::new(self.backend, "");
                sql.push_sql(&audit).push("; ");
                sql
            }
        };
        sql.push_sql(&outbox);
        self.txn.execute_raw(sql.statement()).await?;
        self.emitted = Some(gate.clone());
        Ok(())
    }

    /// Records a change to one or many keys of a namespace: one row, naming the key when there is
    /// one, else the count and the first few names.
    pub async fn audit_keys(
        &self,
        actor: &Actor,
        (operation_one, operation_many): (&str, &str),
        namespace_id: &str,
        names: &[&str],
        details: serde_json::Value,
    ) -> DomainResult<()> {
        self.record_job_writes(actor, operation_one, namespace_id, names).await?;
        let title = self.title_of(namespace_id).await?;
        let (operation, key, details) = keys_row((operation_one, operation_many), names, details);
        self.audit(actor, operation, Some((namespace_id, title.as_deref())), key, details).await
    }

    /// For a job's change to keys (`actor.job_id`), records each key with this transaction's
    /// revision of the namespace and whether the write replaced a live state (a version was
    /// kept of it in this transaction): what undoing the job reads. Nothing for other actors.
    async fn record_job_writes(
        &self,
        actor: &Actor,
        operation: &str,
        namespace_id: &str,
        names: &[&str],
    ) -> DomainResult<()> {
        let Some(job_id) = actor.job_id.as_deref() else { return Ok(()) };
        // Tags and custom metadata are not kept by versions: an undo cannot take them back.
        if names.is_empty() || matches!(operation, "key.tags" | "key.details") {
            return Ok(());
        }
        let revision = self.revision(namespace_id)?;
        for chunk in names.chunks(ROWS_PER_STATEMENT) {
            let mut sql = Sql::new(
                self.backend,
                "INSERT INTO job_writes (job_id, namespace_id, name, revision, operation, had_before) VALUES ",
            );
            for (i, name) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" }).bind(job_id).push(", ").bind(namespace_id);
                sql.push(", ").bind(*name).push(", ").bind(revision).push(", ").bind(operation).push(", ").bind(false);
                sql.push(")");
            }
            self.txn.execute_raw(sql.statement()).await?;
            if !self.kept_versions.load(std::sync::atomic::Ordering::Relaxed) {
                // Nothing replaced in this transaction (an import of new keys, say).
                continue;
            }
            let mut sql = Sql::new(self.backend, "UPDATE job_writes SET had_before = ");
            sql.bind(true).push(" WHERE job_id = ").bind(job_id).push(" AND namespace_id = ").bind(namespace_id);
            sql.push(" AND revision = ").bind(revision).push(" AND name IN (SELECT v.name FROM key_versions v ");
            sql.push("WHERE v.namespace_id = ").bind(namespace_id).push(" AND v.revision = ").bind(revision);
            sql.push(" AND v.name IN ").bind_list(chunk).push(")");
            self.txn.execute_raw(sql.statement()).await?;
        }
        Ok(())
    }

    // ---- namespaces ----

    /// A new namespace row; with `adopt`, an existing row of that id takes the title instead
    /// (a namespace Cloudflare made).
    pub async fn insert_namespace(&mut self, id: &str, title: &str, adopt: bool) -> DomainResult<()> {
        let insert = namespace::Entity::insert(namespace_row(id, title, self.now));
        let result = if adopt {
            insert
                .on_conflict(
                    OnConflict::column(namespace::Column::Id).update_column(namespace::Column::Title).to_owned(),
                )
                .exec_without_returning(&self.txn)
                .await
        } else {
            insert.exec_without_returning(&self.txn).await
        };
        result.map_err(|e| map_unique(e, title))?;
        self.titles.insert(id.to_owned(), title.to_owned());
        Ok(())
    }

    /// Retitles a locked namespace.
    pub async fn rename_namespace(&mut self, namespace_id: &str, title: &str) -> DomainResult<()> {
        namespace::Entity::update_many()
            .col_expr(namespace::Column::Title, Expr::value(title))
            .filter(namespace::Column::Id.eq(namespace_id))
            .exec(&self.txn)
            .await
            .map_err(|e| map_unique(e, title))?;
        self.titles.insert(namespace_id.to_owned(), title.to_owned());
        Ok(())
    }

    /// Deletes a locked namespace with its keys and everything kept about them.
    pub async fn delete_namespace(&mut self, namespace_id: &str) -> DomainResult<()> {
        key_details::Entity::delete_many()
            .filter(key_details::Column::NamespaceId.eq(namespace_id))
            .exec(&self.txn)
            .await?;
        key_tag::Entity::delete_many().filter(key_tag::Column::NamespaceId.eq(namespace_id)).exec(&self.txn).await?;
        key_version::Entity::delete_many()
            .filter(key_version::Column::NamespaceId.eq(namespace_id))
            .exec(&self.txn)
            .await?;
        kv_entry::Entity::delete_many().filter(kv_entry::Column::NamespaceId.eq(namespace_id)).exec(&self.txn).await?;
        namespace::Entity::delete_by_id(namespace_id.to_owned()).exec(&self.txn).await?;
        Ok(())
    }

    /// Adds to a namespace's key count and bytes.
    pub async fn add_to_counters(&self, namespace_id: &str, keys: i64, bytes: i64) -> DomainResult<()> {
        if keys == 0 && bytes == 0 {
            return Ok(());
        }
        namespace::Entity::update_many()
            .col_expr(namespace::Column::KeyCount, Expr::col(namespace::Column::KeyCount).add(keys))
            .col_expr(namespace::Column::SizeBytes, Expr::col(namespace::Column::SizeBytes).add(bytes))
            .filter(namespace::Column::Id.eq(namespace_id))
            .exec(&self.txn)
            .await?;
        Ok(())
    }

    // ---- values ----

    /// Inserts or replaces the rows of `items` (each name once), a few hundred per statement.
    pub async fn put_values(&self, actor: &Actor, namespace_id: &str, items: Vec<ValidPut>) -> DomainResult<()> {
        let revision = self.revision(namespace_id)?;
        let mut batch: Vec<kv_entry::ActiveModel> = Vec::new();
        let mut batch_bytes = 0usize;
        for item in items {
            let (name, value, metadata, expiration, _) = item.into_parts();
            if !batch.is_empty()
                && (batch.len() >= ROWS_PER_STATEMENT || batch_bytes.saturating_add(value.len()) > BYTES_PER_STATEMENT)
            {
                self.upsert(std::mem::take(&mut batch)).await?;
                batch_bytes = 0;
            }
            batch_bytes = batch_bytes.saturating_add(value.len());
            batch.push(kv_entry::ActiveModel {
                namespace_id: Set(namespace_id.to_owned()),
                name: Set(name),
                metadata: Set(metadata),
                expiration: Set(expiration),
                size: Set(value.len() as i64),
                created_at: Set(self.now),
                updated_at: Set(self.now),
                revision: Set(revision),
                updated_by: Set(Some(actor.user.clone())),
                value: Set(value),
            });
        }
        self.upsert(batch).await
    }

    async fn upsert(&self, rows: Vec<kv_entry::ActiveModel>) -> DomainResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        kv_entry::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([kv_entry::Column::NamespaceId, kv_entry::Column::Name])
                    .update_columns([
                        kv_entry::Column::Metadata,
                        kv_entry::Column::Expiration,
                        kv_entry::Column::Size,
                        kv_entry::Column::UpdatedAt,
                        kv_entry::Column::Revision,
                        kv_entry::Column::UpdatedBy,
                        kv_entry::Column::Value,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.txn)
            .await?;
        Ok(())
    }

    /// Deletes the rows of the named keys.
    pub async fn delete_values(&self, namespace_id: &str, names: &[&str]) -> DomainResult<()> {
        for chunk in names.chunks(ROWS_PER_STATEMENT) {
            kv_entry::Entity::delete_many()
                .filter(kv_entry::Column::NamespaceId.eq(namespace_id))
                .filter(kv_entry::Column::Name.is_in(chunk.iter().copied()))
                .exec(&self.txn)
                .await?;
        }
        Ok(())
    }

    /// Sets the expiration of the named keys (at most [`ROWS_PER_STATEMENT`]).
    pub async fn set_expiration(
        &self,
        actor: &Actor,
        namespace_id: &str,
        names: &[&str],
        expiration: Option<i64>,
    ) -> DomainResult<()> {
        kv_entry::Entity::update_many()
            .col_expr(kv_entry::Column::Expiration, Expr::value(expiration))
            .col_expr(kv_entry::Column::UpdatedAt, Expr::value(self.now))
            .col_expr(kv_entry::Column::Revision, Expr::value(self.revision(namespace_id)?))
            .col_expr(kv_entry::Column::UpdatedBy, Expr::value(actor.user.clone()))
            .filter(kv_entry::Column::NamespaceId.eq(namespace_id))
            .filter(kv_entry::Column::Name.is_in(names.iter().copied()))
            .exec(&self.txn)
            .await?;
        Ok(())
    }

    /// Deletes a locked namespace's keys that expired (`count` of them, `bytes` in all), with
    /// their details, and takes them off its counters.
    pub async fn purge_expired(&self, namespace_id: &str, count: i64, bytes: i64) -> DomainResult<()> {
        // The names of the namespace's expired keys, as a subquery of each delete.
        let expired = || {
            Query::select()
                .column(kv_entry::Column::Name)
                .from(kv_entry::Entity)
                .and_where(kv_entry::Column::NamespaceId.eq(namespace_id))
                .and_where(kv_entry::Column::Expiration.lte(self.now))
                .to_owned()
        };
        key_details::Entity::delete_many()
            .filter(key_details::Column::NamespaceId.eq(namespace_id))
            .filter(key_details::Column::Name.in_subquery(expired()))
            .exec(&self.txn)
            .await?;
        key_tag::Entity::delete_many()
            .filter(key_tag::Column::NamespaceId.eq(namespace_id))
            .filter(key_tag::Column::Name.in_subquery(expired()))
            .exec(&self.txn)
            .await?;
        kv_entry::Entity::delete_many()
            .filter(kv_entry::Column::NamespaceId.eq(namespace_id))
            .filter(kv_entry::Column::Expiration.lte(self.now))
            .exec(&self.txn)
            .await?;
        self.add_to_counters(namespace_id, -count, -bytes).await
    }

    // ---- versions and details ----

    /// Keeps the state of each named live key as a version, before `kind` replaces it, with
    /// when that state was written (the row's `updated_at`), when it was replaced (now) and by
    /// which revision of the namespace (this transaction's, when it holds the lock).
    pub async fn record_versions(
        &self,
        namespace_id: &str,
        names: &[&str],
        operation: &str,
        actor: &Actor,
    ) -> DomainResult<()> {
        for chunk in names.chunks(ROWS_PER_STATEMENT) {
            let mut sql = Sql::new(
                self.backend,
                "INSERT INTO key_versions (namespace_id, name, version, operation, metadata, expiration, size, created_at, created_by, written_at, revision, value) \
                 SELECT e.namespace_id, e.name, COALESCE((SELECT MAX(v.version) FROM key_versions v \
                 WHERE v.namespace_id = e.namespace_id AND v.name = e.name), 0) + 1, ",
            );
            sql.bind(operation).push(", e.metadata, e.expiration, e.size, ").bind(self.now).push(", ");
            sql.bind(actor.user.as_str()).push(", e.updated_at, ").bind(self.revisions.get(namespace_id).copied());
            sql.push(", e.value FROM kv_entries e WHERE e.namespace_id = ").bind(namespace_id);
            sql.push(" AND (e.expiration IS NULL OR e.expiration > ").bind(self.now).push(") AND e.name IN ");
            sql.bind_list(chunk);
            if self.txn.execute_raw(sql.statement()).await?.rows_affected() > 0 {
                self.kept_versions.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// Moves the kept versions of key `from` to key `to` (a rename): numbered on after those
    /// `to` already has, so that both histories stay, the renamed key's the newest. Callers hold
    /// the namespace lock.
    pub async fn move_versions(&self, namespace_id: &str, from: &str, to: &str) -> DomainResult<()> {
        // The offset is read first, once: a subquery in the UPDATE would be the engine's choice
        // to evaluate once or per row.
        let mut sql =
            Sql::new(self.backend, "SELECT COALESCE(MAX(version), 0) AS top FROM key_versions WHERE namespace_id = ");
        sql.bind(namespace_id).push(" AND name = ").bind(to);
        let top = match self.txn.query_one_raw(sql.statement()).await? {
            Some(row) => crate::sql::get_int(&row, "top")?,
            None => 0,
        };
        let mut sql = Sql::new(self.backend, "UPDATE key_versions SET version = version + ");
        sql.bind(top).push(", name = ").bind(to);
        sql.push(" WHERE namespace_id = ").bind(namespace_id).push(" AND name = ").bind(from);
        self.txn.execute_raw(sql.statement()).await?;
        Ok(())
    }

    /// Writes tags and/or custom metadata of many keys in a few statements per chunk; a `None`
    /// field keeps the key's current one. Callers hold the namespace lock and know the keys live.
    pub async fn write_details(&self, namespace_id: &str, items: &[(String, DetailsWrite)]) -> DomainResult<()> {
        for chunk in items.chunks(ROWS_PER_STATEMENT) {
            let partial: Vec<&str> = chunk
                .iter()
                .filter(|(_, d)| d.tags.is_none() || d.custom_metadata.is_none())
                .map(|(name, _)| name.as_str())
                .collect();
            let current = if partial.is_empty() {
                Default::default()
            } else {
                details_of(&self.txn, namespace_id, &partial).await?
            };
            let mut rows = Vec::with_capacity(chunk.len());
            for (name, write) in chunk {
                let existing = current.get(name);
                let tags = match &write.tags {
                    Some(tags) => tags.clone(),
                    None => existing.map(|d| d.tags.clone()).unwrap_or_default(),
                };
                let custom = match &write.custom_metadata {
                    Some(custom) => custom.clone(),
                    None => existing.map(|d| d.custom_metadata.clone()).unwrap_or_else(|| serde_json::json!({})),
                };
                rows.push((name.as_str(), tags, custom));
            }
            let mut details = Vec::with_capacity(rows.len());
            for (name, tags, custom) in &rows {
                details.push(key_details::ActiveModel {
                    namespace_id: Set(namespace_id.to_owned()),
                    name: Set((*name).to_owned()),
                    tags: Set(serde_json::to_string(tags).map_err(DomainError::internal)?),
                    custom_metadata: Set(serde_json::to_string(custom).map_err(DomainError::internal)?),
                    created_at: Set(self.now),
                    updated_at: Set(self.now),
                });
            }
            key_details::Entity::insert_many(details)
                .on_conflict(
                    OnConflict::columns([key_details::Column::NamespaceId, key_details::Column::Name])
                        .update_columns([
                            key_details::Column::Tags,
                            key_details::Column::CustomMetadata,
                            key_details::Column::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(&self.txn)
                .await?;
            let names: Vec<&str> = rows.iter().map(|(name, ..)| *name).collect();
            key_tag::Entity::delete_many()
                .filter(key_tag::Column::NamespaceId.eq(namespace_id))
                .filter(key_tag::Column::Name.is_in(names))
                .exec(&self.txn)
                .await?;
            let tag_rows: Vec<(&str, &String)> =
                rows.iter().flat_map(|(name, tags, _)| tags.iter().map(move |tag| (*name, tag))).collect();
            for tag_chunk in tag_rows.chunks(ROWS_PER_STATEMENT) {
                let tags = tag_chunk.iter().map(|(name, tag)| key_tag::ActiveModel {
                    namespace_id: Set(namespace_id.to_owned()),
                    name: Set((*name).to_owned()),
                    tag_key: Set(tag.to_lowercase()),
                    tag: Set((*tag).clone()),
                });
                key_tag::Entity::insert_many(tags).exec_without_returning(&self.txn).await?;
            }
        }
        Ok(())
    }

    /// Removes the details of keys that are gone.
    pub async fn forget_details(&self, namespace_id: &str, names: &[&str]) -> DomainResult<()> {
        for chunk in names.chunks(ROWS_PER_STATEMENT) {
            key_details::Entity::delete_many()
                .filter(key_details::Column::NamespaceId.eq(namespace_id))
                .filter(key_details::Column::Name.is_in(chunk.iter().copied()))
                .exec(&self.txn)
                .await?;
            key_tag::Entity::delete_many()
                .filter(key_tag::Column::NamespaceId.eq(namespace_id))
                .filter(key_tag::Column::Name.is_in(chunk.iter().copied()))
                .exec(&self.txn)
                .await?;
        }
        Ok(())
    }

    // ---- jobs ----

    /// Saves a job's progress as of a batch, with the batch's failures, in the batch's
    /// transaction: a job resumed after a crash continues right after the last batch written.
    pub async fn save_job_step(&self, step: &JobStep) -> DomainResult<()> {
        let row: job::ActiveModel = job::Progress {
            total: step.total,
            processed: step.processed,
            errors: step.errors,
            skipped: step.skipped,
            current_key: step.current_key.clone(),
            at: step.at,
            checkpoint: Some(step.checkpoint.clone()),
        }
        .into();
        job::Entity::update_many().set(row).filter(job::Column::Id.eq(step.job_id.as_str())).exec(&self.txn).await?;
        add_job_failures(&self.txn, &step.job_id, &step.failures).await
    }
}

/// The outbox of webhook events ([`crate::events`]): written in the change's own transaction.
impl WriteTxn {
    /// Writes `events` to the outbox in this transaction, when an endpoint may want them.
    pub async fn emit(
        &mut self,
        gate: &crate::events::EventGate,
        actor: &Actor,
        namespace_id: Option<&str>,
        events: Vec<crate::events::EventItem>,
    ) -> DomainResult<()> {
        if events.is_empty() || !gate.is_open() {
            return Ok(());
        }
        let title = match namespace_id {
            Some(id) => self.title_of(id).await?,
            None => None,
        };
        let sql = self.outbox_sql(actor, namespace_id, title, &events)?;
        self.conn().execute_raw(sql.statement()).await?;
        self.emitted = Some(gate.clone());
        Ok(())
    }

    /// The insert of one outbox row holding `events`.
    fn outbox_sql(
        &self,
        actor: &Actor,
        namespace_id: Option<&str>,
        title: Option<String>,
        events: &[crate::events::EventItem],
    ) -> DomainResult<Sql> {
        let mut kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let kinds = kinds.join(",");
        let payload = serde_json::to_string(events).map_err(DomainError::internal)?;
        // On PostgreSQL the row records its transaction, which orders the outbox for the sender
        // (see `crate::webhooks`); on SQLite writers take turns and the id alone orders it.
        let (txid_column, txid_value) = match self.backend {
            DbBackend::Postgres => (", txid", ", pg_current_xact_id()::text::bigint"),
            _ => ("", ""),
        };
        let mut sql = Sql::new(
            self.backend,
            &format!(
                "INSERT INTO webhook_outbox (at, namespace_id, namespace_title, user_name, source, kinds, events{txid_column}) VALUES ("
            ),
        );
        sql.bind(self.now()).push(", ").bind(namespace_id.map(str::to_owned)).push(", ").bind(title);
        sql.push(", ").bind(actor.user.as_str()).push(", ").bind(actor.source.as_str());
        sql.push(", ").bind(kinds).push(", ").bind(payload).push(txid_value).push(")");
        Ok(sql)
    }
}

/// The operation, key and details of the audit row of a change to `names`: the one-key
/// operation naming the key, or the many-key one with the count and the first names.
fn keys_row<'a>(
    (operation_one, operation_many): (&'a str, &'a str),
    names: &[&'a str],
    mut details: serde_json::Value,
) -> (&'a str, Option<&'a str>, serde_json::Value) {
    match names {
        [one] => (operation_one, Some(*one), details),
        _ => {
            if let Some(map) = details.as_object_mut() {
                map.insert("count".into(), names.len().into());
                map.insert("keys".into(), names.iter().take(NAMED_KEYS).copied().collect::<Vec<_>>().into());
            }
            (operation_many, None, details)
        }
    }
}

/// Records keys a job could not process.
pub async fn add_job_failures(conn: &impl ConnectionTrait, job_id: &str, failures: &[KeyFailure]) -> DomainResult<()> {
    for chunk in failures.chunks(200) {
        let rows = chunk.iter().map(|failure| job_failure::ActiveModel {
            job_id: Set(job_id.to_owned()),
            key_name: Set(failure.key.clone()),
            reason: Set(failure.reason.clone()),
            ..Default::default()
        });
        job_failure::Entity::insert_many(rows).exec_without_returning(conn).await?;
    }
    Ok(())
}

fn namespace_row(id: &str, title: &str, now: i64) -> namespace::ActiveModel {
    namespace::ActiveModel {
        id: Set(id.to_owned()),
        title: Set(title.to_owned()),
        key_count: Set(0),
        size_bytes: Set(0),
        created_at: Set(now),
        last_accessed: Set(now),
        revision: Set(0),
    }
}

/// Stored details of the named keys that have any: name -> details. A read, here because the
/// writer needs it inside its transaction (partial detail writes) as much as the catalog does.
pub async fn details_of(
    conn: &impl ConnectionTrait,
    namespace_id: &str,
    names: &[&str],
) -> DomainResult<HashMap<String, KeyDetails>> {
    let mut out = HashMap::new();
    for chunk in names.chunks(ROWS_PER_STATEMENT) {
        let rows = key_details::Entity::find()
            .filter(key_details::Column::NamespaceId.eq(namespace_id))
            .filter(key_details::Column::Name.is_in(chunk.iter().copied()))
            .all(conn)
            .await?;
        for row in rows {
            let name = row.name.clone();
            out.insert(name, details_row(row));
        }
    }
    Ok(out)
}

/// One `key_details` row as the details it holds.
pub fn details_row(row: key_details::Model) -> KeyDetails {
    KeyDetails {
        tags: serde_json::from_str(&row.tags).unwrap_or_default(),
        custom_metadata: serde_json::from_str(&row.custom_metadata).unwrap_or_else(|_| serde_json::json!({})),
        created_at: Some(row.created_at),
        updated_at: Some(row.updated_at),
    }
}

// ---- writes that record no change ----

/// Records that a namespace was used at `now`, unless it was within `interval` seconds.
pub async fn record_access(conn: &DatabaseConnection, namespace_id: &str, now: i64, interval: i64) -> DomainResult<()> {
    namespace::Entity::update_many()
        .col_expr(namespace::Column::LastAccessed, Expr::value(now))
        .filter(namespace::Column::Id.eq(namespace_id))
        .filter(namespace::Column::LastAccessed.lt(now - interval))
        .exec(conn)
        .await?;
    Ok(())
}

/// Takes in a namespace that exists upstream under this id: inserted when missing, retitled
/// when its title changed. Not a change made through us: no audit row.
pub async fn adopt_namespace(conn: &DatabaseConnection, id: &str, title: &str, now: i64) -> DomainResult<()> {
    namespace::Entity::insert(namespace_row(id, title, now))
        .on_conflict(OnConflict::column(namespace::Column::Id).update_column(namespace::Column::Title).to_owned())
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Drops versions that are both past the newest `keep` of their key and older than `cutoff`,
/// and the records of the writes of jobs that finished before `cutoff` (such a job can no
/// longer be undone); returns how many versions.
pub async fn prune_versions(conn: &DatabaseConnection, keep: u32, cutoff: i64) -> DomainResult<u64> {
    let mut sql = Sql::new(
        conn.get_database_backend(),
        "DELETE FROM job_writes WHERE job_id IN (SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ",
    );
    sql.bind(cutoff).push(")");
    conn.execute_raw(sql.statement()).await?;
    let mut sql = Sql::new(conn.get_database_backend(), "DELETE FROM key_versions WHERE created_at < ");
    sql.bind(cutoff).push(
        " AND (SELECT COUNT(*) FROM key_versions w WHERE w.namespace_id = key_versions.namespace_id \
         AND w.name = key_versions.name AND w.version > key_versions.version) >= ",
    );
    sql.bind(i64::from(keep));
    Ok(conn.execute_raw(sql.statement()).await?.rows_affected())
}

/// Takes or renews the lease `name` for `holder` until `now + ttl` seconds: true when this
/// holder has it now (it held it, or it had lapsed), false while another holder's is live. The
/// background duties that must run on one instance of several (webhook delivery, alert checks)
/// each have one.
pub async fn hold_lease(conn: &DatabaseConnection, name: &str, holder: &str, now: i64, ttl: i64) -> DomainResult<bool> {
    let backend = conn.get_database_backend();
    let expires = now.saturating_add(std::cmp::Ord::max(ttl, 1));
    let mut sql = Sql::new(backend, "UPDATE leases SET holder = ");
    sql.bind(holder).push(", expires_at = ").bind(expires).push(" WHERE name = ").bind(name);
    sql.push(" AND (holder = ").bind(holder).push(" OR expires_at < ").bind(now).push(")");
    if conn.execute_raw(sql.statement()).await?.rows_affected() == 1 {
        return Ok(true);
    }
    let mut sql = Sql::new(backend, "INSERT INTO leases (name, holder, expires_at) VALUES (");
    sql.bind(name).push(", ").bind(holder).push(", ").bind(expires).push(") ON CONFLICT (name) DO NOTHING");
    Ok(conn.execute_raw(sql.statement()).await?.rows_affected() == 1)
}

/// Removes audit entries older than `cutoff`; returns how many.
pub async fn prune_audit(conn: &DatabaseConnection, cutoff: i64) -> DomainResult<u64> {
    let done = audit_log::Entity::delete_many().filter(audit_log::Column::At.lt(cutoff)).exec(conn).await?;
    Ok(done.rows_affected)
}
