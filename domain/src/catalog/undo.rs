//! Undoing a job: each key the job wrote goes back to the state it had before the job's first
//! write of it, unless it changed again after the job's last write of it (then it is left alone
//! and named). Read from what the write path records of a job's writes (`job_writes`) and from
//! the versions kept, a page of keys at a time.
//!
//! A key is unchanged since the job when its row is still at the revision of the job's last
//! write of it; for a key the job deleted last, when it has no row and no version was kept
//! after that delete. The state before the job is the version the job's first write of the key
//! replaced, recorded with that write's revision; a key that had no live state then (the job
//! created it) is deleted; a key whose version was pruned since is *incomplete* and left alone.

use std::collections::HashMap;

use sea_orm::ConnectionTrait;

use super::Catalog;
use super::rewind::{KeptState, RewindKey};
use crate::error::DomainResult;
use crate::limits;
use crate::model::RewindClass;
use crate::sql::{ROWS_PER_STATEMENT, Sql, get, get_int};

/// What undoing a job does with one page of the keys it wrote in one namespace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UndoPage {
    /// The keys to write back or delete, and those incomplete (in name order).
    pub keys: Vec<RewindKey>,
    /// Keys changed again after the job: left alone.
    pub changed_since: Vec<String>,
    /// Names walked.
    pub walked: usize,
    /// The last name walked.
    pub last: Option<String>,
    /// Whether names may follow.
    pub more: bool,
}

/// One recorded write of a key by the job.
struct Written {
    revision: i64,
    deleted: bool,
    had_before: bool,
}

impl Catalog {
    /// The namespaces the job wrote keys in, in id order.
    pub async fn undo_namespaces(&self, job_id: &str) -> DomainResult<Vec<String>> {
        self.require_history("job_id", "undoing a job")?;
        let mut sql = Sql::new(self.backend(), "SELECT DISTINCT namespace_id FROM job_writes WHERE job_id = ");
        sql.bind(job_id).push(" ORDER BY namespace_id");
        let rows = self.conn.query_all_raw(sql.statement()).await?;
        rows.iter().map(|row| get::<String>(row, "namespace_id")).collect()
    }

    /// How many keys (per namespace) the job wrote.
    pub async fn count_undo_keys(&self, job_id: &str) -> DomainResult<u64> {
        let mut sql = Sql::new(
            self.backend(),
            "SELECT COUNT(*) AS n FROM (SELECT DISTINCT namespace_id, name FROM job_writes WHERE job_id = ",
        );
        sql.bind(job_id).push(") u");
        let row = self.conn.query_one_raw(sql.statement()).await?;
        Ok(row.map(|row| get_int(&row, "n")).transpose()?.unwrap_or(0).max(0) as u64)
    }

    /// What undoing the job does with the next `limit` keys it wrote in the namespace after
    /// `after` (byte order), judged at `now` from the records as they are.
    pub async fn undo_page(
        &self,
        job_id: &str,
        namespace_id: &str,
        after: Option<&str>,
        limit: usize,
        now: i64,
    ) -> DomainResult<UndoPage> {
        let limit = limit.max(1);
        let mut sql = Sql::new(self.backend(), "SELECT DISTINCT name FROM job_writes WHERE job_id = ");
        sql.bind(job_id).push(" AND namespace_id = ").bind(namespace_id);
        if let Some(after) = after {
            sql.push(" AND name > ").bind(after);
        }
        sql.push(" ORDER BY name LIMIT ").bind(limit as i64);
        let names: Vec<String> = self
            .conn
            .query_all_raw(sql.statement())
            .await?
            .iter()
            .map(|row| get::<String>(row, "name"))
            .collect::<DomainResult<_>>()?;
        let mut page = UndoPage {
            walked: names.len(),
            more: names.len() >= limit,
            last: names.last().cloned(),
            ..Default::default()
        };
        for chunk in names.chunks(ROWS_PER_STATEMENT) {
            self.undo_chunk(job_id, namespace_id, chunk, now, &mut page).await?;
        }
        Ok(page)
    }

    async fn undo_chunk(
        &self,
        job_id: &str,
        namespace_id: &str,
        names: &[String],
        now: i64,
        page: &mut UndoPage,
    ) -> DomainResult<()> {
        // The job's writes of each key, in revision order.
        let mut sql = Sql::new(
            self.backend(),
            "SELECT name, revision, operation, CASE WHEN had_before THEN 1 ELSE 0 END AS had FROM job_writes \
             WHERE job_id = ",
        );
        sql.bind(job_id).push(" AND namespace_id = ").bind(namespace_id);
        sql.push(" AND name IN ").bind_list(names).push(" ORDER BY name, revision");
        let mut writes: HashMap<String, Vec<Written>> = HashMap::new();
        for row in self.conn.query_all_raw(sql.statement()).await? {
            let operation: String = get(&row, "operation")?;
            writes.entry(get(&row, "name")?).or_default().push(Written {
                revision: get_int(&row, "revision")?,
                deleted: operation == "key.delete",
                had_before: get_int(&row, "had")? != 0,
            });
        }
        // Each key's row now (live or not): revision and expiration.
        let mut sql =
            Sql::new(self.backend(), "SELECT name, revision, expiration FROM kv_entries WHERE namespace_id = ");
        sql.bind(namespace_id).push(" AND name IN ").bind_list(names);
        let mut rows: HashMap<String, (i64, Option<i64>)> = HashMap::new();
        for row in self.conn.query_all_raw(sql.statement()).await? {
            rows.insert(get(&row, "name")?, (get_int(&row, "revision")?, get(&row, "expiration")?));
        }
        // The newest revision that kept a version of each key (a write after a delete shows here).
        let mut sql =
            Sql::new(self.backend(), "SELECT name, MAX(revision) AS top FROM key_versions WHERE namespace_id = ");
        sql.bind(namespace_id).push(" AND name IN ").bind_list(names).push(" GROUP BY name");
        let mut newest: HashMap<String, i64> = HashMap::new();
        for row in self.conn.query_all_raw(sql.statement()).await? {
            if let Some(top) = get::<Option<i64>>(&row, "top")? {
                newest.insert(get(&row, "name")?, top);
            }
        }
        // The versions the job's first writes replaced.
        let firsts: Vec<i64> = writes.values().filter_map(|w| w.first().map(|w| w.revision)).collect();
        let mut kept: HashMap<(String, i64), KeptState> = HashMap::new();
        if !firsts.is_empty() {
            let mut sql = Sql::new(
                self.backend(),
                "SELECT id, name, revision, metadata, expiration, size FROM key_versions WHERE namespace_id = ",
            );
            sql.bind(namespace_id).push(" AND name IN ").bind_list(names);
            sql.push(" AND revision IN ").bind_list(&firsts);
            for row in self.conn.query_all_raw(sql.statement()).await? {
                let metadata: Option<String> = get(&row, "metadata")?;
                kept.insert(
                    (get(&row, "name")?, get_int(&row, "revision")?),
                    KeptState {
                        id: get_int(&row, "id")?,
                        metadata: metadata.as_deref().and_then(|t| serde_json::from_str(t).ok()),
                        expiration: get(&row, "expiration")?,
                        size: get_int(&row, "size")?.max(0) as u64,
                    },
                );
            }
        }
        for name in names {
            let Some(written) = writes.get(name) else { continue };
            let (Some(first), Some(last)) = (written.first(), written.last()) else { continue };
            let row = rows.get(name);
            let unchanged = if last.deleted {
                row.is_none() && newest.get(name).is_none_or(|top| *top <= last.revision)
            } else {
                row.is_some_and(|(revision, _)| *revision == last.revision)
            };
            if !unchanged {
                page.changed_since.push(name.clone());
                continue;
            }
            let live_now = row.is_some_and(|(_, expiration)| expiration.is_none_or(|e| e > now));
            let key = |class, target| RewindKey { name: name.clone(), class, target };
            if !first.had_before {
                // The job created it: undone, it is gone.
                if live_now {
                    page.keys.push(key(RewindClass::Deleted, None));
                }
                continue;
            }
            match kept.remove(&(name.clone(), first.revision)) {
                None => page.keys.push(key(RewindClass::Incomplete, None)),
                // A state whose expiration has passed, or is under a minute away, would be gone
                // by now.
                Some(state) if state.expiration.is_some_and(|e| !limits::far_enough(e, now)) => {
                    if live_now {
                        page.keys.push(key(RewindClass::Deleted, None));
                    }
                }
                Some(state) => {
                    let class = if live_now { RewindClass::Changed } else { RewindClass::Created };
                    page.keys.push(key(class, Some(state)));
                }
            }
        }
        Ok(())
    }
}
