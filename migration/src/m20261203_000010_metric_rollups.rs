//! Metric rollups (issue 18): key operations counted per time bucket, namespace, surface
//! (`/v1/kv` service) and operation, with a latency sum and a fixed histogram; storage samples
//! (key count, bytes) per namespace in the same table. Flushes add to existing rows, so counts
//! survive restarts and add up across instances sharing one database.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MetricRollups {
    Table,
    /// Start of the bucket, unix seconds, a multiple of `resolution`.
    BucketStart,
    /// Length of the bucket in seconds: 60 (a minute) or 3600 (an hour).
    Resolution,
    /// The namespace; empty for operations across namespaces (a search).
    NamespaceId,
    /// The surface (`console`, `script`, `kevi`, `cf-api`, `cli`, `job`); empty for storage.
    Surface,
    /// The `/v1/kv` service (or `master`) of `kevi` rows; empty otherwise.
    Service,
    /// `read`, `write`, `delete`, `list`, or `storage` for storage samples.
    Operation,
    Operations,
    Keys,
    Errors,
    /// Sum of the operations' latencies in microseconds.
    LatencyUs,
    LeMs1,
    LeMs5,
    LeMs10,
    LeMs25,
    LeMs100,
    LeMs250,
    LeMs1000,
    LeInf,
    /// Storage samples: the latest key count and bytes of the namespace in the bucket.
    KeyCount,
    SizeBytes,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(MetricRollups::Table)
            .if_not_exists()
            .col(ColumnDef::new(MetricRollups::BucketStart).big_integer().not_null())
            .col(ColumnDef::new(MetricRollups::Resolution).integer().not_null())
            .col(ColumnDef::new(MetricRollups::NamespaceId).string().not_null())
            .col(ColumnDef::new(MetricRollups::Surface).string().not_null())
            .col(ColumnDef::new(MetricRollups::Service).string().not_null())
            .col(ColumnDef::new(MetricRollups::Operation).string().not_null());
        for counter in [
            MetricRollups::Operations,
            MetricRollups::Keys,
            MetricRollups::Errors,
            MetricRollups::LatencyUs,
            MetricRollups::LeMs1,
            MetricRollups::LeMs5,
            MetricRollups::LeMs10,
            MetricRollups::LeMs25,
            MetricRollups::LeMs100,
            MetricRollups::LeMs250,
            MetricRollups::LeMs1000,
            MetricRollups::LeInf,
            MetricRollups::KeyCount,
            MetricRollups::SizeBytes,
        ] {
            table.col(ColumnDef::new(counter).big_integer().not_null().default(0));
        }
        table.primary_key(
            Index::create()
                .col(MetricRollups::Resolution)
                .col(MetricRollups::BucketStart)
                .col(MetricRollups::NamespaceId)
                .col(MetricRollups::Surface)
                .col(MetricRollups::Service)
                .col(MetricRollups::Operation),
        );
        manager.create_table(table.to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(MetricRollups::Table).to_owned()).await
    }
}
