// A server function's arguments are the fields of its JSON input: `put_key` has nine, and the
// code the `#[server]` macro generates for the browser does not carry an attribute on the function.
#![allow(clippy::too_many_arguments)]

use crate::error::Json;
use leptos::prelude::*;

use crate::dto::{Deleted, KeyDto, KeyListDto, Written};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::serverfns::ssr::{actor, kv};

/// One page of keys in byte order of their names; pass the returned `cursor` for the next page.
#[server(endpoint = "list_keys", input = Json)]
pub async fn list_keys(
    namespace_id: String,
    prefix: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
) -> Result<KeyListDto, AppError> {
    let query = domain::KeyQuery { prefix, cursor, limit };
    let namespace = kv()?.namespace(&actor(), &namespace_id, domain::Need::Read).await?;
    let mut list: KeyListDto = namespace.list_keys(query).await?.into();
    let names: Vec<String> = list.keys.iter().map(|k| k.name.clone()).collect();
    let mut tags = namespace.tags_of(&names).await?;
    for key in &mut list.keys {
        key.tags = tags.remove(&key.name).unwrap_or_default();
    }
    Ok(list)
}

/// A key's value (text, or base64 when it is not UTF-8), metadata and expiration.
#[server(endpoint = "get_key", input = Json)]
pub async fn get_key(namespace_id: String, key: String) -> Result<KeyDto, AppError> {
    Ok(kv()?.get_key(&actor(), &namespace_id, &key).await?.into())
}

/// Writes a key's value, metadata and expiration together (Cloudflare's model), and answers
/// its new version token. With `version` (as `get_key` answered it) the write is made only if
/// the key is still at that version; with `create_only`, only if it does not exist. Otherwise it
/// fails with 409 (`field: version`) saying who changed the key and when.
#[server(endpoint = "put_key", input = Json)]
pub async fn put_key(
    namespace_id: String,
    key: String,
    value: Option<String>,
    value_base64: Option<String>,
    metadata: Option<serde_json::Value>,
    expiration: Option<i64>,
    expiration_ttl: Option<i64>,
    #[server(default)] version: Option<String>,
    #[server(default)] create_only: Option<bool>,
) -> Result<Written, AppError> {
    use base64::Engine;
    let value = match (value, value_base64) {
        (Some(text), None) => text.into_bytes(),
        (None, Some(encoded)) => base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|err| AppError::invalid("value_base64", format!("value_base64: not valid base64: {err}")))?,
        (Some(_), Some(_)) => {
            return Err(AppError::invalid("value_base64", "value_base64: give either value or value_base64, not both"));
        }
        (None, None) => return Err(AppError::invalid("value", "value: missing (give value or value_base64)")),
    };
    let expect = match (version, create_only) {
        (Some(_), Some(true)) => {
            return Err(AppError::invalid("version", "version: give either version or create_only, not both"));
        }
        (Some(version), _) => Some(domain::Precondition::Version(version)),
        (None, Some(true)) => Some(domain::Precondition::Absent),
        (None, _) => None,
    };
    let put = domain::PutKey { name: key, value, metadata, expiration, expiration_ttl };
    let version = kv()?.put_key_checked(&actor(), &namespace_id, put, expect).await?;
    Ok(Written { ok: true, version })
}

/// Renames a key within its namespace, keeping its value, metadata, expiration, tags, custom
/// metadata and version history; answers its version under the new name. Fails with 409
/// (`field: new_name`) when a key of that name exists, unless `overwrite`; with `version`, only
/// while the key is still at that version (409, `field: version`).
#[server(endpoint = "rename_key", input = Json)]
pub async fn rename_key(
    namespace_id: String,
    key: String,
    new_name: String,
    #[server(default)] overwrite: Option<bool>,
    #[server(default)] version: Option<String>,
) -> Result<Written, AppError> {
    let rename = domain::Rename {
        from: key,
        to: new_name,
        overwrite: overwrite.unwrap_or(false),
        expect: version.map(domain::Precondition::Version),
    };
    let version = kv()?.rename_key(&actor(), &namespace_id, rename).await?;
    Ok(Written { ok: true, version })
}

/// Deletes a key; `deleted` says whether it existed.
#[server(endpoint = "delete_key", input = Json)]
pub async fn delete_key(namespace_id: String, key: String) -> Result<Deleted, AppError> {
    Ok(Deleted { deleted: kv()?.delete_key(&actor(), &namespace_id, &key).await? })
}
