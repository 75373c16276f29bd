//! Webhook delivery by cursor (issue 18): each endpoint keeps its place in the outbox instead of a
//! queue row per change it waits for, so a change costs one outbox row and nothing more until
//! it is pruned.
//!
//! The outbox is read in the order of `(txid, id)`. On SQLite writers take turns, so `id` order is
//! commit order and `txid` stays 0. On PostgreSQL a row records the transaction that wrote it
//! (`pg_current_xact_id()`), and a reader takes only rows of transactions older than every
//! transaction still running: those rows are final, and every row that commits later sorts
//! after them, so a cursor never passes a row that is not there yet.
//!
//! Each endpoint's cursor starts where its oldest queued change was; the queue table and the
//! outbox's `dispatched` flag go.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    CursorTxid,
    CursorId,
    CursorSkip,
}

#[derive(DeriveIden)]
enum WebhookOutbox {
    Table,
    Id,
    Txid,
    Dispatched,
}

#[derive(DeriveIden)]
enum WebhookQueue {
    Table,
    EndpointId,
    OutboxId,
    Skip,
}

async fn optional_int(manager: &SchemaManager<'_>, sql: &str, column: &str) -> Result<Option<i64>, DbErr> {
    let backend = manager.get_database_backend();
    let row = manager.get_connection().query_one_raw(Statement::from_string(backend, sql.to_owned())).await?;
    match row {
        Some(row) => row.try_get::<Option<i64>>("", column),
        None => Ok(None),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        for column in [
            ColumnDef::new(WebhookEndpoints::CursorTxid).big_integer().not_null().default(0).to_owned(),
            ColumnDef::new(WebhookEndpoints::CursorId).big_integer().not_null().default(0).to_owned(),
            ColumnDef::new(WebhookEndpoints::CursorSkip).integer().not_null().default(0).to_owned(),
        ] {
            manager.alter_table(Table::alter().table(WebhookEndpoints::Table).add_column(column).to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(WebhookOutbox::Table)
                    .add_column(ColumnDef::new(WebhookOutbox::Txid).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        if backend == DbBackend::Postgres {
            manager
                .create_index(
                    Index::create()
                        .name("idx_webhook_outbox_txid")
                        .table(WebhookOutbox::Table)
                        .col(WebhookOutbox::Txid)
                        .col(WebhookOutbox::Id)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }

        // Where each endpoint's cursor starts: just before the first change it still waits for
        // (queued for it, or not yet fanned out), or at the end when it waits for nothing.
        let undispatched =
            optional_int(manager, "SELECT MIN(id) AS n FROM webhook_outbox WHERE dispatched = false", "n").await?;
        let end = optional_int(manager, "SELECT MAX(id) AS n FROM webhook_outbox", "n").await?.unwrap_or(0);
        let endpoints = manager
            .get_connection()
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT e.id, (SELECT MIN(q.outbox_id) FROM webhook_queue q WHERE q.endpoint_id = e.id) AS first \
                 FROM webhook_endpoints e",
            ))
            .await?;
        for row in endpoints {
            let id: String = row.try_get("", "id")?;
            let first: Option<i64> = row.try_get("", "first")?;
            let (cursor, skip) = match (first, undispatched) {
                (Some(first), Some(waiting)) if waiting < first => (waiting - 1, 0),
                (Some(first), _) => {
                    let select = Query::select()
                        .column(WebhookQueue::Skip)
                        .from(WebhookQueue::Table)
                        .and_where(Expr::col(WebhookQueue::EndpointId).eq(id.as_str()))
                        .and_where(Expr::col(WebhookQueue::OutboxId).eq(first))
                        .to_owned();
                    let skip = match manager.get_connection().query_one(&select).await? {
                        Some(row) => row.try_get::<i32>("", "skip")?,
                        None => 0,
                    };
                    (first - 1, skip)
                }
                (None, Some(waiting)) => (waiting - 1, 0),
                (None, None) => (end, 0),
            };
            let update = Query::update()
                .table(WebhookEndpoints::Table)
                .values([(WebhookEndpoints::CursorId, cursor.into()), (WebhookEndpoints::CursorSkip, skip.into())])
                .and_where(Expr::col(WebhookEndpoints::Id).eq(id.as_str()))
                .to_owned();
            manager.get_connection().execute(&update).await?;
        }

        manager.drop_table(Table::drop().table(WebhookQueue::Table).to_owned()).await?;
        manager
            .drop_index(Index::drop().name("idx_webhook_outbox_dispatched").table(WebhookOutbox::Table).to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table(WebhookOutbox::Table).drop_column(WebhookOutbox::Dispatched).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WebhookOutbox::Table)
                    .add_column(ColumnDef::new(WebhookOutbox::Dispatched).boolean().not_null().default(true))
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
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .drop_index(Index::drop().name("idx_webhook_outbox_txid").table(WebhookOutbox::Table).to_owned())
                .await?;
        }
        manager
            .alter_table(Table::alter().table(WebhookOutbox::Table).drop_column(WebhookOutbox::Txid).to_owned())
            .await?;
        for column in [WebhookEndpoints::CursorTxid, WebhookEndpoints::CursorId, WebhookEndpoints::CursorSkip] {
            manager.alter_table(Table::alter().table(WebhookEndpoints::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
