//! Previews of bulk jobs (`dry_run`): what a bulk delete, copy, move, TTL change or tag change
//! would do to the keys it selects, walked as the job walks them (the same batches, the same
//! reads), with nothing written.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::ops::{Walker, system};
use super::{JobSpec, Jobs};
use crate::actor::Actor;
use crate::catalog::{apply_tag_operation, normalize_tags};
use crate::error::{DomainError, DomainResult};
use crate::kv::{NamespaceAccess, Need};
use crate::limits;
use crate::model::{CHANGE_SAMPLE, ValueChange};

/// How many names of each class a preview lists.
pub const PLAN_SAMPLE: usize = 20;

/// How many keys a bulk job would create, change, delete or skip.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanCounts {
    pub created: u64,
    pub changed: u64,
    pub deleted: u64,
    pub skipped: u64,
}

/// What a bulk job would do (a dry run): the counts, the first [`PLAN_SAMPLE`] names of each
/// class (in the job's order) and, for keys it would change, the value comparison of the first
/// [`CHANGE_SAMPLE`] (a copy or move overwriting keys of the target: the target's value now and
/// the one written). A move's `deleted` are the source keys it takes away.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkPreview {
    pub job_type: String,
    pub counts: PlanCounts,
    pub created: Vec<String>,
    pub changed: Vec<String>,
    pub deleted: Vec<String>,
    /// Keys the job would leave alone: absent (or expired), already as asked, or kept (a copy
    /// without overwrite onto a key the target has).
    pub skipped: Vec<String>,
    pub changes: Vec<ValueChange>,
}

fn sample(list: &mut Vec<String>, names: impl IntoIterator<Item = String>) {
    let room = PLAN_SAMPLE.saturating_sub(list.len());
    list.extend(names.into_iter().take(room));
}

impl BulkPreview {
    fn created(&mut self, names: Vec<String>) {
        self.counts.created += names.len() as u64;
        sample(&mut self.created, names);
    }

    fn changed(&mut self, names: Vec<String>) {
        self.counts.changed += names.len() as u64;
        sample(&mut self.changed, names);
    }

    fn deleted(&mut self, names: Vec<String>) {
        self.counts.deleted += names.len() as u64;
        sample(&mut self.deleted, names);
    }

    fn skipped(&mut self, names: Vec<String>) {
        self.counts.skipped += names.len() as u64;
        sample(&mut self.skipped, names);
    }
}

/// Splits `names` (in order) into those in `set` and the others.
fn split(names: Vec<String>, set: &HashSet<String>) -> (Vec<String>, Vec<String>) {
    names.into_iter().partition(|n| set.contains(n))
}

impl Jobs {
    /// What the bulk job `spec` would do for `actor`, checked as [`Jobs::start`] checks it (the
    /// same refusals), without writing anything: see [`BulkPreview`]. Only bulk delete, copy,
    /// move, TTL and tag jobs have one (400, `dry_run`, for others).
    pub async fn preview_bulk(&self, actor: &Actor, spec: &JobSpec) -> DomainResult<BulkPreview> {
        if !matches!(
            spec,
            JobSpec::BulkDelete { .. }
                | JobSpec::BulkCopy { .. }
                | JobSpec::BulkMove { .. }
                | JobSpec::BulkTtl { .. }
                | JobSpec::BulkTag { .. }
        ) {
            return Err(DomainError::invalid(
                "dry_run",
                format!("dry_run: a {} job has no preview here", spec.job_type()),
            ));
        }
        self.admit(actor, spec).await?;
        let kv = self.kv();
        let mut preview = BulkPreview { job_type: spec.job_type().to_owned(), ..Default::default() };
        let source = kv.namespace(&system(), spec.namespace_id(), Need::Read).await?;
        match spec {
            JobSpec::BulkDelete { selection, .. } => {
                let mut walker = Walker::over(source.clone(), selection, None);
                while let Some(names) = walker.next().await? {
                    let live = source.live_names(&names).await?;
                    let (gone, skipped) = split(names, &live);
                    preview.deleted(gone);
                    preview.skipped(skipped);
                }
            }
            JobSpec::BulkCopy { selection, target_namespace_id, overwrite, .. }
            | JobSpec::BulkMove { selection, target_namespace_id, overwrite, .. } => {
                let moving = matches!(spec, JobSpec::BulkMove { .. });
                let target = kv.namespace(&system(), target_namespace_id, Need::Read).await?;
                let mut walker = Walker::over(source.clone(), selection, None);
                let mut compare = Vec::new();
                while let Some(names) = walker.next().await? {
                    let live = source.live_names(&names).await?;
                    let (names, absent) = split(names, &live);
                    preview.skipped(absent);
                    let taken = target.live_names(&names).await?;
                    let (over, new) = split(names, &taken);
                    let (written, kept) = if *overwrite { (over, Vec::new()) } else { (Vec::new(), over) };
                    if moving {
                        preview.deleted(new.iter().chain(&written).cloned().collect());
                    }
                    let room = CHANGE_SAMPLE.saturating_sub(compare.len());
                    compare.extend(written.iter().take(room).cloned());
                    preview.created(new);
                    preview.changed(written);
                    preview.skipped(kept);
                }
                preview.changes = compare_values(&target, &source, &compare).await?;
            }
            // A TTL change writes the expiration of every live key it selects.
            JobSpec::BulkTtl { selection, .. } => {
                let mut walker = Walker::over(source.clone(), selection, None);
                while let Some(names) = walker.next().await? {
                    let live = source.live_names(&names).await?;
                    let (changed, skipped) = split(names, &live);
                    preview.changed(changed);
                    preview.skipped(skipped);
                }
            }
            JobSpec::BulkTag { selection, tags, operation, .. } => {
                let tags = normalize_tags(tags)?;
                let mut walker = Walker::over(source.clone(), selection, None);
                while let Some(names) = walker.next().await? {
                    let live = source.live_names(&names).await?;
                    let (names, absent) = split(names, &live);
                    preview.skipped(absent);
                    let now = source.tags_of(&names).await?;
                    let changed: HashSet<String> = names
                        .iter()
                        .filter(|name| {
                            let current = now.get(*name).map(Vec::as_slice).unwrap_or_default();
                            let next = apply_tag_operation(current, &tags, *operation);
                            next.len() <= limits::MAX_TAGS_PER_KEY && !same_tags(current, &next)
                        })
                        .cloned()
                        .collect();
                    let (changed, skipped) = split(names, &changed);
                    preview.changed(changed);
                    preview.skipped(skipped);
                }
            }
            _ => {}
        }
        Ok(preview)
    }
}

fn same_tags(a: &[String], b: &[String]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

/// The value comparisons of keys a copy or move would overwrite: the target's value now and
/// the source's, which the job writes.
async fn compare_values(
    target: &NamespaceAccess,
    source: &NamespaceAccess,
    names: &[String],
) -> DomainResult<Vec<ValueChange>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let now: std::collections::HashMap<String, _> =
        target.get_many(names).await?.into_iter().map(|k| (k.name.clone(), k)).collect();
    let mut out = Vec::new();
    for written in source.get_many(names).await? {
        let Some(current) = now.get(&written.name) else { continue };
        let mut also = Vec::new();
        if current.metadata != written.metadata {
            also.push("metadata".to_owned());
        }
        if current.expiration != written.expiration {
            also.push("expiration".to_owned());
        }
        out.push(ValueChange::new(&written.name, &current.value, &written.value, also));
    }
    Ok(out)
}
