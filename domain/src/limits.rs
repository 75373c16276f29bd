//! Cloudflare Workers KV limits, checked before anything is written.

use std::collections::HashSet;

use crate::error::{DomainError, DomainResult};

pub const MAX_KEY_BYTES: usize = 512;
pub const MAX_VALUE_BYTES: usize = 25 * 1024 * 1024;
pub const MAX_METADATA_BYTES: usize = 1024;
pub const MAX_TITLE_CHARS: usize = 512;
pub const MIN_TTL_SECONDS: i64 = 60;
pub const MAX_LIST_LIMIT: u32 = 1000;
pub const MAX_PER_PAGE: u32 = 1000;
pub const DEFAULT_PER_PAGE: u32 = 100;
/// The largest import upload by default (`--max-upload-bytes`): 2 GiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// An upload file no job reads is removed once this old (one being received is younger).
pub const ORPHAN_UPLOAD_AGE_SECONDS: u64 = 3600;

/// Tags one key may carry.
pub const MAX_TAGS_PER_KEY: usize = 64;
/// Custom metadata of one key, as JSON text.
pub const MAX_CUSTOM_METADATA_BYTES: usize = 16 * 1024;
/// The largest import item a valid key can make, in bytes of the file: JSON may write any byte
/// of a string as a six-byte `\u00XX` escape, so the value (25 MiB: base64 is only 4/3 of it),
/// the key, the metadata and the custom metadata count six times; each of the 64 tags up to 64
/// characters of twelve bytes (a surrogate pair of escapes), with its quotes and comma; and 64 KiB
/// for field names, numbers and whitespace: 157,508,800 bytes (about 150.2 MiB). An import item past this is an error
/// naming its line or item, and the reader skips it without holding it (see
/// `jobs::transfer::ItemReader`).
pub const MAX_IMPORT_ITEM_BYTES: usize = 6 * MAX_VALUE_BYTES
    + 6 * MAX_KEY_BYTES
    + 6 * MAX_METADATA_BYTES
    + 6 * MAX_CUSTOM_METADATA_BYTES
    + MAX_TAGS_PER_KEY * (12 * MAX_TAG_CHARS + 3)
    + 64 * 1024;
/// Value bytes one batch of a job holds at most (an export page, a copy or move batch, a
/// Cloudflare bulk get): a batch stops at this or at its key count, whichever comes first, so
/// that keys of 25 MiB are read a few at a time (a single key larger than what is left of the
/// budget still goes alone).
pub const BATCH_BYTES: usize = 32 * 1024 * 1024;
/// Values in one list of a filter (namespace ids, tags, users, operations, sources).
pub const MAX_FILTER_VALUES: usize = 100;

/// An unsigned number from a request as the signed one the database stores: past `i64::MAX`
/// is a 400 naming the field, never a wrapped, negative filter.
pub fn to_i64(field: &str, value: u64) -> DomainResult<i64> {
    i64::try_from(value)
        .map_err(|_| DomainError::invalid(field, format!("{field}: {value} is larger than {}", i64::MAX)))
}

/// Custom metadata must be a JSON object of at most [`MAX_CUSTOM_METADATA_BYTES`].
pub fn check_custom_metadata(custom: &serde_json::Value) -> DomainResult<()> {
    if !custom.is_object() {
        return Err(DomainError::invalid("custom_metadata", "custom_metadata: must be a JSON object"));
    }
    let bytes = serde_json::to_string(custom).map_err(DomainError::internal)?.len();
    if bytes > MAX_CUSTOM_METADATA_BYTES {
        return Err(DomainError::too_large(
            "custom_metadata",
            format!("custom_metadata: {bytes} bytes of JSON is over the limit of {MAX_CUSTOM_METADATA_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// A JSON number as a whole number: `120` and `120.0` alike (JSON does not tell them apart);
/// `None` for a fraction or what no `i64` holds.
pub fn whole_number(n: &serde_json::Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        n.as_f64().filter(|f| f.fract() == 0.0 && *f >= i64::MIN as f64 && *f < i64::MAX as f64).map(|f| f as i64)
    })
}

/// Refuses a filter list longer than [`MAX_FILTER_VALUES`].
pub fn check_filter_list<T>(field: &str, values: &[T]) -> DomainResult<()> {
    if values.len() > MAX_FILTER_VALUES {
        return Err(DomainError::invalid(
            field,
            format!("{field}: {} values is over the limit of {MAX_FILTER_VALUES}", values.len()),
        ));
    }
    Ok(())
}

/// A namespace id is 32 lowercase hexadecimal characters.
pub fn is_namespace_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub fn check_namespace_id(id: &str) -> DomainResult<()> {
    if is_namespace_id(id) { Ok(()) } else { Err(DomainError::namespace_not_found(id)) }
}

pub fn check_title(title: &str) -> DomainResult<()> {
    if title.trim().is_empty() {
        return Err(DomainError::invalid("title", "title: must not be empty"));
    }
    if title.contains('\0') {
        return Err(DomainError::invalid("title", "title: must not contain the NUL character (U+0000)"));
    }
    let chars = title.chars().count();
    if chars > MAX_TITLE_CHARS {
        return Err(DomainError::invalid(
            "title",
            format!("title: {chars} characters is over the limit of {MAX_TITLE_CHARS}"),
        ));
    }
    Ok(())
}

pub fn check_key_name(name: &str) -> DomainResult<()> {
    check_key_name_as("key", name)
}

/// [`check_key_name`] for a key name given in another field (a rename's `new_name`).
pub fn check_key_name_as(field: &str, name: &str) -> DomainResult<()> {
    if name.is_empty() {
        return Err(DomainError::invalid(field, format!("{field}: must not be empty")));
    }
    if name == "." || name == ".." {
        return Err(DomainError::invalid(field, format!("{field}: \".\" and \"..\" are not allowed as key names")));
    }
    if name.len() > MAX_KEY_BYTES {
        return Err(DomainError::invalid(
            field,
            format!("{field}: {} bytes is over the limit of {MAX_KEY_BYTES} bytes", name.len()),
        ));
    }
    // PostgreSQL cannot store a NUL in text; refusing it everywhere keeps both databases alike.
    if name.contains('\0') {
        return Err(DomainError::invalid(field, format!("{field}: must not contain the NUL character (U+0000)")));
    }
    Ok(())
}

pub fn check_value(value: &[u8]) -> DomainResult<()> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(DomainError::too_large(
            "value",
            format!("value: {} bytes is over the limit of {MAX_VALUE_BYTES} bytes (25 MiB)", value.len()),
        ));
    }
    Ok(())
}

/// Serializes metadata and checks its size; returns the text that is stored.
pub fn check_metadata(metadata: Option<&serde_json::Value>) -> DomainResult<Option<String>> {
    let Some(metadata) = metadata else { return Ok(None) };
    let text = serde_json::to_string(metadata).map_err(DomainError::internal)?;
    if text.len() > MAX_METADATA_BYTES {
        return Err(DomainError::too_large(
            "metadata",
            format!("metadata: {} bytes of JSON is over the limit of {MAX_METADATA_BYTES} bytes", text.len()),
        ));
    }
    Ok(Some(text))
}

/// Resolves Cloudflare's pair of expiration inputs into an absolute unix time. The TTL wins when
/// both are given. Every sum is checked: a TTL or an expiration out of range is refused, naming its
/// field, and never wraps into the past (which would expire the key at once).
pub fn resolve_expiration(expiration: Option<i64>, expiration_ttl: Option<i64>, now: i64) -> DomainResult<Option<i64>> {
    if let Some(ttl) = expiration_ttl {
        if ttl < MIN_TTL_SECONDS {
            return Err(DomainError::invalid(
                "expiration_ttl",
                format!("expiration_ttl: {ttl} is invalid; a TTL must be at least {MIN_TTL_SECONDS} seconds"),
            ));
        }
        return now.checked_add(ttl).map(Some).ok_or_else(|| {
            DomainError::invalid("expiration_ttl", format!("expiration_ttl: {ttl} seconds from now is too large"))
        });
    }
    if let Some(at) = expiration {
        if !far_enough(at, now) {
            return Err(DomainError::invalid(
                "expiration",
                format!(
                    "expiration: {at} is invalid; an expiration must be at least {MIN_TTL_SECONDS} seconds in the future (now is {now})"
                ),
            ));
        }
        return Ok(Some(at));
    }
    Ok(None)
}

/// Whether `at` is at least [`MIN_TTL_SECONDS`] after `now` (computed without overflow).
pub fn far_enough(at: i64, now: i64) -> bool {
    now.checked_add(MIN_TTL_SECONDS).is_some_and(|earliest| at >= earliest)
}

pub fn check_list_limit(limit: Option<u32>) -> DomainResult<u32> {
    match limit {
        None => Ok(MAX_LIST_LIMIT),
        Some(n) if (1..=MAX_LIST_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(DomainError::invalid("limit", format!("limit: {n} is out of range 1..{MAX_LIST_LIMIT}"))),
    }
}

pub fn check_page(page: Option<u32>, per_page: Option<u32>) -> DomainResult<(u32, u32)> {
    let page = page.unwrap_or(1);
    if page == 0 {
        return Err(DomainError::invalid("page", "page: pages start at 1"));
    }
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(DomainError::invalid(
            "per_page",
            format!("per_page: {per_page} is out of range 1..{MAX_PER_PAGE}"),
        ));
    }
    Ok((page, per_page))
}

/// Characters of one tag.
pub const MAX_TAG_CHARS: usize = 64;

/// Trims, checks and de-duplicates tags (case-insensitively, keeping the first spelling).
pub fn normalize_tags(tags: &[String]) -> DomainResult<Vec<String>> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for tag in tags {
        let tag = tag.trim();
        let chars = tag.chars().count();
        if tag.contains('\0') {
            return Err(DomainError::invalid("tags", "tags: must not contain the NUL character (U+0000)"));
        }
        if chars == 0 || chars > MAX_TAG_CHARS {
            return Err(DomainError::invalid(
                "tags",
                format!("tags: {tag:?} must be 1 to {MAX_TAG_CHARS} characters long"),
            ));
        }
        if seen.insert(tag.to_lowercase()) {
            out.push(tag.to_owned());
        }
    }
    if out.len() > MAX_TAGS_PER_KEY {
        return Err(DomainError::invalid(
            "tags",
            format!("tags: {} tags is over the limit of {} per key", out.len(), MAX_TAGS_PER_KEY),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_written_with_a_fraction_read_exactly() {
        // Found by Schemathesis: without serde_json's float_roundtrip this read as ...833.5.
        let n: serde_json::Number = serde_json::from_str("3618740277370834.0").unwrap();
        assert_eq!(whole_number(&n), Some(3_618_740_277_370_834));
        let n: serde_json::Number = serde_json::from_str("9007199254740991.0").unwrap();
        assert_eq!(whole_number(&n), Some(9_007_199_254_740_991));
    }

    #[test]
    fn namespace_ids_are_32_lowercase_hex() {
        assert!(is_namespace_id("0123456789abcdef0123456789abcdef"));
        assert!(!is_namespace_id("0123456789ABCDEF0123456789abcdef"));
        assert!(!is_namespace_id("0123456789abcdef"));
    }

    #[test]
    fn ttl_wins_over_absolute_expiration() {
        assert_eq!(resolve_expiration(Some(10), Some(120), 1000).unwrap(), Some(1120));
        assert_eq!(resolve_expiration(Some(1060), None, 1000).unwrap(), Some(1060));
        assert_eq!(resolve_expiration(Some(1059), None, 1000).unwrap_err().field(), Some("expiration"));
        assert_eq!(resolve_expiration(None, Some(59), 1000).unwrap_err().field(), Some("expiration_ttl"));
        assert_eq!(resolve_expiration(None, Some(i64::MAX), 1000).unwrap_err().field(), Some("expiration_ttl"));
        assert_eq!(resolve_expiration(Some(i64::MAX), None, i64::MAX - 10).unwrap_err().field(), Some("expiration"));
        assert_eq!(resolve_expiration(Some(i64::MAX), None, 1000).unwrap(), Some(i64::MAX));
    }
}
