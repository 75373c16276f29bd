//! API tokens for the Cloudflare-compatible API (`Authorization: Bearer <token>`).
//!
//! A token is shown once, when it is made; only its SHA-256 is stored, so a copy of the database
//! gives no one access. A token acts as its name, with the user role or read-only.

use aws_lc_rs::digest::{SHA256, digest};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, Role, Source};
use crate::entity::api_token;
use crate::error::{DomainError, DomainResult};
use crate::now_unix;
use crate::write::WriteTxn;

/// Prefix of every secret, so a leaked one is recognisable (secret scanners, logs).
pub const SECRET_PREFIX: &str = "kvm_";
/// How often `last_used_at` is written for one token.
const LAST_USED_INTERVAL: i64 = 60;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub read_only: bool,
    pub created_at: i64,
    pub created_by: String,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl ApiToken {
    /// The actor a request with this token acts as.
    pub fn actor(&self) -> Actor {
        Actor::new(self.name.clone(), Source::CfApi, if self.read_only { Role::ReadOnly } else { Role::User })
    }
}

#[derive(Clone, Debug)]
pub struct Tokens {
    conn: DatabaseConnection,
}

fn hash(secret: &str) -> String {
    digest(&SHA256, secret.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Two random UUIDs (244 random bits), as 64 hex digits after the prefix.
fn new_secret() -> String {
    let mut secret = String::from(SECRET_PREFIX);
    for _ in 0..2 {
        secret.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    secret
}

impl From<api_token::Model> for ApiToken {
    fn from(m: api_token::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            read_only: m.read_only,
            created_at: m.created_at,
            created_by: m.created_by,
            last_used_at: m.last_used_at,
            revoked_at: m.revoked_at,
        }
    }
}

/// Live tokens (not revoked).
fn live() -> sea_orm::Condition {
    sea_orm::Condition::all().add(api_token::Column::RevokedAt.is_null())
}

impl Tokens {
    pub fn new(conn: DatabaseConnection) -> Self {
        Self { conn }
    }

    /// Makes a token; answers it with its secret, which is not kept anywhere.
    pub async fn create(&self, actor: &Actor, name: &str, read_only: bool) -> DomainResult<(ApiToken, String)> {
        crate::actor::require_write(actor)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(DomainError::invalid("name", "name: 1 to 100 characters, no control characters"));
        }
        let txn = WriteTxn::begin(&self.conn, now_unix()).await?;
        let taken =
            api_token::Entity::find().filter(live()).filter(api_token::Column::Name.eq(name)).one(txn.conn()).await?;
        if taken.is_some() {
            return Err(DomainError::conflict("name", format!("name: a token named {name:?} already exists")));
        }
        let secret = new_secret();
        let token = ApiToken {
            id: format!("tok-{}", ulid::Ulid::new().to_string().to_lowercase()),
            name: name.to_owned(),
            read_only,
            created_at: txn.now(),
            created_by: actor.user.clone(),
            last_used_at: None,
            revoked_at: None,
        };
        let row = api_token::ActiveModel {
            id: Set(token.id.clone()),
            name: Set(token.name.clone()),
            secret_hash: Set(hash(&secret)),
            read_only: Set(read_only),
            created_at: Set(token.created_at),
            created_by: Set(token.created_by.clone()),
            last_used_at: Set(None),
            revoked_at: Set(None),
        };
        api_token::Entity::insert(row).exec_without_returning(txn.conn()).await?;
        let details = serde_json::json!({ "token_id": token.id, "name": token.name, "read_only": read_only });
        txn.audit(actor, "token.create", None, None, details).await?;
        txn.commit().await?;
        Ok((token, secret))
    }

    /// Every token, newest first, revoked ones included.
    pub async fn list(&self) -> DomainResult<Vec<ApiToken>> {
        let rows = api_token::Entity::find()
            .order_by_desc(api_token::Column::CreatedAt)
            .order_by_desc(api_token::Column::Id)
            .all(&self.conn)
            .await?;
        Ok(rows.into_iter().map(ApiToken::from).collect())
    }

    /// Revokes a token by id or by the name of a live one; it stops working at once.
    pub async fn revoke(&self, actor: &Actor, id_or_name: &str) -> DomainResult<ApiToken> {
        crate::actor::require_write(actor)?;
        let txn = WriteTxn::begin(&self.conn, now_unix()).await?;
        // An id first; a name only when no id matches (a token may be named like another's id).
        let by_id = api_token::Entity::find_by_id(id_or_name.to_owned()).one(txn.conn()).await?;
        let row = match by_id {
            Some(row) => Some(row),
            None => {
                api_token::Entity::find()
                    .filter(live())
                    .filter(api_token::Column::Name.eq(id_or_name))
                    .one(txn.conn())
                    .await?
            }
        };
        let Some(row) = row else {
            return Err(DomainError::not_found("token", format!("token: no token has the id or name {id_or_name:?}")));
        };
        let mut token = ApiToken::from(row);
        if token.revoked_at.is_some() {
            return Err(DomainError::conflict("token", "token: already revoked"));
        }
        let now = txn.now();
        api_token::Entity::update_many()
            .col_expr(api_token::Column::RevokedAt, Expr::value(now))
            .filter(api_token::Column::Id.eq(token.id.as_str()))
            .exec(txn.conn())
            .await?;
        let details = serde_json::json!({ "token_id": token.id, "name": token.name });
        txn.audit(actor, "token.revoke", None, None, details).await?;
        txn.commit().await?;
        token.revoked_at = Some(now);
        Ok(token)
    }

    /// The live token with this secret, or 401.
    pub async fn verify(&self, secret: &str) -> DomainResult<ApiToken> {
        let refused = || DomainError::unauthorized("Invalid API Token");
        if !secret.starts_with(SECRET_PREFIX) {
            return Err(refused());
        }
        let row = api_token::Entity::find()
            .filter(api_token::Column::SecretHash.eq(hash(secret)))
            .filter(live())
            .one(&self.conn)
            .await?
            .ok_or_else(refused)?;
        let mut token = ApiToken::from(row);
        let now = now_unix();
        if token.last_used_at.is_none_or(|at| now - at >= LAST_USED_INTERVAL) {
            api_token::Entity::update_many()
                .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
                .filter(api_token::Column::Id.eq(token.id.as_str()))
                .exec(&self.conn)
                .await?;
            token.last_used_at = Some(now);
        }
        Ok(token)
    }
}
