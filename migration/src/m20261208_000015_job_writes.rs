//! Undo for jobs (issue 20): every key a job writes is recorded with the revision of the write
//! (`job_writes`), and every version records the revision of the write that replaced it
//! (`key_versions.revision`). The state a key had before a job is then the version its first
//! write in the job replaced (or nothing, when `had_before` is false: the job created it), and
//! the key is unchanged since the job when its row is still at the job's last revision.
//! Versions kept before this migration have no revision (NULL); jobs that ran before it have no
//! recorded writes, and cannot be undone.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum JobWrites {
    Table,
    Id,
    JobId,
    NamespaceId,
    Name,
    Revision,
    Operation,
    HadBefore,
}

#[derive(DeriveIden)]
enum KeyVersions {
    Table,
    Revision,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Namespaces {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut name = ColumnDef::new(JobWrites::Name);
        name.string().not_null();
        if backend == sea_orm_migration::sea_orm::DbBackend::Postgres {
            name.extra("COLLATE \"C\"");
        }
        manager
            .create_table(
                Table::create()
                    .table(JobWrites::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(JobWrites::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(JobWrites::JobId).string().not_null())
                    .col(ColumnDef::new(JobWrites::NamespaceId).string().not_null())
                    .col(&mut name)
                    .col(ColumnDef::new(JobWrites::Revision).big_integer().not_null())
                    .col(ColumnDef::new(JobWrites::Operation).string().not_null())
                    .col(ColumnDef::new(JobWrites::HadBefore).boolean().not_null().default(false))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_writes_job")
                            .from(JobWrites::Table, JobWrites::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_writes_namespace")
                            .from(JobWrites::Table, JobWrites::NamespaceId)
                            .to(Namespaces::Table, Namespaces::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_job_writes_job_key")
                    .table(JobWrites::Table)
                    .col(JobWrites::JobId)
                    .col(JobWrites::NamespaceId)
                    .col(JobWrites::Name)
                    .col(JobWrites::Revision)
                    .to_owned(),
            )
            .await?;
        // Deleting a namespace cascades here: PostgreSQL needs an index to find the rows.
        manager
            .create_index(
                Index::create()
                    .name("ix_job_writes_namespace")
                    .table(JobWrites::Table)
                    .col(JobWrites::NamespaceId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(KeyVersions::Table)
                    .add_column(ColumnDef::new(KeyVersions::Revision).big_integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(KeyVersions::Table).drop_column(KeyVersions::Revision).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(JobWrites::Table).to_owned()).await
    }
}
