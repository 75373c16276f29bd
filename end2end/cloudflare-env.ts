// Where the Cloudflare-backend tests run: a third kv-manager with KVM_BACKEND=cloudflare whose
// "Cloudflare" is the main test server's /client/v4 (tests/cf-backend.spec.ts).

export const cloudflarePort = '3102';
export const cloudflareURL = `http://127.0.0.1:${cloudflarePort}`;
export const accountId = '6b766d6c6f63616c6163636f756e7431';
