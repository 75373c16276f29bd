import { expect, test } from '@playwright/test';
import Cloudflare from 'cloudflare';
import { call, uniqueTitle } from './helpers';

// Cloudflare's own TypeScript SDK, pointed at our server: the Cloudflare-compatible API must
// satisfy a real client, its pagination, multipart writes and envelopes included.
const ACCOUNT = '6b766d6c6f63616c6163636f756e7431';

test('Cloudflare\'s TypeScript SDK manages namespaces and keys on our server', async ({ request, baseURL }) => {
  const made = await call(request, 'create_api_token', { name: uniqueTitle('sdk') });
  const client = new Cloudflare({ apiToken: made.secret, baseURL: `${baseURL}/client/v4`, maxRetries: 0 });
  const params = { account_id: ACCOUNT };

  const title = uniqueTitle('sdk-ns');
  const ns = await client.kv.namespaces.create({ ...params, title });
  expect(ns.title).toBe(title);
  const renamed = await client.kv.namespaces.update(ns.id, { ...params, title: `${title}-renamed` });
  expect(renamed.title).toBe(`${title}-renamed`);
  expect((await client.kv.namespaces.get(ns.id, params)).title).toBe(`${title}-renamed`);

  // Auto-pagination over namespace pages (page + 1 until an empty page).
  const titles: string[] = [];
  for await (const namespace of client.kv.namespaces.list({ ...params, per_page: 5 })) {
    titles.push(namespace.title);
  }
  expect(titles).toContain(`${title}-renamed`);

  // A multipart write with metadata and a TTL, read back as raw bytes and as metadata.
  const at = { ...params, namespace_id: ns.id };
  // Metadata goes as one JSON form field, as Cloudflare documents it. An object would be flattened
  // by the SDK into metadata[plan] fields, losing its types: refused, not silently dropped.
  const flattened = await client.kv.namespaces.values
    .update('flattened', { ...at, value: 'v', metadata: { plan: 'pro' } })
    .catch((e) => e);
  expect(flattened).toBeInstanceOf(Cloudflare.BadRequestError);
  expect(String(flattened.message)).toContain('metadata');
  await client.kv.namespaces.values.update('user/1 ✓', {
    ...at,
    value: 'hello',
    metadata: JSON.stringify({ plan: 'pro' }),
    expiration_ttl: 3600,
  });
  const response = await client.kv.namespaces.values.get('user/1 ✓', at);
  expect(await response.text()).toBe('hello');
  expect(Number(response.headers.get('expiration'))).toBeGreaterThan(Date.now() / 1000 + 3500);
  expect(await client.kv.namespaces.metadata.get('user/1 ✓', at)).toEqual({ plan: 'pro' });

  // Bulk write, then cursor pagination over every key (until an empty cursor).
  const body = Array.from({ length: 1200 }, (_, i) => ({ key: `bulk-${String(i).padStart(4, '0')}`, value: `v${i}` }));
  const written = await client.kv.namespaces.bulkUpdate(ns.id, { ...params, body });
  expect(written?.successful_key_count).toBe(1200);
  const names: string[] = [];
  for await (const key of client.kv.namespaces.keys.list(ns.id, { ...params, prefix: 'bulk-', limit: 500 })) {
    names.push(key.name);
  }
  expect(names).toHaveLength(1200);
  expect(names[0]).toBe('bulk-0000');
  expect(names[1199]).toBe('bulk-1199');

  const got = await client.kv.namespaces.bulkGet(ns.id, { ...params, keys: ['bulk-0007', 'missing'] });
  expect(got?.values).toEqual({ 'bulk-0007': 'v7', missing: null });

  const deleted = await client.kv.namespaces.bulkDelete(ns.id, { ...params, body: names.slice(0, 1000) });
  expect(deleted?.successful_key_count).toBe(1000);
  await client.kv.namespaces.values.delete('user/1 ✓', at);

  // Errors arrive as the SDK's typed errors, with Cloudflare's status.
  const missing = await client.kv.namespaces.values.get('user/1 ✓', at).catch((e) => e);
  expect(missing).toBeInstanceOf(Cloudflare.NotFoundError);
  const taken = await client.kv.namespaces.create({ ...params, title: `${title}-renamed` }).catch((e) => e);
  expect(taken).toBeInstanceOf(Cloudflare.BadRequestError);
  expect(String(taken.message)).toContain('10014');

  await client.kv.namespaces.delete(ns.id, params);
  const gone = await client.kv.namespaces.get(ns.id, params).catch((e) => e);
  expect(gone).toBeInstanceOf(Cloudflare.NotFoundError);
});
