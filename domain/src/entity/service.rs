use sea_orm::entity::prelude::*;

/// A service of the multi-tenant API (`/v1/kv`); the lists are JSON arrays as text.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub namespace_id: String,
    pub role: String,
    pub prefix: String,
    pub allowed_origins: String,
    pub public_keys: String,
    pub description: String,
    pub disabled: bool,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
