//! Import uploads on disk: removing the ones no job will read.

use std::collections::HashSet;
use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{JobSpec, Jobs};
use crate::entity::job;
use crate::error::DomainResult;

impl Jobs {
    /// Removes upload files that no unfinished import (queued, running or interrupted, which can
    /// be resumed) will read, once they are older than `min_age` (an upload being received has
    /// no job yet, and is younger). Returns how many went.
    pub async fn purge_orphan_uploads(&self, min_age: Duration) -> DomainResult<u64> {
        let dir = self.inner.config.data_dir.join("imports");
        let Ok(mut entries) = tokio::fs::read_dir(&dir).await else { return Ok(0) };
        let waiting: Vec<String> = job::Entity::find()
            .select_only()
            .column(job::Column::Params)
            .filter(job::Column::JobType.eq("import"))
            .filter(job::Column::Status.is_in(["queued", "running", "interrupted"]))
            .into_tuple()
            .all(&self.inner.conn)
            .await?;
        let mut needed = HashSet::new();
        for params in waiting {
            if let Ok(JobSpec::Import { file, .. }) = serde_json::from_str::<JobSpec>(&params) {
                needed.insert(file);
            }
        }
        let mut removed = 0;
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = format!("imports/{}", entry.file_name().to_string_lossy());
            if needed.contains(&name) {
                continue;
            }
            let old = entry
                .metadata()
                .await
                .ok()
                .filter(|m| m.is_file())
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= min_age);
            if old && tokio::fs::remove_file(entry.path()).await.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}
