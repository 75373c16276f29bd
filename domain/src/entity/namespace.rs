use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "namespaces")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub title: String,
    /// Rows in kv_entries, expired ones included until they are purged.
    pub key_count: i64,
    pub size_bytes: i64,
    pub created_at: i64,
    pub last_accessed: i64,
    /// Bumped by every write transaction's lock: the revision the keys it writes record.
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
