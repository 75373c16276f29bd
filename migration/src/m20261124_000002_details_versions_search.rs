//! Tags and custom metadata, version history, and the substring index over key names.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum KeyDetails {
    Table,
    NamespaceId,
    Name,
    Tags,
    CustomMetadata,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum KeyTags {
    Table,
    NamespaceId,
    Name,
    /// Lower-cased, for matching.
    TagKey,
    /// As the user wrote it.
    Tag,
}

#[derive(DeriveIden)]
enum KeyVersions {
    Table,
    Id,
    NamespaceId,
    Name,
    Version,
    Operation,
    Metadata,
    Expiration,
    Size,
    CreatedAt,
    CreatedBy,
    Value,
}

#[derive(DeriveIden)]
enum Namespaces {
    Table,
    Id,
}

fn name_column<T: IntoIden>(name: T, backend: DbBackend) -> ColumnDef {
    let mut col = ColumnDef::new(name);
    col.string().not_null();
    if backend == DbBackend::Postgres {
        col.extra("COLLATE \"C\"");
    }
    col
}

fn namespace_fk<T: IntoIden + 'static>(table: T, column: impl IntoIden, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Namespaces::Table, Namespaces::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(KeyDetails::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(KeyDetails::NamespaceId).string().not_null())
                    .col(name_column(KeyDetails::Name, backend))
                    .col(ColumnDef::new(KeyDetails::Tags).text().not_null())
                    .col(ColumnDef::new(KeyDetails::CustomMetadata).text().not_null())
                    .col(ColumnDef::new(KeyDetails::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(KeyDetails::UpdatedAt).big_integer().not_null())
                    .primary_key(Index::create().col(KeyDetails::NamespaceId).col(KeyDetails::Name))
                    .foreign_key(&mut namespace_fk(
                        KeyDetails::Table,
                        KeyDetails::NamespaceId,
                        "fk_key_details_namespace",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(KeyTags::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(KeyTags::NamespaceId).string().not_null())
                    .col(name_column(KeyTags::Name, backend))
                    .col(ColumnDef::new(KeyTags::TagKey).string().not_null())
                    .col(ColumnDef::new(KeyTags::Tag).string().not_null())
                    .primary_key(Index::create().col(KeyTags::NamespaceId).col(KeyTags::Name).col(KeyTags::TagKey))
                    .foreign_key(&mut namespace_fk(KeyTags::Table, KeyTags::NamespaceId, "fk_key_tags_namespace"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_key_tags_tag")
                    .table(KeyTags::Table)
                    .col(KeyTags::TagKey)
                    .col(KeyTags::NamespaceId)
                    .col(KeyTags::Name)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(KeyVersions::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(KeyVersions::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(KeyVersions::NamespaceId).string().not_null())
                    .col(name_column(KeyVersions::Name, backend))
                    .col(ColumnDef::new(KeyVersions::Version).big_integer().not_null())
                    .col(ColumnDef::new(KeyVersions::Operation).string().not_null())
                    .col(ColumnDef::new(KeyVersions::Metadata).text().null())
                    .col(ColumnDef::new(KeyVersions::Expiration).big_integer().null())
                    .col(ColumnDef::new(KeyVersions::Size).big_integer().not_null())
                    .col(ColumnDef::new(KeyVersions::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(KeyVersions::CreatedBy).string().not_null())
                    .col(ColumnDef::new(KeyVersions::Value).blob().not_null())
                    .foreign_key(&mut namespace_fk(
                        KeyVersions::Table,
                        KeyVersions::NamespaceId,
                        "fk_key_versions_namespace",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_key_versions_key_version")
                    .table(KeyVersions::Table)
                    .col(KeyVersions::NamespaceId)
                    .col(KeyVersions::Name)
                    .col(KeyVersions::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_key_versions_created_at")
                    .table(KeyVersions::Table)
                    .col(KeyVersions::CreatedAt)
                    .to_owned(),
            )
            .await?;
        // The substring index over key names: exact at all times because the database keeps it.
        let db = manager.get_connection();
        match backend {
            DbBackend::Sqlite => {
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE IF NOT EXISTS kv_names USING fts5(
                        name, content='kv_entries', content_rowid='rowid', tokenize='trigram'
                    );
                    CREATE TRIGGER IF NOT EXISTS kv_names_insert AFTER INSERT ON kv_entries BEGIN
                        INSERT INTO kv_names(rowid, name) VALUES (new.rowid, new.name);
                    END;
                    CREATE TRIGGER IF NOT EXISTS kv_names_delete AFTER DELETE ON kv_entries BEGIN
                        INSERT INTO kv_names(kv_names, rowid, name) VALUES ('delete', old.rowid, old.name);
                    END;
                    CREATE TRIGGER IF NOT EXISTS kv_names_update AFTER UPDATE OF name ON kv_entries BEGIN
                        INSERT INTO kv_names(kv_names, rowid, name) VALUES ('delete', old.rowid, old.name);
                        INSERT INTO kv_names(rowid, name) VALUES (new.rowid, new.name);
                    END;
                    INSERT INTO kv_names(kv_names) VALUES ('rebuild');",
                )
                .await?;
            }
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE EXTENSION IF NOT EXISTS pg_trgm;
                     CREATE INDEX IF NOT EXISTS ix_kv_entries_name_trgm ON kv_entries USING gin (lower(name) gin_trgm_ops);
                     CREATE INDEX IF NOT EXISTS ix_kv_entries_updated_at ON kv_entries (updated_at);",
                )
                .await?;
            }
            _ => {}
        }
        if backend == DbBackend::Sqlite {
            manager
                .create_index(
                    Index::create()
                        .name("ix_kv_entries_updated_at")
                        .table(Alias::new("kv_entries"))
                        .col(Alias::new("updated_at"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                db.execute_unprepared(
                    "DROP TRIGGER IF EXISTS kv_names_insert; DROP TRIGGER IF EXISTS kv_names_delete;
                     DROP TRIGGER IF EXISTS kv_names_update; DROP TABLE IF EXISTS kv_names;
                     DROP INDEX IF EXISTS ix_kv_entries_updated_at;",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "DROP INDEX IF EXISTS ix_kv_entries_name_trgm; DROP INDEX IF EXISTS ix_kv_entries_updated_at;",
                )
                .await?;
            }
        }
        for table in [Alias::new("key_versions"), Alias::new("key_tags"), Alias::new("key_details")] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
