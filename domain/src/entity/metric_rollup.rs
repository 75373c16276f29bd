use sea_orm::entity::prelude::*;

/// Key operations of one bucket (a minute or an hour), namespace, surface, `/v1/kv` service and
/// operation, or a storage sample of a namespace (`operation` = `storage`). Counters only grow:
/// every flush adds to them.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "metric_rollups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub resolution: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub bucket_start: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub namespace_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub surface: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub service: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub operation: String,
    pub operations: i64,
    pub keys: i64,
    pub errors: i64,
    pub latency_us: i64,
    pub le_ms1: i64,
    pub le_ms5: i64,
    pub le_ms10: i64,
    pub le_ms25: i64,
    pub le_ms100: i64,
    pub le_ms250: i64,
    pub le_ms1000: i64,
    pub le_inf: i64,
    pub key_count: i64,
    pub size_bytes: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
