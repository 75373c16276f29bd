//! Alert rules (issue 18, part 4): expiry rules ("keys of this namespace, prefix or tag expiring
//! within D") and thresholds on a namespace's storage, key count, operations per hour or p99
//! latency, with their state; and the keys an expiry rule has fired for, so it fires once per
//! key (and expiration).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AlertRules {
    Table,
    Id,
    Kind,
    NamespaceId,
    Prefix,
    Tag,
    WithinSecs,
    Metric,
    Threshold,
    CooldownSecs,
    Enabled,
    Breached,
    LastValue,
    BreachedAt,
    LastFiredAt,
    CheckedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AlertFired {
    Table,
    RuleId,
    KeyName,
    Expiration,
    NamespaceId,
    FiredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AlertRules::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(AlertRules::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(AlertRules::Kind).string().not_null())
                    .col(ColumnDef::new(AlertRules::NamespaceId).string().not_null())
                    .col(ColumnDef::new(AlertRules::Prefix).text().null())
                    .col(ColumnDef::new(AlertRules::Tag).string().null())
                    .col(ColumnDef::new(AlertRules::WithinSecs).big_integer().null())
                    .col(ColumnDef::new(AlertRules::Metric).string().null())
                    .col(ColumnDef::new(AlertRules::Threshold).double().null())
                    .col(ColumnDef::new(AlertRules::CooldownSecs).big_integer().not_null())
                    .col(ColumnDef::new(AlertRules::Enabled).boolean().not_null().default(true))
                    .col(ColumnDef::new(AlertRules::Breached).boolean().not_null().default(false))
                    .col(ColumnDef::new(AlertRules::LastValue).double().null())
                    .col(ColumnDef::new(AlertRules::BreachedAt).big_integer().null())
                    .col(ColumnDef::new(AlertRules::LastFiredAt).big_integer().null())
                    .col(ColumnDef::new(AlertRules::CheckedAt).big_integer().null())
                    .col(ColumnDef::new(AlertRules::CreatedBy).string().not_null())
                    .col(ColumnDef::new(AlertRules::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(AlertRules::UpdatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AlertFired::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(AlertFired::RuleId).string().not_null())
                    .col(ColumnDef::new(AlertFired::KeyName).text().not_null())
                    .col(ColumnDef::new(AlertFired::Expiration).big_integer().not_null())
                    .col(ColumnDef::new(AlertFired::NamespaceId).string().not_null())
                    .col(ColumnDef::new(AlertFired::FiredAt).big_integer().not_null())
                    .primary_key(
                        Index::create().col(AlertFired::RuleId).col(AlertFired::KeyName).col(AlertFired::Expiration),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AlertFired::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(AlertRules::Table).to_owned()).await
    }
}
