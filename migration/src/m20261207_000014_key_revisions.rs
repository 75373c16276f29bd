//! Version tokens for keys (issue 20): every write transaction takes the next revision of its
//! namespace (`namespaces.revision`, bumped by the namespace lock every writer takes), and the
//! keys it writes record it (`kv_entries.revision`) with who wrote them (`updated_by`). A key's
//! version token is its revision: unique for the key over time, so a token read before any
//! later write, a delete and a re-create included, never matches again. Keys written before this
//! migration are at revision 0 until they are next written.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum KvEntries {
    Table,
    Revision,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum Namespaces {
    Table,
    Revision,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(KvEntries::Table)
                    .add_column(ColumnDef::new(KvEntries::Revision).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(KvEntries::Table)
                    .add_column(ColumnDef::new(KvEntries::UpdatedBy).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Namespaces::Table)
                    .add_column(ColumnDef::new(Namespaces::Revision).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Namespaces::Table).drop_column(Namespaces::Revision).to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table(KvEntries::Table).drop_column(KvEntries::UpdatedBy).to_owned())
            .await?;
        manager.alter_table(Table::alter().table(KvEntries::Table).drop_column(KvEntries::Revision).to_owned()).await
    }
}
