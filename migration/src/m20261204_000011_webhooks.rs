//! Webhooks (issue 18, part 3): endpoints, the outbox that the change's own transaction writes
//! to, the per-endpoint queue the dispatcher fans the outbox out into, the log of every delivery
//! attempt, and the named leases that let one instance of several do a background duty.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    Url,
    Description,
    Events,
    NamespaceId,
    Prefix,
    Secret,
    Enabled,
    PausedReason,
    Failures,
    NextAttemptAt,
    LastDeliveredAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookOutbox {
    Table,
    Id,
    At,
    NamespaceId,
    NamespaceTitle,
    UserName,
    Source,
    Kinds,
    Events,
    Dispatched,
}

#[derive(DeriveIden)]
enum WebhookQueue {
    Table,
    EndpointId,
    OutboxId,
    Skip,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    EndpointId,
    At,
    Outcome,
    Events,
    FirstEvent,
    LastEvent,
    StatusCode,
    Error,
    Response,
    DurationMs,
    RetryAt,
}

#[derive(DeriveIden)]
enum Leases {
    Table,
    Name,
    Holder,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(WebhookEndpoints::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(WebhookEndpoints::Url).text().not_null())
                    .col(ColumnDef::new(WebhookEndpoints::Description).string().not_null().default(""))
                    .col(ColumnDef::new(WebhookEndpoints::Events).text().not_null())
                    .col(ColumnDef::new(WebhookEndpoints::NamespaceId).string().null())
                    .col(ColumnDef::new(WebhookEndpoints::Prefix).text().null())
                    .col(ColumnDef::new(WebhookEndpoints::Secret).string().not_null())
                    .col(ColumnDef::new(WebhookEndpoints::Enabled).boolean().not_null().default(true))
                    .col(ColumnDef::new(WebhookEndpoints::PausedReason).text().null())
                    .col(ColumnDef::new(WebhookEndpoints::Failures).integer().not_null().default(0))
                    .col(ColumnDef::new(WebhookEndpoints::NextAttemptAt).big_integer().null())
                    .col(ColumnDef::new(WebhookEndpoints::LastDeliveredAt).big_integer().null())
                    .col(ColumnDef::new(WebhookEndpoints::CreatedBy).string().not_null())
                    .col(ColumnDef::new(WebhookEndpoints::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(WebhookEndpoints::UpdatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookOutbox::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(WebhookOutbox::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(WebhookOutbox::At).big_integer().not_null())
                    .col(ColumnDef::new(WebhookOutbox::NamespaceId).string().null())
                    .col(ColumnDef::new(WebhookOutbox::NamespaceTitle).string().null())
                    .col(ColumnDef::new(WebhookOutbox::UserName).string().not_null())
                    .col(ColumnDef::new(WebhookOutbox::Source).string().not_null())
                    .col(ColumnDef::new(WebhookOutbox::Kinds).string().not_null())
                    .col(ColumnDef::new(WebhookOutbox::Events).text().not_null())
                    .col(ColumnDef::new(WebhookOutbox::Dispatched).boolean().not_null().default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_outbox_dispatched")
                    .table(WebhookOutbox::Table)
                    .col(WebhookOutbox::Dispatched)
                    .col(WebhookOutbox::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookQueue::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(WebhookQueue::EndpointId).string().not_null())
                    .col(ColumnDef::new(WebhookQueue::OutboxId).big_integer().not_null())
                    .col(ColumnDef::new(WebhookQueue::Skip).integer().not_null().default(0))
                    .primary_key(Index::create().col(WebhookQueue::EndpointId).col(WebhookQueue::OutboxId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_queue_outbox")
                    .table(WebhookQueue::Table)
                    .col(WebhookQueue::OutboxId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookAttempts::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(WebhookAttempts::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(WebhookAttempts::EndpointId).string().not_null())
                    .col(ColumnDef::new(WebhookAttempts::At).big_integer().not_null())
                    .col(ColumnDef::new(WebhookAttempts::Outcome).string().not_null())
                    .col(ColumnDef::new(WebhookAttempts::Events).integer().not_null())
                    .col(ColumnDef::new(WebhookAttempts::FirstEvent).string().null())
                    .col(ColumnDef::new(WebhookAttempts::LastEvent).string().null())
                    .col(ColumnDef::new(WebhookAttempts::StatusCode).integer().null())
                    .col(ColumnDef::new(WebhookAttempts::Error).text().null())
                    .col(ColumnDef::new(WebhookAttempts::Response).text().null())
                    .col(ColumnDef::new(WebhookAttempts::DurationMs).big_integer().not_null())
                    .col(ColumnDef::new(WebhookAttempts::RetryAt).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_attempts_endpoint")
                    .table(WebhookAttempts::Table)
                    .col(WebhookAttempts::EndpointId)
                    .col(WebhookAttempts::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Leases::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Leases::Name).string().not_null().primary_key())
                    .col(ColumnDef::new(Leases::Holder).string().not_null())
                    .col(ColumnDef::new(Leases::ExpiresAt).big_integer().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookAttempts::Table.into_iden(),
            WebhookQueue::Table.into_iden(),
            WebhookOutbox::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
            Leases::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
