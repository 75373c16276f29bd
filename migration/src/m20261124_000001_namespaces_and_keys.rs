use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Namespaces {
    Table,
    Id,
    Title,
    KeyCount,
    SizeBytes,
    CreatedAt,
    LastAccessed,
}

#[derive(DeriveIden)]
enum KvEntries {
    Table,
    NamespaceId,
    Name,
    Metadata,
    Expiration,
    Size,
    CreatedAt,
    UpdatedAt,
    Value,
}

/// Key names sort by their UTF-8 bytes on both databases: SQLite's default BINARY collation
/// already does, PostgreSQL needs the "C" collation on the column itself.
fn key_name_column(backend: DbBackend) -> ColumnDef {
    let mut col = ColumnDef::new(KvEntries::Name);
    col.string().not_null();
    if backend == DbBackend::Postgres {
        col.extra("COLLATE \"C\"");
    }
    col
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Namespaces::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Namespaces::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(Namespaces::Title).string().not_null())
                    .col(ColumnDef::new(Namespaces::KeyCount).big_integer().not_null().default(0))
                    .col(ColumnDef::new(Namespaces::SizeBytes).big_integer().not_null().default(0))
                    .col(ColumnDef::new(Namespaces::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Namespaces::LastAccessed).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_namespaces_title")
                    .table(Namespaces::Table)
                    .col(Namespaces::Title)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(KvEntries::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(KvEntries::NamespaceId).string().not_null())
                    .col(key_name_column(backend))
                    .col(ColumnDef::new(KvEntries::Metadata).text().null())
                    .col(ColumnDef::new(KvEntries::Expiration).big_integer().null())
                    .col(ColumnDef::new(KvEntries::Size).big_integer().not_null())
                    .col(ColumnDef::new(KvEntries::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(KvEntries::UpdatedAt).big_integer().not_null())
                    // The value comes last so SQLite reads the other columns without walking the
                    // overflow pages of a large value.
                    .col(ColumnDef::new(KvEntries::Value).blob().not_null())
                    .primary_key(Index::create().col(KvEntries::NamespaceId).col(KvEntries::Name))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_kv_entries_namespace")
                            .from(KvEntries::Table, KvEntries::NamespaceId)
                            .to(Namespaces::Table, Namespaces::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_kv_entries_expiration")
                    .table(KvEntries::Table)
                    .col(KvEntries::Expiration)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_kv_entries_namespace_expiration")
                    .table(KvEntries::Table)
                    .col(KvEntries::NamespaceId)
                    .col(KvEntries::Expiration)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(KvEntries::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Namespaces::Table).to_owned()).await
    }
}
