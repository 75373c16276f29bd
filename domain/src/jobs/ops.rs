//! What each job type does, batch by batch, through the bulk forms of the write path.

use std::collections::HashSet;

use tokio::io::AsyncWriteExt;

use super::transfer::{ItemReader, parse_item, write_export_item};
use super::{
    Collision, Ctx, ExportFormat, JobSpec, Jobs, KeyFailure, MAX_BATCH_NAMESPACES, Outcome, Selection, TtlChange,
};
use crate::actor::{Actor, Source};
use crate::catalog::RewindKey;
use crate::catalog::{TagOperation, normalize_tags};
use crate::error::{DomainError, DomainResult};
use crate::kv::{NamespaceAccess, Need};
use crate::limits;
use crate::model::{KeyQuery, RewindClass, RewindCounts, ValidPut};
use crate::now_unix;
use crate::sql::encode_cursor;

/// Most names a job may be given in a list.
pub const MAX_LISTED_KEYS: usize = 100_000;
/// Value bytes per import batch.
const IMPORT_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Keys an export reads per page. Reads need no transaction of their own, so pages are larger
/// than write batches: fewer progress writes and cancel checks (each page still takes only a few
/// milliseconds, so a cancel is seen at once).
const EXPORT_PAGE_KEYS: usize = 2500;
/// Export pages being read and encoded at once (each a task of its own).
const PAGES_IN_FLIGHT: usize = 3;
/// Value bytes of one export page: the pages in flight share [`limits::BATCH_BYTES`] (a page of
/// one larger key holds that key alone).
const EXPORT_PAGE_BYTES: usize = limits::BATCH_BYTES / PAGES_IN_FLIGHT;

/// One export page, encoded, with how many keys it holds and the last key it covers; `cut` when
/// the byte budget ended it before the end of its range.
pub(super) struct EncodedPage {
    /// The page's items (with `gzip`: compressed, one gzip member).
    pub(super) bytes: Vec<u8>,
    /// Bytes of the items before compression.
    pub(super) raw_len: usize,
    pub(super) count: usize,
    pub(super) last: Option<String>,
    cut: bool,
}

type Reading = (tokio::task::JoinHandle<DomainResult<EncodedPage>>, Option<String>);

/// Reads the live keys of a namespace (within a prefix) with their details as export items, a
/// page at a time in byte order: up to [`PAGES_IN_FLIGHT`] pages are read and encoded by tasks
/// of their own at once, and handed back in order (exports and backups). Where the store can tell
/// where a page ends without reading it (the SQL store, from its key index), the next page starts
/// before this one is read; otherwise each page starts after the last key of the one before.
/// With `gzip`, each page is compressed by its task as one gzip member (a file of members one
/// after the other is one gzip file).
pub(super) struct PageReader {
    ns: NamespaceAccess,
    prefix: String,
    json: bool,
    gzip: bool,
    /// Pages being read, in order, each with the end of its range (`None`: open-ended).
    in_flight: std::collections::VecDeque<Reading>,
    next_after: Option<String>,
    more: bool,
}

impl PageReader {
    pub(super) fn new(ns: NamespaceAccess, prefix: String, json: bool, gzip: bool) -> Self {
        Self { ns, prefix, json, gzip, in_flight: Default::default(), next_after: None, more: true }
    }

    fn read(&self, after: Option<String>, upto: Option<String>) -> tokio::task::JoinHandle<DomainResult<EncodedPage>> {
        let (ns, prefix, json, gzip) = (self.ns.clone(), self.prefix.clone(), self.json, self.gzip);
        tokio::spawn(async move {
            let scanned =
                ns.scan(&prefix, after.as_deref(), upto.as_deref(), EXPORT_PAGE_KEYS, EXPORT_PAGE_BYTES).await?;
            let values = scanned.keys;
            let details = match (values.first(), values.last()) {
                (Some(first), Some(last)) => ns.details_between(&first.name, &last.name).await?,
                _ => Default::default(),
            };
            let count = values.len();
            let last_read = values.last().map(|k| k.name.clone());
            let mut bytes = Vec::with_capacity(values.iter().map(|k| k.value.len() + 320).sum());
            // Each value goes as soon as it is encoded: a page is held about once, not twice.
            for (i, key) in values.into_iter().enumerate() {
                if json && i > 0 {
                    bytes.extend_from_slice(b",\n");
                }
                write_export_item(&mut bytes, &key, details.get(&key.name))?;
                if !json {
                    bytes.push(b'\n');
                }
            }
            let raw_len = bytes.len();
            if gzip && count > 0 {
                bytes = super::backup::gzip_member(&bytes)?;
            }
            // A page cut by its byte budget ends at its last key; the rest of its range follows.
            let last = if scanned.cut { last_read } else { last_read.or(upto) };
            DomainResult::Ok(EncodedPage { bytes, raw_len, count, last, cut: scanned.cut })
        })
    }

    /// The next page in key order; `None` once the range is read.
    pub(super) async fn next(&mut self) -> DomainResult<Option<EncodedPage>> {
        while self.more && self.in_flight.len() < PAGES_IN_FLIGHT {
            let upto = self.ns.page_end(&self.prefix, self.next_after.as_deref(), EXPORT_PAGE_KEYS).await?;
            let task = self.read(self.next_after.clone(), upto.clone());
            self.in_flight.push_back((task, upto.clone()));
            match upto {
                Some(end) => self.next_after = Some(end),
                None => self.more = false,
            }
        }
        let Some((task, upto)) = self.in_flight.pop_front() else { return Ok(None) };
        let page = task.await.map_err(DomainError::internal)??;
        match upto {
            // The byte budget cut the page short of its range's end: the rest of the range is
            // read next, before the pages after it.
            Some(upto) if page.cut => {
                let task = self.read(page.last.clone(), Some(upto.clone()));
                self.in_flight.push_front((task, Some(upto)));
            }
            Some(_) => {}
            None if page.count > 0 => {
                // The store could not tell where this page ends (or it was the last it could): go
                // on after its last key until a page comes back empty.
                self.next_after = page.last.clone();
                self.more = true;
            }
            None => {}
        }
        Ok(Some(page))
    }

    /// Stops the pages being read.
    pub(super) fn abort(&mut self) {
        for (task, _) in self.in_flight.drain(..) {
            task.abort();
        }
    }
}

pub(super) fn system() -> Actor {
    Actor::local(Source::Job)
}

fn check_selection(selection: &Selection) -> DomainResult<()> {
    match (&selection.keys, &selection.prefix) {
        (Some(_), Some(_)) => Err(DomainError::invalid("keys", "keys: give keys or prefix, not both")),
        (None, None) => Err(DomainError::invalid("keys", "keys: give a list of keys or a prefix")),
        (Some(keys), None) => {
            if keys.is_empty() {
                return Err(DomainError::invalid("keys", "keys: the list is empty"));
            }
            if keys.len() > MAX_LISTED_KEYS {
                return Err(DomainError::too_large(
                    "keys",
                    format!("keys: {} names is more than {MAX_LISTED_KEYS}; use a prefix", keys.len()),
                ));
            }
            for key in keys {
                limits::check_key_name(key).map_err(|e| DomainError::invalid("keys", format!("keys: {e}")))?;
            }
            Ok(())
        }
        (None, Some(prefix)) => check_prefix(prefix),
    }
}

pub(super) fn check_prefix(prefix: &str) -> DomainResult<()> {
    if prefix.len() > limits::MAX_KEY_BYTES || prefix.contains('\0') {
        return Err(DomainError::invalid(
            "prefix",
            format!("prefix: must be at most {} bytes, without NUL", limits::MAX_KEY_BYTES),
        ));
    }
    Ok(())
}

/// Checks a job before it is recorded, so that a bad request is a 4xx and not a failed job.
pub(crate) async fn validate(jobs: &Jobs, spec: &JobSpec) -> DomainResult<()> {
    let kv = jobs.kv();
    let actor = system();
    kv.get_namespace(&actor, spec.namespace_id()).await?;
    match spec {
        JobSpec::BulkDelete { selection, .. } => check_selection(selection),
        JobSpec::BulkCopy { namespace_id, selection, target_namespace_id, .. }
        | JobSpec::BulkMove { namespace_id, selection, target_namespace_id, .. } => {
            check_selection(selection)?;
            if target_namespace_id == namespace_id {
                return Err(DomainError::invalid(
                    "target_namespace_id",
                    "target_namespace_id: must be another namespace than the source",
                ));
            }
            kv.get_namespace(&actor, target_namespace_id).await.map_err(|e| match e {
                DomainError::NotFound { message, .. } | DomainError::Invalid { message, .. } => DomainError::NotFound {
                    field: Some("target_namespace_id".into()),
                    message: message.replace("namespace_id", "target_namespace_id"),
                },
                other => other,
            })?;
            Ok(())
        }
        JobSpec::BulkTtl { selection, change, .. } => {
            check_selection(selection)?;
            new_expiration(change, now_unix()).map(|_| ())
        }
        JobSpec::BulkTag { selection, tags, operation, .. } => {
            check_selection(selection)?;
            let tags = normalize_tags(tags)?;
            if tags.is_empty() && *operation != TagOperation::Replace {
                return Err(DomainError::invalid("tags", "tags: give at least one tag to add or remove"));
            }
            Ok(())
        }
        JobSpec::Export { prefix, .. } => prefix.as_deref().map(check_prefix).unwrap_or(Ok(())),
        JobSpec::Rewind { namespace_id, prefix, at } => {
            crate::kv::check_rewind(prefix.as_deref(), *at, now_unix())?;
            // One name read: refuses a store without history (Cloudflare) before the job starts.
            let ns = kv.namespace(&actor, namespace_id, Need::Read).await?;
            ns.rewind_page(prefix.as_deref().unwrap_or_default(), *at, None, 1, now_unix()).await.map(|_| ())
        }
        JobSpec::Backup { namespace_id, prefix, target, batch, .. } => {
            jobs.backup_store(target)?;
            check_batch(namespace_id, batch)?;
            for id in batch {
                kv.get_namespace(&actor, id).await?;
            }
            prefix.as_deref().map(check_prefix).unwrap_or(Ok(()))
        }
        // Checked with the actor by `Jobs::start` (the backup, its checksum, the prefix; the
        // undone job, its type, its state and its namespaces).
        JobSpec::Restore { .. } | JobSpec::Undo { .. } => Ok(()),
        JobSpec::Import { file, .. } => {
            if !super::safe_relative(file) || !jobs.data_path(file).is_file() {
                return Err(DomainError::invalid("file", "file: no uploaded file by that name"));
            }
            Ok(())
        }
    }
}

/// The expiration a bulk TTL change sets at `now`, checked as any write's is.
fn new_expiration(change: &TtlChange, now: i64) -> DomainResult<Option<i64>> {
    match change {
        TtlChange::Ttl(ttl) => limits::resolve_expiration(None, Some(*ttl), now),
        TtlChange::At(at) => limits::resolve_expiration(Some(*at), None, now),
        TtlChange::Remove => Ok(None),
    }
}

/// Walks the keys of a selection in batches of the store's size, from where a resumed job left
/// off. A prefix is walked with the store's own cursors (opaque on Cloudflare), a page of at most
/// 1,000 keys at a time, until a batch is full. Jobs that read values (copy, move, and TTL
/// changes, which Cloudflare makes by rewriting values) also end a batch at a byte budget of the
/// values' stored sizes, so that keys of 25 MiB go a few at a time.
pub(super) struct Walker {
    ns: NamespaceAccess,
    keys: Option<Vec<String>>,
    prefix: String,
    batch: usize,
    /// Value bytes a batch may take (the first key always goes).
    max_bytes: Option<usize>,
    /// Names done (a list).
    position: usize,
    /// Where the listing goes on (a prefix); `None` before the first page.
    cursor: Option<String>,
    done: bool,
}

impl Walker {
    async fn start(ctx: &mut Ctx, namespace_id: &str, selection: &Selection) -> DomainResult<Self> {
        Self::start_within(ctx, namespace_id, selection, None).await
    }

    /// A walk whose batches also stop at `max_bytes` of values.
    async fn start_within(
        ctx: &mut Ctx,
        namespace_id: &str,
        selection: &Selection,
        max_bytes: Option<usize>,
    ) -> DomainResult<Self> {
        let resume = ctx.resume_point().await?;
        let ns = ctx.kv().namespace(&system(), namespace_id, Need::Read).await?;
        let mut walker = Self::over(ns, selection, max_bytes);
        match (&walker.keys, resume) {
            (Some(keys), resume) => {
                walker.position = resume.and_then(|r| r.parse().ok()).unwrap_or(0).min(keys.len());
                if ctx.job.total == 0 {
                    ctx.set_total(keys.len() as u64).await?;
                }
            }
            (None, resume) => {
                walker.cursor = resume.filter(|r| !r.is_empty());
                if ctx.job.total == 0 || walker.cursor.is_none() {
                    let total = walker.ns.count_keys(&walker.prefix).await?;
                    ctx.set_total(total).await?;
                }
            }
        }
        Ok(walker)
    }

    /// A walk of `selection` in `ns` from its start (a preview's: no job, no resume).
    pub(super) fn over(ns: NamespaceAccess, selection: &Selection, max_bytes: Option<usize>) -> Self {
        Self {
            batch: ns.batch_keys(),
            ns,
            keys: selection.keys.clone(),
            prefix: selection.prefix.clone().unwrap_or_default(),
            max_bytes,
            position: 0,
            cursor: None,
            done: false,
        }
    }

    pub(super) async fn next(&mut self) -> DomainResult<Option<Vec<String>>> {
        if self.done {
            return Ok(None);
        }
        if let Some(keys) = &self.keys {
            if self.position >= keys.len() {
                self.done = true;
                return Ok(None);
            }
            let mut end = (self.position + self.batch).min(keys.len());
            if let Some(max_bytes) = self.max_bytes {
                let slice = &keys[self.position..end];
                let sizes = self.ns.sizes_of(slice).await?;
                let fit = within(slice.iter().map(|n| sizes.get(n).copied().unwrap_or(0)), max_bytes, 0);
                end = self.position + fit;
            }
            let batch = keys[self.position..end].to_vec();
            self.position = end;
            return Ok(Some(batch));
        }
        let mut names = Vec::new();
        let mut bytes = 0u64;
        while names.len() < self.batch {
            let prefix = Some(self.prefix.clone()).filter(|p| !p.is_empty());
            let query = KeyQuery {
                prefix: prefix.clone(),
                cursor: self.cursor.clone(),
                limit: Some((self.batch - names.len()).clamp(10, 1000) as u32),
            };
            let page = self.ns.list_keys(query).await?;
            let listed = page.keys.len();
            let taken = match self.max_bytes {
                Some(max_bytes) => within(page.keys.iter().map(|k| k.size), max_bytes, bytes),
                None => listed,
            };
            bytes = page.keys.iter().take(taken).fold(bytes, |sum, k| sum.saturating_add(k.size));
            names.extend(page.keys.into_iter().take(taken).map(|k| k.name));
            if taken < listed {
                // The budget ends the batch inside this page: the walk goes on right after the
                // last key taken, where the store's own cursor for a page of that many keys from
                // the same place points.
                if taken > 0 {
                    let query = KeyQuery { prefix, cursor: self.cursor.clone(), limit: Some(taken as u32) };
                    let again = self.ns.list_keys(query).await?;
                    match again.cursor.filter(|c| !again.list_complete && !c.is_empty()) {
                        Some(cursor) => self.cursor = Some(cursor),
                        None => self.done = true,
                    }
                }
                break;
            }
            match page.cursor.filter(|c| !page.list_complete && !c.is_empty()) {
                Some(cursor) => self.cursor = Some(cursor),
                None => {
                    self.done = true;
                    break;
                }
            }
        }
        Ok(Some(names).filter(|n| !n.is_empty()))
    }

    fn checkpoint(&self) -> String {
        match &self.keys {
            Some(_) => self.position.to_string(),
            None => self.cursor.clone().unwrap_or_default(),
        }
    }
}

/// How many of the values of `sizes` fit in `max_bytes` after `used` bytes: at least one when
/// nothing is used yet.
fn within(sizes: impl Iterator<Item = u64>, max_bytes: usize, used: u64) -> usize {
    let max_bytes = u64::try_from(max_bytes).unwrap_or(u64::MAX);
    let mut bytes = used;
    let mut count = 0;
    for size in sizes {
        if (count > 0 || used > 0) && bytes.saturating_add(size) > max_bytes {
            break;
        }
        bytes = bytes.saturating_add(size);
        count += 1;
    }
    count
}

fn missing(names: &[String], present: &HashSet<String>) -> Vec<KeyFailure> {
    names
        .iter()
        .filter(|n| !present.contains(*n))
        .map(|n| KeyFailure { key: n.clone(), reason: "the key does not exist (or has expired)".into() })
        .collect()
}

pub(crate) async fn run(ctx: &mut Ctx, spec: &JobSpec, actor: &Actor) -> DomainResult<Outcome> {
    match spec {
        JobSpec::BulkDelete { namespace_id, selection } => {
            let mut walker = Walker::start(ctx, namespace_id, selection).await?;
            while let Some(names) = walker.next().await? {
                if ctx.cancelled().await {
                    return Ok(Outcome::Cancelled);
                }
                let deleted = ctx.kv().delete_many(actor, namespace_id, &names).await?;
                let skipped = names.len() as u64 - deleted;
                ctx.advance(names.len() as u64, skipped, names.last().map(String::as_str), walker.checkpoint()).await?;
            }
            Ok(Outcome::Completed(None))
        }
        JobSpec::BulkCopy { namespace_id, selection, target_namespace_id, overwrite }
        | JobSpec::BulkMove { namespace_id, selection, target_namespace_id, overwrite } => {
            let moving = matches!(spec, JobSpec::BulkMove { .. });
            let mut walker = Walker::start_within(ctx, namespace_id, selection, Some(limits::BATCH_BYTES)).await?;
            while let Some(names) = walker.next().await? {
                if ctx.cancelled().await {
                    return Ok(Outcome::Cancelled);
                }
                let done =
                    ctx.kv().transfer(actor, namespace_id, target_namespace_id, &names, *overwrite, moving).await?;
                let (skipped, failures) = (done.skipped, done.failures);
                ctx.fail_keys(failures).await?;
                ctx.advance(names.len() as u64, skipped, names.last().map(String::as_str), walker.checkpoint()).await?;
            }
            Ok(Outcome::Completed(None))
        }
        JobSpec::BulkTtl { namespace_id, selection, change } => {
            let mut walker = Walker::start_within(ctx, namespace_id, selection, Some(limits::BATCH_BYTES)).await?;
            while let Some(names) = walker.next().await? {
                if ctx.cancelled().await {
                    return Ok(Outcome::Cancelled);
                }
                // Checked again for each batch: a queued or resumed job may reach an absolute
                // expiration that is no longer far enough ahead, and then fails, naming it, rather
                // than expiring the keys.
                let expiration = new_expiration(change, now_unix())?;
                let changed = ctx.kv().set_expiration(actor, namespace_id, &names, expiration).await?;
                ctx.fail_keys(missing(&names, &changed.into_iter().collect())).await?;
                ctx.advance(names.len() as u64, 0, names.last().map(String::as_str), walker.checkpoint()).await?;
            }
            Ok(Outcome::Completed(None))
        }
        JobSpec::BulkTag { namespace_id, selection, tags, operation } => {
            let tags = normalize_tags(tags)?;
            let mut walker = Walker::start(ctx, namespace_id, selection).await?;
            while let Some(names) = walker.next().await? {
                if ctx.cancelled().await {
                    return Ok(Outcome::Cancelled);
                }
                let applied = ctx.kv().apply_tags(actor, namespace_id, &names, &tags, *operation).await?;
                let live: HashSet<String> =
                    applied.changed.into_iter().chain(applied.over_limit.iter().cloned()).collect();
                let mut failures = missing(&names, &live);
                failures.extend(applied.over_limit.into_iter().map(|key| KeyFailure {
                    key,
                    reason: format!(
                        "tags: the key would have more than {} tags; left unchanged",
                        limits::MAX_TAGS_PER_KEY
                    ),
                }));
                ctx.fail_keys(failures).await?;
                ctx.advance(names.len() as u64, 0, names.last().map(String::as_str), walker.checkpoint()).await?;
            }
            Ok(Outcome::Completed(None))
        }
        JobSpec::Export { namespace_id, format, prefix } => export(ctx, namespace_id, *format, prefix.as_deref()).await,
        JobSpec::Import { namespace_id, file, collision, format } => {
            let path = ctx.jobs().data_path(file);
            import(ctx, actor, namespace_id, &path, *collision, *format).await
        }
        JobSpec::Rewind { namespace_id, prefix, at } => rewind(ctx, actor, namespace_id, prefix.as_deref(), *at).await,
        JobSpec::Backup { namespace_id, prefix, target, plan_id, batch } => {
            let store = ctx.jobs().backup_store(target)?;
            let namespaces: Vec<&str> =
                std::iter::once(namespace_id.as_str()).chain(batch.iter().map(String::as_str)).collect();
            super::backup::backup(ctx, store, &namespaces, prefix.as_deref(), plan_id.as_deref()).await
        }
        JobSpec::Restore { namespace_id, backup_id, prefix, mode, target } => {
            let store = ctx.jobs().backup_store(target)?;
            super::backup::restore(ctx, store, actor, namespace_id, backup_id, prefix.as_deref(), *mode).await
        }
        JobSpec::Undo { job_id, .. } => undo(ctx, actor, job_id).await,
    }
}

/// Undoes job `job_id`: namespace by namespace (in id order), a page of the keys it wrote at a
/// time (in byte order), each page planned from the records as they are when it runs and
/// written through the write path with the job's progress in the page's last transaction. Keys
/// changed again since the job, and keys whose state before it is no longer kept, are left
/// alone and listed among the job's failures. Its checkpoint is `[namespace, last name]`.
async fn undo(ctx: &mut Ctx, actor: &Actor, job_id: &str) -> DomainResult<Outcome> {
    let resume = ctx.resume_point().await?.filter(|r| !r.is_empty());
    let mut from: Option<(String, String)> = match resume.as_deref() {
        Some(text) => {
            Some(serde_json::from_str(text).map_err(|_| DomainError::internal(format!("undo checkpoint {text:?}")))?)
        }
        None => None,
    };
    if ctx.job.total == 0 || from.is_none() {
        let total = ctx.kv().count_undo_keys(job_id).await?;
        ctx.set_total(total).await?;
    }
    let mut counts = RewindCounts::default();
    let mut changed_since = 0u64;
    for namespace_id in ctx.kv().undo_namespaces(job_id).await? {
        let mut after = match &from {
            Some((resumed, _)) if namespace_id < *resumed => continue,
            Some((resumed, name)) if namespace_id == *resumed => Some(name.clone()),
            _ => None,
        };
        from = None;
        let writing = ctx.kv().namespace(actor, &namespace_id, Need::Write).await?;
        loop {
            if ctx.cancelled().await {
                return Ok(Outcome::Cancelled);
            }
            let now = now_unix();
            let page = writing.undo_page(job_id, after.as_deref(), writing.batch_keys(), now).await?;
            let (written, mut failures) =
                tally(&page.keys, &mut counts, "its state before the job is no longer kept; left as it is");
            changed_since += page.changed_since.len() as u64;
            failures.extend(page.changed_since.iter().map(|name| KeyFailure {
                key: name.clone(),
                reason: "changed again since the job; left as it is".into(),
            }));
            let checkpoint =
                page.last.as_ref().map(|last| serde_json::json!([namespace_id, last]).to_string()).unwrap_or_default();
            let done = Done { walked: page.walked as u64, written, failures, last: page.last.as_deref(), checkpoint };
            write_page(ctx, &writing, &page.keys, done, now).await?;
            if !page.more {
                break;
            }
            after = page.last;
        }
    }
    Ok(Outcome::Completed(Some(serde_json::json!({
        "undone_job_id": job_id,
        "counts": counts,
        "changed_since": changed_since,
        "complete": counts.incomplete == 0 && changed_since == 0,
    }))))
}

/// Counts each key of a page of a rewind or an undo in `counts`; answers how many it writes and
/// the failures of the keys it leaves incomplete (`why`: the reason given).
fn tally(keys: &[RewindKey], counts: &mut RewindCounts, why: &str) -> (u64, Vec<KeyFailure>) {
    let mut written = 0;
    let mut failures = Vec::new();
    for key in keys {
        counts.add(key.class);
        match key.class {
            RewindClass::Created | RewindClass::Changed | RewindClass::Deleted => written += 1,
            RewindClass::Incomplete => failures.push(KeyFailure { key: key.name.clone(), reason: why.to_owned() }),
            RewindClass::Unchanged => {}
        }
    }
    (written, failures)
}

/// What a page of a rewind or an undo did: names walked, of which `written` are written and
/// `failures` left alone (the rest are skipped), and where the job resumes after it.
struct Done<'a> {
    walked: u64,
    written: u64,
    failures: Vec<KeyFailure>,
    last: Option<&'a str>,
    checkpoint: String,
}

/// Writes a page of a rewind or an undo through the write path, the job's progress in its
/// last transaction.
async fn write_page(
    ctx: &mut Ctx,
    writing: &NamespaceAccess,
    keys: &[RewindKey],
    done: Done<'_>,
    now: i64,
) -> DomainResult<()> {
    let skipped = done.walked.saturating_sub(done.written).saturating_sub(done.failures.len() as u64);
    let step = ctx.step(done.walked, skipped, done.last, done.checkpoint, done.failures);
    writing.rewind_write(keys, now, &step).await?;
    ctx.after_write().await;
    ctx.stepped(step).await
}

/// Rewinds the keys of a namespace (within `prefix`) to their state at `at`, a page of keys at
/// a time in byte order. Each page is planned from the versions as they are when it runs (a key
/// written since the preview is still brought back to its state at `at`), then written through
/// the write path with the job's progress in the page's last transaction. Keys whose state at
/// `at` is no longer kept are left alone and listed among the job's failures.
async fn rewind(
    ctx: &mut Ctx,
    actor: &Actor,
    namespace_id: &str,
    prefix: Option<&str>,
    at: i64,
) -> DomainResult<Outcome> {
    let resume = ctx.resume_point().await?.filter(|r| !r.is_empty());
    let mut after = resume.as_deref().map(crate::sql::decode_cursor).transpose()?;
    let reading = ctx.kv().namespace(&system(), namespace_id, Need::Read).await?;
    let writing = ctx.kv().namespace(actor, namespace_id, Need::Write).await?;
    let prefix = prefix.unwrap_or_default();
    if ctx.job.total == 0 || after.is_none() {
        let total = reading.count_rewind_keys(prefix).await?;
        ctx.set_total(total).await?;
    }
    let mut counts = RewindCounts::default();
    loop {
        if ctx.cancelled().await {
            return Ok(Outcome::Cancelled);
        }
        let now = now_unix();
        let page = reading.rewind_page(prefix, at, after.as_deref(), reading.batch_keys(), now).await?;
        let reason = format!("at: the versions kept no longer hold its state at {at}; left as it is");
        let (written, failures) = tally(&page.keys, &mut counts, &reason);
        // Skipped: keys the same then as now (or absent both then and now).
        let checkpoint = page.last.as_deref().map(encode_cursor).unwrap_or_default();
        let done = Done { walked: page.walked as u64, written, failures, last: page.last.as_deref(), checkpoint };
        write_page(ctx, &writing, &page.keys, done, now).await?;
        if !page.more {
            break;
        }
        after = page.last;
    }
    Ok(Outcome::Completed(Some(serde_json::json!({
        "at": at,
        "prefix": Some(prefix).filter(|p| !p.is_empty()),
        "counts": counts,
        "complete": counts.incomplete == 0,
    }))))
}

async fn export(
    ctx: &mut Ctx,
    namespace_id: &str,
    format: ExportFormat,
    prefix: Option<&str>,
) -> DomainResult<Outcome> {
    // An export always starts over: its file is written from the beginning.
    ctx.job.processed = 0;
    let ns = ctx.kv().namespace(&system(), namespace_id, Need::Read).await?;
    let namespace = ns.get().await?;
    let dir = ctx.jobs().exports_dir();
    tokio::fs::create_dir_all(&dir).await.map_err(DomainError::internal)?;
    let relative = format!("exports/{}.{}", ctx.job.id, format.extension());
    let path = ctx.jobs().data_path(&relative);
    let file = tokio::fs::File::create(&path).await.map_err(DomainError::internal)?;
    let mut out = tokio::io::BufWriter::with_capacity(1024 * 1024, file);
    let prefix = prefix.unwrap_or_default().to_owned();
    // The namespace's exact live count is already known; only a prefix needs counting.
    let total = if prefix.is_empty() { namespace.key_count } else { ns.count_keys(&prefix).await? };
    ctx.set_total(total).await?;
    ctx.throttle(std::time::Duration::from_millis(250));
    let json = format == ExportFormat::Json;
    let write = |e: std::io::Error| DomainError::internal(e);
    if json {
        out.write_all(b"[").await.map_err(write)?;
    }
    let mut pages = PageReader::new(ns.clone(), prefix.clone(), json, false);
    let mut count = 0u64;
    while let Some(page) = pages.next().await? {
        if ctx.cancelled().await {
            pages.abort();
            drop(out);
            let _ = tokio::fs::remove_file(&path).await;
            return Ok(Outcome::Cancelled);
        }
        if page.count > 0 {
            if json {
                out.write_all(if count == 0 { b"\n" } else { b",\n" }).await.map_err(write)?;
            }
            out.write_all(&page.bytes).await.map_err(write)?;
            count += page.count as u64;
        }
        if let Some(last) = &page.last {
            ctx.advance(page.count as u64, 0, Some(last), encode_cursor(last)).await?;
        }
    }
    if json {
        out.write_all(if count == 0 { b"]\n" } else { b"\n]\n" }).await.map_err(write)?;
    }
    out.flush().await.map_err(write)?;
    let size = tokio::fs::metadata(&path).await.map(|m| m.len()).unwrap_or(0);
    let stamp = chrono::DateTime::from_timestamp(now_unix(), 0).map(|t| t.format("%Y%m%d-%H%M%S").to_string());
    let title: String = namespace
        .title
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .collect();
    let filename = format!("{title}-{}.{}", stamp.unwrap_or_default(), format.extension());
    let keep = i64::try_from(ctx.jobs().config().export_ttl_hours).ok().and_then(|h| h.checked_mul(3600));
    let expires_at = keep.and_then(|keep| now_unix().checked_add(keep)).unwrap_or(i64::MAX);
    Ok(Outcome::Completed(Some(serde_json::json!({
        "file": relative,
        "filename": filename,
        "content_type": format.content_type(),
        "size": size,
        "keys": count,
        "expires_at": expires_at,
        "download_url": format!("/api/jobs/{}/download", ctx.job.id),
    }))))
}

fn label_failure(label: &str, name: Option<&str>, err: &dyn std::fmt::Display) -> KeyFailure {
    KeyFailure { key: name.unwrap_or(label).to_owned(), reason: format!("{label}: {err}") }
}

async fn import(
    ctx: &mut Ctx,
    actor: &Actor,
    namespace_id: &str,
    path: &std::path::Path,
    collision: Collision,
    format: super::ImportFormat,
) -> DomainResult<Outcome> {
    let resume_at: u64 = ctx.resume_point().await?.and_then(|r| r.parse().ok()).unwrap_or(0);
    let reading = ctx.kv().namespace(&system(), namespace_id, Need::Read).await?;
    let writing = ctx.kv().namespace(actor, namespace_id, Need::Write).await?;
    let batch_keys = reading.batch_keys();
    // First pass: count, validate every item, and with `fail` check every collision, before
    // anything is written.
    let mut reader = ItemReader::open(path, format).await?;
    let mut total = 0u64;
    let mut problems: Vec<KeyFailure> = Vec::new();
    let mut problem_count = 0u64;
    let mut pending: Vec<(String, String)> = Vec::new();
    let now = now_unix();
    while let Some((label, item)) = reader.next().await? {
        total += 1;
        if total <= resume_at || collision != Collision::Fail {
            continue;
        }
        let parsed = item.map_err(|e| DomainError::invalid("item", e)).and_then(parse_item);
        match parsed.and_then(|(put, details)| ValidPut::new(put, details, now)) {
            Ok(valid) => pending.push((label, valid.name().to_owned())),
            Err(err) => {
                problem_count += 1;
                if problems.len() < super::MAX_FAILURES_KEPT as usize {
                    problems.push(label_failure(&label, None, &err));
                }
            }
        }
        if pending.len() >= batch_keys {
            collisions(&reading, &mut pending, &mut problems, &mut problem_count).await?;
        }
    }
    collisions(&reading, &mut pending, &mut problems, &mut problem_count).await?;
    ctx.set_total(total).await?;
    if problem_count > 0 {
        let first = problems.first().map(|p| p.reason.clone()).unwrap_or_default();
        ctx.fail_keys(problems).await?;
        return Err(DomainError::invalid(
            "file",
            format!(
                "{problem_count} item(s) cannot be imported with collision=fail, so nothing {}was written; first: {first}",
                if resume_at > 0 { "more " } else { "" }
            ),
        ));
    }
    // Second pass: write in batches.
    let mut reader = ItemReader::open(path, format).await?;
    let mut position = 0u64;
    let mut batch: Vec<ValidPut> = Vec::new();
    let mut batch_bytes = 0usize;
    let mut failures: Vec<KeyFailure> = Vec::new();
    let mut handled = 0u64;
    loop {
        let next = reader.next().await?;
        let flush = match &next {
            None => true,
            Some(_) => batch.len() >= batch_keys || batch_bytes >= IMPORT_BATCH_BYTES,
        };
        if flush && (handled > 0 || !batch.is_empty()) {
            if ctx.cancelled().await {
                return Ok(Outcome::Cancelled);
            }
            let mut skipped = 0;
            if collision == Collision::Skip {
                let names: Vec<String> = batch.iter().map(|b| b.name().to_owned()).collect();
                let existing = reading.live_names(&names).await?;
                let before = batch.len();
                batch.retain(|item| !existing.contains(item.name()));
                skipped = (before - batch.len()) as u64;
            }
            let last = batch.last().map(|b| b.name().to_owned());
            // The job's progress is saved with the batch, in its transaction: a crash leaves
            // both or neither, so a resume never writes a batch twice (which `fail` would take
            // for collisions with itself).
            let step = ctx.step(handled, skipped, last.as_deref(), position.to_string(), std::mem::take(&mut failures));
            writing.put_valid_step(std::mem::take(&mut batch), &step).await?;
            ctx.after_write().await;
            ctx.stepped(step).await?;
            batch_bytes = 0;
            handled = 0;
        }
        let Some((label, item)) = next else { break };
        position += 1;
        if position <= resume_at {
            continue;
        }
        handled += 1;
        let parsed = item.map_err(|e| DomainError::invalid("item", e)).and_then(parse_item);
        let name = parsed.as_ref().ok().map(|(put, _)| put.name.clone());
        match parsed.and_then(|(put, details)| ValidPut::new(put, details, now_unix())) {
            Ok(valid) => {
                batch_bytes += valid.value().len();
                batch.push(valid);
            }
            Err(err) => failures.push(label_failure(&label, name.as_deref(), &err)),
        }
    }
    Ok(Outcome::Completed(None))
}

/// With `collision=fail`: records the pending items whose key already exists.
async fn collisions(
    reading: &NamespaceAccess,
    pending: &mut Vec<(String, String)>,
    problems: &mut Vec<KeyFailure>,
    count: &mut u64,
) -> DomainResult<()> {
    if pending.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = pending.iter().map(|(_, n)| n.clone()).collect();
    let existing = reading.live_names(&names).await?;
    for (label, name) in pending.drain(..) {
        if existing.contains(&name) {
            *count += 1;
            if problems.len() < super::MAX_FAILURES_KEPT as usize {
                problems.push(KeyFailure {
                    key: name.clone(),
                    reason: format!("{label}: key {name:?} already exists (collision=fail)"),
                });
            }
        }
    }
    Ok(())
}

/// A backup's namespaces: at most [`MAX_BATCH_NAMESPACES`], each a well-formed id, none twice.
fn check_batch(first: &str, batch: &[String]) -> DomainResult<()> {
    if batch.len() >= MAX_BATCH_NAMESPACES {
        return Err(DomainError::invalid(
            "namespace_ids",
            format!(
                "namespace_ids: {} namespaces; one backup job takes at most {MAX_BATCH_NAMESPACES}",
                batch.len() + 1
            ),
        ));
    }
    let mut seen = HashSet::from([first]);
    for id in batch {
        crate::limits::check_namespace_id(id).map_err(|_| {
            DomainError::invalid("namespace_ids", format!("namespace_ids: {id:?} is not a namespace id"))
        })?;
        if !seen.insert(id.as_str()) {
            return Err(DomainError::invalid("namespace_ids", format!("namespace_ids: {id:?} is named twice")));
        }
    }
    Ok(())
}
