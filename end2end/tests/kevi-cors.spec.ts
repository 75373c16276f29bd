import { expect, test } from '@playwright/test';
import { call, createNamespace, uniqueTitle } from './helpers';

// The KV API (/v1/kv) from real browser pages on other origins. The pages are made up by
// Playwright's routing (no server behind them); their fetch() calls go to the server under test,
// and the custom X-Kevi-Token header makes the browser send a CORS preflight first.

const allowed = 'http://127.0.0.1:3199';
const other = 'http://127.0.0.1:3198';

type Answer = { status: number; body: any } | { failed: string };

test('a page on an allowed origin writes and reads with fetch(); another origin is refused but for public keys', async ({
  page,
  context,
  request,
  baseURL,
}) => {
  const ns = await createNamespace(request);
  const made = await call(request, 'create_service', {
    name: uniqueTitle('cors'),
    storage: ns.id,
    role: 'admin',
    prefix: 'web',
    allowed_origins: [allowed],
    public_keys: ['public/*'],
  });
  const token: string = made.secret;
  expect(made.service.allowed_origins).toEqual([allowed]);

  // A public key, written by a script (no Origin).
  const put = await request.put('/v1/kv/public/motd', { headers: { 'X-Kevi-Token': token }, data: { value: 'hello' } });
  expect(put.status(), await put.text()).toBe(200);

  for (const origin of [allowed, other]) {
    // A page Playwright makes up has no address Chromium can place, so it counts as a public
    // page and its calls to this loopback server would need the user's leave (Local Network
    // Access). Served for real from 127.0.0.1 it would not: grant that, so that only CORS decides.
    await context.grantPermissions(['local-network-access'], { origin });
    await page.route(`${origin}/**`, (r) =>
      r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>app</title>' }),
    );
  }

  /** fetch() in the page: the status and JSON body, or the name of the error it threw. */
  const browserFetch = (path: string, method: string, body?: unknown) =>
    page.evaluate(
      async ({ url, method, token, body }): Promise<Answer> => {
        const headers: Record<string, string> = { 'X-Kevi-Token': token };
        if (body !== undefined) headers['Content-Type'] = 'application/json';
        try {
          const res = await fetch(url, {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          return { status: res.status, body: await res.json() };
        } catch (e) {
          return { failed: (e as Error).name };
        }
      },
      { url: `${baseURL}${path}`, method, token, body },
    );

  // From the allowed origin: the preflight passes, the write and the read back succeed.
  await page.goto(`${allowed}/`);
  expect(await page.evaluate(() => location.origin)).toBe(allowed);
  const written = await browserFetch('/v1/kv/from-browser', 'PUT', { value: { ok: true } });
  expect(written).toMatchObject({ status: 200, body: { status: 'ok', key: 'from-browser' } });
  const read = await browserFetch('/v1/kv/from-browser', 'GET');
  expect(read).toMatchObject({ status: 200, body: { status: 'ok', data: { ok: true } } });
  const listed = await browserFetch('/v1/kv', 'GET');
  expect(listed).toMatchObject({ status: 200 });
  expect(((listed as { body: any }).body.keys as { name: string }[]).map((k) => k.name).sort()).toEqual([
    'from-browser',
    'public/motd',
  ]);
  // Written under the service's prefix, by the service.
  const stored = await call(request, 'get_key', { namespace_id: ns.id, key: 'web:from-browser' });
  expect(JSON.parse(stored.value)).toEqual({ ok: true });
  expect(stored.metadata.updated_by).toBe(made.service.name);

  // From an origin no service allows: the preflight is refused, so fetch() throws; nothing is
  // written. A public key can still be read from there.
  await page.goto(`${other}/`);
  expect(await browserFetch('/v1/kv/from-browser', 'PUT', { value: 'from elsewhere' })).toEqual({
    failed: 'TypeError',
  });
  expect(await browserFetch('/v1/kv/from-browser', 'GET')).toEqual({ failed: 'TypeError' });
  expect(await browserFetch('/v1/kv', 'GET')).toEqual({ failed: 'TypeError' });
  const unchanged = await request.get('/v1/kv/from-browser', { headers: { 'X-Kevi-Token': token } });
  expect((await unchanged.json()).data).toEqual({ ok: true });
  const publicRead = await browserFetch('/v1/kv/public/motd', 'GET');
  expect(publicRead).toMatchObject({ status: 200, body: { status: 'ok', data: 'hello' } });
  // Reading is all: a write to the public key from there is refused before it is sent.
  expect(await browserFetch('/v1/kv/public/motd', 'PUT', { value: 'defaced' })).toEqual({ failed: 'TypeError' });

  // The preflights themselves, as the browser sent them.
  const preflight = (origin: string, path: string, method: string) =>
    request.fetch(path, {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': method,
        'Access-Control-Request-Headers': 'content-type,x-kevi-token',
      },
    });
  const ok = await preflight(allowed, '/v1/kv/from-browser', 'PUT');
  expect(ok.status()).toBe(204);
  expect(ok.headers()['access-control-allow-origin']).toBe(allowed);
  expect(ok.headers()['access-control-allow-methods']).toContain('PUT');
  expect(ok.headers()['access-control-allow-headers']?.toLowerCase()).toContain('x-kevi-token');
  const refused = await preflight(other, '/v1/kv/from-browser', 'PUT');
  expect(refused.status()).toBe(403);
  expect(refused.headers()['access-control-allow-origin']).toBeUndefined();
  const publicOk = await preflight(other, '/v1/kv/public/motd', 'GET');
  expect(publicOk.status()).toBe(204);
  expect(publicOk.headers()['access-control-allow-origin']).toBe(other);
});
