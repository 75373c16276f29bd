// `search_keys` takes the script API's flat JSON object, one argument per filter.
#![allow(clippy::too_many_arguments)]

use crate::error::Json;
use leptos::prelude::*;

use crate::dto::{KeyDetailsDto, KeyVersionDto, Ok as OkDto, SavedSearchDto, SearchPageDto, TagsDto, VersionsDto};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::serverfns::ssr::{actor, kv};

/// A key's tags and custom metadata (separate from its 1024-byte KV metadata).
#[server(endpoint = "get_key_details", input = Json)]
pub async fn get_key_details(namespace_id: String, key: String) -> Result<KeyDetailsDto, AppError> {
    Ok(kv()?.get_key_details(&actor(), &namespace_id, &key).await?.into())
}

/// Sets a key's tags and/or custom metadata; an omitted field is left unchanged.
#[server(endpoint = "put_key_details", input = Json)]
pub async fn put_key_details(
    namespace_id: String,
    key: String,
    tags: Option<Vec<String>>,
    custom_metadata: Option<serde_json::Value>,
) -> Result<KeyDetailsDto, AppError> {
    Ok(kv()?.put_key_details(&actor(), &namespace_id, &key, tags, custom_metadata).await?.into())
}

/// Tags in use with how many live keys carry each, in one namespace or all, ordered by tag;
/// `limit` 1..1000 (default 1000), `cursor` from the previous page.
#[server(endpoint = "list_tags", input = Json)]
pub async fn list_tags(
    namespace_id: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
) -> Result<TagsDto, AppError> {
    let (tags, cursor) = kv()?.list_tags_page(&actor(), namespace_id.as_deref(), limit, cursor.as_deref()).await?;
    Ok(TagsDto { tags: tags.into_iter().map(Into::into).collect(), cursor })
}

/// Keys across namespaces by name substring, tags (all of) and other filters; pages by cursor.
#[server(endpoint = "search_keys", input = Json)]
pub async fn search_keys(
    query: Option<String>,
    prefix: Option<String>,
    namespace_ids: Option<Vec<String>>,
    tags: Option<Vec<String>>,
    has_expiration: Option<bool>,
    expires_before: Option<i64>,
    updated_after: Option<i64>,
    min_size: Option<u64>,
    max_size: Option<u64>,
    limit: Option<u32>,
    cursor: Option<String>,
) -> Result<SearchPageDto, AppError> {
    let query = domain::SearchQuery {
        query,
        prefix,
        namespace_ids: namespace_ids.unwrap_or_default(),
        tags: tags.unwrap_or_default(),
        has_expiration,
        expires_before,
        updated_after,
        min_size,
        max_size,
        limit,
        cursor,
        ..Default::default()
    };
    Ok(kv()?.search_keys(&actor(), query).await?.into())
}

/// A key's kept versions, newest first; `limit` 1..1000 (default 1000), `cursor` from the
/// previous page.
#[server(endpoint = "list_key_versions", input = Json)]
pub async fn list_key_versions(
    namespace_id: String,
    key: String,
    limit: Option<u32>,
    cursor: Option<String>,
) -> Result<VersionsDto, AppError> {
    let (versions, cursor) =
        kv()?.list_key_versions_page(&actor(), &namespace_id, &key, limit, cursor.as_deref()).await?;
    Ok(VersionsDto { versions: versions.into_iter().map(Into::into).collect(), cursor })
}

/// One kept version with its value.
#[server(endpoint = "get_key_version", input = Json)]
pub async fn get_key_version(namespace_id: String, key: String, version: i64) -> Result<KeyVersionDto, AppError> {
    Ok(kv()?.get_key_version(&actor(), &namespace_id, &key, version).await?.into())
}

/// Makes a kept version the key's current state; the state it replaces is kept in turn.
#[server(endpoint = "restore_key_version", input = Json)]
pub async fn restore_key_version(namespace_id: String, key: String, version: i64) -> Result<OkDto, AppError> {
    kv()?.restore_key_version(&actor(), &namespace_id, &key, version).await?;
    Ok(OkDto { ok: true })
}

#[cfg(feature = "ssr")]
impl From<domain::catalog::SavedSearch> for SavedSearchDto {
    fn from(s: domain::catalog::SavedSearch) -> Self {
        Self { id: s.id, name: s.name, query: s.query, created_at: s.created_at }
    }
}

/// The caller's saved searches, by name (each user sees only their own).
#[server(endpoint = "list_saved_searches", input = Json)]
pub async fn list_saved_searches() -> Result<Vec<SavedSearchDto>, AppError> {
    Ok(kv()?.saved_searches(&actor()).await?.into_iter().map(Into::into).collect())
}

/// Saves a search under `name` (replacing one of that name): `query` is the query string of the
/// console's `/search` page (`q=…&tags=…`, parameters q, ns, tags, expiring, expires_before,
/// updated_after, min_size, max_size), so `/search?{query}` runs it and is its shareable link.
/// At most 100 per user.
#[server(endpoint = "save_search", input = Json)]
pub async fn save_search(name: String, query: String) -> Result<SavedSearchDto, AppError> {
    Ok(kv()?.save_search(&actor(), &name, &query).await?.into())
}

/// Deletes one of the caller's saved searches.
#[server(endpoint = "delete_saved_search", input = Json)]
pub async fn delete_saved_search(id: String) -> Result<OkDto, AppError> {
    kv()?.delete_saved_search(&actor(), &id).await?;
    Ok(OkDto { ok: true })
}

/// The caller's console settings, each as kept or its default: `{"namespace_view": "list"}`
/// (`list` or `grid`).
#[server(endpoint = "get_settings", input = Json)]
pub async fn get_settings() -> Result<std::collections::BTreeMap<String, String>, AppError> {
    Ok(kv()?.settings(&actor()).await?.into_iter().collect())
}

/// Keeps one of the caller's console settings (`namespace_view`: `list` or `grid`).
#[server(endpoint = "set_setting", input = Json)]
pub async fn set_setting(name: String, value: String) -> Result<OkDto, AppError> {
    kv()?.set_setting(&actor(), &name, &value).await?;
    Ok(OkDto { ok: true })
}
