//! Background jobs: one row per job, its lifecycle events, and the keys it failed on.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    JobType,
    NamespaceId,
    TargetNamespaceId,
    Params,
    Status,
    Total,
    Processed,
    Errors,
    Skipped,
    CurrentKey,
    ErrorMessage,
    /// Where a resumed job continues: the last key or item index whose batch committed.
    Checkpoint,
    /// What a finished job produced (the export file), as JSON.
    Result,
    CreatedBy,
    CreatedAt,
    StartedAt,
    FinishedAt,
    UpdatedAt,
    /// The server instance running the job, and when it last said so.
    InstanceId,
    HeartbeatAt,
    CancelRequested,
}

#[derive(DeriveIden)]
enum JobEvents {
    Table,
    Id,
    JobId,
    Event,
    Details,
    CreatedAt,
}

#[derive(DeriveIden)]
enum JobFailures {
    Table,
    Id,
    JobId,
    KeyName,
    Reason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Jobs::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(Jobs::JobType).string().not_null())
                    .col(ColumnDef::new(Jobs::NamespaceId).string().not_null())
                    .col(ColumnDef::new(Jobs::TargetNamespaceId).string().null())
                    .col(ColumnDef::new(Jobs::Params).text().not_null())
                    .col(ColumnDef::new(Jobs::Status).string().not_null())
                    .col(ColumnDef::new(Jobs::Total).big_integer().not_null().default(0))
                    .col(ColumnDef::new(Jobs::Processed).big_integer().not_null().default(0))
                    .col(ColumnDef::new(Jobs::Errors).big_integer().not_null().default(0))
                    .col(ColumnDef::new(Jobs::Skipped).big_integer().not_null().default(0))
                    .col(ColumnDef::new(Jobs::CurrentKey).text().null())
                    .col(ColumnDef::new(Jobs::ErrorMessage).text().null())
                    .col(ColumnDef::new(Jobs::Checkpoint).text().null())
                    .col(ColumnDef::new(Jobs::Result).text().null())
                    .col(ColumnDef::new(Jobs::CreatedBy).string().not_null())
                    .col(ColumnDef::new(Jobs::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Jobs::StartedAt).big_integer().null())
                    .col(ColumnDef::new(Jobs::FinishedAt).big_integer().null())
                    .col(ColumnDef::new(Jobs::UpdatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Jobs::InstanceId).string().null())
                    .col(ColumnDef::new(Jobs::HeartbeatAt).big_integer().null())
                    .col(ColumnDef::new(Jobs::CancelRequested).boolean().not_null().default(false))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("ix_jobs_created", vec![Jobs::CreatedAt, Jobs::Id]),
            ("ix_jobs_status", vec![Jobs::Status, Jobs::CreatedAt]),
            ("ix_jobs_namespace", vec![Jobs::NamespaceId, Jobs::CreatedAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Jobs::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(JobEvents::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(JobEvents::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(JobEvents::JobId).string().not_null())
                    .col(ColumnDef::new(JobEvents::Event).string().not_null())
                    .col(ColumnDef::new(JobEvents::Details).text().not_null())
                    .col(ColumnDef::new(JobEvents::CreatedAt).big_integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_events_job")
                            .from(JobEvents::Table, JobEvents::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_job_events_job")
                    .table(JobEvents::Table)
                    .col(JobEvents::JobId)
                    .col(JobEvents::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(JobFailures::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(JobFailures::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(JobFailures::JobId).string().not_null())
                    .col(ColumnDef::new(JobFailures::KeyName).text().not_null())
                    .col(ColumnDef::new(JobFailures::Reason).text().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_failures_job")
                            .from(JobFailures::Table, JobFailures::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_job_failures_job")
                    .table(JobFailures::Table)
                    .col(JobFailures::JobId)
                    .col(JobFailures::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(JobFailures::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(JobEvents::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Jobs::Table).to_owned()).await
    }
}
