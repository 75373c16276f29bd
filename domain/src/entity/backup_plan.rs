use sea_orm::entity::prelude::*;

/// A scheduled backup: a cron expression (UTC), one namespace or every one (`namespace_id`
/// NULL), a target, a retention, and when it runs next (the lease between instances).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backup_plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub namespace_id: Option<String>,
    pub prefix: Option<String>,
    pub cron: String,
    pub target: String,
    pub keep_last: Option<i32>,
    pub keep_days: Option<i32>,
    pub paused: bool,
    pub next_run_at: i64,
    pub last_run_at: Option<i64>,
    /// The jobs of the last run, a JSON array of ids.
    pub last_job_ids: Option<String>,
    /// Why the last run could not start a job, when it could not.
    pub last_error: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
