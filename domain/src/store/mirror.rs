//! What the Cloudflare backend needs of the SQL store it keeps as its mirror: namespaces that
//! take Cloudflare's ids, and sizes of the keys it has seen.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::KvStore;
use super::sql::SqlStore;
use crate::actor::{Actor, Role, Source};
use crate::entity::{kv_entry, namespace};
use crate::error::DomainResult;
use crate::model::Namespace;
use crate::now_unix;
use crate::write::WriteTxn;

/// Who brings the mirror in line with Cloudflare.
pub(crate) fn sync_actor() -> Actor {
    Actor::new("cloudflare-sync", Source::Job, Role::Admin)
}

impl SqlStore {
    /// Takes in a namespace that exists upstream under this id: inserted when missing,
    /// retitled when its title changed. Not a change made through us: no audit row.
    pub async fn adopt_namespace(&self, id: &str, title: &str) -> DomainResult<()> {
        if let Err(err) = crate::write::adopt_namespace(&self.database().conn, id, title, now_unix()).await {
            // Two namespaces swapping titles upstream collide here for a moment; the next sync
            // settles it.
            tracing::warn!(%err, id, title, "could not take in a namespace from Cloudflare");
        }
        Ok(())
    }

    /// Every namespace id the mirror holds.
    pub async fn namespace_ids(&self) -> DomainResult<Vec<String>> {
        Ok(namespace::Entity::find()
            .select_only()
            .column(namespace::Column::Id)
            .into_tuple()
            .all(&self.database().conn)
            .await?)
    }

    /// Whether the mirror holds a namespace with this id.
    pub async fn knows_namespace(&self, id: &str) -> DomainResult<bool> {
        let found: Option<String> = namespace::Entity::find_by_id(id.to_owned())
            .select_only()
            .column(namespace::Column::Id)
            .into_tuple()
            .one(&self.database().conn)
            .await?;
        Ok(found.is_some())
    }

    /// Drops a namespace that no longer exists upstream, with everything kept about it.
    pub async fn forget_namespace(&self, id: &str) -> DomainResult<()> {
        if namespace::Entity::find_by_id(id.to_owned()).one(&self.database().conn).await?.is_none() {
            return Ok(());
        }
        self.delete_namespace(&sync_actor(), id).await
    }

    /// A namespace created upstream through us: its row and the audit row.
    pub async fn record_created_namespace(&self, actor: &Actor, id: &str, title: &str) -> DomainResult<Namespace> {
        let mut txn = WriteTxn::begin(&self.database().conn, now_unix()).await?;
        txn.insert_namespace(id, title, true).await?;
        txn.audit_namespace(actor, "namespace.create", id, serde_json::json!({ "title": title })).await?;
        txn.commit().await?;
        self.get_namespace(id).await
    }

    /// Every key the mirror holds for a namespace, with its metadata (as stored text) and
    /// expiration: what a sync compares with Cloudflare's listing.
    pub async fn key_summaries(
        &self,
        namespace_id: &str,
    ) -> DomainResult<HashMap<String, (Option<String>, Option<i64>)>> {
        let rows: Vec<(String, Option<String>, Option<i64>)> = kv_entry::Entity::find()
            .select_only()
            .columns([kv_entry::Column::Name, kv_entry::Column::Metadata, kv_entry::Column::Expiration])
            .filter(kv_entry::Column::NamespaceId.eq(namespace_id))
            .into_tuple()
            .all(&self.database().conn)
            .await?;
        Ok(rows.into_iter().map(|(name, metadata, expiration)| (name, (metadata, expiration))).collect())
    }

    /// Value sizes of the named keys the mirror holds.
    pub async fn sizes_of(&self, namespace_id: &str, names: &[String]) -> DomainResult<HashMap<String, u64>> {
        let mut sizes = HashMap::new();
        for chunk in names.chunks(crate::sql::ROWS_PER_STATEMENT) {
            let rows: Vec<(String, i64)> = kv_entry::Entity::find()
                .select_only()
                .columns([kv_entry::Column::Name, kv_entry::Column::Size])
                .filter(kv_entry::Column::NamespaceId.eq(namespace_id))
                .filter(kv_entry::Column::Name.is_in(chunk.iter().map(String::as_str)))
                .into_tuple()
                .all(&self.database().conn)
                .await?;
            sizes.extend(rows.into_iter().map(|(name, size)| (name, size as u64)));
        }
        Ok(sizes)
    }
}
