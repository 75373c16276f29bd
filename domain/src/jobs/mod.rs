//! Background jobs: bulk operations, imports and exports run as tokio tasks, persisted in the
//! database with their lifecycle events, bounded by a semaphore, cancellable between batches,
//! observable through a watch channel (this instance) or the database (any instance), and
//! resumable after a crash.

pub mod backup;
mod model;
mod ops;
mod plan;
mod rows;
pub mod s3;
pub mod schedule;
pub mod transfer;
mod uploads;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;
use tokio::sync::{Semaphore, watch};

pub use backup::{
    BackupEntry, BackupId, BackupStore, LocalDir, Manifest, ObjectName, ObjectWriter, RestoreClass, RestoreCounts,
    RestorePreview,
};
pub use model::*;
pub use plan::{BulkPreview, PLAN_SAMPLE, PlanCounts};
pub use schedule::{BackupPlan, PlanInput};

use crate::actor::Actor;
use crate::error::{DomainError, DomainResult};
use crate::kv::{Kv, Need};
use crate::model::{CHANGE_SAMPLE, RewindClass, UndoPreview};
use crate::now_unix;
pub use crate::sql::BATCH_KEYS;
use crate::write::WriteTxn;

/// Names of each class a rewind's preview lists.
pub const REWIND_SAMPLE: usize = 20;
/// Per-key failures kept for a job.
pub const MAX_FAILURES_KEPT: u64 = 1000;
/// A running job whose instance has not written a heartbeat for this long is taken as dead.
pub const STALE_AFTER_SECONDS: i64 = 60;
/// Why a job stopped by a shutdown ([`Jobs::shutdown`]) is `interrupted`.
pub const SHUTDOWN_REASON: &str =
    "its process was shut down (SIGTERM or Ctrl-C) while the job ran; resume it to continue";

/// How the job engine is set up.
#[derive(Clone, Debug)]
pub struct JobsConfig {
    /// Jobs running at once; the rest wait `queued`.
    pub max_jobs: usize,
    /// Exports and uploads live under `<data_dir>/exports` and `<data_dir>/imports`.
    pub data_dir: PathBuf,
    /// How long an export file can be downloaded.
    pub export_ttl_hours: u64,
    /// This server instance, recorded on the jobs it runs.
    pub instance_id: String,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self { max_jobs: 2, data_dir: PathBuf::from("data"), export_ttl_hours: 24, instance_id: default_instance_id() }
    }
}

/// The host name, which is what tells two instances sharing a database apart by default.
pub fn default_instance_id() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "local".to_owned())
}

struct Running {
    cancel: Arc<AtomicBool>,
    /// Set by a shutdown: the job stops after its batch and ends `interrupted`, resumable.
    stop: Arc<AtomicBool>,
    state: watch::Sender<Job>,
}

struct Inner {
    kv: Kv,
    conn: DatabaseConnection,
    config: JobsConfig,
    permits: Arc<Semaphore>,
    running: Mutex<HashMap<String, Running>>,
    /// A fault a test asked for (see [`Jobs::set_fault_for_tests`]); never set otherwise.
    fault: Mutex<Option<Fault>>,
    /// Where backups go, by target name: `local` (`<data_dir>/backups` unless set) always, and
    /// those the server was configured with (`s3`).
    backups: std::sync::RwLock<BTreeMap<String, Arc<dyn BackupStore>>>,
    /// Set once a shutdown began: no job starts any more.
    stopping: AtomicBool,
    /// Jobs a shutdown stopped at a checkpoint (they ended `interrupted` themselves).
    stopped: std::sync::atomic::AtomicU64,
    /// True once a shutdown has stopped the jobs: whoever follows one (a WebSocket) says goodbye.
    closing: watch::Sender<bool>,
}

/// Where a restore writes: an existing namespace, or a new one made with this title.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreInto {
    Namespace(String),
    NewNamespace(String),
}

/// A fault the next job of an engine meets, for tests of what a crash or a bug leaves behind.
/// Inert unless a test sets it with [`Jobs::set_fault_for_tests`].
#[doc(hidden)]
#[derive(Clone, Debug)]
pub enum Fault {
    /// The job panics with `message` as it begins its batch number `batch` (from 1).
    Panic { batch: u64, message: String },
    /// The job stops for good as it begins its batch number `batch`, having told `reached`: a
    /// process that hangs or dies there, as far as the job can tell.
    HaltBefore { batch: u64, reached: Arc<tokio::sync::Notify> },
    /// As `HaltBefore`, right after the write of batch number `batch` returned, before the job
    /// does anything more.
    HaltAfterWrite { batch: u64, reached: Arc<tokio::sync::Notify> },
}

/// Removes a job from the registry of running jobs when its task ends, however it ends.
struct Registered {
    jobs: Jobs,
    id: String,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut running = self.jobs.inner.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        running.remove(&self.id);
    }
}

/// A future that answers `Err` with the panic's payload when polling it panics.
struct CatchUnwind<F>(std::pin::Pin<Box<F>>);

impl<F: std::future::Future> std::future::Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn std::any::Any + Send>>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Ok(std::task::Poll::Ready(output)) => std::task::Poll::Ready(Ok(output)),
            Err(payload) => std::task::Poll::Ready(Err(payload)),
        }
    }
}

/// The text of a panic's payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// The job engine. Cheap to clone.
#[derive(Clone)]
pub struct Jobs {
    inner: Arc<Inner>,
}

/// How a job's work ended, short of an error.
pub(crate) enum Outcome {
    Completed(Option<serde_json::Value>),
    Cancelled,
}

impl Jobs {
    pub fn new(kv: Kv, conn: DatabaseConnection, config: JobsConfig) -> Self {
        let permits = Arc::new(Semaphore::new(config.max_jobs.max(1)));
        let backups: Arc<dyn BackupStore> = Arc::new(LocalDir::new(config.data_dir.join("backups")));
        Self {
            inner: Arc::new(Inner {
                kv,
                conn,
                config,
                permits,
                running: Mutex::new(HashMap::new()),
                fault: Mutex::new(None),
                backups: std::sync::RwLock::new(BTreeMap::from([(LOCAL_TARGET.to_owned(), backups)])),
                stopping: AtomicBool::new(false),
                stopped: std::sync::atomic::AtomicU64::new(0),
                closing: watch::channel(false).0,
            }),
        }
    }

    /// Makes the next job this engine runs meet `fault` (tests only; see [`Fault`]).
    #[doc(hidden)]
    pub fn set_fault_for_tests(&self, fault: Option<Fault>) {
        *self.inner.fault.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = fault;
    }

    /// Puts the `local` backup target somewhere else than `<data_dir>/backups` (`KVM_BACKUP_DIR`,
    /// `kv-manager backup --to`), or on another [`BackupStore`].
    pub fn set_backup_store(&self, store: Arc<dyn BackupStore>) {
        self.add_backup_target(LOCAL_TARGET, store);
    }

    /// Adds (or replaces) the backup target named `name` (`s3`: `KVM_BACKUP_S3_URL`).
    pub fn add_backup_target(&self, name: &str, store: Arc<dyn BackupStore>) {
        self.inner.backups.write().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(name.to_owned(), store);
    }

    /// The configured backup targets: name and location, `local` first.
    pub fn backup_targets(&self) -> Vec<(String, String)> {
        let targets = self.inner.backups.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut out: Vec<_> = targets.iter().map(|(name, store)| (name.clone(), store.location())).collect();
        out.sort_by_key(|(name, _)| name != LOCAL_TARGET);
        out
    }

    /// The backup target named `target`.
    pub fn backup_store(&self, target: &str) -> DomainResult<Arc<dyn BackupStore>> {
        let targets = self.inner.backups.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        targets.get(target).cloned().ok_or_else(|| {
            let names: Vec<&str> = targets.keys().map(String::as_str).collect();
            DomainError::invalid(
                "target",
                format!("target: {target:?} is not a backup target of this server (it has {})", names.join(", ")),
            )
        })
    }

    /// The backups of `target` that `actor` may see, newest first (from their manifests; a folder
    /// without one is listed as `incomplete`, to admins only).
    pub async fn list_backups(&self, actor: &Actor, target: &str) -> DomainResult<Vec<BackupEntry>> {
        let store = self.backup_store(target)?;
        let hidden = self.inner.kv.hidden_namespaces(actor).await?;
        backup::list(store.as_ref(), &hidden, actor.is_admin()).await
    }

    /// A backup `actor` may restore, its data checked against its manifest's SHA-256.
    async fn open_backup(
        &self,
        actor: &Actor,
        target: &str,
        backup_id: &str,
    ) -> DomainResult<(Arc<dyn BackupStore>, BackupId, Manifest)> {
        let store = self.backup_store(target)?;
        let id = BackupId::parse(backup_id)?;
        let manifest = backup::read_manifest(store.as_ref(), &id).await?;
        if self.inner.kv.hidden_namespaces(actor).await?.contains(&manifest.namespace_id) {
            return Err(DomainError::not_found("backup_id", format!("backup_id: no backup {id}")));
        }
        let manifest = backup::verify(store.as_ref(), &id).await?;
        Ok((store, id, manifest))
    }

    /// What restoring `backup_id` into `into` (within `prefix`) in `mode` would do, written
    /// nowhere (a dry run): the counts of keys created, changed, deleted, unchanged, kept (left
    /// as they are by the mode), expired and failed, with the first [`backup::RESTORE_SAMPLE`]
    /// names of each. The backup is read once as a stream and merged with the target's keys
    /// read in pages, so memory does not grow with either. Refused (400, `backup_id`) when the
    /// data does not match the manifest's SHA-256.
    pub async fn preview_restore(
        &self,
        actor: &Actor,
        backup_id: &str,
        into: &RestoreInto,
        prefix: Option<&str>,
        mode: RestoreMode,
        target: &str,
    ) -> DomainResult<RestorePreview> {
        crate::actor::require_write(actor)?;
        let (store, id, manifest) = self.open_backup(actor, target, backup_id).await?;
        let prefix = backup::restore_prefix(manifest.prefix.as_deref(), prefix)?;
        let namespace = match into {
            RestoreInto::Namespace(namespace_id) => {
                let ns = self.inner.kv.namespace(actor, namespace_id, Need::Write).await?;
                ns.require().await?;
                Some(ns)
            }
            RestoreInto::NewNamespace(title) => {
                crate::limits::check_title(title)?;
                None
            }
        };
        backup::preview(store.as_ref(), &id, prefix, namespace, mode).await
    }

    /// Starts a restore job of `backup_id` into `into`: refused before anything is written (and
    /// before a new namespace is made) when the data does not match its manifest.
    pub async fn start_restore(
        &self,
        actor: &Actor,
        backup_id: &str,
        into: &RestoreInto,
        prefix: Option<String>,
        mode: RestoreMode,
        target: &str,
    ) -> DomainResult<Job> {
        let namespace_id = match into {
            RestoreInto::Namespace(namespace_id) => namespace_id.clone(),
            RestoreInto::NewNamespace(title) => {
                // Checked before the namespace is made, and only then: the check reads the
                // whole data file.
                self.check_restore(actor, backup_id, prefix.as_deref(), target).await?;
                let namespace_id = self.inner.kv.create_namespace(actor, title).await?.id;
                let spec = JobSpec::Restore {
                    namespace_id,
                    backup_id: backup_id.to_owned(),
                    prefix,
                    mode,
                    target: target.to_owned(),
                };
                return self.start_checked(actor, spec).await;
            }
        };
        let spec =
            JobSpec::Restore { namespace_id, backup_id: backup_id.to_owned(), prefix, mode, target: target.to_owned() };
        self.start(actor, spec).await
    }

    /// A restore of `backup_id` within `prefix` that `actor` may start: the backup visible to
    /// them, its data matching its manifest, the prefix within the backup's.
    async fn check_restore(
        &self,
        actor: &Actor,
        backup_id: &str,
        prefix: Option<&str>,
        target: &str,
    ) -> DomainResult<()> {
        crate::actor::require_write(actor)?;
        let (_, _, manifest) = self.open_backup(actor, target, backup_id).await?;
        backup::restore_prefix(manifest.prefix.as_deref(), prefix)?;
        Ok(())
    }

    pub fn config(&self) -> &JobsConfig {
        &self.inner.config
    }

    pub fn kv(&self) -> &Kv {
        &self.inner.kv
    }

    /// Marks jobs this instance left running or queued (a crash or kill), and jobs of instances
    /// that stopped sending heartbeats, as `interrupted`. Returns how many.
    pub async fn recover(&self) -> DomainResult<u64> {
        let mut orphans = rows::own_unfinished(&self.inner.conn, &self.inner.config.instance_id).await?;
        orphans.extend(rows::find_orphans(&self.inner.conn, now_unix()).await?);
        self.interrupt_all(orphans, rows::CRASH_REASON).await
    }

    /// Stops this instance's jobs for a shutdown: no job starts any more; each running one
    /// stops after the batch it is writing (its checkpoint saved) and ends `interrupted`, to be
    /// resumed later; queued ones, and any still running when `grace` is up, are marked
    /// `interrupted` as they stand. Then [`Jobs::closing`] turns true. Returns how many jobs
    /// were interrupted.
    pub async fn shutdown(&self, grace: Duration) -> DomainResult<u64> {
        let deadline = tokio::time::Instant::now() + grace;
        self.inner.stopping.store(true, Ordering::SeqCst);
        {
            let running = self.inner.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            for job in running.values() {
                job.stop.store(true, Ordering::SeqCst);
            }
        }
        // A job waiting for its turn leaves the registry as soon as it gets one.
        while !self.inner.running.lock().map(|r| r.is_empty()).unwrap_or(true) && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let unfinished = rows::own_unfinished(&self.inner.conn, &self.inner.config.instance_id).await?;
        let left = self.interrupt_all(unfinished, SHUTDOWN_REASON).await;
        self.inner.closing.send_replace(true);
        let left = left?;
        let still_running = self.inner.running.lock().map(|r| r.len()).unwrap_or(0);
        if still_running > 0 {
            tracing::warn!(
                jobs = still_running,
                "jobs still running when the shutdown grace ran out were marked interrupted"
            );
        }
        Ok(self.inner.stopped.load(Ordering::SeqCst).saturating_add(left))
    }

    /// Whether a shutdown has begun (see [`Jobs::shutdown`]).
    pub fn is_stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::SeqCst)
    }

    /// Turns true once a shutdown has stopped the jobs.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.inner.closing.subscribe()
    }

    fn refuse_when_stopping(&self) -> DomainResult<()> {
        if self.is_stopping() {
            return Err(DomainError::unavailable(
                "the server is shutting down and starts no job; start it again once the server is back, or on another instance",
            ));
        }
        Ok(())
    }

    async fn interrupt_all(&self, ids: Vec<String>, reason: &str) -> DomainResult<u64> {
        let mut count = 0;
        for id in ids {
            if rows::interrupt(&self.inner.conn, &id, now_unix(), reason).await? {
                count += 1;
            }
        }
        Ok(count)
    }

    /// Heartbeats for this instance's jobs, and jobs of dead instances marked interrupted,
    /// every `every` until the process ends.
    pub fn spawn_supervisor(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let jobs = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(err) = jobs.supervise().await {
                    tracing::warn!(%err, "job supervision failed");
                }
            }
        })
    }

    async fn supervise(&self) -> DomainResult<()> {
        // Cancellation asked through another instance is read by each running job itself
        // (`Ctx::cancelled`, once a second); here: heartbeats, and other instances' dead jobs.
        let local: Vec<String> = self.inner.running.lock().map(|r| r.keys().cloned().collect()).unwrap_or_default();
        if !local.is_empty() {
            rows::heartbeat(&self.inner.conn, &local, now_unix()).await?;
        }
        let orphans = rows::find_orphans(&self.inner.conn, now_unix()).await?;
        let others = orphans.into_iter().filter(|id| !local.contains(id)).collect();
        self.interrupt_all(others, rows::CRASH_REASON).await?;
        Ok(())
    }

    /// Validates a job, records it `queued` and starts it in the background.
    pub async fn start(&self, actor: &Actor, spec: JobSpec) -> DomainResult<Job> {
        if let JobSpec::Backup { plan_id: Some(_), .. } = &spec {
            return Err(DomainError::invalid("plan_id", "plan_id: set only by a backup plan's run (run_plan_now)"));
        }
        if let JobSpec::Restore { backup_id, prefix, target, .. } = &spec {
            self.check_restore(actor, backup_id, prefix.as_deref(), target).await?;
        }
        if let JobSpec::Undo { job_id, .. } = &spec {
            return self.start_undo(actor, job_id).await;
        }
        self.start_checked(actor, spec).await
    }

    /// Whether `actor` may run `spec` and `spec` is valid: what starting it checks, and what its
    /// preview checks (the same refusals, naming the same fields).
    pub(crate) async fn admit(&self, actor: &Actor, spec: &JobSpec) -> DomainResult<()> {
        let need =
            if matches!(spec, JobSpec::Export { .. } | JobSpec::Backup { .. }) { Need::Read } else { Need::Write };
        self.inner.kv.authorize(actor, spec.namespace_id(), need).await?;
        if let JobSpec::Backup { batch, .. } = spec {
            for namespace_id in batch {
                self.inner.kv.authorize(actor, namespace_id, Need::Read).await?;
            }
        }
        if let Some(target) = spec.target_namespace_id() {
            self.inner.kv.authorize(actor, target, Need::Write).await?;
        }
        ops::validate(self, spec).await
    }

    /// [`Jobs::start`] of a spec whose backup, if it has one, was checked already.
    async fn start_checked(&self, actor: &Actor, spec: JobSpec) -> DomainResult<Job> {
        self.refuse_when_stopping()?;
        self.admit(actor, &spec).await?;
        let now = now_unix();
        let id = format!("{}-{}", spec.job_type(), ulid::Ulid::new().to_string().to_lowercase());
        // The job's row, its first event and the audit row: one transaction.
        let txn = WriteTxn::begin(&self.inner.conn, now).await?;
        let job = rows::insert(txn.conn(), &id, &spec, &actor.user, &self.inner.config.instance_id, now).await?;
        rows::event(txn.conn(), &id, "created", serde_json::json!({ "by": actor.user }), now).await?;
        let details = serde_json::json!({ "job_id": id, "type": spec.job_type(), "target_namespace_id": spec.target_namespace_id() });
        txn.audit_namespace(actor, "job.start", spec.namespace_id(), details).await?;
        txn.commit().await?;
        self.launch(job.clone(), spec, actor.clone());
        Ok(job)
    }

    /// What a [`JobSpec::Rewind`] of the namespace (within `prefix`) to `at` would do, without
    /// writing anything (a dry run): the counts of keys created, changed, deleted, unchanged and
    /// incomplete, with the first [`REWIND_SAMPLE`] names of each. Needs write access, as the
    /// rewind does. A rewind started later plans each batch again from the versions as they are
    /// then: keys written in between are still brought back to their state at `at`.
    pub async fn preview_rewind(
        &self,
        actor: &Actor,
        namespace_id: &str,
        prefix: Option<&str>,
        at: i64,
    ) -> DomainResult<crate::model::RewindPreview> {
        let ns = self.inner.kv.namespace(actor, namespace_id, Need::Write).await?;
        ns.rewind_preview(prefix, at, REWIND_SAMPLE).await
    }

    /// The job `actor` may undo: visible to them (theirs, or any for an admin), of a type an
    /// undo takes back, finished; with the namespaces it wrote in, each writable by `actor`.
    async fn undoable(&self, actor: &Actor, job_id: &str) -> DomainResult<(Job, Vec<String>)> {
        crate::actor::require_write(actor)?;
        let job = self.visible(actor, job_id).await?;
        if !UNDOABLE_TYPES.contains(&job.job_type.as_str()) {
            let why = match job.job_type.as_str() {
                "bulk_tag" => "tags are not kept by versions; apply the opposite tag change instead",
                _ => "it wrote no keys",
            };
            return Err(DomainError::invalid(
                "job_id",
                format!("job_id: a {} job cannot be undone: {why}", job.job_type),
            ));
        }
        if !matches!(job.status, JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled) {
            return Err(DomainError::conflict(
                "job_id",
                format!(
                    "job_id: only a finished job (completed, failed or cancelled) can be undone; this one is {}",
                    job.status.as_str()
                ),
            ));
        }
        let namespaces = self.inner.kv.undo_namespaces(job_id).await?;
        for namespace_id in &namespaces {
            self.inner.kv.authorize(actor, namespace_id, Need::Write).await?;
        }
        Ok((job, namespaces))
    }

    /// What undoing job `job_id` would do, without writing anything (a dry run): see
    /// [`UndoPreview`]. An undo started later plans each batch again from the records as they
    /// are then.
    pub async fn preview_undo(&self, actor: &Actor, job_id: &str) -> DomainResult<UndoPreview> {
        let (job, namespaces) = self.undoable(actor, job_id).await?;
        let now = now_unix();
        let mut preview = UndoPreview { job_id: job.id.clone(), job_type: job.job_type.clone(), ..Default::default() };
        for namespace_id in namespaces {
            let ns = self.inner.kv.namespace(actor, &namespace_id, Need::Write).await?;
            let mut after: Option<String> = None;
            let mut changed = Vec::new();
            loop {
                let page = ns.undo_page(job_id, after.as_deref(), ns.batch_keys(), now).await?;
                for key in page.keys {
                    preview.record(&key.name, key.class, REWIND_SAMPLE);
                    let room = CHANGE_SAMPLE.saturating_sub(preview.changes.len());
                    if key.class == RewindClass::Changed && changed.len() < room {
                        changed.push(key);
                    }
                }
                for name in &page.changed_since {
                    preview.left_alone(name, REWIND_SAMPLE);
                }
                if !page.more {
                    break;
                }
                after = page.last;
            }
            preview.changes.extend(ns.rewind_changes(&changed).await?);
        }
        preview.complete = preview.counts.incomplete == 0 && preview.changed_since_count == 0;
        Ok(preview)
    }

    /// Starts an undo of job `job_id` (see [`JobSpec::Undo`]); refused (409) when it wrote no
    /// keys.
    pub async fn start_undo(&self, actor: &Actor, job_id: &str) -> DomainResult<Job> {
        let (job, namespaces) = self.undoable(actor, job_id).await?;
        if namespaces.is_empty() {
            return Err(DomainError::conflict("job_id", "job_id: the job wrote no keys; there is nothing to undo"));
        }
        self.start_checked(actor, JobSpec::Undo { namespace_id: job.namespace_id, job_id: job.id }).await
    }

    /// Runs an interrupted job again from where its last committed batch left it.
    pub async fn resume(&self, actor: &Actor, job_id: &str) -> DomainResult<Job> {
        let job = self.visible(actor, job_id).await?;
        crate::actor::require_write(actor)?;
        self.refuse_when_stopping()?;
        if job.status != JobStatus::Interrupted {
            return Err(DomainError::conflict(
                "job_id",
                format!("job_id: only an interrupted job can be resumed; this one is {}", job.status.as_str()),
            ));
        }
        let spec = rows::spec(&self.inner.conn, job_id).await?;
        let now = now_unix();
        if !rows::requeue(&self.inner.conn, job_id, &self.inner.config.instance_id, now).await? {
            return Err(DomainError::conflict("job_id", "job_id: the job was resumed by someone else"));
        }
        rows::event(
            &self.inner.conn,
            job_id,
            "resumed",
            serde_json::json!({ "by": actor.user, "from": job.processed }),
            now,
        )
        .await?;
        let job = self.get(job_id).await?;
        self.launch(job.clone(), spec, actor.clone());
        Ok(job)
    }

    fn launch(&self, job: Job, spec: JobSpec, actor: Actor) {
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (state, _) = watch::channel(job.clone());
        if let Ok(mut running) = self.inner.running.lock() {
            running
                .insert(job.id.clone(), Running { cancel: cancel.clone(), stop: stop.clone(), state: state.clone() });
        }
        let jobs = self.clone();
        tokio::spawn(async move {
            let _registered = Registered { jobs: jobs.clone(), id: job.id.clone() };
            jobs.run(job, spec, actor, [cancel, stop], state).await;
        });
    }

    /// Runs a job once it has a permit. `flags`: its cancel flag and its shutdown stop flag.
    async fn run(&self, job: Job, spec: JobSpec, actor: Actor, flags: [Arc<AtomicBool>; 2], state: watch::Sender<Job>) {
        let conn = &self.inner.conn;
        let Ok(_permit) = self.inner.permits.clone().acquire_owned().await else { return };
        if self.is_stopping() {
            // Its turn came during a shutdown: it stays queued, and the shutdown marks it interrupted.
            return;
        }
        let [cancel, stop] = flags;
        let mut ctx = Ctx::new(self.clone(), job, cancel, state);
        ctx.stop = stop;
        if ctx.cancel.load(Ordering::SeqCst) {
            // Cancelled while it waited: `cancel` has already recorded it.
            return;
        }
        let now = now_unix();
        match rows::mark_running(conn, &ctx.job.id, &self.inner.config.instance_id, now).await {
            Ok(true) => {}
            Ok(false) => return, // cancelled meanwhile
            Err(err) => {
                tracing::error!(%err, job = %ctx.job.id, "could not start job");
                return;
            }
        }
        ctx.job.status = JobStatus::Running;
        ctx.job.started_at = Some(now);
        let _ =
            rows::event(conn, &ctx.job.id, "started", serde_json::json!({ "resumed_from": ctx.job.processed }), now)
                .await;
        ctx.publish();
        ctx.creator = Some(actor.clone());
        let actor = Actor { source: crate::actor::Source::Job, job_id: Some(ctx.job.id.clone()), ..actor };
        ctx.fault = self.inner.fault.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        // A panic in the job's work (a bug) ends the job `failed` with the panic's message,
        // like any other error; the permit and the registry entry are released as the task ends.
        let outcome = CatchUnwind(Box::pin(ops::run(&mut ctx, &spec, &actor))).await.map_err(|payload| {
            let message = panic_message(payload.as_ref());
            tracing::error!(job = %ctx.job.id, panic = %message, "a job panicked");
            message
        });
        // Stopped by a shutdown rather than cancelled: it ends `interrupted`, to be resumed.
        let stopped = matches!(outcome, Ok(Ok(Outcome::Cancelled)))
            && ctx.stop.load(Ordering::SeqCst)
            && !ctx.cancel.load(Ordering::SeqCst);
        // The upload has served once the job ends, whichever way but a shutdown's (a resume
        // reads it again): it goes before the end is announced, so whoever sees the job ended
        // sees it gone.
        if let JobSpec::Import { file, .. } = &spec
            && !stopped
        {
            let _ = tokio::fs::remove_file(self.inner.config.data_dir.join(file)).await;
        }
        match outcome {
            Ok(Ok(Outcome::Cancelled)) if stopped => {
                ctx.finish(JobStatus::Interrupted, Some(SHUTDOWN_REASON.to_owned()), None).await;
                self.inner.stopped.fetch_add(1, Ordering::SeqCst);
            }
            Ok(Ok(Outcome::Completed(result))) => ctx.finish(JobStatus::Completed, None, result).await,
            Ok(Ok(Outcome::Cancelled)) => ctx.finish(JobStatus::Cancelled, None, None).await,
            Ok(Err(err)) => {
                let reason = match &err {
                    DomainError::Internal => "an internal error stopped the job (see the server log)".to_owned(),
                    other => other.to_string(),
                };
                ctx.finish(JobStatus::Failed, Some(reason), None).await
            }
            Err(panic) => {
                let reason = format!("the job stopped on an internal fault (a panic): {panic}");
                ctx.finish(JobStatus::Failed, Some(reason), None).await
            }
        }
    }

    /// How many jobs are in each status, every status named (zeros too), every instance's
    /// jobs counted: for `/metrics`.
    pub async fn count_by_status(&self) -> DomainResult<Vec<(JobStatus, u64)>> {
        use sea_orm::sea_query::ExprTrait;
        use sea_orm::{EntityTrait, QuerySelect};
        let rows: Vec<(String, i64)> = crate::entity::job::Entity::find()
            .select_only()
            .column(crate::entity::job::Column::Status)
            .column_as(sea_orm::sea_query::Expr::col(crate::entity::job::Column::Id).count(), "jobs")
            .group_by(crate::entity::job::Column::Status)
            .into_tuple()
            .all(&self.inner.conn)
            .await?;
        let mut counts: Vec<(JobStatus, u64)> = [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Completed,
            JobStatus::Failed,
            JobStatus::Cancelled,
            JobStatus::Interrupted,
        ]
        .into_iter()
        .map(|status| (status, 0))
        .collect();
        for (status, n) in rows {
            let Ok(status) = JobStatus::parse(&status) else { continue };
            if let Some(slot) = counts.iter_mut().find(|(s, _)| *s == status) {
                slot.1 = slot.1.saturating_add(u64::try_from(n).unwrap_or(0));
            }
        }
        Ok(counts)
    }

    /// One job with its recorded key failures.
    pub async fn get(&self, job_id: &str) -> DomainResult<Job> {
        let mut job = self.peek(job_id).await?;
        job.failures = rows::failures(&self.inner.conn, job_id).await?;
        Ok(job)
    }

    /// The latest state of a job: from the running task when it runs here, else the database.
    pub async fn peek(&self, job_id: &str) -> DomainResult<Job> {
        if let Some(rx) = self.subscribe(job_id) {
            return Ok(rx.borrow().clone());
        }
        rows::get(&self.inner.conn, job_id).await
    }

    /// The job history `actor` may see, filtered and paged: every job for an admin, their own
    /// for anyone else; never jobs on namespaces hidden from them.
    pub async fn list(&self, actor: &Actor, query: &JobQuery) -> DomainResult<JobPage> {
        let mut query = query.clone();
        if !actor.is_admin() {
            match query.created_by.as_deref().filter(|u| !u.is_empty()) {
                Some(user) if user != actor.user => return Ok(JobPage { jobs: Vec::new(), cursor: None }),
                _ => query.created_by = Some(actor.user.clone()),
            }
        }
        query.exclude_namespace_ids.extend(self.inner.kv.hidden_namespaces(actor).await?);
        rows::list(&self.inner.conn, &query).await
    }

    /// A job with its key failures, if `actor` may see it (an admin: any; anyone else: their
    /// own), else 404 as for a job that does not exist. Jobs on hidden namespaces are absent.
    pub async fn visible(&self, actor: &Actor, job_id: &str) -> DomainResult<Job> {
        let job = self.get(job_id).await?;
        let own = actor.is_admin() || job.created_by == actor.user;
        let hidden = self.inner.kv.hidden_namespaces(actor).await?;
        let on_hidden = hidden.iter().any(|id| *id == job.namespace_id || job.target_namespace_id.as_ref() == Some(id));
        if !own || on_hidden {
            return Err(rows::not_found(job_id));
        }
        Ok(job)
    }

    /// A job's lifecycle events, oldest first.
    pub async fn events(&self, job_id: &str) -> DomainResult<Vec<JobEvent>> {
        rows::get(&self.inner.conn, job_id).await?;
        rows::events(&self.inner.conn, job_id).await
    }

    /// Asks a job to stop; it does so between batches. Cancelling a finished job is a conflict.
    pub async fn cancel(&self, actor: &Actor, job_id: &str) -> DomainResult<Job> {
        // Whoever sees a job may stop it: their own (a read-only user's export, say), or any for
        // an admin.
        self.visible(actor, job_id).await?;
        let job = self.peek(job_id).await?;
        if job.status.is_final() {
            return Err(DomainError::conflict(
                "job_id",
                format!("job_id: the job has already ended ({})", job.status.as_str()),
            ));
        }
        rows::request_cancel(&self.inner.conn, job_id).await?;
        let local =
            self.inner.running.lock().ok().and_then(|r| r.get(job_id).map(|r| (r.cancel.clone(), r.state.clone())));
        if let Some((flag, _)) = &local {
            flag.store(true, Ordering::SeqCst);
        }
        // A job still waiting for its turn ends at once.
        let now = now_unix();
        let txn = WriteTxn::begin(&self.inner.conn, now).await?;
        let ended = rows::cancel_queued(txn.conn(), job_id, now).await?;
        if ended {
            rows::event(txn.conn(), job_id, "cancelled", serde_json::json!({ "while": "queued" }), now).await?;
            let details =
                serde_json::json!({ "job_id": job_id, "type": job.job_type, "processed": 0, "while": "queued" });
            txn.audit_namespace(actor, "job.cancelled", &job.namespace_id, details).await?;
        }
        txn.commit().await?;
        if ended && let Some((_, state)) = local {
            let mut job = rows::get(&self.inner.conn, job_id).await?;
            job.compute_percentage();
            state.send_replace(job);
        }
        tracing::info!(user = %actor.user, job_id, "job cancellation requested");
        self.peek(job_id).await
    }

    /// Live updates of a job running on this instance.
    pub fn subscribe(&self, job_id: &str) -> Option<watch::Receiver<Job>> {
        self.inner.running.lock().ok()?.get(job_id).map(|r| r.state.subscribe())
    }

    /// Waits until a job has ended (polling the database when it runs elsewhere).
    pub async fn wait(&self, job_id: &str) -> DomainResult<Job> {
        loop {
            if let Some(mut rx) = self.subscribe(job_id) {
                while !rx.borrow().status.is_final() {
                    if rx.changed().await.is_err() {
                        break;
                    }
                }
            }
            let job = self.get(job_id).await?;
            if job.status.is_final() {
                return Ok(job);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The file of a completed export, while it has not expired.
    pub async fn export_file(&self, job_id: &str) -> DomainResult<ExportFile> {
        let job = self.get(job_id).await?;
        let JobSpec::Export { format, .. } =
            serde_json::from_value(job.params.clone()).map_err(DomainError::internal)?
        else {
            return Err(DomainError::invalid("job_id", "job_id: only an export job has a file to download"));
        };
        let result = match (job.status, job.result) {
            (JobStatus::Completed, Some(result)) => result,
            (status, _) => {
                return Err(DomainError::conflict(
                    "job_id",
                    format!("job_id: the export has no file yet (it is {})", status.as_str()),
                ));
            }
        };
        let expires_at = result.get("expires_at").and_then(|v| v.as_i64()).unwrap_or(0);
        let path = self.inner.config.data_dir.join(result.get("file").and_then(|v| v.as_str()).unwrap_or_default());
        if expires_at <= now_unix() || !path.is_file() {
            return Err(DomainError::gone("job_id", "job_id: the export file has expired; export again"));
        }
        let filename = result.get("filename").and_then(|v| v.as_str()).unwrap_or("export").to_owned();
        Ok(ExportFile { path, filename, content_type: format.content_type() })
    }

    /// Deletes export files past their time; returns how many.
    pub async fn purge_exports(&self) -> DomainResult<u64> {
        let dir = self.exports_dir();
        let Ok(mut entries) = tokio::fs::read_dir(&dir).await else { return Ok(0) };
        let keep = Duration::from_secs(self.inner.config.export_ttl_hours.saturating_mul(3600));
        let mut removed = 0;
        while let Ok(Some(entry)) = entries.next_entry().await {
            let old = entry
                .metadata()
                .await
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > keep);
            if old && tokio::fs::remove_file(entry.path()).await.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    pub fn exports_dir(&self) -> PathBuf {
        self.inner.config.data_dir.join("exports")
    }

    /// Where an upload for a new import is written before its job starts: returns the path
    /// relative to the data directory and the absolute one.
    pub async fn new_upload(&self) -> DomainResult<(String, PathBuf)> {
        let dir = self.inner.config.data_dir.join("imports");
        tokio::fs::create_dir_all(&dir).await.map_err(DomainError::internal)?;
        let name = format!("imports/{}.upload", ulid::Ulid::new().to_string().to_lowercase());
        let path = self.inner.config.data_dir.join(&name);
        Ok((name, path))
    }

    pub fn data_path(&self, relative: &str) -> PathBuf {
        self.inner.config.data_dir.join(relative)
    }
}

/// A running job's handle for its operation: progress, failures, cancellation.
pub(crate) struct Ctx {
    jobs: Jobs,
    pub job: Job,
    cancel: Arc<AtomicBool>,
    /// Set by a shutdown (see [`Jobs::shutdown`]): stop as for a cancel, end `interrupted`.
    stop: Arc<AtomicBool>,
    state: watch::Sender<Job>,
    last_persist: Instant,
    quarter: u64,
    checkpoint: Option<String>,
    /// Who started the job: its outcome is recorded in the audit log in their name.
    creator: Option<Actor>,
    /// Jobs that write nothing to resume from (exports) save their row and look for a cancel
    /// asked on another instance at most this often instead of at every page.
    throttle: Option<Duration>,
    last_save: Instant,
    last_cancel_check: Instant,
    /// Batches begun.
    batches: u64,
    /// A fault a test asked for.
    fault: Option<Fault>,
}

impl Ctx {
    fn new(jobs: Jobs, job: Job, cancel: Arc<AtomicBool>, state: watch::Sender<Job>) -> Self {
        let checkpoint = None;
        let quarter = (job.processed * 4).checked_div(job.total).unwrap_or(0);
        let now = Instant::now();
        Self {
            jobs,
            job,
            cancel,
            stop: Arc::new(AtomicBool::new(false)),
            state,
            last_persist: now,
            quarter,
            checkpoint,
            creator: None,
            throttle: None,
            last_save: now,
            last_cancel_check: now,
            batches: 0,
            fault: None,
        }
    }

    pub fn kv(&self) -> &Kv {
        self.jobs.kv()
    }

    /// Saves progress and checks the database for a cancel at most every `every` (jobs that
    /// have no checkpoint to resume from).
    pub fn throttle(&mut self, every: Duration) {
        self.throttle = Some(every);
    }

    fn due(&self, last: Instant) -> bool {
        self.throttle.is_none_or(|every| last.elapsed() >= every)
    }

    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    fn conn(&self) -> &DatabaseConnection {
        &self.jobs.inner.conn
    }

    /// Where a resumed job continues: what the last persisted progress recorded.
    pub async fn resume_point(&self) -> DomainResult<Option<String>> {
        rows::checkpoint(self.conn(), &self.job.id).await
    }

    fn publish(&mut self) {
        self.job.compute_percentage();
        self.job.updated_at = now_unix();
        self.state.send_replace(self.job.clone());
    }

    pub async fn set_total(&mut self, total: u64) -> DomainResult<()> {
        self.job.total = total;
        self.publish();
        rows::save_progress(self.conn(), &self.job, self.checkpoint.as_deref()).await
    }

    /// Records a committed batch: counts, the key reached, and where a resume would continue.
    pub async fn advance(
        &mut self,
        processed: u64,
        skipped: u64,
        current_key: Option<&str>,
        checkpoint: String,
    ) -> DomainResult<()> {
        self.job.processed += processed;
        self.job.skipped += skipped;
        if let Some(key) = current_key {
            self.job.current_key = Some(key.to_owned());
        }
        self.checkpoint = Some(checkpoint);
        self.publish();
        self.persist(false).await
    }

    /// The job's progress once a batch is written (counts, the key reached, where a resume
    /// continues, the batch's key failures), for the store to save in the batch's transaction:
    /// a crash then leaves both or neither. [`Ctx::stepped`] takes it once written.
    pub fn step(
        &self,
        processed: u64,
        skipped: u64,
        current_key: Option<&str>,
        checkpoint: String,
        failures: Vec<KeyFailure>,
    ) -> JobStep {
        let room = MAX_FAILURES_KEPT.saturating_sub(self.job.errors) as usize;
        JobStep {
            job_id: self.job.id.clone(),
            total: self.job.total,
            processed: self.job.processed + processed,
            skipped: self.job.skipped + skipped,
            errors: self.job.errors + failures.len() as u64,
            current_key: current_key.map(str::to_owned).or_else(|| self.job.current_key.clone()),
            checkpoint,
            failures: failures.into_iter().take(room).collect(),
            at: now_unix(),
        }
    }

    /// Takes a step the batch's transaction has saved: publishes it, with the progress events.
    pub async fn stepped(&mut self, step: JobStep) -> DomainResult<()> {
        self.job.processed = step.processed;
        self.job.skipped = step.skipped;
        self.job.errors = step.errors;
        self.job.current_key = step.current_key;
        self.checkpoint = Some(step.checkpoint);
        self.publish();
        self.persist(true).await
    }

    /// Saves the row after a batch (unless the batch's transaction did: `saved`) and the
    /// progress events.
    async fn persist(&mut self, saved: bool) -> DomainResult<()> {
        // The row follows every batch, so a resume continues right after the last one written;
        // progress events are kept to one a second and one at each quarter.
        let quarter = (self.job.processed * 4).checked_div(self.job.total).unwrap_or(0).min(4);
        let crossed = quarter > self.quarter;
        if saved {
            self.last_save = Instant::now();
        } else if crossed || self.due(self.last_save) {
            rows::save_progress(self.conn(), &self.job, self.checkpoint.as_deref()).await?;
            self.last_save = Instant::now();
        }
        if crossed || self.last_persist.elapsed() >= Duration::from_secs(1) {
            self.quarter = quarter;
            self.last_persist = Instant::now();
            rows::event(
                self.conn(),
                &self.job.id,
                "progress",
                serde_json::json!({
                    "processed": self.job.processed,
                    "total": self.job.total,
                    "skipped": self.job.skipped,
                    "errors": self.job.errors,
                    "percentage": self.job.percentage,
                    "current_key": self.job.current_key,
                }),
                now_unix(),
            )
            .await?;
        }
        Ok(())
    }

    /// Where a test's fault strikes as a batch begins (every job asks [`Ctx::cancelled`] once
    /// a batch, which calls this). Does nothing unless a test set a fault.
    async fn begin_batch(&mut self) {
        self.batches += 1;
        match &self.fault {
            Some(Fault::Panic { batch, message }) if *batch == self.batches => panic!("{message}"),
            Some(Fault::HaltBefore { batch, reached }) if *batch == self.batches => {
                reached.notify_one();
                std::future::pending::<()>().await;
            }
            _ => {}
        }
    }

    /// Where a test's fault strikes right after a batch's write returned.
    pub async fn after_write(&mut self) {
        if let Some(Fault::HaltAfterWrite { batch, reached }) = &self.fault
            && *batch == self.batches
        {
            reached.notify_one();
            std::future::pending::<()>().await;
        }
    }

    /// Records keys that failed, with why (the first 1,000 are kept).
    pub async fn fail_keys(&mut self, failures: Vec<KeyFailure>) -> DomainResult<()> {
        if failures.is_empty() {
            return Ok(());
        }
        let room = MAX_FAILURES_KEPT.saturating_sub(self.job.errors) as usize;
        self.job.errors += failures.len() as u64;
        let kept: Vec<KeyFailure> = failures.into_iter().take(room).collect();
        rows::add_failures(self.conn(), &self.job.id, &kept).await?;
        self.publish();
        Ok(())
    }

    /// Whether the job was asked to stop: here, or through another instance (its row, read
    /// before each batch: one indexed read per thousand keys, so any cancel stops the job
    /// within one batch).
    pub async fn cancelled(&mut self) -> bool {
        self.begin_batch().await;
        if self.cancel.load(Ordering::SeqCst) || self.stop.load(Ordering::SeqCst) {
            return true;
        }
        if !self.due(self.last_cancel_check) {
            return false;
        }
        self.last_cancel_check = Instant::now();
        if let Ok(ids) = rows::cancel_requested(self.conn(), std::slice::from_ref(&self.job.id)).await
            && !ids.is_empty()
        {
            self.cancel.store(true, Ordering::SeqCst);
            return true;
        }
        false
    }

    async fn record_end(&self, status: JobStatus, details: serde_json::Value, now: i64) -> DomainResult<()> {
        let mut txn = WriteTxn::begin(self.conn(), now).await?;
        rows::save_final(txn.conn(), &self.job, self.checkpoint.as_deref()).await?;
        rows::event(txn.conn(), &self.job.id, status.as_str(), details, now).await?;
        if let Some(creator) = &self.creator {
            let details = serde_json::json!({
                "job_id": self.job.id,
                "type": self.job.job_type,
                "processed": self.job.processed,
                "skipped": self.job.skipped,
                "errors": self.job.errors,
                "reason": self.job.error_message,
            });
            let operation = format!("job.{}", status.as_str());
            txn.audit_namespace(creator, &operation, &self.job.namespace_id, details).await?;
        }
        let kind = match status {
            JobStatus::Completed => Some(crate::events::JOB_COMPLETED),
            JobStatus::Failed => Some(crate::events::JOB_FAILED),
            _ => None,
        };
        if let Some(kind) = kind {
            let data = serde_json::json!({
                "job_id": self.job.id,
                "job_type": self.job.job_type,
                "status": status.as_str(),
                "total": self.job.total,
                "processed": self.job.processed,
                "skipped": self.job.skipped,
                "errors": self.job.errors,
                "reason": self.job.error_message,
                "result": self.job.result,
            });
            let by = self.creator.clone().unwrap_or_else(|| {
                Actor::new(self.job.created_by.clone(), crate::actor::Source::Job, crate::actor::Role::Admin)
            });
            let item = crate::events::EventItem::with_data(kind, data);
            txn.emit(self.kv().events(), &by, Some(&self.job.namespace_id), vec![item]).await?;
        }
        txn.commit().await
    }

    async fn finish(&mut self, status: JobStatus, error: Option<String>, result: Option<serde_json::Value>) {
        let now = now_unix();
        self.job.status = status;
        self.job.finished_at = Some(now);
        self.job.error_message = error.clone();
        self.job.result = result;
        let details = serde_json::json!({
            "processed": self.job.processed,
            "total": self.job.total,
            "skipped": self.job.skipped,
            "errors": self.job.errors,
            "reason": error,
        });
        // The end, its event and the outcome in the audit log: one transaction, committed before
        // anyone can see the job has ended.
        if let Err(err) = self.record_end(status, details, now).await {
            tracing::error!(%err, job = %self.job.id, "could not record the end of a job");
        }
        self.publish();
        tracing::info!(job = %self.job.id, status = status.as_str(), processed = self.job.processed, "job ended");
    }
}

/// Relative paths under the data directory only (no `..`, not absolute).
pub(crate) fn safe_relative(path: &str) -> bool {
    let p = Path::new(path);
    !p.is_absolute() && p.components().all(|c| matches!(c, std::path::Component::Normal(_)))
}
