//! The audit log: one row per change, written in the transaction of the change.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    UserName,
    Source,
    Operation,
    NamespaceId,
    NamespaceTitle,
    KeyName,
    Details,
    RequestId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(AuditLog::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(AuditLog::At).big_integer().not_null())
                    .col(ColumnDef::new(AuditLog::UserName).string().not_null())
                    .col(ColumnDef::new(AuditLog::Source).string().not_null())
                    .col(ColumnDef::new(AuditLog::Operation).string().not_null())
                    .col(ColumnDef::new(AuditLog::NamespaceId).string().null())
                    .col(ColumnDef::new(AuditLog::NamespaceTitle).text().null())
                    .col(ColumnDef::new(AuditLog::KeyName).text().null())
                    .col(ColumnDef::new(AuditLog::Details).text().not_null())
                    .col(ColumnDef::new(AuditLog::RequestId).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_at")
                    .table(AuditLog::Table)
                    .col(AuditLog::At)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_namespace")
                    .table(AuditLog::Table)
                    .col(AuditLog::NamespaceId)
                    .col(AuditLog::At)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditLog::Table).to_owned()).await
    }
}
