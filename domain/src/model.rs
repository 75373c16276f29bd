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
    /// Namespaces (ids) left out, as if they did not exist.
    pub exclude: Vec<String>,
    /// Order by id instead of title.
    pub order_by_id: bool,
    pub descending: bool,
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
    /// Its version token, where the read tells it (single reads do; range scans do not):
    /// written back with a write, the write fails when the key changed meanwhile.
    pub version: Option<String>,
}

/// One read of a range of keys with their values: at most a key count and a byte budget.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scanned {
    pub keys: Vec<KeyValue>,
    /// The byte budget stopped the read before the range's end or the key count: the range goes
    /// on after the last key returned.
    pub cut: bool,
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

/// What copying or moving a batch of keys between namespaces did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transfer {
    /// Names written to the target (and, for a move, deleted from the source).
    pub written: Vec<String>,
    /// Names left alone because they were live in the target (without `overwrite`).
    pub skipped: u64,
    /// Names missing from the source, or whose stored state cannot be written again.
    pub failures: Vec<KeyFailure>,
}

/// A write after validation: what a store persists. Its fields are private and
/// [`ValidPut::new`] is its constructor, so no write reaches a store unchecked.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidPut {
    name: String,
    value: Vec<u8>,
    /// Serialized JSON, at most 1024 bytes.
    metadata: Option<String>,
    /// Absolute unix seconds.
    expiration: Option<i64>,
    /// Tags and custom metadata to write with the key; `None` fields leave what is there.
    details: DetailsWrite,
    /// Written only when this holds of the key (checked in the write's transaction).
    expect: Option<Precondition>,
}

/// What a write expects of the key it replaces: a check-and-set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Precondition {
    /// The key is live at this version token (as a read answered it).
    Version(String),
    /// The key does not exist (or has expired): a create that never overwrites.
    Absent,
}

/// The longest version token a write may name.
pub const MAX_VERSION_BYTES: usize = 128;

/// Whether `tag` could be a version a read answered: 1 to [`MAX_VERSION_BYTES`] visible ASCII
/// characters, no quote or comma (so that it fits an `ETag` as it is).
fn is_version(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= MAX_VERSION_BYTES
        && tag.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != ',')
}

/// A key as a store found it when checking a precondition: its version, and who last wrote it
/// and when, where the store knows.
pub(crate) struct Found<'a> {
    pub version: String,
    pub by: Option<&'a str>,
    pub at: Option<i64>,
}

impl Precondition {
    /// Refuses a version no read could have answered (`field: version`), before anything is read.
    pub fn check_input(&self) -> crate::error::DomainResult<()> {
        match self {
            Self::Version(tag) if !is_version(tag) => Err(crate::error::DomainError::invalid(
                "version",
                format!("version: one version as a read answered it (at most {MAX_VERSION_BYTES} visible characters)"),
            )),
            _ => Ok(()),
        }
    }

    /// Fails a write (`409`, `field: version`) unless this holds of the key as found (`None`:
    /// missing or expired). The message does not name the key: the caller named it, in its own
    /// terms (a `/v1/kv` key has no service prefix).
    pub(crate) fn check(&self, found: Option<Found<'_>>) -> crate::error::DomainResult<()> {
        let conflict = |message: String| Err(crate::error::DomainError::conflict("version", message));
        match (self, found) {
            (Self::Absent, None) => Ok(()),
            (Self::Absent, Some(found)) => conflict(format!(
                "version: the key already exists (at version {:?}); a create-only write never replaces a key",
                found.version
            )),
            (Self::Version(read), Some(found)) if *read == found.version => Ok(()),
            (Self::Version(read), Some(found)) => {
                let by = found.by.map(|user| format!(" by {user}")).unwrap_or_default();
                let at = found.at.map(|at| format!(" at {}", crate::rfc3339(at))).unwrap_or_default();
                conflict(format!(
                    "version: the key was changed{by}{at} since version {read:?} was read; it is at version {:?} now",
                    found.version
                ))
            }
            (Self::Version(read), None) => {
                conflict(format!("version: the key was deleted since version {read:?} was read"))
            }
        }
    }

    /// The precondition of an HTTP write: `If-Match: "<version>"` (the ETag a read answered; the
    /// quotes may be left out) or `If-None-Match: *` (create only). Each refusal names its header.
    /// Both at once are evaluated as HTTP does (If-Match first): they can never both hold, since
    /// one asks that the key exist and the other that it not, so the write fails with `409`.
    pub fn from_http<'a>(
        if_match: Option<&'a str>,
        if_none_match: Option<&'a str>,
    ) -> crate::error::DomainResult<Option<Self>> {
        use crate::error::DomainError;
        let bad = |field: &str, message: &str| DomainError::invalid(field, format!("{field}: {message}"));
        // An empty header is no condition (as if it were not sent).
        let given = |header: Option<&'a str>| header.map(str::trim).filter(|value| !value.is_empty());
        let absent = match given(if_none_match) {
            None => false,
            Some("*") => true,
            Some(_) => {
                return Err(bad("If-None-Match", "a write takes only * (create the key only if it does not exist)"));
            }
        };
        let version = match given(if_match) {
            None => None,
            Some("*") => return Err(bad("If-Match", "* is not taken; send the ETag a read of the key answered")),
            Some(tag) if tag.starts_with("W/") => {
                return Err(bad("If-Match", "a weak tag cannot guard a write; send the ETag a read answered"));
            }
            Some(tag) => {
                let tag = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(tag);
                if !is_version(tag) {
                    return Err(bad(
                        "If-Match",
                        &format!("one version, as the ETag a read answered (at most {MAX_VERSION_BYTES} characters)"),
                    ));
                }
                Some(tag.to_owned())
            }
        };
        match (version, absent) {
            (None, false) => Ok(None),
            (None, true) => Ok(Some(Self::Absent)),
            (Some(tag), false) => Ok(Some(Self::Version(tag))),
            (Some(_), true) => Err(DomainError::conflict(
                "If-None-Match",
                "If-None-Match: * asks that the key not exist and If-Match that it exist at a version: \
                 both never hold, so nothing was written",
            )),
        }
    }
}

/// A key renamed within its namespace: `from` becomes `to` with its value, metadata,
/// expiration, tags, custom metadata and kept versions (numbered on after any `to` already
/// had). `to` must not be a live key unless `overwrite`; `expect` guards `from` as a write's
/// precondition does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rename {
    pub from: String,
    pub to: String,
    pub overwrite: bool,
    pub expect: Option<Precondition>,
}

/// The version token of a key at a revision of the SQL store.
pub fn revision_token(revision: i64) -> String {
    format!("r{revision}")
}

/// The version token of a key by its content, where the store keeps no revisions (Cloudflare):
/// a hash of value, metadata and expiration.
pub fn content_token(value: &[u8], metadata: Option<&str>, expiration: Option<i64>) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update((value.len() as u64).to_be_bytes());
    hash.update(value);
    let metadata = metadata.unwrap_or("");
    hash.update((metadata.len() as u64).to_be_bytes());
    hash.update(metadata.as_bytes());
    hash.update(expiration.unwrap_or(0).to_be_bytes());
    let digest = hash.finalize();
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("h{hex}")
}

impl ValidPut {
    /// Checks a write and the tags and custom metadata that go with it: the key's name, the
    /// value's size, the metadata, the expiration (at `now`), the tags (normalized) and the
    /// custom metadata.
    pub fn new(put: PutKey, details: DetailsWrite, now: i64) -> crate::error::DomainResult<Self> {
        use crate::limits;
        let tags = details.tags.map(|t| limits::normalize_tags(&t)).transpose()?;
        if let Some(custom) = &details.custom_metadata {
            limits::check_custom_metadata(custom)?;
        }
        limits::check_key_name(&put.name)?;
        limits::check_value(&put.value)?;
        let metadata = limits::check_metadata(put.metadata.as_ref())?;
        let expiration = limits::resolve_expiration(put.expiration, put.expiration_ttl, now)?;
        Ok(Self {
            name: put.name,
            value: put.value,
            metadata,
            expiration,
            details: DetailsWrite { tags, custom_metadata: details.custom_metadata },
            expect: None,
        })
    }

    /// The same write, made only when `expect` holds of the key.
    pub fn expecting(mut self, expect: Option<Precondition>) -> Self {
        self.expect = expect;
        self
    }

    pub fn expect(&self) -> Option<&Precondition> {
        self.expect.as_ref()
    }

    /// The version token the key has by its content once this is written (see [`content_token`]).
    pub fn content_token(&self) -> String {
        content_token(&self.value, self.metadata.as_deref(), self.expiration)
    }

    /// A key as Cloudflare holds it, taken into the mirror as it is: Cloudflare accepted it, and
    /// its expiration may already be closer than a new write's may be.
    pub(crate) fn mirrored(key: KeyValue) -> Self {
        Self {
            name: key.name,
            value: key.value,
            metadata: key.metadata.map(|m| m.to_string()),
            expiration: key.expiration,
            details: DetailsWrite::default(),
            expect: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn value(&self) -> &[u8] {
        &self.value
    }

    pub fn metadata(&self) -> Option<&str> {
        self.metadata.as_deref()
    }

    pub fn expiration(&self) -> Option<i64> {
        self.expiration
    }

    pub fn details(&self) -> &DetailsWrite {
        &self.details
    }

    /// (name, value, metadata, expiration, details).
    pub fn into_parts(self) -> (String, Vec<u8>, Option<String>, Option<i64>, DetailsWrite) {
        (self.name, self.value, self.metadata, self.expiration, self.details)
    }
}

/// Tags and/or custom metadata written together with a key (validated: tags normalized,
/// custom metadata an object). A `None` field leaves the key's current one alone.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DetailsWrite {
    pub tags: Option<Vec<String>>,
    pub custom_metadata: Option<serde_json::Value>,
}

impl DetailsWrite {
    pub fn is_empty(&self) -> bool {
        self.tags.is_none() && self.custom_metadata.is_none()
    }
}

/// Why a write happens; recorded on the version it leaves behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteKind {
    /// A plain write (create or overwrite).
    Update,
    /// A write that brings back an earlier version.
    Restore,
}

impl WriteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Update => "update",
            Self::Restore => "restore",
        }
    }
}

/// Tags and custom metadata of a key (the catalog's, separate from the KV metadata).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyDetails {
    pub tags: Vec<String>,
    pub custom_metadata: serde_json::Value,
    /// Unix seconds; `None` while the key has no details.
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagCount {
    pub tag: String,
    pub count: u64,
}

/// What `search_keys` looks for; every given filter must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Case-insensitive substring of the key name; `%`, `_` and `\` are literal.
    pub query: Option<String>,
    /// Key names starting with this.
    pub prefix: Option<String>,
    pub namespace_ids: Vec<String>,
    /// Namespaces (ids) left out, as if they did not exist.
    pub exclude_namespace_ids: Vec<String>,
    /// All of these tags (case-insensitive).
    pub tags: Vec<String>,
    pub has_expiration: Option<bool>,
    pub expires_before: Option<i64>,
    pub updated_after: Option<i64>,
    pub min_size: Option<u64>,
    pub max_size: Option<u64>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub namespace_id: String,
    pub namespace_title: String,
    pub key: String,
    pub tags: Vec<String>,
    pub size: u64,
    pub expiration: Option<i64>,
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    pub results: Vec<SearchHit>,
    pub cursor: Option<String>,
    /// Every match, counted on the first page only.
    pub total: Option<u64>,
}

/// One kept earlier state of a key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub version: i64,
    pub size: u64,
    /// The change that replaced this state: `update`, `delete` or `restore`.
    pub operation: String,
    pub created_at: i64,
    pub created_by: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VersionValue {
    pub version: i64,
    pub value: Vec<u8>,
    pub metadata: Option<serde_json::Value>,
    pub expiration: Option<i64>,
}

/// A key a job could not process, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFailure {
    pub key: String,
    pub reason: String,
}

/// A job's progress once a batch is written, saved in the batch's own transaction (see
/// [`crate::store::KvStore::put_many_step`]).
#[derive(Clone, Debug, PartialEq)]
pub struct JobStep {
    pub job_id: String,
    pub total: u64,
    pub processed: u64,
    pub skipped: u64,
    pub errors: u64,
    pub current_key: Option<String>,
    /// Where a resumed job continues.
    pub checkpoint: String,
    /// The batch's key failures that are kept (the job's first 1,000).
    pub failures: Vec<KeyFailure>,
    pub at: i64,
}

/// How many changed keys a preview shows a value comparison of.
pub const CHANGE_SAMPLE: usize = 10;
/// The bytes of each side of a value comparison shown; the rest is cut.
pub const CHANGE_BYTES: usize = 8 * 1024;

/// One changed key in a preview: its value now and as the change would write it, as text to
/// compare (each cut at [`CHANGE_BYTES`]), and which other parts of the key differ.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueChange {
    pub name: String,
    /// The value now; `None` when it is not UTF-8 text.
    pub before: Option<String>,
    /// The value the change writes; `None` when it is not UTF-8 text.
    pub after: Option<String>,
    pub before_bytes: u64,
    pub after_bytes: u64,
    /// Either text was cut at [`CHANGE_BYTES`].
    pub cut: bool,
    /// Whether the values differ at all (a key may change only in its metadata, say).
    pub value_differs: bool,
    /// The other parts that differ: `metadata`, `expiration`, `tags`, `custom_metadata`.
    pub also: Vec<String>,
}

impl ValueChange {
    /// The comparison of `before` and `after` for `name`; `also` names the other parts that differ.
    pub fn new(name: &str, before: &[u8], after: &[u8], also: Vec<String>) -> Self {
        let mut cut = false;
        let mut text = |bytes: &[u8]| {
            let shown = &bytes[..bytes.len().min(CHANGE_BYTES)];
            // A cut may split a character: keep the whole ones before it.
            let text = match std::str::from_utf8(shown) {
                Ok(text) => Some(text.to_owned()),
                Err(e) if shown.len() < bytes.len() && e.error_len().is_none() => {
                    Some(String::from_utf8_lossy(&shown[..e.valid_up_to()]).into_owned())
                }
                Err(_) => None,
            };
            cut |= shown.len() < bytes.len() && text.is_some();
            text
        };
        let (before_text, after_text) = (text(before), text(after));
        Self {
            name: name.to_owned(),
            before: before_text,
            after: after_text,
            before_bytes: before.len() as u64,
            after_bytes: after.len() as u64,
            cut,
            value_differs: before != after,
            also,
        }
    }
}

/// What a rewind does with one key (see [`RewindPreview`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewindClass {
    /// Absent now, present at the moment: written again.
    Created,
    /// Present now and then, with another value, metadata or expiration: written back.
    Changed,
    /// Present now, absent at the moment: deleted.
    Deleted,
    /// The same now as then: left alone.
    Unchanged,
    /// The versions kept no longer tell the key's state at the moment: left alone.
    Incomplete,
}

/// How many keys of each class a rewind finds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewindCounts {
    pub created: u64,
    pub changed: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub incomplete: u64,
}

impl RewindCounts {
    pub fn add(&mut self, class: RewindClass) {
        match class {
            RewindClass::Created => self.created += 1,
            RewindClass::Changed => self.changed += 1,
            RewindClass::Deleted => self.deleted += 1,
            RewindClass::Unchanged => self.unchanged += 1,
            RewindClass::Incomplete => self.incomplete += 1,
        }
    }
}

/// Counts `class` for `name` in `counts` and lists the name in its class's list (of created,
/// changed, deleted and incomplete keys) while that holds fewer than `sample`.
fn record_class(
    counts: &mut RewindCounts,
    [created, changed, deleted, incomplete]: [&mut Vec<String>; 4],
    name: &str,
    class: RewindClass,
    sample: usize,
) {
    counts.add(class);
    let list = match class {
        RewindClass::Created => created,
        RewindClass::Changed => changed,
        RewindClass::Deleted => deleted,
        RewindClass::Incomplete => incomplete,
        RewindClass::Unchanged => return,
    };
    if list.len() < sample {
        list.push(name.to_owned());
    }
}

/// What a rewind of a namespace (or a prefix of it) to the moment `at` would do: the counts of
/// each class and the first names of each (in byte order). Nothing is written to make it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewindPreview {
    pub namespace_id: String,
    pub prefix: Option<String>,
    /// Unix seconds: every write stamped at or before it is kept, every later one undone.
    pub at: i64,
    pub counts: RewindCounts,
    pub created: Vec<String>,
    pub changed: Vec<String>,
    pub deleted: Vec<String>,
    /// Keys whose state at `at` the retention no longer holds; the rewind leaves them as they are.
    pub incomplete: Vec<String>,
    /// The first [`CHANGE_SAMPLE`] changed keys: their value now and at `at`.
    #[serde(default)]
    pub changes: Vec<ValueChange>,
    /// False when some keys are incomplete: the rewind would not bring back all of the moment.
    pub complete: bool,
}

impl RewindPreview {
    /// Counts `class` for `name`, and lists the name while its class holds fewer than `sample`.
    pub fn record(&mut self, name: &str, class: RewindClass, sample: usize) {
        let lists = [&mut self.created, &mut self.changed, &mut self.deleted, &mut self.incomplete];
        record_class(&mut self.counts, lists, name, class, sample);
    }
}

/// What undoing a job would do: for the keys it wrote (in every namespace it wrote in), the
/// counts of each class as a rewind has them, with the first names of each, and the keys changed
/// again since the job, which the undo leaves alone. Nothing is written to make it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoPreview {
    pub job_id: String,
    /// The undone job's type.
    pub job_type: String,
    pub counts: RewindCounts,
    pub created: Vec<String>,
    pub changed: Vec<String>,
    pub deleted: Vec<String>,
    /// Keys whose state before the job the retention no longer holds: left as they are.
    pub incomplete: Vec<String>,
    /// How many keys changed again after the job: left as they are.
    pub changed_since_count: u64,
    pub changed_since: Vec<String>,
    /// The first [`CHANGE_SAMPLE`] changed keys: their value now and before the job.
    pub changes: Vec<ValueChange>,
    /// True when every key the job wrote goes back (none incomplete or changed since).
    pub complete: bool,
}

impl UndoPreview {
    /// Counts `class` for `name`, and lists the name while its class holds fewer than `sample`.
    pub fn record(&mut self, name: &str, class: RewindClass, sample: usize) {
        let lists = [&mut self.created, &mut self.changed, &mut self.deleted, &mut self.incomplete];
        record_class(&mut self.counts, lists, name, class, sample);
    }

    /// Counts a key changed again since the job.
    pub fn left_alone(&mut self, name: &str, sample: usize) {
        self.changed_since_count += 1;
        if self.changed_since.len() < sample {
            self.changed_since.push(name.to_owned());
        }
    }
}

#[cfg(test)]
mod value_change_tests {
    use super::*;

    #[test]
    fn a_long_text_is_cut_between_characters_and_binary_is_not_text() {
        // "é" is two bytes: the cut falls inside the last one, which is dropped whole.
        let long = format!("{}é", "a".repeat(CHANGE_BYTES - 1));
        let change = ValueChange::new("k", long.as_bytes(), b"short", vec![]);
        assert_eq!(change.before.as_deref(), Some("a".repeat(CHANGE_BYTES - 1).as_str()));
        assert_eq!(
            (change.before_bytes, change.after.as_deref(), change.cut),
            (CHANGE_BYTES as u64 + 1, Some("short"), true)
        );
        assert!(change.value_differs);

        let binary = ValueChange::new("k", &[0xff, 0xfe, 0x00], &[0xff, 0xfe, 0x00], vec!["tags".into()]);
        assert_eq!((binary.before, binary.after, binary.cut, binary.value_differs), (None, None, false, false));
        assert_eq!(binary.also, ["tags"]);
    }
}
