use sea_orm::entity::prelude::*;

/// One change: who made it, when, through which surface, to what (never a value or a secret).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: i64,
    pub user_name: String,
    pub source: String,
    pub operation: String,
    pub namespace_id: Option<String>,
    pub namespace_title: Option<String>,
    pub key_name: Option<String>,
    pub details: String,
    pub request_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
