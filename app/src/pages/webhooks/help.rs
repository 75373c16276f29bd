//! How a receiver checks that a delivery comes from this server, and what it answers.

use leptos::prelude::*;

/// What a receiver in Node.js does with a delivery (the raw body, before it is parsed).
const NODE_EXAMPLE: &str = r#"const crypto = require('node:crypto');

// rawBody: the request's bytes as received; secret: the endpoint's signing secret.
function verified(headers, rawBody, secret) {
  const timestamp = headers['kvm-webhook-timestamp'];
  const expected = 'v1=' + crypto.createHmac('sha256', secret)
    .update(`${timestamp}.${rawBody}`).digest('hex');
  const given = String(headers['kvm-webhook-signature'] ?? '');
  const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) <= 300;
  return fresh && given.length === expected.length &&
    crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}"#;

const CODE: &str = "rounded bg-slate-100 px-1 font-mono text-xs dark:bg-slate-800";

#[component]
pub(super) fn SignatureHelp() -> impl IntoView {
    view! {
        <section
            aria-labelledby="signature-help-heading"
            class="space-y-2 rounded-md border border-slate-200 bg-white p-4 text-sm dark:border-slate-800 dark:bg-slate-900"
        >
            <h2 id="signature-help-heading" class="text-lg font-semibold">
                "How to verify signatures"
            </h2>
            <p>
                "Each delivery is a POST of JSON, " <code class=CODE>"{\"delivery_id\", \"endpoint_id\", \"events\": [...]}"</code>
                ", with these headers:"
            </p>
            <ul class="list-disc space-y-1 pl-5">
                <li>
                    <code class=CODE>"KVM-Webhook-Timestamp"</code> ": when it was sent, in seconds since 1970 (UTC)."
                </li>
                <li>
                    <code class=CODE>"KVM-Webhook-Signature: v1=<hex>"</code>
                    ": HMAC-SHA256 with the endpoint’s signing secret over the timestamp, a dot and the raw body ("
                    <code class=CODE>"<KVM-Webhook-Timestamp>.<raw body>"</code> "), in lower-case hex."
                </li>
                <li>
                    <code class=CODE>"KVM-Webhook-Id"</code> ": the delivery’s id (a retry is a new delivery of the same events, with the same event ids)."
                </li>
            </ul>
            <p>
                "Compute the signature over the body exactly as received (before parsing it), compare it in constant time, and reject a timestamp more than 5 minutes old, so that a captured delivery cannot be replayed later."
            </p>
            <p>
                "Answer with a 2xx status within a few seconds. Anything else is tried again later with the same events (the wait doubles, or follows "
                <code class=CODE>"Retry-After"</code>
                "); an endpoint that keeps failing is paused, and “Resume” delivers what it missed. Delivery is at least once: an event can arrive twice, with the same "
                <code class=CODE>"id"</code> ", so skip ids you have already handled."
            </p>
            <p>"In Node.js:"</p>
            <pre class="rounded-md bg-slate-100 p-2 font-mono text-xs break-all whitespace-pre-wrap dark:bg-slate-800">
                {NODE_EXAMPLE}
            </pre>
        </section>
    }
}
