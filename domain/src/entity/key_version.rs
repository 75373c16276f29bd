use sea_orm::entity::prelude::*;

/// A key's state as it was before a write replaced it or a delete removed it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "key_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub namespace_id: String,
    pub name: String,
    pub version: i64,
    pub operation: String,
    pub metadata: Option<String>,
    pub expiration: Option<i64>,
    pub size: i64,
    pub created_at: i64,
    pub created_by: String,
    /// When the kept state was written (`None` for versions kept before this was recorded).
    pub written_at: Option<i64>,
    #[sea_orm(column_type = "Blob")]
    pub value: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
