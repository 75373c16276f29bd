//! Export and import formats: JSON (one array) and NDJSON (one object per line), read as a
//! stream so that a file is never held whole in memory.

use std::path::Path;

use base64::Engine;
#[cfg(test)]
use serde_json::json;
use serde_json::{Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use super::ImportFormat;
use crate::error::{DomainError, DomainResult};
use crate::limits::MAX_IMPORT_ITEM_BYTES;
use crate::model::{DetailsWrite, KeyDetails, KeyValue, PutKey};

/// One exported key, written straight from the stored row.
#[derive(serde::Serialize)]
struct ExportItem<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_base64: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_metadata: Option<&'a Value>,
}

/// Appends one exported key as JSON to `out`.
pub fn write_export_item(out: &mut Vec<u8>, key: &KeyValue, details: Option<&KeyDetails>) -> DomainResult<()> {
    let text = std::str::from_utf8(&key.value).ok();
    let item = ExportItem {
        name: &key.name,
        value: text,
        value_base64: match text {
            Some(_) => None,
            None => Some(base64::engine::general_purpose::STANDARD.encode(&key.value)),
        },
        metadata: key.metadata.as_ref(),
        expiration: key.expiration,
        tags: details.map(|d| d.tags.as_slice()).filter(|t| !t.is_empty()),
        custom_metadata: details.map(|d| &d.custom_metadata).filter(|c| c.as_object().is_some_and(|o| !o.is_empty())),
    };
    serde_json::to_writer(out, &item).map_err(DomainError::internal)
}

/// One exported key as a JSON value.
pub fn export_item(key: &KeyValue, details: Option<&KeyDetails>) -> Value {
    let mut out = Vec::new();
    match write_export_item(&mut out, key, details) {
        Ok(()) => serde_json::from_slice(&out).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

/// Reads an import item into a write, naming the field at fault. Accepts our export format,
/// the seed console's (`expiration_ttl`, `ttl`) and Cloudflare's bulk format (`key`, `base64`).
pub fn parse_item(item: Value) -> DomainResult<(PutKey, DetailsWrite)> {
    let Value::Object(mut item) = item else {
        return Err(DomainError::invalid("item", "item: must be a JSON object"));
    };
    let name = match (item.remove("name"), item.remove("key")) {
        (Some(Value::String(name)), _) | (None, Some(Value::String(name))) => name,
        (Some(_), _) | (None, Some(_)) => return Err(DomainError::invalid("name", "name: must be a string")),
        (None, None) => return Err(DomainError::invalid("name", "name: missing (or \"key\")")),
    };
    let base64_flag = match item.remove("base64") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => flag,
        Some(_) => return Err(DomainError::invalid("base64", "base64: must be true or false")),
    };
    let decode = |field: &str, text: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| DomainError::invalid(field, format!("{field}: not valid base64")))
    };
    let value = match (item.remove("value"), item.remove("value_base64")) {
        (Some(Value::String(text)), None) if base64_flag => decode("value", &text)?,
        (Some(Value::String(text)), None) => text.into_bytes(),
        (None, Some(Value::String(text))) => decode("value_base64", &text)?,
        (Some(_), Some(_)) => {
            return Err(DomainError::invalid("value", "value: give value or value_base64, not both"));
        }
        (Some(_), None) => return Err(DomainError::invalid("value", "value: must be a string")),
        (None, Some(_)) => return Err(DomainError::invalid("value_base64", "value_base64: must be a string")),
        (None, None) => return Err(DomainError::invalid("value", "value: missing (or value_base64)")),
    };
    let int = |item: &mut Map<String, Value>, field: &str| -> DomainResult<Option<i64>> {
        match item.remove(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| DomainError::invalid(field, format!("{field}: must be a whole number of seconds"))),
            Some(_) => Err(DomainError::invalid(field, format!("{field}: must be a whole number of seconds"))),
        }
    };
    let expiration = int(&mut item, "expiration")?;
    let expiration_ttl = match int(&mut item, "expiration_ttl")? {
        Some(ttl) => Some(ttl),
        None => int(&mut item, "ttl")?,
    };
    let metadata = item.remove("metadata").filter(|m| !m.is_null());
    let tags = match item.remove("tags") {
        None | Some(Value::Null) => None,
        Some(Value::Array(tags)) => Some(
            tags.into_iter()
                .map(|t| match t {
                    Value::String(t) => Ok(t),
                    _ => Err(DomainError::invalid("tags", "tags: must be strings")),
                })
                .collect::<DomainResult<Vec<_>>>()?,
        ),
        Some(_) => return Err(DomainError::invalid("tags", "tags: must be an array of strings")),
    };
    let custom_metadata = item.remove("custom_metadata").filter(|m| !m.is_null());
    Ok((PutKey { name, value, metadata, expiration, expiration_ttl }, DetailsWrite { tags, custom_metadata }))
}

/// Reads items one at a time from a JSON array or NDJSON file.
pub struct ItemReader {
    reader: BufReader<Box<dyn tokio::io::AsyncRead + Send + Unpin>>,
    json: bool,
    /// Items (JSON) or lines (NDJSON) read so far.
    position: u64,
    started: bool,
    finished: bool,
}

/// An item as read: where it is (`line 3`, `item 3`) and the JSON value or why it is not one.
pub type ReadItem = (String, Result<Value, String>);

impl ItemReader {
    pub async fn open(path: &Path, format: ImportFormat) -> DomainResult<Self> {
        let file = tokio::fs::File::open(path).await.map_err(DomainError::internal)?;
        let file: Box<dyn tokio::io::AsyncRead + Send + Unpin> = Box::new(file);
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        let json = match format {
            ImportFormat::Json => true,
            ImportFormat::Ndjson => false,
            ImportFormat::Auto => {
                let first = loop {
                    let buf = reader.fill_buf().await.map_err(DomainError::internal)?;
                    match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                        Some(i) => break Some(buf[i]),
                        None if buf.is_empty() => break None,
                        None => {
                            let n = buf.len();
                            reader.consume(n);
                        }
                    }
                };
                first == Some(b'[')
            }
        };
        Ok(Self { reader, json, position: 0, started: false, finished: false })
    }

    /// Reads NDJSON items from a stream (a backup's data, decompressed).
    pub fn ndjson(stream: Box<dyn tokio::io::AsyncRead + Send + Unpin>) -> Self {
        Self {
            reader: BufReader::with_capacity(256 * 1024, stream),
            json: false,
            position: 0,
            started: false,
            finished: false,
        }
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    /// The next item; `Err` when the file itself cannot be read on (a broken JSON array).
    pub async fn next(&mut self) -> DomainResult<Option<ReadItem>> {
        if self.finished {
            return Ok(None);
        }
        if self.json { self.next_json().await } else { self.next_line().await }
    }

    async fn next_line(&mut self) -> DomainResult<Option<ReadItem>> {
        let mut line = Vec::new();
        loop {
            line.clear();
            let (length, whole) = self.read_line_bounded(&mut line).await?;
            if length == 0 {
                self.finished = true;
                return Ok(None);
            }
            self.position += 1;
            let label = format!("line {}", self.position);
            if !whole {
                return Ok(Some((label, Err(oversize(length)))));
            }
            if line.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            let parsed = serde_json::from_slice::<Value>(&line).map_err(|e| format!("invalid JSON: {e}"));
            return Ok(Some((label, parsed)));
        }
    }

    /// Reads the rest of the line (its `\n` included) into `line` while it stays within
    /// [`MAX_IMPORT_ITEM_BYTES`]; past that, `line` is emptied and the rest of the line is skipped,
    /// only counted. Answers the line's length in bytes and whether `line` holds it whole.
    async fn read_line_bounded(&mut self, line: &mut Vec<u8>) -> DomainResult<(u64, bool)> {
        let mut length = 0u64;
        let mut whole = true;
        loop {
            let buf = self.reader.fill_buf().await.map_err(DomainError::internal)?;
            if buf.is_empty() {
                return Ok((length, whole));
            }
            let (n, ends) = match buf.iter().position(|b| *b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            length = length.saturating_add(n as u64);
            if whole {
                if line.len().saturating_add(n) > MAX_IMPORT_ITEM_BYTES {
                    whole = false;
                    *line = Vec::new();
                } else {
                    line.extend_from_slice(&buf[..n]);
                }
            }
            self.reader.consume(n);
            if ends {
                return Ok((length, whole));
            }
        }
    }

    async fn byte(&mut self) -> DomainResult<Option<u8>> {
        let mut b = [0u8; 1];
        match self.reader.read(&mut b).await.map_err(DomainError::internal)? {
            0 => Ok(None),
            _ => Ok(Some(b[0])),
        }
    }

    async fn skip_whitespace(&mut self) -> DomainResult<Option<u8>> {
        loop {
            match self.byte().await? {
                Some(b) if b.is_ascii_whitespace() => continue,
                other => return Ok(other),
            }
        }
    }

    async fn next_json(&mut self) -> DomainResult<Option<ReadItem>> {
        let broken = |at: u64, what: &str| {
            DomainError::invalid("file", format!("file: not a JSON array of items (at item {}: {what})", at + 1))
        };
        if !self.started {
            self.started = true;
            if self.skip_whitespace().await? != Some(b'[') {
                return Err(broken(0, "expected '['"));
            }
            match self.skip_whitespace().await? {
                Some(b']') => {
                    self.finished = true;
                    return Ok(None);
                }
                Some(b) => return self.read_element(b).await.map(Some),
                None => return Err(broken(0, "the file ends inside the array")),
            }
        }
        match self.skip_whitespace().await? {
            Some(b',') => match self.skip_whitespace().await? {
                Some(b) => self.read_element(b).await.map(Some),
                None => Err(broken(self.position, "the file ends inside the array")),
            },
            Some(b']') => {
                self.finished = true;
                if self.skip_whitespace().await?.is_some() {
                    return Err(broken(self.position, "text after the closing ']'"));
                }
                Ok(None)
            }
            Some(_) => Err(broken(self.position, "expected ',' or ']' between items")),
            None => Err(broken(self.position, "the file ends inside the array")),
        }
    }

    /// Reads one element whose first byte is `first`, tracking strings and nesting, a buffer at
    /// a time. An element past [`MAX_IMPORT_ITEM_BYTES`] is skipped to its end without being
    /// held, and answered as an error naming it.
    async fn read_element(&mut self, first: u8) -> DomainResult<ReadItem> {
        let mut buf = vec![first];
        let mut length = 1u64;
        let mut whole = true;
        let (mut depth, mut in_string, mut escaped) = (0u64, first == b'"', false);
        if first == b'{' || first == b'[' {
            depth = 1;
        }
        let scalar = depth == 0 && !in_string;
        while depth > 0 || in_string {
            let chunk = self.reader.fill_buf().await.map_err(DomainError::internal)?;
            if chunk.is_empty() {
                return Err(DomainError::invalid(
                    "file",
                    format!("file: not a JSON array of items (item {} is cut off)", self.position + 1),
                ));
            }
            let mut n = chunk.len();
            for (i, &b) in chunk.iter().enumerate() {
                if in_string {
                    match (escaped, b) {
                        (true, _) => escaped = false,
                        (false, b'\\') => escaped = true,
                        (false, b'"') => in_string = false,
                        _ => {}
                    }
                } else {
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth = depth.saturating_add(1),
                        b'}' | b']' => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                }
                if depth == 0 && !in_string {
                    n = i + 1;
                    break;
                }
            }
            length = length.saturating_add(n as u64);
            keep(&mut buf, &mut whole, &chunk[..n]);
            self.reader.consume(n);
        }
        if scalar {
            // A number or literal: read to the next separator.
            loop {
                let next = self.reader.fill_buf().await.map_err(DomainError::internal)?;
                let n =
                    next.iter().position(|b| matches!(b, b',' | b']') || b.is_ascii_whitespace()).unwrap_or(next.len());
                if n == 0 {
                    break;
                }
                length = length.saturating_add(n as u64);
                keep(&mut buf, &mut whole, &next[..n]);
                self.reader.consume(n);
            }
        }
        self.position += 1;
        let label = format!("item {}", self.position);
        if !whole {
            return Ok((label, Err(oversize(length))));
        }
        let parsed = serde_json::from_slice::<Value>(&buf).map_err(|e| format!("invalid JSON: {e}"));
        Ok((label, parsed))
    }
}

/// Appends `bytes` to an item being read while it stays within [`MAX_IMPORT_ITEM_BYTES`]; past
/// that, lets it go (`whole` false) and keeps nothing more.
fn keep(buf: &mut Vec<u8>, whole: &mut bool, bytes: &[u8]) {
    if !*whole {
        return;
    }
    if buf.len().saturating_add(bytes.len()) > MAX_IMPORT_ITEM_BYTES {
        *whole = false;
        *buf = Vec::new();
    } else {
        buf.extend_from_slice(bytes);
    }
}

/// Why an item past [`MAX_IMPORT_ITEM_BYTES`] is not imported.
fn oversize(length: u64) -> String {
    format!(
        "the item is {length} bytes, over the limit of {MAX_IMPORT_ITEM_BYTES} bytes for one item \
         (the largest valid key: a 25 MiB value with metadata, tags and custom metadata, JSON-escaped)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(text: &str, format: ImportFormat) -> DomainResult<Vec<ReadItem>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, text).unwrap();
        let mut reader = ItemReader::open(&path, format).await?;
        let mut out = Vec::new();
        while let Some(item) = reader.next().await? {
            out.push(item);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn json_arrays_stream_item_by_item() {
        let items = read_all(
            r#" [ {"name":"a","value":"x,]}\"{"}, {"name":"b","value":"y","tags":["t"]} ] "#,
            ImportFormat::Auto,
        )
        .await
        .unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].0, "item 1");
        assert_eq!(items[0].1.as_ref().unwrap()["value"], "x,]}\"{");
        assert_eq!(items[1].1.as_ref().unwrap()["tags"][0], "t");
        assert!(read_all("[]", ImportFormat::Auto).await.unwrap().is_empty());
        let err = read_all(r#"[{"name":"a"} {"name":"b"}]"#, ImportFormat::Json).await.unwrap_err();
        assert!(err.to_string().contains("item 2"), "{err}");
        let err = read_all(r#"[{"name":"a""#, ImportFormat::Json).await.unwrap_err();
        assert!(err.to_string().contains("cut off"), "{err}");
    }

    #[tokio::test]
    async fn ndjson_names_the_line_of_a_bad_item() {
        let items = read_all(
            "{\"name\":\"a\",\"value\":\"1\"}\n\n{\"name\":\"b\",\"value\":\"2\"}\n{oops\n",
            ImportFormat::Auto,
        )
        .await
        .unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[1].0, "line 3");
        assert_eq!(items[2].0, "line 4");
        assert!(items[2].1.as_ref().unwrap_err().contains("invalid JSON"));
    }

    #[test]
    fn items_in_every_accepted_shape() {
        let (put, details) = parse_item(json!({"key": "k", "value": "aGk=", "base64": true, "ttl": 120})).unwrap();
        assert_eq!((put.name.as_str(), put.value.as_slice(), put.expiration_ttl), ("k", &b"hi"[..], Some(120)));
        assert!(details.is_empty());
        let (put, details) =
            parse_item(json!({"name": "n", "value_base64": "AP8=", "tags": ["a"], "custom_metadata": {"o": 1}}))
                .unwrap();
        assert_eq!(put.value, vec![0, 255]);
        assert_eq!(details.tags, Some(vec!["a".to_owned()]));
        assert_eq!(parse_item(json!({"value": "x"})).unwrap_err().field(), Some("name"));
        assert_eq!(
            parse_item(json!({"name": "x", "expiration_ttl": "soon", "value": ""})).unwrap_err().field(),
            Some("expiration_ttl")
        );
        assert_eq!(parse_item(json!({"name": "x", "value": 1})).unwrap_err().field(), Some("value"));
    }
}
