use sea_orm::entity::prelude::*;

/// A background job: its spec (`params`, with a listed selection's keys apart in `key_list`),
/// progress, outcome, and which instance runs it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub job_type: String,
    pub namespace_id: String,
    pub target_namespace_id: Option<String>,
    pub params: String,
    pub status: String,
    pub total: i64,
    pub processed: i64,
    pub errors: i64,
    pub skipped: i64,
    pub current_key: Option<String>,
    pub error_message: Option<String>,
    pub checkpoint: Option<String>,
    pub result: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub updated_at: i64,
    pub instance_id: Option<String>,
    pub heartbeat_at: Option<i64>,
    pub cancel_requested: bool,
    pub key_list: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Where a job stands, as the columns an update sets: its counts, the key it is at, the time
/// (also its heartbeat) and, when given, where a resumed run continues.
pub struct Progress {
    pub total: u64,
    pub processed: u64,
    pub errors: u64,
    pub skipped: u64,
    pub current_key: Option<String>,
    pub at: i64,
    pub checkpoint: Option<String>,
}

impl From<Progress> for ActiveModel {
    fn from(p: Progress) -> Self {
        use sea_orm::ActiveValue::{NotSet, Set};
        Self {
            total: Set(p.total as i64),
            processed: Set(p.processed as i64),
            errors: Set(p.errors as i64),
            skipped: Set(p.skipped as i64),
            current_key: Set(p.current_key),
            updated_at: Set(p.at),
            heartbeat_at: Set(Some(p.at)),
            checkpoint: p.checkpoint.map_or(NotSet, |c| Set(Some(c))),
            ..Default::default()
        }
    }
}
