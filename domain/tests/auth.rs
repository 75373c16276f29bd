//! Cloudflare Access tokens against a key set served over real HTTP on loopback.

#[path = "common/jwks.rs"]
mod jwks;

use std::time::Duration;

use domain::auth::{AccessVerifier, Roles};
use domain::{DomainError, Role};
use jwks::{AUDIENCE, SigningKey, Team, hs256_with, unsigned};
use serde_json::json;

const REFETCH: Duration = Duration::from_millis(300);

fn verifier(team: &Team) -> AccessVerifier {
    AccessVerifier::new(&team.domain(), AUDIENCE, REFETCH).expect("verifier")
}

async fn refused(verifier: &AccessVerifier, token: &str, why: &str) {
    match verifier.verify(token).await {
        Err(err @ DomainError::Unauthorized { .. }) => {
            assert_eq!(err.status(), 401);
            assert!(err.to_string().contains(why), "expected {why:?} in {err}");
        }
        other => panic!("expected 401 ({why}), got {other:?}"),
    }
}

#[tokio::test]
async fn tokens_are_checked_for_signature_audience_issuer_and_time() {
    let key = SigningKey::generate("key-1");
    let team = Team::start(&[&key]).await;
    let v = verifier(&team);
    let now = chrono::Utc::now().timestamp();

    assert_eq!(v.verify(&key.sign(&team.claims("ada@example.com"))).await.unwrap(), "ada@example.com");
    // A service token has no email; its client id is the user.
    let mut service = team.claims("x");
    service.as_object_mut().unwrap().remove("email");
    service["common_name"] = json!("4f1c.access");
    assert_eq!(v.verify(&key.sign(&service)).await.unwrap(), "4f1c.access");
    // `aud` may be a plain string too.
    let mut single_aud = team.claims("ada@example.com");
    single_aud["aud"] = json!(AUDIENCE);
    assert_eq!(v.verify(&key.sign(&single_aud)).await.unwrap(), "ada@example.com");

    let with = |field: &str, value: serde_json::Value| {
        let mut claims = team.claims("ada@example.com");
        claims[field] = value;
        key.sign(&claims)
    };
    refused(&v, &with("aud", json!(["another-application"])), "aud").await;
    refused(&v, &with("iss", json!("https://evil.cloudflareaccess.com")), "iss").await;
    refused(&v, &with("exp", json!(now - 120)), "expired").await;
    refused(&v, &with("nbf", json!(now + 600)), "not valid yet").await;
    // Within the minute of leeway, both pass.
    assert!(v.verify(&with("exp", json!(now - 30))).await.is_ok());
    assert!(v.verify(&with("nbf", json!(now + 30))).await.is_ok());
    let mut nobody = team.claims("x");
    nobody.as_object_mut().unwrap().remove("email");
    refused(&v, &key.sign(&nobody), "names no user").await;
    let mut no_exp = team.claims("ada@example.com");
    no_exp.as_object_mut().unwrap().remove("exp");
    refused(&v, &key.sign(&no_exp), "exp").await;

    refused(&v, &unsigned("key-1", &team.claims("ada@example.com")), "").await;
    refused(&v, &hs256_with(&key.public_bytes(), "key-1", &team.claims("ada@example.com")), "RS256").await;
    refused(&v, &hs256_with(key.jwk().to_string().as_bytes(), "key-1", &team.claims("ada@example.com")), "RS256").await;
    // A valid token with one byte of its signature changed.
    let token = key.sign(&team.claims("ada@example.com"));
    let (head, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature).unwrap();
    bytes[10] ^= 1;
    refused(&v, &format!("{head}.{}", jwks::b64(&bytes)), "bad signature").await;
    refused(&v, "not a token", "not a signed JWT").await;
    // Another key claiming to be ours.
    let impostor = SigningKey::generate("key-1");
    refused(&v, &impostor.sign(&team.claims("ada@example.com")), "bad signature").await;
}

#[tokio::test]
async fn unknown_key_ids_refetch_at_most_once_a_minute_and_rotated_keys_are_picked_up() {
    let old = SigningKey::generate("old");
    let team = Team::start(&[&old]).await;
    let v = verifier(&team);
    let claims = team.claims("ada@example.com");

    assert!(v.verify(&old.sign(&claims)).await.is_ok());
    assert!(v.verify(&old.sign(&claims)).await.is_ok());
    assert_eq!(team.fetches(), 1, "the key set is cached");

    // An unknown kid right after a fetch: refused without asking again.
    refused(&v, &old.sign_as("made-up", &claims), "does not publish").await;
    assert_eq!(team.fetches(), 1);
    // Once the interval has passed, one refetch, then 401; more unknown kids do not refetch.
    tokio::time::sleep(REFETCH).await;
    refused(&v, &old.sign_as("made-up", &claims), "does not publish").await;
    assert_eq!(team.fetches(), 2);
    for _ in 0..5 {
        refused(&v, &old.sign_as("made-up-too", &claims), "does not publish").await;
    }
    assert_eq!(team.fetches(), 2);

    // The team rotates its key: a token signed by the new key is accepted after a refetch,
    // and the retired key no longer is.
    let new = SigningKey::generate("new");
    team.publish(&[&new]);
    tokio::time::sleep(REFETCH).await;
    assert_eq!(v.verify(&new.sign(&claims)).await.unwrap(), "ada@example.com");
    assert_eq!(team.fetches(), 3);
    tokio::time::sleep(REFETCH).await;
    refused(&v, &old.sign(&claims), "does not publish").await;
}

#[tokio::test]
async fn a_team_that_cannot_be_reached_refuses_sign_in() {
    let key = SigningKey::generate("k");
    let team = Team::start(&[&key]).await;
    // Nothing listens on the port a dropped listener had.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let v = AccessVerifier::new(&format!("http://{closed}"), AUDIENCE, REFETCH).unwrap();
    let mut claims = team.claims("ada@example.com");
    claims["iss"] = json!(format!("http://{closed}"));
    refused(&v, &key.sign(&claims), "could not be fetched").await;
    // Until the endpoint answers, every sign-in says why, not "unknown key".
    refused(&v, &key.sign(&claims), "could not be fetched").await;
}

#[tokio::test]
async fn a_team_endpoint_down_at_first_use_is_asked_again_once_it_is_back() {
    let key = SigningKey::generate("k");
    // A port that refuses connections now and serves the team later.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let domain = format!("http://127.0.0.1:{port}");
    let v = AccessVerifier::new(&domain, AUDIENCE, Duration::from_secs(60)).unwrap();
    let claims = |team_domain: &str| {
        let now = chrono::Utc::now().timestamp();
        json!({ "aud": [AUDIENCE], "email": "ada@example.com", "exp": now + 600, "iss": team_domain })
    };
    refused(&v, &key.sign(&claims(&domain)), "could not be fetched").await;
    let team = Team::start_on(port, &[&key]).await;
    // Not the full minute a made-up key id waits: a failed fetch is retried after 5 seconds.
    tokio::time::sleep(Duration::from_millis(5100)).await;
    assert_eq!(v.verify(&key.sign(&claims(&team.domain()))).await.unwrap(), "ada@example.com");
    assert_eq!(team.fetches(), 1);
}

#[test]
fn roles_come_from_the_admin_and_read_only_lists() {
    let roles = Roles::new(&["Root@Example.com".into()], &["viewer@example.com".into(), "root@example.com".into()]);
    assert_eq!(roles.of("root@example.com"), Role::Admin);
    assert_eq!(roles.of("VIEWER@example.com"), Role::ReadOnly);
    assert_eq!(roles.of("someone@example.com"), Role::User);
}
