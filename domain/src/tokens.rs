//! API tokens for the Cloudflare-compatible API (`Authorization: Bearer <token>`).
//!
//! A token is shown once, when it is made; only its SHA-256 is stored, so a copy of the database
//! gives no one access. A token acts as its name, with the user role or read-only.

use aws_lc_rs::digest::{SHA256, digest};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, Role, Source};
use crate::error::{DomainError, DomainResult};
use crate::now_unix;
use crate::sql::{Sql, get as col};
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

const COLUMNS: &str = "id, name, read_only, created_at, created_by, last_used_at, revoked_at";

fn token_of(row: &sea_orm::QueryResult) -> DomainResult<ApiToken> {
    Ok(ApiToken {
        id: col(row, "id")?,
        name: col(row, "name")?,
        read_only: col(row, "read_only")?,
        created_at: col(row, "created_at")?,
        created_by: col(row, "created_by")?,
        last_used_at: col(row, "last_used_at")?,
        revoked_at: col(row, "revoked_at")?,
    })
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
        let backend = txn.conn().get_database_backend();
        let mut taken = Sql::new(backend, "SELECT id FROM api_tokens WHERE revoked_at IS NULL AND name = ");
        taken.bind(name);
        if txn.conn().query_one_raw(taken.statement()).await?.is_some() {
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
        let mut insert = Sql::new(
            backend,
            "INSERT INTO api_tokens (id, name, secret_hash, read_only, created_at, created_by) VALUES (",
        );
        insert.bind(token.id.as_str()).push(", ").bind(token.name.as_str()).push(", ").bind(hash(&secret));
        insert.push(", ").bind(read_only).push(", ").bind(token.created_at).push(", ");
        insert.bind(token.created_by.as_str()).push(")");
        txn.conn().execute_raw(insert.statement()).await?;
        let details = serde_json::json!({ "token_id": token.id, "name": token.name, "read_only": read_only });
        txn.audit(actor, "token.create", None, None, details).await?;
        txn.commit().await?;
        Ok((token, secret))
    }

    /// Every token, newest first, revoked ones included.
    pub async fn list(&self) -> DomainResult<Vec<ApiToken>> {
        let sql = Sql::new(
            self.conn.get_database_backend(),
            &format!("SELECT {COLUMNS} FROM api_tokens ORDER BY created_at DESC, id DESC"),
        );
        self.conn.query_all_raw(sql.statement()).await?.iter().map(token_of).collect()
    }

    /// Revokes a token by id or by the name of a live one; it stops working at once.
    pub async fn revoke(&self, actor: &Actor, id_or_name: &str) -> DomainResult<ApiToken> {
        crate::actor::require_write(actor)?;
        let txn = WriteTxn::begin(&self.conn, now_unix()).await?;
        let backend = txn.conn().get_database_backend();
        // An id first; a name only when no id matches (a token may be named like another's id).
        let mut by_id = Sql::new(backend, &format!("SELECT {COLUMNS} FROM api_tokens WHERE id = "));
        by_id.bind(id_or_name);
        let mut by_name =
            Sql::new(backend, &format!("SELECT {COLUMNS} FROM api_tokens WHERE revoked_at IS NULL AND name = "));
        by_name.bind(id_or_name);
        let row = match txn.conn().query_one_raw(by_id.statement()).await? {
            Some(row) => Some(row),
            None => txn.conn().query_one_raw(by_name.statement()).await?,
        };
        let Some(row) = row else {
            return Err(DomainError::not_found("token", format!("token: no token has the id or name {id_or_name:?}")));
        };
        let mut token = token_of(&row)?;
        if token.revoked_at.is_some() {
            return Err(DomainError::conflict("token", "token: already revoked"));
        }
        let now = txn.now();
        let mut update = Sql::new(backend, "UPDATE api_tokens SET revoked_at = ");
        update.bind(now).push(" WHERE id = ").bind(token.id.as_str());
        txn.conn().execute_raw(update.statement()).await?;
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
        let backend = self.conn.get_database_backend();
        let mut find = Sql::new(backend, &format!("SELECT {COLUMNS} FROM api_tokens WHERE secret_hash = "));
        find.bind(hash(secret)).push(" AND revoked_at IS NULL");
        let row = self.conn.query_one_raw(find.statement()).await?.ok_or_else(refused)?;
        let mut token = token_of(&row)?;
        let now = now_unix();
        if token.last_used_at.is_none_or(|at| now - at >= LAST_USED_INTERVAL) {
            let mut touch = Sql::new(backend, "UPDATE api_tokens SET last_used_at = ");
            touch.bind(now).push(" WHERE id = ").bind(token.id.as_str());
            self.conn.execute_raw(touch.statement()).await?;
            token.last_used_at = Some(now);
        }
        Ok(token)
    }
}
