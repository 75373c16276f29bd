use crate::error::Json;
use leptos::prelude::*;

use crate::dto::{Deleted, NamespaceDto, NamespacePageDto, SyncedDto};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::serverfns::ssr::{actor, kv};

/// One page of namespaces ordered by title; `search` filters by a case-insensitive title substring.
#[server(endpoint = "list_namespaces", input = Json)]
pub async fn list_namespaces(
    page: Option<u32>,
    per_page: Option<u32>,
    search: Option<String>,
) -> Result<NamespacePageDto, AppError> {
    let query = domain::NamespaceQuery { page, per_page, search, ..Default::default() };
    Ok(kv()?.list_namespaces(&actor(), query).await?.into())
}

/// Creates a namespace with a unique title.
#[server(endpoint = "create_namespace", input = Json)]
pub async fn create_namespace(title: String) -> Result<NamespaceDto, AppError> {
    Ok(kv()?.create_namespace(&actor(), &title).await?.into())
}

/// Renames a namespace; the new title must be unique.
#[server(endpoint = "rename_namespace", input = Json)]
pub async fn rename_namespace(namespace_id: String, title: String) -> Result<NamespaceDto, AppError> {
    Ok(kv()?.rename_namespace(&actor(), &namespace_id, &title).await?.into())
}

/// Deletes a namespace and all of its keys.
#[server(endpoint = "delete_namespace", input = Json)]
pub async fn delete_namespace(namespace_id: String) -> Result<Deleted, AppError> {
    kv()?.delete_namespace(&actor(), &namespace_id).await?;
    Ok(Deleted { deleted: true })
}

/// One namespace with its exact key count and size.
#[server(endpoint = "get_namespace", input = Json)]
pub async fn get_namespace(namespace_id: String) -> Result<NamespaceDto, AppError> {
    Ok(kv()?.get_namespace(&actor(), &namespace_id).await?.into())
}

/// Brings our records of a namespace (search index, mirror) in line with Cloudflare, where its
/// keys live with the Cloudflare backend: keys written or deleted elsewhere are taken in or
/// dropped. 400 with the local backend, whose database is its own truth.
#[server(endpoint = "sync_namespace", input = Json)]
pub async fn sync_namespace(namespace_id: String) -> Result<SyncedDto, AppError> {
    match kv()?.sync_namespace(&actor(), &namespace_id).await? {
        Some((taken, dropped)) => Ok(SyncedDto { taken, dropped }),
        None => Err(domain::DomainError::invalid(
            "namespace_id",
            "namespace_id: keys live in this server's own database; there is nothing to sync",
        )
        .into()),
    }
}
