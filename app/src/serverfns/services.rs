//! Services of the multi-tenant KV API (`/v1/kv`) and their tokens, for admins: list, make,
//! change (every field but the name, `disabled` included), issue and revoke tokens.
//!
//! Like the rest of the console, these never show a protected namespace: a service over one is
//! left out of the list and answered 404 here (the CLI and the services file still manage it),
//! and a new or changed service cannot be put over one.
#![allow(clippy::too_many_arguments)]

use crate::error::Json;
use leptos::prelude::*;

use crate::dto::{ServiceDto, ServiceSecretDto, ServiceTokenDto};
use crate::error::AppError;

#[cfg(feature = "ssr")]
mod ssr {
    use domain::services::{Service, ServiceToken, Services};
    use domain::{Actor, DomainError, Kv, NamespaceQuery};

    use crate::dto::{ServiceDto, ServiceTokenDto};
    use crate::error::AppError;

    /// What every function here works with, for an admin; 403 for anyone else.
    pub struct Admin {
        pub services: Services,
        pub kv: Kv,
        pub actor: Actor,
        /// Namespaces (ids) hidden from this actor.
        pub hidden: Vec<String>,
    }

    pub async fn admin() -> Result<Admin, AppError> {
        let actor = crate::serverfns::ssr::actor();
        if !actor.is_admin() {
            return Err(DomainError::forbidden("services of the /v1/kv API are managed by admins (KVM_ADMINS)").into());
        }
        let state = leptos::prelude::use_context::<crate::state::AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            AppError::internal()
        })?;
        let hidden = state.kv.hidden_namespaces(&actor).await?;
        Ok(Admin { services: state.services, kv: state.kv, actor, hidden })
    }

    fn no_service(name: &str) -> AppError {
        DomainError::not_found("name", format!("name: no service is named {name:?}")).into()
    }

    impl Admin {
        /// A service this actor may see (404 for one over a hidden namespace).
        pub async fn service(&self, name: &str) -> Result<Service, AppError> {
            let service = self.services.get(name).await?;
            if self.hidden.contains(&service.namespace_id) {
                return Err(no_service(name));
            }
            Ok(service)
        }

        /// The id of the visible namespace `storage` names (an id or a title); the domain would
        /// also find hidden ones.
        pub async fn storage(&self, storage: &str) -> Result<String, AppError> {
            let storage = storage.trim();
            if storage.is_empty() {
                return Err(DomainError::invalid("storage", "storage: give a namespace id or title").into());
            }
            if domain::limits::check_namespace_id(storage).is_ok()
                && let Ok(namespace) = self.kv.get_namespace(&self.actor, storage).await
            {
                return Ok(namespace.id);
            }
            let mut page = 1;
            loop {
                let query = NamespaceQuery {
                    page: Some(page),
                    per_page: Some(domain::limits::MAX_PER_PAGE),
                    search: Some(storage.to_owned()),
                    ..Default::default()
                };
                let found = self.kv.list_namespaces(&self.actor, query).await?;
                if let Some(namespace) = found.namespaces.iter().find(|n| n.title == storage) {
                    return Ok(namespace.id.clone());
                }
                if u64::from(page) * u64::from(found.per_page) >= found.total || found.namespaces.is_empty() {
                    break;
                }
                page += 1;
            }
            Err(DomainError::invalid("storage", format!("storage: no namespace has the id or title {storage:?}"))
                .into())
        }

        /// The wire form of a service, with its namespace's title.
        pub async fn dto(&self, service: Service) -> ServiceDto {
            let title = self.kv.get_namespace(&self.actor, &service.namespace_id).await.ok().map(|n| n.title);
            dto(service, title)
        }

        /// Every visible service, by name.
        pub async fn list(&self) -> Result<Vec<ServiceDto>, AppError> {
            let services = self.services.list().await?;
            let mut titles = std::collections::HashMap::<String, Option<String>>::new();
            let mut out = Vec::with_capacity(services.len());
            for service in services.into_iter().filter(|s| !self.hidden.contains(&s.namespace_id)) {
                let title = match titles.get(&service.namespace_id) {
                    Some(title) => title.clone(),
                    None => {
                        let title =
                            self.kv.get_namespace(&self.actor, &service.namespace_id).await.ok().map(|n| n.title);
                        titles.insert(service.namespace_id.clone(), title.clone());
                        title
                    }
                };
                out.push(dto(service, title));
            }
            Ok(out)
        }
    }

    fn dto(s: Service, namespace_title: Option<String>) -> ServiceDto {
        ServiceDto {
            name: s.name,
            namespace_id: s.namespace_id,
            namespace_title,
            role: s.role.as_str().to_owned(),
            prefix: s.prefix,
            allowed_origins: s.allowed_origins,
            public_keys: s.public_keys,
            description: s.description,
            disabled: s.disabled,
            created_at: domain::rfc3339(s.created_at),
            created_by: s.created_by,
            updated_at: domain::rfc3339(s.updated_at),
        }
    }

    impl From<ServiceToken> for ServiceTokenDto {
        fn from(t: ServiceToken) -> Self {
            Self {
                id: t.id,
                service: t.service,
                created_at: domain::rfc3339(t.created_at),
                created_by: t.created_by,
                last_used_at: t.last_used_at.map(domain::rfc3339),
                revoked_at: t.revoked_at.map(domain::rfc3339),
            }
        }
    }
}

/// Every service, by name (never a secret).
#[server(endpoint = "list_services", input = Json)]
pub async fn list_services() -> Result<Vec<ServiceDto>, AppError> {
    ssr::admin().await?.list().await
}

/// Makes a service over a namespace (`storage`: its id or title) and its first token; the
/// answer holds the token's secret, shown this once. `role` is `admin` (reads and writes) or
/// `read-only`; `prefix` (1 to 64 of `A-Z a-z 0-9 . _ -`) is unique in the namespace;
/// `allowed_origins` are browser origins (`https://app.example.com`, or `*`); `public_keys` are
/// key names, or prefixes ending in `*`, that may be read from any origin.
#[server(endpoint = "create_service", input = Json)]
pub async fn create_service(
    name: String,
    storage: String,
    role: String,
    prefix: String,
    allowed_origins: Option<Vec<String>>,
    public_keys: Option<Vec<String>>,
    description: Option<String>,
    disabled: Option<bool>,
) -> Result<ServiceSecretDto, AppError> {
    let admin = ssr::admin().await?;
    let spec = domain::services::ServiceSpec {
        name,
        storage: admin.storage(&storage).await?,
        role,
        prefix,
        allowed_origins: allowed_origins.unwrap_or_default(),
        public_keys: public_keys.unwrap_or_default(),
        description: description.unwrap_or_default(),
        disabled: disabled.unwrap_or(false),
    };
    let (service, token, secret) = admin.services.create(&admin.actor, &spec).await?;
    Ok(ServiceSecretDto { service: admin.dto(service).await, token: token.into(), secret })
}

/// Changes a service: every field but its name; an omitted field is left as it is. Its tokens
/// stay; `disabled: true` makes them all refused (401) until it is enabled again.
#[server(endpoint = "update_service", input = Json)]
pub async fn update_service(
    name: String,
    storage: Option<String>,
    role: Option<String>,
    prefix: Option<String>,
    allowed_origins: Option<Vec<String>>,
    public_keys: Option<Vec<String>>,
    description: Option<String>,
    disabled: Option<bool>,
) -> Result<ServiceDto, AppError> {
    let admin = ssr::admin().await?;
    let before = admin.service(&name).await?;
    let storage = match storage {
        Some(storage) => admin.storage(&storage).await?,
        None => before.namespace_id.clone(),
    };
    let spec = domain::services::ServiceSpec {
        name: before.name.clone(),
        storage,
        role: role.unwrap_or_else(|| before.role.as_str().to_owned()),
        prefix: prefix.unwrap_or(before.prefix),
        allowed_origins: allowed_origins.unwrap_or(before.allowed_origins),
        public_keys: public_keys.unwrap_or(before.public_keys),
        description: description.unwrap_or(before.description),
        disabled: disabled.unwrap_or(before.disabled),
    };
    let service = admin.services.update(&admin.actor, &before.name, &spec).await?;
    Ok(admin.dto(service).await)
}

/// The tokens of a service, newest first, revoked ones included (never a secret).
#[server(endpoint = "list_service_tokens", input = Json)]
pub async fn list_service_tokens(name: String) -> Result<Vec<ServiceTokenDto>, AppError> {
    let admin = ssr::admin().await?;
    let service = admin.service(&name).await?;
    Ok(admin.services.tokens(&service.name).await?.into_iter().map(Into::into).collect())
}

/// One more token for a service (to rotate: issue, deploy it, revoke the old one); the answer
/// holds its secret, shown this once.
#[server(endpoint = "issue_service_token", input = Json)]
pub async fn issue_service_token(name: String) -> Result<ServiceSecretDto, AppError> {
    let admin = ssr::admin().await?;
    let service = admin.service(&name).await?;
    let (token, secret) = admin.services.issue_token(&admin.actor, &service.name).await?;
    Ok(ServiceSecretDto { service: admin.dto(service).await, token: token.into(), secret })
}

/// Revokes one token of a service; it is refused (401) from now on.
#[server(endpoint = "revoke_service_token", input = Json)]
pub async fn revoke_service_token(name: String, token_id: String) -> Result<ServiceTokenDto, AppError> {
    let admin = ssr::admin().await?;
    let service = admin.service(&name).await?;
    Ok(admin.services.revoke_token(&admin.actor, &service.name, &token_id).await?.into())
}
