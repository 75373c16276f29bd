//! Signatures of deliveries: HMAC-SHA256 with the endpoint's secret over
//! `"{timestamp}.{body}"`, sent as `KVM-Webhook-Signature: v1=<hex>` beside
//! `KVM-Webhook-Timestamp: <unix seconds>`. A receiver recomputes it, compares in constant time,
//! and refuses a timestamp older than it tolerates (five minutes, say), so a captured delivery
//! cannot be replayed later.

use aws_lc_rs::hmac;

pub const SIGNATURE_HEADER: &str = "kvm-webhook-signature";
pub const TIMESTAMP_HEADER: &str = "kvm-webhook-timestamp";
pub const DELIVERY_HEADER: &str = "kvm-webhook-id";

/// The signature header's value for `body` sent at `timestamp`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let mut out = String::from("v1=");
    for byte in tag.as_ref() {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Whether `header` (one or more `v1=<hex>` separated by commas, as while a secret is rotated)
/// signs `body` at `timestamp` with `secret`: what a receiver does, here for the tests.
pub fn verify(secret: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut message = timestamp.to_string().into_bytes();
    message.push(b'.');
    message.extend_from_slice(body);
    header
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("v1="))
        .any(|hex| decode_hex(hex).is_some_and(|tag| hmac::verify(&key, &message, &tag).is_ok()))
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_with_its_secret_time_and_body() {
        let header = sign("whsec_test", 1_700_000_000, b"{\"a\":1}");
        assert!(header.starts_with("v1=") && header.len() == 3 + 64);
        assert!(verify("whsec_test", 1_700_000_000, b"{\"a\":1}", &header));
        assert!(verify("whsec_test", 1_700_000_000, b"{\"a\":1}", &format!("v1=00, {header}")));
        assert!(!verify("whsec_other", 1_700_000_000, b"{\"a\":1}", &header));
        assert!(!verify("whsec_test", 1_700_000_001, b"{\"a\":1}", &header));
        assert!(!verify("whsec_test", 1_700_000_000, b"{\"a\":2}", &header));
        assert!(!verify("whsec_test", 1_700_000_000, b"{\"a\":1}", "v1=zz"));
    }
}
