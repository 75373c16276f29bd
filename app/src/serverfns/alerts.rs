//! Alert rules, for admins (403 for anyone else): list, make, change and delete. Bad input is
//! refused (400) naming its field: `kind`, `namespace_id`, `prefix`, `tag`, `within_secs`,
//! `metric`, `threshold` or `cooldown_secs`.

// A server function's arguments are its JSON body's fields.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::dto::{AlertRuleDto, Deleted};
use crate::error::{AppError, Json};

#[cfg(feature = "ssr")]
mod ssr {
    use domain::alerts::{AlertRule, Alerts};

    use crate::dto::AlertRuleDto;
    use crate::error::AppError;

    /// The alert rules from the server's state.
    pub fn alerts() -> Result<Alerts, AppError> {
        leptos::prelude::use_context::<crate::state::AppState>().map(|state| state.alerts).ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            AppError::internal()
        })
    }

    impl From<AlertRule> for AlertRuleDto {
        fn from(r: AlertRule) -> Self {
            Self {
                id: r.id,
                kind: r.kind,
                namespace_id: r.namespace_id,
                prefix: r.prefix,
                tag: r.tag,
                within_secs: r.within_secs,
                metric: r.metric,
                threshold: r.threshold,
                cooldown_secs: r.cooldown_secs,
                enabled: r.enabled,
                breached: r.breached,
                last_value: r.last_value,
                breached_at: r.breached_at,
                last_fired_at: r.last_fired_at,
                checked_at: r.checked_at,
                created_by: r.created_by,
                created_at: r.created_at,
                updated_at: r.updated_at,
            }
        }
    }
}

/// Every alert rule, oldest first.
#[server(endpoint = "list_alert_rules", input = Json)]
pub async fn list_alert_rules() -> Result<Vec<AlertRuleDto>, AppError> {
    let rules = ssr::alerts()?.list(&crate::serverfns::ssr::actor()).await?;
    Ok(rules.into_iter().map(Into::into).collect())
}

/// Makes a rule (no `id`) or replaces one (`id`): `kind` `expiry` (keys of `namespace_id`,
/// under `prefix`, with `tag`, expiring within `within_secs`) or `threshold` (`metric` of
/// `namespace_id` above `threshold`, fired again at most once per `cooldown_secs`, default an
/// hour).
#[server(endpoint = "save_alert_rule", input = Json)]
pub async fn save_alert_rule(
    id: Option<String>,
    kind: String,
    namespace_id: String,
    prefix: Option<String>,
    tag: Option<String>,
    within_secs: Option<i64>,
    metric: Option<String>,
    threshold: Option<f64>,
    cooldown_secs: Option<i64>,
    enabled: Option<bool>,
) -> Result<AlertRuleDto, AppError> {
    let input = domain::alerts::RuleInput {
        kind,
        namespace_id,
        prefix: prefix.filter(|p| !p.is_empty()),
        tag: tag.filter(|t| !t.is_empty()),
        within_secs,
        metric: metric.filter(|m| !m.is_empty()),
        threshold,
        cooldown_secs,
        enabled: enabled.unwrap_or(true),
    };
    let (alerts, actor) = (ssr::alerts()?, crate::serverfns::ssr::actor());
    let rule = match id.filter(|id| !id.is_empty()) {
        Some(id) => alerts.update(&actor, &id, input).await?,
        None => alerts.create(&actor, input).await?,
    };
    Ok(rule.into())
}

/// Deletes a rule.
#[server(endpoint = "delete_alert_rule", input = Json)]
pub async fn delete_alert_rule(id: String) -> Result<Deleted, AppError> {
    ssr::alerts()?.delete(&crate::serverfns::ssr::actor(), &id).await?;
    Ok(Deleted { deleted: true })
}
