//! Webhook endpoints, for admins (403 for anyone else): list, make (the signing secret shown
//! once), change, delete, resume a paused one, send a test event, and read the delivery log.
//! Bad input is refused (400) naming its field: `url`, `events`, `namespace_id`, `prefix`,
//! `description` or `secret`.

// A server function's arguments are its JSON body's fields.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::dto::{Deleted, WebhookAttemptDto, WebhookAttemptPageDto, WebhookDto, WebhookListDto, WebhookSecretDto};
use crate::error::{AppError, Json};

#[cfg(feature = "ssr")]
mod ssr {
    use domain::webhooks::{Attempt, Endpoint, Webhooks};

    use crate::dto::{WebhookAttemptDto, WebhookDto};
    use crate::error::AppError;

    /// The webhook service from the server's state.
    pub fn webhooks() -> Result<Webhooks, AppError> {
        leptos::prelude::use_context::<crate::state::AppState>().map(|state| state.webhooks).ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            AppError::internal()
        })
    }

    /// Unix milliseconds (the sender's clock for retries) as unix seconds.
    fn seconds(ms: i64) -> i64 {
        ms.div_euclid(1000)
    }

    impl From<Endpoint> for WebhookDto {
        fn from(e: Endpoint) -> Self {
            Self {
                id: e.id,
                url: e.url,
                description: e.description,
                events: e.events,
                namespace_id: e.namespace_id,
                prefix: e.prefix,
                enabled: e.enabled,
                paused_reason: e.paused_reason,
                failures: e.failures,
                next_attempt_at: e.next_attempt_at.map(seconds),
                last_delivered_at: e.last_delivered_at,
                pending: e.pending,
                created_by: e.created_by,
                created_at: e.created_at,
                updated_at: e.updated_at,
            }
        }
    }

    impl From<Attempt> for WebhookAttemptDto {
        fn from(a: Attempt) -> Self {
            Self {
                id: a.id,
                endpoint_id: a.endpoint_id,
                at: a.at,
                outcome: a.outcome,
                events: a.events,
                first_event: a.first_event,
                last_event: a.last_event,
                status_code: a.status_code,
                error: a.error,
                response: a.response,
                duration_ms: a.duration_ms,
                retry_at: a.retry_at.map(seconds),
            }
        }
    }
}

/// Every endpoint, oldest first (never a secret), and the event types an endpoint can take.
#[server(endpoint = "list_webhooks", input = Json)]
pub async fn list_webhooks() -> Result<WebhookListDto, AppError> {
    let endpoints = ssr::webhooks()?.list(&crate::serverfns::ssr::actor()).await?;
    Ok(WebhookListDto {
        endpoints: endpoints.into_iter().map(Into::into).collect(),
        event_types: domain::webhooks::EVENT_TYPES.iter().map(|t| (*t).to_owned()).collect(),
    })
}

/// Makes an endpoint: deliveries of `events` (at least one event type) go to `url` (`https://`
/// or `http://`, a public address unless the server allows others), only those of
/// `namespace_id` and of keys starting with `prefix` when given. Its signing `secret` is the one
/// given (16 to 256 printable characters) or a new one; the answer holds it, shown this once.
#[server(endpoint = "create_webhook", input = Json)]
pub async fn create_webhook(
    url: String,
    description: Option<String>,
    events: Vec<String>,
    namespace_id: Option<String>,
    prefix: Option<String>,
    enabled: Option<bool>,
    secret: Option<String>,
) -> Result<WebhookSecretDto, AppError> {
    let input = domain::webhooks::EndpointInput {
        url,
        description: description.unwrap_or_default(),
        events,
        namespace_id,
        prefix,
        enabled: enabled.unwrap_or(true),
        secret: secret.filter(|s| !s.is_empty()),
    };
    let made = ssr::webhooks()?.create(&crate::serverfns::ssr::actor(), input).await?;
    Ok(WebhookSecretDto { endpoint: made.endpoint.into(), secret: made.secret })
}

/// Changes an endpoint; an omitted field is left as it is (an empty `namespace_id` or `prefix`
/// removes that filter). Its secret changes only when `secret` is given. `enabled: false` stops
/// its deliveries and drops what waits in its queue.
#[server(endpoint = "update_webhook", input = Json)]
pub async fn update_webhook(
    id: String,
    url: Option<String>,
    description: Option<String>,
    events: Option<Vec<String>>,
    namespace_id: Option<String>,
    prefix: Option<String>,
    enabled: Option<bool>,
    secret: Option<String>,
) -> Result<WebhookDto, AppError> {
    let (webhooks, actor) = (ssr::webhooks()?, crate::serverfns::ssr::actor());
    let before = webhooks.get(&actor, &id).await?;
    let input = domain::webhooks::EndpointInput {
        url: url.unwrap_or(before.url),
        description: description.unwrap_or(before.description),
        events: events.unwrap_or(before.events),
        namespace_id: namespace_id.or(before.namespace_id),
        prefix: prefix.or(before.prefix),
        enabled: enabled.unwrap_or(before.enabled),
        secret: secret.filter(|s| !s.is_empty()),
    };
    Ok(webhooks.update(&actor, &id, input).await?.into())
}

/// Deletes an endpoint with its queue and its delivery log.
#[server(endpoint = "delete_webhook", input = Json)]
pub async fn delete_webhook(id: String) -> Result<Deleted, AppError> {
    ssr::webhooks()?.delete(&crate::serverfns::ssr::actor(), &id).await?;
    Ok(Deleted { deleted: true })
}

/// Ends an endpoint's pause: what it missed since (its queue) is delivered in order, then what
/// comes next.
#[server(endpoint = "resume_webhook", input = Json)]
pub async fn resume_webhook(id: String) -> Result<WebhookDto, AppError> {
    Ok(ssr::webhooks()?.resume(&crate::serverfns::ssr::actor(), &id).await?.into())
}

/// Sends one `webhook.test` event to the endpoint now (paused or not) and answers the attempt,
/// which the delivery log keeps too.
#[server(endpoint = "test_webhook", input = Json)]
pub async fn test_webhook(id: String) -> Result<WebhookAttemptDto, AppError> {
    Ok(ssr::webhooks()?.send_test(&crate::serverfns::ssr::actor(), &id).await?.into())
}

/// An endpoint's delivery log, newest first, a page at a time: `before` is the previous page's
/// `next_before`.
#[server(endpoint = "list_webhook_attempts", input = Json)]
pub async fn list_webhook_attempts(id: String, before: Option<i64>) -> Result<WebhookAttemptPageDto, AppError> {
    let page = ssr::webhooks()?.attempts(&crate::serverfns::ssr::actor(), &id, before).await?;
    Ok(WebhookAttemptPageDto {
        attempts: page.attempts.into_iter().map(Into::into).collect(),
        next_before: page.next_before,
    })
}
