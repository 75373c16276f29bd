//! API tokens for the Cloudflare-compatible API: only a hash of each secret is stored.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    Name,
    SecretHash,
    ReadOnly,
    CreatedAt,
    CreatedBy,
    LastUsedAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ApiTokens::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(ApiTokens::Name).string().not_null())
                    .col(ColumnDef::new(ApiTokens::SecretHash).string().not_null().unique_key())
                    .col(ColumnDef::new(ApiTokens::ReadOnly).boolean().not_null())
                    .col(ColumnDef::new(ApiTokens::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(ApiTokens::CreatedBy).string().not_null())
                    .col(ColumnDef::new(ApiTokens::LastUsedAt).big_integer().null())
                    .col(ColumnDef::new(ApiTokens::RevokedAt).big_integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ApiTokens::Table).to_owned()).await
    }
}
