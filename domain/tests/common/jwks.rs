//! A stand-in for a Cloudflare Access team: RSA keys generated for the test, their key set served
//! over HTTP on loopback at `/cdn-cgi/access/certs` (counting fetches), and tokens signed with them.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use serde_json::{Value, json};

pub const AUDIENCE: &str = "test-application-aud-tag";

pub struct SigningKey {
    pub kid: String,
    pair: KeyPair,
}

impl SigningKey {
    pub fn generate(kid: &str) -> Self {
        Self { kid: kid.to_owned(), pair: KeyPair::generate(KeySize::Rsa2048).expect("RSA key") }
    }

    pub fn jwk(&self) -> Value {
        let public: PublicKeyComponents<Vec<u8>> = self.pair.public_key().into();
        json!({ "kid": self.kid, "kty": "RSA", "alg": "RS256", "use": "sig", "e": b64(&public.e), "n": b64(&public.n) })
    }

    /// The public modulus, as an attacker who read the key set has it.
    pub fn public_bytes(&self) -> Vec<u8> {
        let public: PublicKeyComponents<Vec<u8>> = self.pair.public_key().into();
        public.n
    }

    /// A compact RS256 JWT over `claims`, with `kid` in its header.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(&self.kid, claims)
    }

    /// Signed by this key but naming another key id.
    pub fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let header = json!({ "alg": "RS256", "kid": kid, "typ": "JWT" });
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut signature).expect("sign");
        format!("{input}.{}", b64(&signature))
    }
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// An unsigned token (`alg: none`).
pub fn unsigned(kid: &str, claims: &Value) -> String {
    let header = json!({ "alg": "none", "kid": kid, "typ": "JWT" });
    format!("{}.{}.", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()))
}

/// HS256 keyed with public key material: the algorithm-confusion forgery.
pub fn hs256_with(key: &[u8], kid: &str, claims: &Value) -> String {
    let header = json!({ "alg": "HS256", "kid": kid, "typ": "JWT" });
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

/// The team: serves whatever key set it holds now and counts how often it was fetched.
#[derive(Clone)]
pub struct Team {
    pub addr: SocketAddr,
    keys: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
}

impl Team {
    pub async fn start(keys: &[&SigningKey]) -> Self {
        Self::start_on(0, keys).await
    }

    /// The team on a given loopback port (0: any free one).
    pub async fn start_on(port: u16, keys: &[&SigningKey]) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let team = Self {
            addr,
            keys: Arc::new(Mutex::new(keys.iter().map(|k| k.jwk()).collect())),
            fetches: Arc::new(AtomicUsize::new(0)),
        };
        let served = team.clone();
        let app = axum::Router::new().route(
            "/cdn-cgi/access/certs",
            axum::routing::get(move || {
                let team = served.clone();
                async move {
                    team.fetches.fetch_add(1, Ordering::SeqCst);
                    let keys = team.keys.lock().unwrap().clone();
                    axum::Json(json!({ "keys": keys, "public_cert": {}, "public_certs": [] }))
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        team
    }

    /// The issuer its tokens carry (the team domain).
    pub fn domain(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn publish(&self, keys: &[&SigningKey]) {
        *self.keys.lock().unwrap() = keys.iter().map(|k| k.jwk()).collect();
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Claims of a token for `email` valid now, as Access issues them.
    pub fn claims(&self, email: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "aud": [AUDIENCE],
            "email": email,
            "exp": now + 3600,
            "iat": now,
            "nbf": now,
            "iss": self.domain(),
            "type": "app",
            "identity_nonce": "n",
            "sub": "7335d417-61da-459d-899c-0a01c76a2f94",
            "country": "FR",
        })
    }
}
