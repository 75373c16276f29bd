//! Services of the multi-tenant KV API (`/v1/kv`, Kevi's model): a token maps to a service, and a
//! service to a storage namespace, a role, a key prefix that isolates it, the browser origins it
//! accepts and the keys anyone may read.
//!
//! Isolation holds by construction: a service's keys are stored as `<prefix>:<key>`, a prefix is
//! 1..64 of `[A-Za-z0-9._-]` (so it holds no `:`), and no two services of one namespace share a
//! prefix (a unique index). So `<prefix>:` starts exactly the keys of one service, whatever a
//! client puts in the key part.
//!
//! Tokens are 32 random bytes (64 hex digits), shown once; only their SHA-256 is stored and a
//! presented token is found by its hash and compared in constant time. Lookups go through an
//! in-memory snapshot of services and live tokens, rebuilt after every change made through this
//! instance and at least every [`SNAPSHOT_MAX_AGE`] (changes made by another instance).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, Role, Source};
use crate::entity::{service, service_token};
use crate::error::{DomainError, DomainResult};
use crate::kv::Kv;
use crate::limits;
use crate::now_unix;
use crate::write::WriteTxn;

/// Changes made by another instance are seen within this long.
pub const SNAPSHOT_MAX_AGE: Duration = Duration::from_secs(5);
/// Who acts with the master token (`KEVI_API_TOKEN`).
pub const MASTER: &str = "master";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceRole {
    #[serde(rename = "admin")]
    Admin,
    #[serde(rename = "read-only")]
    ReadOnly,
}

impl ServiceRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::ReadOnly => "read-only",
        }
    }

    pub fn parse(text: &str) -> DomainResult<Self> {
        match text {
            "admin" => Ok(Self::Admin),
            "read-only" | "readonly" | "read_only" => Ok(Self::ReadOnly),
            other => Err(DomainError::invalid("role", format!("role: {other:?} is not one of admin, read-only"))),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    pub namespace_id: String,
    pub role: ServiceRole,
    pub prefix: String,
    pub allowed_origins: Vec<String>,
    pub public_keys: Vec<String>,
    pub description: String,
    pub disabled: bool,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
}

impl Service {
    /// The stored name of one of this service's keys.
    pub fn stored_key(&self, key: &str) -> String {
        format!("{}:{key}", self.prefix)
    }

    /// Where every stored key of this service starts.
    pub fn key_space(&self) -> String {
        format!("{}:", self.prefix)
    }

    /// Whether a browser page at `origin` may call this service.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(origin))
    }

    /// Whether `key` (as the client names it) may be read by anyone, from any origin.
    pub fn is_public(&self, key: &str) -> bool {
        self.public_keys.iter().any(|pattern| match pattern.strip_suffix('*') {
            Some(start) => key.starts_with(start),
            None => pattern == key,
        })
    }
}

/// What a service is made with, from the console, the CLI or the services file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    pub name: String,
    /// A namespace id or title.
    pub storage: String,
    pub role: String,
    pub prefix: String,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub public_keys: Vec<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub disabled: bool,
}

/// A service defined in `KVM_SERVICES_FILE`, with the SHA-256 (hex) of its tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ServiceDefinition {
    #[serde(flatten)]
    pub spec: ServiceSpec,
    #[serde(default)]
    pub token_sha256: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceToken {
    pub id: String,
    pub service: String,
    pub created_at: i64,
    pub created_by: String,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Who a request acts as: a service, through one of its tokens or the master token.
#[derive(Clone, Debug)]
pub struct Caller {
    pub service: Arc<Service>,
    /// The token's id, or `master`.
    pub token: String,
    pub master: bool,
}

impl Caller {
    /// The write path's actor: the service's name (or `master`), from the Kevi API.
    pub fn actor(&self) -> Actor {
        let user = if self.master { MASTER.to_owned() } else { self.service.name.clone() };
        Actor::new(user, Source::Kevi, Role::User)
    }

    /// The role writes are checked against (the master token may write to any service).
    pub fn role(&self) -> ServiceRole {
        if self.master { ServiceRole::Admin } else { self.service.role }
    }
}

struct Snapshot {
    at: Instant,
    services: HashMap<String, Arc<Service>>,
    /// Live tokens by the SHA-256 of their secret: (token id, service name).
    tokens: HashMap<[u8; 32], (String, String)>,
}

#[derive(Clone)]
pub struct Services {
    kv: Kv,
    conn: DatabaseConnection,
    snapshot: Arc<RwLock<Option<Arc<Snapshot>>>>,
    /// SHA-256 of the master token, when one is set.
    master: Option<[u8; 32]>,
    /// When each token's `last_used_at` was last written by this instance.
    touched: Arc<Mutex<HashMap<String, i64>>>,
}

/// How often `last_used_at` is written for one token.
const LAST_USED_INTERVAL: i64 = 60;

fn sha256(secret: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, secret.as_bytes()).as_ref());
    out
}

/// A list of strings as the JSON text stored in its column.
fn json_list(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in text.as_bytes().chunks(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
    }
    Some(out)
}

/// 32 random bytes as 64 hex digits.
fn new_secret() -> DomainResult<String> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).map_err(|_| DomainError::internal("no randomness"))?;
    Ok(hex(&bytes))
}

pub fn check_name(name: &str) -> DomainResult<()> {
    let ok = (3..=30).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        return Err(DomainError::invalid("name", format!("name: {name:?} is not 3 to 30 of a-z, 0-9 and -")));
    }
    Ok(())
}

pub fn check_prefix(prefix: &str) -> DomainResult<()> {
    let ok = (1..=64).contains(&prefix.len())
        && prefix.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !ok {
        return Err(DomainError::invalid(
            "prefix",
            format!("prefix: {prefix:?} is not 1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-'"),
        ));
    }
    Ok(())
}

/// An origin as browsers send it (`scheme://host[:port]`, no path), lower-cased; or `*`.
pub fn check_origin(origin: &str) -> DomainResult<String> {
    let origin = origin.trim().to_ascii_lowercase();
    let origin = origin.as_str();
    if origin == "*" {
        return Ok(origin.to_owned());
    }
    let bad = || {
        DomainError::invalid(
            "allowed_origins",
            format!("allowed_origins: {origin:?} is not * or an origin like https://app.example.com"),
        )
    };
    let (scheme, rest) = origin.split_once("://").ok_or_else(bad)?;
    if !matches!(scheme, "http" | "https") || rest.is_empty() {
        return Err(bad());
    }
    if rest.contains(['/', '?', '#', '@', ' ']) || rest.len() > 253 {
        return Err(bad());
    }
    Ok(origin.to_owned())
}

pub fn check_public_key(pattern: &str) -> DomainResult<()> {
    let body = pattern.strip_suffix('*').unwrap_or(pattern);
    if pattern.is_empty() || body.contains('*') || pattern.len() > limits::MAX_KEY_BYTES {
        return Err(DomainError::invalid(
            "public_keys",
            format!("public_keys: {pattern:?} is not a key name, or a prefix ending in one '*'"),
        ));
    }
    Ok(())
}

fn service_of(row: service::Model) -> DomainResult<Service> {
    let list = |text: &str| -> DomainResult<Vec<String>> { serde_json::from_str(text).map_err(DomainError::internal) };
    Ok(Service {
        role: ServiceRole::parse(&row.role)?,
        allowed_origins: list(&row.allowed_origins)?,
        public_keys: list(&row.public_keys)?,
        name: row.name,
        namespace_id: row.namespace_id,
        prefix: row.prefix,
        description: row.description,
        disabled: row.disabled,
        created_at: row.created_at,
        created_by: row.created_by,
        updated_at: row.updated_at,
    })
}

fn token_of(row: service_token::Model) -> ServiceToken {
    ServiceToken {
        id: row.id,
        service: row.service,
        created_at: row.created_at,
        created_by: row.created_by,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
    }
}

/// The row of a checked spec, as of `now`, made by `created_by` (ignored by an update).
fn service_row(c: &Checked, created_by: &str, now: i64) -> service::ActiveModel {
    service::ActiveModel {
        name: Set(c.name.clone()),
        namespace_id: Set(c.namespace_id.clone()),
        role: Set(c.role.as_str().to_owned()),
        prefix: Set(c.prefix.clone()),
        allowed_origins: Set(json_list(&c.allowed_origins)),
        public_keys: Set(json_list(&c.public_keys)),
        description: Set(c.description.clone()),
        disabled: Set(c.disabled),
        created_at: Set(now),
        created_by: Set(created_by.to_owned()),
        updated_at: Set(now),
    }
}

fn require_admin(actor: &Actor) -> DomainResult<()> {
    if !actor.is_admin() {
        return Err(DomainError::forbidden("only admins manage services and their tokens"));
    }
    Ok(())
}

/// A checked spec: the namespace resolved, lists normalised.
struct Checked {
    name: String,
    namespace_id: String,
    role: ServiceRole,
    prefix: String,
    allowed_origins: Vec<String>,
    public_keys: Vec<String>,
    description: String,
    disabled: bool,
}

impl Services {
    /// `master_token`: `KEVI_API_TOKEN`, which may act on any service.
    pub fn new(kv: Kv, conn: DatabaseConnection, master_token: Option<&str>) -> Self {
        let master = master_token.map(str::trim).filter(|t| !t.is_empty()).map(sha256);
        Self { kv, conn, snapshot: Arc::new(RwLock::new(None)), master, touched: Arc::default() }
    }

    async fn check(&self, actor: &Actor, spec: &ServiceSpec) -> DomainResult<Checked> {
        let name = spec.name.trim().to_owned();
        check_name(&name)?;
        let role = ServiceRole::parse(spec.role.trim())?;
        let prefix = spec.prefix.trim().to_owned();
        check_prefix(&prefix)?;
        let storage = spec.storage.trim();
        if storage.is_empty() {
            return Err(DomainError::invalid("storage", "storage: give a namespace id or title"));
        }
        let mut found = self.kv.store().resolve_namespaces(&[storage.to_owned()]).await?;
        // A namespace the actor may not see (protected, from the console) is not there for them.
        let hidden = self.kv.hidden_namespaces(actor).await?;
        found.retain(|id| !hidden.contains(id));
        let namespace_id = match found.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(DomainError::invalid(
                    "storage",
                    format!("storage: no namespace has the id or title {storage:?}"),
                ));
            }
            _ => {
                return Err(DomainError::invalid(
                    "storage",
                    format!("storage: {storage:?} names several namespaces; give the id"),
                ));
            }
        };
        let mut allowed_origins = Vec::new();
        for origin in &spec.allowed_origins {
            let origin = check_origin(origin)?;
            if !allowed_origins.contains(&origin) {
                allowed_origins.push(origin);
            }
        }
        let mut public_keys = Vec::new();
        for pattern in &spec.public_keys {
            check_public_key(pattern)?;
            if !public_keys.contains(pattern) {
                public_keys.push(pattern.clone());
            }
        }
        if allowed_origins.len() > 100 || public_keys.len() > 100 {
            return Err(DomainError::invalid("allowed_origins", "allowed_origins / public_keys: at most 100 each"));
        }
        let description = spec.description.trim().to_owned();
        if description.chars().count() > 500 {
            return Err(DomainError::invalid("description", "description: at most 500 characters"));
        }
        Ok(Checked {
            name,
            namespace_id,
            role,
            prefix,
            allowed_origins,
            public_keys,
            description,
            disabled: spec.disabled,
        })
    }

    /// 409 when another service of the namespace has the prefix.
    async fn check_prefix_free(&self, conn: &impl ConnectionTrait, c: &Checked) -> DomainResult<()> {
        let taken = service::Entity::find()
            .filter(service::Column::NamespaceId.eq(c.namespace_id.as_str()))
            .filter(service::Column::Prefix.eq(c.prefix.as_str()))
            .filter(service::Column::Name.ne(c.name.as_str()))
            .one(conn)
            .await?;
        if let Some(row) = taken {
            let other = row.name;
            return Err(DomainError::conflict(
                "prefix",
                format!("prefix: service {other:?} already uses {:?} in this namespace", c.prefix),
            ));
        }
        Ok(())
    }

    /// Makes a service and its first token; answers both, with the token's secret (kept nowhere).
    pub async fn create(&self, actor: &Actor, spec: &ServiceSpec) -> DomainResult<(Service, ServiceToken, String)> {
        require_admin(actor)?;
        let c = self.check(actor, spec).await?;
        let txn = WriteTxn::begin(&self.conn, now_unix()).await?;
        if service::Entity::find_by_id(c.name.clone()).one(txn.conn()).await?.is_some() {
            return Err(DomainError::conflict("name", format!("name: a service named {:?} already exists", c.name)));
        }
        self.check_prefix_free(txn.conn(), &c).await?;
        let now = txn.now();
        service::Entity::insert(service_row(&c, &actor.user, now)).exec_without_returning(txn.conn()).await?;
        let secret = new_secret()?;
        let token = insert_token(txn.conn(), actor, &c.name, &sha256(&secret), now).await?;
        let details =
            serde_json::json!({ "service": c.name, "prefix": c.prefix, "role": c.role.as_str(), "token_id": token.id });
        self.commit(txn, actor, "service.create", &c.namespace_id, details).await?;
        Ok((self.get(&c.name).await?, token, secret))
    }

    /// Changes a service (every field but its name); its tokens stay.
    pub async fn update(&self, actor: &Actor, name: &str, spec: &ServiceSpec) -> DomainResult<Service> {
        require_admin(actor)?;
        let before = self.get(name).await?;
        let c = self.check(actor, &ServiceSpec { name: before.name.clone(), ..spec.clone() }).await?;
        let txn = WriteTxn::begin(&self.conn, now_unix()).await?;
        self.check_prefix_free(txn.conn(), &c).await?;
        let now = txn.now();
        let mut row = service_row(&c, &actor.user, now);
        // Made once: who made it and when stay.
        row.created_at = NotSet;
        row.created_by = NotSet;
        service::Entity::update(row).exec(txn.conn()).await?;
        let details = serde_json::json!({
            "service": c.name, "prefix": c.prefix, "role": c.role.as_str(), "disabled": c.disabled,
            "allowed_origins": c.allowed_origins, "public_keys": c.public_keys,
        });
        self.commit(txn, actor, "service.update", &c.namespace_id, details).await?;
        self.get(name).await
    }

    /// Every service, by name.
    pub async fn list(&self) -> DomainResult<Vec<Service>> {
        let rows = service::Entity::find().order_by_asc(service::Column::Name).all(&self.conn).await?;
        rows.into_iter().map(service_of).collect()
    }

    pub async fn get(&self, name: &str) -> DomainResult<Service> {
        let row = service::Entity::find_by_id(name.to_owned()).one(&self.conn).await?;
        let row = row.ok_or_else(|| DomainError::not_found("name", format!("name: no service is named {name:?}")))?;
        service_of(row)
    }

    /// The tokens of a service, newest first, revoked ones included.
    pub async fn tokens(&self, name: &str) -> DomainResult<Vec<ServiceToken>> {
        self.get(name).await?;
        let rows = service_token::Entity::find()
            .filter(service_token::Column::Service.eq(name))
            .order_by_desc(service_token::Column::CreatedAt)
            .order_by_desc(service_token::Column::Id)
            .all(&self.conn)
            .await?;
        Ok(rows.into_iter().map(token_of).collect())
    }

    /// One more token for a service (rotation); answers it with its secret, kept nowhere.
    pub async fn issue_token(&self, actor: &Actor, name: &str) -> DomainResult<(ServiceToken, String)> {
        require_admin(actor)?;
        let service = self.get(name).await?;
        let txn = WriteTxn::begin(&self.conn, now_unix()).await?;
        let secret = new_secret()?;
        let token = insert_token(txn.conn(), actor, &service.name, &sha256(&secret), txn.now()).await?;
        self.commit_token_change(txn, actor, "service.token.create", &service, &token.id).await?;
        Ok((token, secret))
    }

    /// Revokes one token of a service; it stops working at once on this instance.
    pub async fn revoke_token(&self, actor: &Actor, name: &str, token_id: &str) -> DomainResult<ServiceToken> {
        require_admin(actor)?;
        let service = self.get(name).await?;
        let mut token = self.tokens(name).await?.into_iter().find(|t| t.id == token_id).ok_or_else(|| {
            DomainError::not_found("token_id", format!("token_id: {name:?} has no token {token_id:?}"))
        })?;
        if token.revoked_at.is_some() {
            return Err(DomainError::conflict("token_id", "token_id: already revoked"));
        }
        let txn = WriteTxn::begin(&self.conn, now_unix()).await?;
        let now = txn.now();
        service_token::Entity::update_many()
            .col_expr(service_token::Column::RevokedAt, Expr::value(now))
            .filter(service_token::Column::Id.eq(token_id))
            .exec(txn.conn())
            .await?;
        self.commit_token_change(txn, actor, "service.token.revoke", &service, token_id).await?;
        token.revoked_at = Some(now);
        Ok(token)
    }

    /// Audits a change to one of a service's tokens, commits it, and drops the snapshot.
    async fn commit_token_change(
        &self,
        txn: WriteTxn,
        actor: &Actor,
        operation: &str,
        service: &Service,
        token_id: &str,
    ) -> DomainResult<()> {
        let details = serde_json::json!({ "service": service.name, "token_id": token_id });
        self.commit(txn, actor, operation, &service.namespace_id, details).await
    }

    /// Audits a change to a service (with its namespace's title, read in the same transaction
    /// from our own records: no request to a remote backend), commits it, drops the snapshot.
    async fn commit(
        &self,
        txn: WriteTxn,
        actor: &Actor,
        operation: &str,
        namespace_id: &str,
        details: serde_json::Value,
    ) -> DomainResult<()> {
        txn.audit_namespace(actor, operation, namespace_id, details).await?;
        txn.commit().await?;
        self.invalidate();
        Ok(())
    }

    /// Takes in the services of `KVM_SERVICES_FILE`: each is created or brought in line with the
    /// file, and its tokens (given as SHA-256) are added when missing. Tokens made elsewhere stay.
    pub async fn load_definitions(&self, actor: &Actor, definitions: &[ServiceDefinition]) -> DomainResult<usize> {
        require_admin(actor)?;
        for definition in definitions {
            let spec = &definition.spec;
            let name = spec.name.trim();
            let context = |e: DomainError| match e {
                DomainError::Invalid { field, message } => {
                    DomainError::Invalid { field, message: format!("services file, service {name:?}: {message}") }
                }
                other => other,
            };
            let mut hashes = Vec::new();
            for text in &definition.token_sha256 {
                hashes.push(unhex(&text.to_ascii_lowercase()).ok_or_else(|| {
                    DomainError::invalid(
                        "token_sha256",
                        format!("services file, service {name:?}: token_sha256 {text:?} is not 64 hex digits"),
                    )
                })?);
            }
            match self.get(name).await {
                Ok(_) => {
                    self.update(actor, name, spec).await.map_err(context)?;
                }
                Err(DomainError::NotFound { .. }) => {
                    let (_, token, _) = self.create(actor, spec).await.map_err(context)?;
                    // The file's tokens are the service's: the one made with it is dropped.
                    service_token::Entity::delete_by_id(token.id.clone()).exec(&self.conn).await?;
                }
                Err(err) => return Err(err),
            }
            for hash in hashes {
                let known = service_token::Entity::find()
                    .filter(service_token::Column::SecretHash.eq(hex(&hash)))
                    .one(&self.conn)
                    .await?;
                if known.is_none() {
                    insert_token(&self.conn, actor, name, &hash, now_unix()).await?;
                }
            }
        }
        self.invalidate();
        Ok(definitions.len())
    }

    fn invalidate(&self) {
        if let Ok(mut slot) = self.snapshot.write() {
            *slot = None;
        }
    }

    async fn snapshot(&self) -> DomainResult<Arc<Snapshot>> {
        if let Some(current) = self.snapshot.read().ok().and_then(|s| s.clone())
            && current.at.elapsed() < SNAPSHOT_MAX_AGE
        {
            return Ok(current);
        }
        let services: HashMap<String, Arc<Service>> =
            self.list().await?.into_iter().map(|s| (s.name.clone(), Arc::new(s))).collect();
        let live: Vec<(String, String, String)> = service_token::Entity::find()
            .select_only()
            .columns([service_token::Column::Id, service_token::Column::Service, service_token::Column::SecretHash])
            .filter(service_token::Column::RevokedAt.is_null())
            .into_tuple()
            .all(&self.conn)
            .await?;
        let mut tokens = HashMap::new();
        for (id, service, hash) in live {
            if let Some(hash) = unhex(&hash) {
                tokens.insert(hash, (id, service));
            }
        }
        let fresh = Arc::new(Snapshot { at: Instant::now(), services, tokens });
        if let Ok(mut slot) = self.snapshot.write() {
            *slot = Some(fresh.clone());
        }
        Ok(fresh)
    }

    /// Who presents `token` (with `service` named by `X-Kevi-Service`, for the master token):
    /// `None` for a missing, unknown or revoked token and for a disabled service alike.
    pub async fn caller(&self, token: &str, service: Option<&str>) -> DomainResult<Option<Caller>> {
        let presented = sha256(token.trim());
        let snapshot = self.snapshot().await?;
        if let Some(master) = &self.master
            && verify_slices_are_equal(master, &presented).is_ok()
        {
            let Some(service) = service.and_then(|name| snapshot.services.get(name.trim())) else {
                return Ok(None);
            };
            return Ok(Some(Caller { service: service.clone(), token: MASTER.to_owned(), master: true }));
        }
        let Some((stored, (id, name))) = snapshot.tokens.get_key_value(&presented) else { return Ok(None) };
        if verify_slices_are_equal(stored, &presented).is_err() {
            return Ok(None);
        }
        match snapshot.services.get(name) {
            Some(service) if !service.disabled => {
                self.touch(id);
                Ok(Some(Caller { service: service.clone(), token: id.clone(), master: false }))
            }
            _ => Ok(None),
        }
    }

    /// Records that a token was used, at most once a minute per token, off the request's path.
    fn touch(&self, token_id: &str) {
        let now = now_unix();
        {
            let Ok(mut touched) = self.touched.lock() else { return };
            if touched.get(token_id).is_some_and(|at| now - at < LAST_USED_INTERVAL) {
                return;
            }
            touched.insert(token_id.to_owned(), now);
        }
        let conn = self.conn.clone();
        let token_id = token_id.to_owned();
        tokio::spawn(async move {
            let touch = service_token::Entity::update_many()
                .col_expr(service_token::Column::LastUsedAt, Expr::value(now))
                .filter(service_token::Column::Id.eq(token_id.as_str()))
                .exec(&conn)
                .await;
            if let Err(err) = touch {
                tracing::warn!(%err, "could not record a token's last use");
            }
        });
    }

    /// Whether a CORS preflight from `origin` for `key` (none for the listing) may go ahead:
    /// some enabled service accepts the origin, or has the key public.
    pub async fn preflight_allowed(&self, origin: &str, key: Option<&str>) -> DomainResult<bool> {
        let snapshot = self.snapshot().await?;
        Ok(snapshot
            .services
            .values()
            .filter(|s| !s.disabled)
            .any(|s| s.allows_origin(origin) || key.is_some_and(|k| s.is_public(k))))
    }

    pub fn kv(&self) -> &Kv {
        &self.kv
    }
}

async fn insert_token(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    service: &str,
    hash: &[u8; 32],
    now: i64,
) -> DomainResult<ServiceToken> {
    let token = ServiceToken {
        id: format!("stk-{}", ulid::Ulid::new().to_string().to_lowercase()),
        service: service.to_owned(),
        created_at: now,
        created_by: actor.user.clone(),
        last_used_at: None,
        revoked_at: None,
    };
    let row = service_token::ActiveModel {
        id: Set(token.id.clone()),
        service: Set(service.to_owned()),
        secret_hash: Set(hex(hash)),
        created_at: Set(now),
        created_by: Set(actor.user.clone()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    };
    service_token::Entity::insert(row).exec_without_returning(conn).await?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_prefixes_origins_and_patterns_are_checked() {
        assert!(check_name("dev-service").is_ok());
        for bad in ["ab", "Dev", "a_b", "x".repeat(31).as_str()] {
            assert_eq!(check_name(bad).unwrap_err().field(), Some("name"), "{bad}");
        }
        assert!(check_prefix("dev.v1_x-2").is_ok());
        for bad in ["", "a:b", "a/b", "é", "x".repeat(65).as_str()] {
            assert_eq!(check_prefix(bad).unwrap_err().field(), Some("prefix"), "{bad}");
        }
        assert_eq!(check_origin("HTTPS://App.example.com:8443").unwrap(), "https://app.example.com:8443");
        assert_eq!(check_origin("*").unwrap(), "*");
        for bad in ["app.example.com", "https://a.com/path", "ftp://a.com", "https://"] {
            assert_eq!(check_origin(bad).unwrap_err().field(), Some("allowed_origins"), "{bad}");
        }
        assert!(check_public_key("public/*").is_ok());
        assert!(check_public_key("a*b").is_err());
    }

    #[test]
    fn public_patterns_match_exact_names_and_prefixes() {
        let service = Service {
            name: "web".into(),
            namespace_id: "n".into(),
            role: ServiceRole::ReadOnly,
            prefix: "web".into(),
            allowed_origins: vec!["https://app.example.com".into()],
            public_keys: vec!["public/*".into(), "motd".into()],
            description: String::new(),
            disabled: false,
            created_at: 0,
            created_by: "t".into(),
            updated_at: 0,
        };
        assert!(service.is_public("public/settings"));
        assert!(service.is_public("motd"));
        assert!(!service.is_public("motd2"));
        assert!(!service.is_public("private/x"));
        assert!(service.allows_origin("https://app.example.com"));
        assert!(!service.allows_origin("https://evil.example.com"));
        assert_eq!(service.stored_key("a/b"), "web:a/b");
    }

    #[test]
    fn secrets_are_32_random_bytes_and_hashes_round_trip() {
        let secret = new_secret().unwrap();
        assert_eq!(secret.len(), 64);
        assert_ne!(secret, new_secret().unwrap());
        let hash = sha256(&secret);
        assert_eq!(unhex(&hex(&hash)), Some(hash));
    }
}
