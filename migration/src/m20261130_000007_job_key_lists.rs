//! A job over an explicit list of keys keeps the list in a column of its own, read only by the
//! job's runner: the job's row as listed, fetched and sent live (`params`) carries the count.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    KeyList,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A JSON array of key names; NULL for a job without a list.
        manager
            .alter_table(
                Table::alter().table(Jobs::Table).add_column(ColumnDef::new(Jobs::KeyList).text().null()).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Jobs::Table).drop_column(Jobs::KeyList).to_owned()).await
    }
}
