//! The one start-up: what `serve` and every CLI command run on, built in one place from the
//! configuration, so a command acts on the same store, tokens and services the server would.

use domain::alerts::Alerts;
use domain::audit::Audit;
use domain::cloudflare::{CloudflareClient, CloudflareConfig};
use domain::dashboard::Dashboard;
use domain::jobs::{Jobs, JobsConfig};
use domain::services::Services;
use domain::tokens::Tokens;
use domain::webhooks::{WebhookConfig, Webhooks};
use domain::{Database, Health, Kv};

use crate::config::{Backend, Config};

/// The services over one database connection pool (migrated): the key store of the configured
/// backend with the protected namespaces, the job engine, the API tokens, the `/v1/kv`
/// services, the audit log and the health check. No raw connection leaves it.
#[derive(Clone)]
pub struct Runtime {
    pub kv: Kv,
    pub jobs: Jobs,
    pub tokens: Tokens,
    pub services: Services,
    pub audit: Audit,
    pub health: Health,
    pub webhooks: Webhooks,
    pub alerts: Alerts,
    /// The console's dashboard: usage from the metric rollups, and the health panel.
    pub dashboard: Dashboard,
}

impl Runtime {
    /// Connects once and builds every service. `instance_id` names this process on the jobs it
    /// runs; `max_jobs` of them run at once.
    pub async fn open(config: &Config, instance_id: String, max_jobs: usize) -> anyhow::Result<Self> {
        let database = Database::connect(&config.database_url).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let kv = match &config.backend {
            Backend::Local => Kv::sql(database.clone()),
            Backend::Cloudflare { account_id, api_token, base_url, concurrency, .. } => {
                let mut settings = CloudflareConfig::new(base_url, account_id, api_token);
                settings.concurrency = *concurrency;
                let client = CloudflareClient::new(settings).map_err(|e| anyhow::anyhow!("{e}"))?;
                tracing::info!(%base_url, %account_id, "keys live in Cloudflare Workers KV");
                Kv::cloudflare(database.clone(), client)
            }
        }
        .with_protected(config.protected_namespaces.clone());
        let jobs = Jobs::new(
            kv.clone(),
            database.conn.clone(),
            JobsConfig {
                max_jobs,
                data_dir: config.data_dir.clone(),
                export_ttl_hours: config.export_ttl_hours,
                instance_id,
            },
        );
        jobs.set_backup_store(std::sync::Arc::new(domain::jobs::LocalDir::new(config.backup_dir())));
        if let Some(url) = &config.backup_s3_url {
            let store = domain::jobs::s3::S3Store::connect(url, domain::jobs::s3::S3Options::default())
                .map_err(|e| anyhow::anyhow!("backup-s3-url: {e}"))?;
            jobs.add_backup_target(domain::jobs::s3::S3_TARGET, std::sync::Arc::new(store));
        }
        let tokens = Tokens::new(database.conn.clone());
        let services = Services::new(kv.clone(), database.conn.clone(), config.kevi.master_token.as_deref());
        let audit = Audit::new(database.conn.clone());
        let webhook_config = WebhookConfig {
            instance_id: config.instance_id.clone(),
            allow_networks: config.webhook_allow_networks.clone(),
            keep_queued: std::time::Duration::from_secs(u64::from(config.webhook_queue_days) * 86_400),
            ..WebhookConfig::default()
        };
        let webhooks =
            Webhooks::new(kv.clone(), database.conn.clone(), webhook_config).map_err(|e| anyhow::anyhow!("{e}"))?;
        // Changes made from the first moment write their events when an endpoint wants them.
        webhooks.refresh_gate().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let alerts = Alerts::new(kv.clone(), database.conn.clone(), config.instance_id.clone());
        let dashboard =
            Dashboard::new(kv.clone(), jobs.clone(), alerts.clone(), webhooks.clone(), database.conn.clone());
        Ok(Self { kv, jobs, tokens, services, audit, health: Health::new(database), webhooks, alerts, dashboard })
    }
}
