// Where the Cloudflare Access tests run: the team stand-in (access-team.mjs) and the second
// kv-manager that signs users in through it. Shared by playwright.config.ts and access.spec.ts.

export const teamPort = '3190';
export const teamURL = `http://127.0.0.1:${teamPort}`;
export const accessPort = '3101';
export const accessURL = `http://127.0.0.1:${accessPort}`;
export const accessAudience = 'kvm-e2e-aud';
export const adminEmail = 'admin@example.com';
export const readerEmail = 'reader@example.com';
