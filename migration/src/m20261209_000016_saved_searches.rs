//! Saved searches (issue 20): a user's named searches of the console's `/search` page, each the
//! page's query string, so that opening one (or sharing its link) runs the same search; and each
//! user's console settings (the namespaces page as a list or a grid), one row per setting.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SavedSearches {
    Table,
    Id,
    UserName,
    Name,
    Query,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserSettings {
    Table,
    UserName,
    Name,
    Value,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SavedSearches::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(SavedSearches::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(SavedSearches::UserName).string().not_null())
                    .col(ColumnDef::new(SavedSearches::Name).string().not_null())
                    .col(ColumnDef::new(SavedSearches::Query).text().not_null())
                    .col(ColumnDef::new(SavedSearches::CreatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_saved_searches_user_name")
                    .table(SavedSearches::Table)
                    .col(SavedSearches::UserName)
                    .col(SavedSearches::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserSettings::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(UserSettings::UserName).string().not_null())
                    .col(ColumnDef::new(UserSettings::Name).string().not_null())
                    .col(ColumnDef::new(UserSettings::Value).string().not_null())
                    .col(ColumnDef::new(UserSettings::UpdatedAt).big_integer().not_null())
                    .primary_key(Index::create().col(UserSettings::UserName).col(UserSettings::Name))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(UserSettings::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(SavedSearches::Table).to_owned()).await
    }
}
