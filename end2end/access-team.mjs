// A stand-in for a Cloudflare Access team, for the browser tests: an RSA key pair made at start,
// its public half published at /cdn-cgi/access/certs, and signed test tokens at
// GET /token?email=... . Loopback only; node:http and node:crypto, nothing to install.
//
//   node end2end/access-team.mjs            (port 3190, or KVM_E2E_TEAM_PORT)

import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';

const HOST = '127.0.0.1';
const PORT = Number(process.env.KVM_E2E_TEAM_PORT ?? 3190);
const ISSUER = `http://${HOST}:${PORT}`;
const AUDIENCE = process.env.KVM_E2E_POLICY_AUD ?? 'kvm-e2e-aud';
const LIFETIME_SECONDS = 3600;

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = randomUUID();
const jwk = publicKey.export({ format: 'jwk' });
const certs = JSON.stringify({ keys: [{ kid, kty: 'RSA', alg: 'RS256', use: 'sig', n: jwk.n, e: jwk.e }] });

const base64url = (data) => Buffer.from(data).toString('base64url');

/** An RS256 JWT for `email`, as Access would issue it for this team and application. */
function token(email) {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const claims = base64url(
    JSON.stringify({ iss: ISSUER, aud: [AUDIENCE], sub: email, email, iat: now, nbf: now, exp: now + LIFETIME_SECONDS }),
  );
  const signature = sign('sha256', Buffer.from(`${header}.${claims}`), privateKey).toString('base64url');
  return `${header}.${claims}.${signature}`;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', ISSUER);
  const reply = (status, type, body) => {
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    res.end(body);
  };
  if (req.method !== 'GET') {
    return reply(405, 'text/plain', 'GET only\n');
  }
  if (url.pathname === '/cdn-cgi/access/certs') {
    return reply(200, 'application/json', certs);
  }
  if (url.pathname === '/token') {
    const email = url.searchParams.get('email');
    if (!email) {
      return reply(400, 'text/plain', 'email is required\n');
    }
    return reply(200, 'text/plain', token(email));
  }
  reply(404, 'text/plain', 'not found\n');
});

server.listen(PORT, HOST, () => {
  console.log(`Access team stand-in on ${ISSUER} (kid ${kid})`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
