//! Backup plans (issue 17, schedules): a cron expression in UTC, a namespace (or every namespace
//! when `namespace_id` is NULL), a target and a retention. `next_run_at` is also the lease: the
//! instance whose conditional update moves it on is the one that runs that occurrence.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BackupPlans {
    Table,
    Id,
    NamespaceId,
    Prefix,
    Cron,
    Target,
    KeepLast,
    KeepDays,
    Paused,
    NextRunAt,
    LastRunAt,
    LastJobIds,
    LastError,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BackupPlans::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(BackupPlans::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(BackupPlans::NamespaceId).string().null())
                    .col(ColumnDef::new(BackupPlans::Prefix).string().null())
                    .col(ColumnDef::new(BackupPlans::Cron).string().not_null())
                    .col(ColumnDef::new(BackupPlans::Target).string().not_null().default("local"))
                    .col(ColumnDef::new(BackupPlans::KeepLast).integer().null())
                    .col(ColumnDef::new(BackupPlans::KeepDays).integer().null())
                    .col(ColumnDef::new(BackupPlans::Paused).boolean().not_null().default(false))
                    .col(ColumnDef::new(BackupPlans::NextRunAt).big_integer().not_null())
                    .col(ColumnDef::new(BackupPlans::LastRunAt).big_integer().null())
                    .col(ColumnDef::new(BackupPlans::LastJobIds).text().null())
                    .col(ColumnDef::new(BackupPlans::LastError).text().null())
                    .col(ColumnDef::new(BackupPlans::CreatedBy).string().not_null())
                    .col(ColumnDef::new(BackupPlans::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(BackupPlans::UpdatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_backup_plans_next_run_at")
                    .table(BackupPlans::Table)
                    .col(BackupPlans::NextRunAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(BackupPlans::Table).to_owned()).await
    }
}
