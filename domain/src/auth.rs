//! Sign-in: who a request is, from a Cloudflare Access token, and what role they have.
//!
//! Access puts a signed JWT on every request it lets through (the `Cf-Access-Jwt-Assertion`
//! header and the `CF_Authorization` cookie). It is checked here with jsonwebtoken: RS256 only,
//! the key picked by `kid` from the team's key set (`<team>/cdn-cgi/access/certs`), fetched once,
//! cached, and fetched again when a token names a key not in the cache (at most once a minute, so
//! tokens with made-up key ids cannot make us hammer Cloudflare), `aud` holding the application's
//! audience tag, `iss` the team domain, `exp`/`nbf` within a minute's leeway.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use crate::actor::{Actor, Role, Source};
use crate::error::{DomainError, DomainResult};

/// Leeway on `exp` and `nbf`, for clocks that drift.
pub const LEEWAY_SECONDS: u64 = 60;
/// Least time between two fetches of the key set caused by an unknown key id.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// Who gets which role (emails compared without regard to case).
#[derive(Clone, Debug, Default)]
pub struct Roles {
    admins: HashSet<String>,
    read_only: HashSet<String>,
}

impl Roles {
    pub fn new(admins: &[String], read_only: &[String]) -> Self {
        let set = |list: &[String]| list.iter().map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()).collect();
        Self { admins: set(admins), read_only: set(read_only) }
    }

    /// Admins first: someone listed as both is an admin.
    pub fn of(&self, user: &str) -> Role {
        let user = user.to_lowercase();
        if self.admins.contains(&user) {
            Role::Admin
        } else if self.read_only.contains(&user) {
            Role::ReadOnly
        } else {
            Role::User
        }
    }
}

/// Checks Cloudflare Access tokens for one application.
#[derive(Clone)]
pub struct AccessVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    /// `https://<team>.cloudflareaccess.com`, without a trailing slash: the expected issuer.
    team_domain: String,
    audience: String,
    certs_url: String,
    refetch_interval: Duration,
    client: reqwest::Client,
    /// Read by every sign-in; written only after a fetch.
    keys: RwLock<HashMap<String, DecodingKey>>,
    /// Held while the key set is fetched, so one fetch serves every request waiting on it,
    /// while requests with a cached key go on.
    fetching: Mutex<FetchState>,
}

#[derive(Default)]
struct FetchState {
    at: Option<Instant>,
    failed: bool,
}

/// After a failed fetch, the next may come this soon (the team's endpoint was down, not a
/// made-up key id).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);

#[derive(Deserialize)]
struct Claims {
    email: Option<String>,
    /// Service tokens carry their client id here instead of an email.
    common_name: Option<String>,
}

impl AccessVerifier {
    /// `team_domain` may be given with or without `https://` and a trailing slash;
    /// `refetch_interval` is [`REFETCH_INTERVAL`] but in tests.
    pub fn new(team_domain: &str, audience: &str, refetch_interval: Duration) -> DomainResult<Self> {
        let trimmed = team_domain.trim().trim_end_matches('/');
        if trimmed.is_empty() {
            return Err(DomainError::invalid("team_domain", "team_domain: must not be empty"));
        }
        if audience.trim().is_empty() {
            return Err(DomainError::invalid(
                "policy_aud",
                "policy_aud: the Access application's audience tag is required",
            ));
        }
        let team_domain = if trimmed.contains("://") { trimmed.to_owned() } else { format!("https://{trimmed}") };
        let certs_url = format!("{team_domain}/cdn-cgi/access/certs");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("kv-manager/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(DomainError::internal)?;
        Ok(Self {
            inner: Arc::new(Inner {
                team_domain,
                audience: audience.trim().to_owned(),
                certs_url,
                refetch_interval,
                client,
                keys: RwLock::new(HashMap::new()),
                fetching: Mutex::new(FetchState::default()),
            }),
        })
    }

    pub fn team_domain(&self) -> &str {
        &self.inner.team_domain
    }

    /// The signed-in user of a valid token (its `email`, or a service token's `common_name`);
    /// 401 with the reason otherwise.
    pub async fn verify(&self, token: &str) -> DomainResult<String> {
        let refused = |why: &str| DomainError::unauthorized(format!("sign-in token refused: {why}"));
        let header = jsonwebtoken::decode_header(token).map_err(|_| refused("not a signed JWT"))?;
        if header.alg != Algorithm::RS256 {
            return Err(refused("only RS256 tokens are accepted"));
        }
        let kid = header.kid.ok_or_else(|| refused("the token names no key (kid)"))?;
        let key = self.key(&kid).await?.ok_or_else(|| refused("signed by a key the team does not publish"))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_audience(&[&self.inner.audience]);
        validation.set_issuer(&[&self.inner.team_domain]);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|err| {
            use jsonwebtoken::errors::ErrorKind;
            match err.kind() {
                ErrorKind::ExpiredSignature => refused("expired"),
                ErrorKind::ImmatureSignature => refused("not valid yet"),
                ErrorKind::InvalidAudience => refused("issued for another application (aud)"),
                ErrorKind::InvalidIssuer => refused("issued by another team (iss)"),
                ErrorKind::InvalidSignature => refused("bad signature"),
                ErrorKind::MissingRequiredClaim(claim) => refused(&format!("the {claim} claim is missing")),
                _ => refused("malformed"),
            }
        })?;
        let user = data.claims.email.or(data.claims.common_name).filter(|u| !u.trim().is_empty());
        user.ok_or_else(|| refused("it names no user (email or common_name)"))
    }

    /// The key `kid`, fetching the key set when it is not cached (see [`REFETCH_INTERVAL`]).
    async fn key(&self, kid: &str) -> DomainResult<Option<DecodingKey>> {
        if let Some(key) = self.inner.keys.read().await.get(kid) {
            return Ok(Some(key.clone()));
        }
        let unavailable =
            || DomainError::unauthorized("sign-in token refused: the team's signing keys could not be fetched");
        let mut fetching = self.inner.fetching.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(key) = self.inner.keys.read().await.get(kid) {
            return Ok(Some(key.clone()));
        }
        let wait = if fetching.failed {
            RETRY_AFTER_FAILURE.min(self.inner.refetch_interval)
        } else {
            self.inner.refetch_interval
        };
        if fetching.at.is_some_and(|at| at.elapsed() < wait) {
            let none_cached = self.inner.keys.read().await.is_empty();
            return if fetching.failed && none_cached { Err(unavailable()) } else { Ok(None) };
        }
        fetching.at = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                fetching.failed = false;
                let mut cached = self.inner.keys.write().await;
                *cached = keys;
                Ok(cached.get(kid).cloned())
            }
            Err(err) => {
                tracing::warn!(%err, url = %self.inner.certs_url, "fetching the Access key set failed");
                fetching.failed = true;
                // Keys fetched before stay in use; without any, nobody can sign in.
                if self.inner.keys.read().await.is_empty() { Err(unavailable()) } else { Ok(None) }
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, String> {
        let response = self.inner.client.get(&self.inner.certs_url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let set: JwkSet = response.json().await.map_err(|e| e.to_string())?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else { continue };
            match DecodingKey::from_jwk(jwk) {
                Ok(key) => {
                    keys.insert(kid, key);
                }
                Err(err) => tracing::warn!(%err, kid, "an Access signing key could not be read"),
            }
        }
        tracing::info!(keys = keys.len(), "Access signing keys fetched");
        Ok(keys)
    }
}

/// The actor for a signed-in user.
pub fn actor_for(user: &str, roles: &Roles, source: Source) -> Actor {
    Actor::new(user, source, roles.of(user))
}
