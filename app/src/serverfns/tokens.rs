//! API tokens of the Cloudflare-compatible API (`/client/v4`), for admins: list, make, revoke.

use crate::error::Json;
use leptos::prelude::*;

use crate::dto::{ApiTokenDto, CreatedTokenDto};
use crate::error::AppError;

#[cfg(feature = "ssr")]
mod ssr {
    use crate::dto::ApiTokenDto;
    use crate::error::AppError;

    /// The token service, for an admin; 403 for anyone else.
    pub fn tokens_for_admin() -> Result<(domain::tokens::Tokens, domain::Actor), AppError> {
        let actor = crate::serverfns::ssr::actor();
        if !actor.is_admin() {
            return Err(domain::DomainError::forbidden("API tokens are managed by admins (KVM_ADMINS)").into());
        }
        let state = leptos::prelude::use_context::<crate::state::AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            AppError::internal()
        })?;
        Ok((state.tokens, actor))
    }

    impl From<domain::tokens::ApiToken> for ApiTokenDto {
        fn from(t: domain::tokens::ApiToken) -> Self {
            Self {
                id: t.id,
                name: t.name,
                read_only: t.read_only,
                created_at: domain::rfc3339(t.created_at),
                created_by: t.created_by,
                last_used_at: t.last_used_at.map(domain::rfc3339),
                revoked_at: t.revoked_at.map(domain::rfc3339),
            }
        }
    }
}

/// Every token, newest first, revoked ones included (never a secret).
#[server(endpoint = "list_api_tokens", input = Json)]
pub async fn list_api_tokens() -> Result<Vec<ApiTokenDto>, AppError> {
    let (tokens, _) = ssr::tokens_for_admin()?;
    Ok(tokens.list().await?.into_iter().map(Into::into).collect())
}

/// Makes a token; the answer holds its secret, shown this once.
#[server(endpoint = "create_api_token", input = Json)]
pub async fn create_api_token(name: String, read_only: Option<bool>) -> Result<CreatedTokenDto, AppError> {
    let (tokens, actor) = ssr::tokens_for_admin()?;
    let (token, secret) = tokens.create(&actor, &name, read_only.unwrap_or(false)).await?;
    Ok(CreatedTokenDto { token: token.into(), secret })
}

/// Revokes a token by id (or the name of a live one); it stops working at once.
#[server(endpoint = "revoke_api_token", input = Json)]
pub async fn revoke_api_token(token: String) -> Result<ApiTokenDto, AppError> {
    let (tokens, actor) = ssr::tokens_for_admin()?;
    Ok(tokens.revoke(&actor, &token).await?.into())
}
