//! Database migrations, shared by SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_namespaces_and_keys;
mod m20261124_000002_details_versions_search;
mod m20261125_000003_jobs;
mod m20261125_000004_audit;
mod m20261126_000005_api_tokens;
mod m20261126_000006_services;
mod m20261130_000007_job_key_lists;
mod m20261201_000008_version_written_at;
mod m20261202_000009_backup_plans;
mod m20261203_000010_metric_rollups;
mod m20261204_000011_webhooks;
mod m20261205_000012_alerts;
mod m20261206_000013_webhook_cursors;
mod m20261207_000014_key_revisions;
mod m20261208_000015_job_writes;
mod m20261209_000016_saved_searches;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_namespaces_and_keys::Migration),
            Box::new(m20261124_000002_details_versions_search::Migration),
            Box::new(m20261125_000003_jobs::Migration),
            Box::new(m20261125_000004_audit::Migration),
            Box::new(m20261126_000005_api_tokens::Migration),
            Box::new(m20261126_000006_services::Migration),
            Box::new(m20261130_000007_job_key_lists::Migration),
            Box::new(m20261201_000008_version_written_at::Migration),
            Box::new(m20261202_000009_backup_plans::Migration),
            Box::new(m20261203_000010_metric_rollups::Migration),
            Box::new(m20261204_000011_webhooks::Migration),
            Box::new(m20261205_000012_alerts::Migration),
            Box::new(m20261206_000013_webhook_cursors::Migration),
            Box::new(m20261207_000014_key_revisions::Migration),
            Box::new(m20261208_000015_job_writes::Migration),
            Box::new(m20261209_000016_saved_searches::Migration),
        ]
    }
}
