//! Values that cross the domain boundary.

use serde::{Deserialize, Serialize};

/// A namespace with its exact size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    pub id: String,
    pub title: String,
    pub key_count: u64,
    pub size_bytes: u64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, refreshed at most once a minute.
    pub last_accessed: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamespaceQuery {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// Case-insensitive substring of the title.
    pub search: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespacePage {
    pub namespaces: Vec<Namespace>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyQuery {
    pub prefix: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// One key in a listing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyEntry {
    pub name: String,
    pub expiration: Option<i64>,
    pub metadata: Option<serde_json::Value>,
    /// Value size in bytes.
    pub size: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyPage {
    pub keys: Vec<KeyEntry>,
    /// Where the next page starts; `None` on the last page.
    pub cursor: Option<String>,
    pub list_complete: bool,
}

/// A stored key with its value.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyValue {
    pub name: String,
    pub value: Vec<u8>,
    pub metadata: Option<serde_json::Value>,
    pub expiration: Option<i64>,
}

/// A write as a caller asks for it: expiration in either of Cloudflare's two forms.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PutKey {
    pub name: String,
    pub value: Vec<u8>,
    pub metadata: Option<serde_json::Value>,
    pub expiration: Option<i64>,
    pub expiration_ttl: Option<i64>,
}

/// A write after validation: what a store persists.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidPut {
    pub name: String,
    pub value: Vec<u8>,
    /// Serialized JSON, at most 1024 bytes.
    pub metadata: Option<String>,
    /// Absolute unix seconds.
    pub expiration: Option<i64>,
}
