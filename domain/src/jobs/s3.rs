//! The S3-compatible backup target (AWS S3, Cloudflare R2, MinIO, Backblaze B2 and the like),
//! through `object_store`.
//!
//! A target is an address, `s3://<bucket>[/<prefix>]`; everything else (keys, region, endpoint
//! for a non-AWS service) comes from the standard `AWS_*` environment variables, never from a
//! request or a file. Objects are `<prefix>/<backup id>/<file>`. An object is written as one
//! `PUT` when it is smaller than a part, and as a multipart upload otherwise, a few parts in
//! flight at most: memory stays a few parts whatever the size, and nothing is visible under the
//! name until the upload is completed (an aborted one leaves nothing behind).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, ObjectStoreExt, RetryConfig};
use tokio::io::{AsyncRead, AsyncWriteExt};

use super::backup::{BackupId, BackupStore, ObjectName, ObjectWriter};
use crate::error::{DomainError, DomainResult};

/// The name of the S3 target.
pub const S3_TARGET: &str = "s3";
/// Smallest part S3 takes (except the last one of an upload).
pub const MIN_PART_BYTES: usize = 5 * 1024 * 1024;
/// The part size unless set: 8 MiB, two in flight.
pub const DEFAULT_PART_BYTES: usize = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 2;
/// Longest part of an error message from the object store kept in ours.
const MAX_REASON_CHARS: usize = 400;

/// How an [`S3Store`] talks to its service.
#[derive(Clone, Debug)]
pub struct S3Options {
    /// Configuration keys of `object_store`'s S3 builder (`aws_endpoint`, `aws_region`,
    /// `aws_access_key_id`, ...), applied after the environment: tests name their server here.
    pub config: Vec<(String, String)>,
    /// Bytes per part of a multipart upload, at least [`MIN_PART_BYTES`].
    pub part_bytes: usize,
    /// How long one request may be retried (connection refused, 5xx, timeouts) before the
    /// operation fails.
    pub retry_for: Duration,
}

impl Default for S3Options {
    fn default() -> Self {
        Self { config: Vec::new(), part_bytes: DEFAULT_PART_BYTES, retry_for: Duration::from_secs(30) }
    }
}

/// Backups in an S3-compatible bucket.
pub struct S3Store {
    store: Arc<dyn ObjectStore>,
    root: Path,
    url: String,
    part_bytes: usize,
}

/// `s3://bucket/some/prefix` as the bucket and the prefix (without surrounding slashes).
fn parse_url(url: &str) -> DomainResult<(String, String)> {
    let bad = |why: &str| DomainError::invalid("target", format!("target: {url:?} {why}"));
    let rest = url.strip_prefix("s3://").ok_or_else(|| bad("is not an s3://bucket/prefix address"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.'));
    if !bucket_ok {
        return Err(bad("does not name a bucket (3 to 63 lower-case letters, digits, '-' and '.')"));
    }
    let prefix = prefix.trim_matches('/');
    let plain = prefix.is_empty() || prefix.split('/').all(|part| !part.is_empty() && part != "." && part != "..");
    if prefix.len() > 512 || !plain {
        return Err(bad("has a prefix that is not a plain path (no empty, '.' or '..' parts, at most 512 bytes)"));
    }
    Ok((bucket.to_owned(), prefix.to_owned()))
}

impl S3Store {
    /// The bucket and prefix of `url` (`s3://bucket/prefix`), configured from the `AWS_*`
    /// environment variables and then `options.config`. Nothing is sent until the first use.
    pub fn connect(url: &str, options: S3Options) -> DomainResult<Self> {
        let (bucket, prefix) = parse_url(url)?;
        if options.part_bytes < MIN_PART_BYTES {
            return Err(DomainError::invalid(
                "part_bytes",
                format!("part_bytes: {} is below the {MIN_PART_BYTES} bytes S3 takes per part", options.part_bytes),
            ));
        }
        // The standard AWS_* variables first (credentials, region, endpoint, AWS_ALLOW_HTTP),
        // then the timeouts as settings of their own: `with_client_options` would replace the
        // client settings those variables made.
        let mut builder = AmazonS3Builder::from_env()
            .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout), "5s")
            .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), "120s");
        for (key, value) in &options.config {
            let key = key.parse().map_err(|_| DomainError::internal(format!("{key:?} is not an S3 setting")))?;
            builder = builder.with_config(key, value);
        }
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(5),
                base: 2.0,
            },
            max_retries: 6,
            retry_timeout: options.retry_for,
        };
        let store =
            builder.with_retry(retry).with_bucket_name(&bucket).build().map_err(|e| {
                DomainError::invalid("target", format!("target: {url:?} cannot be used: {}", reason(&e)))
            })?;
        Ok(Self {
            store: Arc::new(store),
            root: Path::from(prefix),
            url: url.trim_end_matches('/').to_owned(),
            part_bytes: options.part_bytes,
        })
    }

    fn path(&self, name: &ObjectName) -> Path {
        self.root.clone().join(name.backup.as_str()).join(name.file.as_str())
    }

    fn failed(&self, doing: &str, err: object_store::Error) -> DomainError {
        upstream(&self.url, doing, reason(&err))
    }
}

/// A failure of the service (refused credentials, a missing bucket, a connection that did not
/// come back within the retries) as a 502 naming the target and what was being done, never a
/// secret: the reason is the service's own text.
fn upstream(url: &str, doing: &str, reason: String) -> DomainError {
    tracing::warn!(target_url = %url, doing, %reason, "the S3 backup target failed");
    DomainError::Upstream {
        status: 502,
        code: 0,
        message: format!("the backup target {url} failed while {doing}: {reason}"),
    }
}

/// The error's text, its causes included, cut to a readable length.
fn reason(err: &object_store::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    if text.chars().count() > MAX_REASON_CHARS {
        text = text.chars().take(MAX_REASON_CHARS).collect::<String>() + "…";
    }
    text
}

struct S3Writer {
    out: BufWriter,
    size: u64,
    url: String,
    path: Path,
}

impl S3Writer {
    fn failed(&self, doing: &str, reason: String) -> DomainError {
        upstream(&self.url, &format!("{doing} {}", self.path), reason)
    }
}

#[async_trait]
impl ObjectWriter for S3Writer {
    async fn write(&mut self, bytes: &[u8]) -> DomainResult<()> {
        self.out.put(bytes::Bytes::copy_from_slice(bytes)).await.map_err(|e| self.failed("uploading", reason(&e)))?;
        self.size = self.size.saturating_add(bytes.len() as u64);
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> DomainResult<u64> {
        self.out
            .shutdown()
            .await
            .map_err(|e| self.failed("completing", e.to_string().chars().take(MAX_REASON_CHARS).collect()))?;
        Ok(self.size)
    }

    async fn abort(mut self: Box<Self>) {
        if let Err(err) = self.out.abort().await {
            tracing::warn!(target_url = %self.url, path = %self.path, %err, "an upload could not be aborted");
        }
    }
}

#[async_trait]
impl BackupStore for S3Store {
    fn location(&self) -> String {
        self.url.clone()
    }

    async fn put(&self, name: &ObjectName) -> DomainResult<Box<dyn ObjectWriter>> {
        let path = self.path(name);
        let out = BufWriter::with_capacity(self.store.clone(), path.clone(), self.part_bytes)
            .with_max_concurrency(PARTS_IN_FLIGHT);
        Ok(Box::new(S3Writer { out, size: 0, url: self.url.clone(), path }))
    }

    async fn get(&self, name: &ObjectName) -> DomainResult<Box<dyn AsyncRead + Send + Unpin>> {
        match self.store.get(&self.path(name)).await {
            Ok(found) => {
                let url = self.url.clone();
                let stream = found.into_stream().map_err(move |e| {
                    std::io::Error::other(format!("the backup target {url} failed while reading: {}", reason(&e)))
                });
                Ok(Box::new(tokio_util::io::StreamReader::new(stream)))
            }
            Err(object_store::Error::NotFound { .. }) => Err(DomainError::not_found(
                "backup_id",
                format!("backup_id: no backup {} (or it has no {})", name.backup, name.file),
            )),
            Err(err) => Err(self.failed("reading", err)),
        }
    }

    async fn list(&self) -> DomainResult<Vec<(ObjectName, u64)>> {
        let mut out = Vec::new();
        let mut objects = self.store.list(Some(&self.root));
        let depth = self.root.parts().count();
        while let Some(object) = objects.next().await {
            let object = object.map_err(|e| self.failed("listing", e))?;
            let parts: Vec<_> = object.location.parts().skip(depth).collect();
            let [backup, file] = parts.as_slice() else { continue };
            let (Ok(backup), Ok(name)) = (BackupId::parse(backup.as_ref()), ObjectName::file_name(file.as_ref()))
            else {
                continue;
            };
            out.push((ObjectName { backup, file: name }, object.size));
        }
        Ok(out)
    }

    async fn delete(&self, name: &ObjectName) -> DomainResult<()> {
        match self.store.delete(&self.path(name)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(self.failed("deleting", err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_name_a_bucket_and_a_plain_prefix() {
        assert_eq!(parse_url("s3://kv-backups").unwrap(), ("kv-backups".into(), String::new()));
        assert_eq!(parse_url("s3://kv-backups/team/a/").unwrap(), ("kv-backups".into(), "team/a".into()));
        for bad in [
            "kv-backups",
            "https://x/y",
            "s3://",
            "s3://ab",
            "s3://Upper",
            "s3://b_b/x",
            "s3://bkt/a//b",
            "s3://bkt/../x",
        ] {
            let err = parse_url(bad).unwrap_err();
            assert_eq!(err.field(), Some("target"), "{bad}");
        }
    }

    #[test]
    fn parts_below_the_s3_minimum_are_refused() {
        let options = S3Options { part_bytes: 1024, ..S3Options::default() };
        let err = S3Store::connect("s3://kv-backups", options).err().unwrap();
        assert_eq!(err.field(), Some("part_bytes"));
    }
}
