//! Services of the multi-tenant KV API (`/v1/kv`) and their tokens (only hashes are stored).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Services {
    Table,
    Name,
    NamespaceId,
    Role,
    Prefix,
    AllowedOrigins,
    PublicKeys,
    Description,
    Disabled,
    CreatedAt,
    CreatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ServiceTokens {
    Table,
    Id,
    Service,
    SecretHash,
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
                    .table(Services::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Services::Name).string().not_null().primary_key())
                    .col(ColumnDef::new(Services::NamespaceId).string().not_null())
                    .col(ColumnDef::new(Services::Role).string().not_null())
                    .col(ColumnDef::new(Services::Prefix).string().not_null())
                    // JSON arrays of strings.
                    .col(ColumnDef::new(Services::AllowedOrigins).text().not_null())
                    .col(ColumnDef::new(Services::PublicKeys).text().not_null())
                    .col(ColumnDef::new(Services::Description).text().not_null())
                    .col(ColumnDef::new(Services::Disabled).boolean().not_null())
                    .col(ColumnDef::new(Services::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Services::CreatedBy).string().not_null())
                    .col(ColumnDef::new(Services::UpdatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        // Two services sharing a namespace never share a prefix: keys are `<prefix>:<key>` and a
        // prefix holds no `:`, so no service can reach another's keys.
        manager
            .create_index(
                Index::create()
                    .name("services_namespace_prefix")
                    .table(Services::Table)
                    .col(Services::NamespaceId)
                    .col(Services::Prefix)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ServiceTokens::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ServiceTokens::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(ServiceTokens::Service).string().not_null())
                    .col(ColumnDef::new(ServiceTokens::SecretHash).string().not_null().unique_key())
                    .col(ColumnDef::new(ServiceTokens::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(ServiceTokens::CreatedBy).string().not_null())
                    .col(ColumnDef::new(ServiceTokens::LastUsedAt).big_integer().null())
                    .col(ColumnDef::new(ServiceTokens::RevokedAt).big_integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(ServiceTokens::Table, ServiceTokens::Service)
                            .to(Services::Table, Services::Name)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("service_tokens_service")
                    .table(ServiceTokens::Table)
                    .col(ServiceTokens::Service)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ServiceTokens::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Services::Table).to_owned()).await
    }
}
