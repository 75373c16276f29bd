//! A version records when the state it keeps was written (`written_at`, the replaced row's
//! `updated_at`) beside when it was replaced (`created_at`): the state was live between the two,
//! which is what a rewind to a moment needs to tell "absent then" from "not kept any more".
//! Versions kept before this migration have no `written_at` (NULL).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum KeyVersions {
    Table,
    WrittenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(KeyVersions::Table)
                    .add_column(ColumnDef::new(KeyVersions::WrittenAt).big_integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(KeyVersions::Table).drop_column(KeyVersions::WrittenAt).to_owned())
            .await
    }
}
