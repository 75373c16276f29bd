//! What a job is, as stored and as sent to clients.

use serde::{Deserialize, Serialize};

use crate::catalog::TagOperation;
use crate::error::{DomainError, DomainResult};

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
    /// The server stopped while the job ran or waited; it can be resumed.
    Interrupted,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }

    pub fn parse(text: &str) -> DomainResult<Self> {
        Ok(match text {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            "interrupted" => Self::Interrupted,
            other => {
                return Err(DomainError::invalid(
                    "status",
                    format!(
                        "status: {other:?} is not one of queued, running, completed, failed, cancelled, interrupted"
                    ),
                ));
            }
        })
    }

    /// No more progress will come (an interrupted job may be resumed as a new run).
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }
}

/// Which keys a bulk job works on: a list of names, or every key starting with a prefix.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// How a bulk TTL job changes expirations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TtlChange {
    /// Seconds from when each batch is written.
    Ttl(i64),
    /// Absolute unix seconds.
    At(i64),
    /// No expiration.
    Remove,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Json,
    Ndjson,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Ndjson => "ndjson",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Ndjson => "application/x-ndjson",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    Auto,
    Json,
    Ndjson,
}

/// What an import does with a key that already exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collision {
    /// Keep the existing key; count the item as skipped.
    Skip,
    /// Replace the existing key.
    Overwrite,
    /// Refuse the whole import, before anything is written.
    Fail,
}

/// A job's type and parameters, stored with it so that it can be resumed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobSpec {
    BulkDelete {
        namespace_id: String,
        selection: Selection,
    },
    BulkCopy {
        namespace_id: String,
        selection: Selection,
        target_namespace_id: String,
        overwrite: bool,
    },
    BulkMove {
        namespace_id: String,
        selection: Selection,
        target_namespace_id: String,
        overwrite: bool,
    },
    BulkTtl {
        namespace_id: String,
        selection: Selection,
        change: TtlChange,
    },
    BulkTag {
        namespace_id: String,
        selection: Selection,
        tags: Vec<String>,
        operation: TagOperation,
    },
    Export {
        namespace_id: String,
        format: ExportFormat,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
    },
    Import {
        namespace_id: String,
        /// The uploaded file, under the data directory.
        file: String,
        collision: Collision,
        format: ImportFormat,
    },
    /// Brings every key of the namespace (or of a prefix) back to its state at `at` (unix
    /// seconds), from the versions kept: batch by batch, each batch planned again from the
    /// versions as they are when it runs.
    Rewind {
        namespace_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
        at: i64,
    },
    /// Writes every live key of the namespace (or of a prefix) to a backup target as
    /// gzip-compressed NDJSON (the export's format) with a manifest written last.
    Backup {
        namespace_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
        /// The configured target the backup goes to (`local`: the backup directory).
        #[serde(default = "default_target")]
        target: String,
        /// The backup plan that started it (recorded in the manifest; its retention prunes
        /// the plan's older backups once this one is complete). Set by a plan's run only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plan_id: Option<String>,
        /// More namespaces the same job backs up after `namespace_id`, one backup each (a
        /// batch; at most [`MAX_BATCH_NAMESPACES`] in all, each once).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        batch: Vec<String>,
    },
    /// Brings every key job `job_id` wrote back to its state before that job, but keys changed
    /// again since (see [`crate::catalog::UndoPage`]). `namespace_id`: the undone job's.
    Undo {
        namespace_id: String,
        job_id: String,
    },
    /// Writes a backup back into `namespace_id` (the target namespace), through the write path.
    Restore {
        namespace_id: String,
        backup_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
        mode: RestoreMode,
        #[serde(default = "default_target")]
        target: String,
    },
}

/// The most namespaces one backup job backs up.
pub const MAX_BATCH_NAMESPACES: usize = 100;

/// The backup target every server has: its backup directory.
pub const LOCAL_TARGET: &str = "local";

pub fn default_target() -> String {
    LOCAL_TARGET.to_owned()
}

/// What a restore does with the keys of the target namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestoreMode {
    /// Writes only the keys the target lacks; every other key is left as it is.
    Add,
    /// Writes every key of the backup; keys the backup lacks are left as they are.
    Overwrite,
    /// Makes the target (within the prefix) equal to the backup: also deletes the keys the
    /// backup lacks.
    Equal,
}

impl RestoreMode {
    pub fn parse(text: &str) -> DomainResult<Self> {
        match text {
            "add" => Ok(Self::Add),
            "overwrite" => Ok(Self::Overwrite),
            "equal" => Ok(Self::Equal),
            other => Err(DomainError::invalid("mode", format!("mode: {other:?} is not one of add, overwrite, equal"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Overwrite => "overwrite",
            Self::Equal => "equal",
        }
    }
}

impl JobSpec {
    pub fn job_type(&self) -> &'static str {
        match self {
            Self::BulkDelete { .. } => "bulk_delete",
            Self::BulkCopy { .. } => "bulk_copy",
            Self::BulkMove { .. } => "bulk_move",
            Self::BulkTtl { .. } => "bulk_ttl",
            Self::BulkTag { .. } => "bulk_tag",
            Self::Export { .. } => "export",
            Self::Import { .. } => "import",
            Self::Rewind { .. } => "rewind",
            Self::Backup { .. } => "backup",
            Self::Restore { .. } => "restore",
            Self::Undo { .. } => "undo",
        }
    }

    pub fn namespace_id(&self) -> &str {
        match self {
            Self::BulkDelete { namespace_id, .. }
            | Self::BulkCopy { namespace_id, .. }
            | Self::BulkMove { namespace_id, .. }
            | Self::BulkTtl { namespace_id, .. }
            | Self::BulkTag { namespace_id, .. }
            | Self::Export { namespace_id, .. }
            | Self::Import { namespace_id, .. }
            | Self::Rewind { namespace_id, .. }
            | Self::Backup { namespace_id, .. }
            | Self::Restore { namespace_id, .. }
            | Self::Undo { namespace_id, .. } => namespace_id,
        }
    }

    /// The keys a bulk job works on; `None` for an export, an import or a rewind.
    pub fn selection_mut(&mut self) -> Option<&mut Selection> {
        match self {
            Self::BulkDelete { selection, .. }
            | Self::BulkCopy { selection, .. }
            | Self::BulkMove { selection, .. }
            | Self::BulkTtl { selection, .. }
            | Self::BulkTag { selection, .. } => Some(selection),
            Self::Export { .. }
            | Self::Import { .. }
            | Self::Rewind { .. }
            | Self::Backup { .. }
            | Self::Restore { .. }
            | Self::Undo { .. } => None,
        }
    }

    pub fn target_namespace_id(&self) -> Option<&str> {
        match self {
            Self::BulkCopy { target_namespace_id, .. } | Self::BulkMove { target_namespace_id, .. } => {
                Some(target_namespace_id)
            }
            _ => None,
        }
    }
}

pub const JOB_TYPES: [&str; 11] = [
    "bulk_delete",
    "bulk_copy",
    "bulk_move",
    "bulk_ttl",
    "bulk_tag",
    "export",
    "import",
    "rewind",
    "backup",
    "restore",
    "undo",
];

/// The job types an undo can take back: those that write keys' values, expirations or
/// deletions, which versions keep (a tag job's tags are not kept; exports and backups write no
/// keys). An undo is one too (undoing it redoes).
pub const UNDOABLE_TYPES: [&str; 8] =
    ["bulk_delete", "bulk_copy", "bulk_move", "bulk_ttl", "import", "rewind", "restore", "undo"];

/// A job as clients see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    #[serde(rename = "type")]
    pub job_type: String,
    pub namespace_id: String,
    pub target_namespace_id: Option<String>,
    pub status: JobStatus,
    pub total: u64,
    pub processed: u64,
    pub errors: u64,
    pub skipped: u64,
    pub current_key: Option<String>,
    /// 0 to 100.
    pub percentage: f64,
    pub error_message: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub updated_at: i64,
    /// The job's parameters; a list of keys is shown as its length (`selection.key_count`).
    pub params: serde_json::Value,
    /// What the job produced (an export's file), once it has.
    pub result: Option<serde_json::Value>,
    /// Keys the job failed on, with the reason (the first 1,000); filled by `get`.
    #[serde(default)]
    pub failures: Vec<KeyFailure>,
}

impl Job {
    pub fn compute_percentage(&mut self) {
        self.percentage = if self.status == JobStatus::Completed {
            100.0
        } else if self.total == 0 {
            0.0
        } else {
            ((self.processed as f64 / self.total as f64) * 1000.0).round().min(1000.0) / 10.0
        };
    }
}

pub use crate::model::{JobStep, KeyFailure};

/// One step in a job's life.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobEvent {
    pub id: i64,
    pub job_id: String,
    /// `created`, `started`, `progress`, `completed`, `failed`, `cancelled`, `interrupted`, `resumed`.
    pub event: String,
    pub details: serde_json::Value,
    pub created_at: i64,
}

/// Filters and paging for the job history.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobQuery {
    pub status: Option<String>,
    #[serde(rename = "type")]
    pub job_type: Option<String>,
    pub namespace_id: Option<String>,
    /// Created at or after (unix seconds).
    pub from: Option<i64>,
    /// Created at or before (unix seconds).
    pub to: Option<i64>,
    pub created_by: Option<String>,
    pub min_errors: Option<u64>,
    /// `newest` (default) or `oldest`.
    pub sort: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Jobs on these namespaces (ids) are left out, as if they did not exist.
    #[serde(skip)]
    pub exclude_namespace_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobPage {
    pub jobs: Vec<Job>,
    pub cursor: Option<String>,
}

/// An export file ready to download.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportFile {
    pub path: std::path::PathBuf,
    pub filename: String,
    pub content_type: &'static str,
}
