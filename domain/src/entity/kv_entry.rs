use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "kv_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub namespace_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub metadata: Option<String>,
    pub expiration: Option<i64>,
    pub size: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// The revision of its namespace that last wrote it: its version token.
    pub revision: i64,
    /// Who last wrote it (`None` for keys written before this was recorded).
    pub updated_by: Option<String>,
    #[sea_orm(column_type = "Blob")]
    pub value: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
