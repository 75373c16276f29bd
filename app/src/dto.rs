//! The shapes that cross the wire between the console, scripts and the server.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamespaceDto {
    pub id: String,
    pub title: String,
    pub key_count: u64,
    pub size_bytes: u64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub last_accessed: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamespacePageDto {
    pub namespaces: Vec<NamespaceDto>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyEntryDto {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    /// Value size in bytes.
    pub size: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyListDto {
    pub keys: Vec<KeyEntryDto>,
    pub cursor: Option<String>,
    pub list_complete: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyDto {
    pub name: String,
    /// The value when it is UTF-8 text.
    pub value: Option<String>,
    /// The value, base64-encoded, when it is not UTF-8 text.
    pub value_base64: Option<String>,
    pub size: u64,
    pub metadata: Option<serde_json::Value>,
    pub expiration: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    pub deleted: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ok {
    pub ok: bool,
}
