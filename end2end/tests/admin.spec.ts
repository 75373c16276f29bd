import { expect, test } from '@playwright/test';
import { accountId } from '../cloudflare-env';
import { call, createNamespace, gotoHydrated, uniqueTitle } from './helpers';

// A read-only API token, and a service's origins and public keys edited on the Services page.

test('a read-only token reads through /client/v4 and may not write', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'readable', value: 'hello' });
  const name = uniqueTitle('reader');
  await gotoHydrated(page, '/tokens');
  const form = page.getByRole('region', { name: 'New token' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Read-only').check();
  await form.getByRole('button', { name: 'Create token' }).click();
  const box = page.getByRole('region', { name: `Token “${name}” created` });
  const secret = await box.getByLabel('Secret', { exact: true }).inputValue();
  const row = page.getByRole('table', { name: 'API tokens' }).getByRole('row').filter({ has: page.getByRole('rowheader', { name }) });
  await expect(row).toContainText('read-only');

  const auth = { Authorization: `Bearer ${secret}` };
  const base = `/client/v4/accounts/${accountId}/storage/kv/namespaces/${ns.id}`;
  let res = await request.get(`${base}/values/readable`, { headers: auth });
  expect(res.status(), await res.text()).toBe(200);
  expect(await res.text()).toBe('hello');
  res = await request.put(`${base}/values/readable`, { headers: auth, data: 'changed' });
  expect(res.status()).toBe(403);
  const body = await res.json();
  expect(body.success).toBe(false);
  res = await request.delete(`${base}/values/readable`, { headers: auth });
  expect(res.status()).toBe(403);
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 'readable' })).value).toBe('hello');
});

test("edit a service's allowed origins and public keys", async ({ page, request }) => {
  const ns = await createNamespace(request);
  const name = `e2e-${Date.now().toString(36)}`.slice(0, 30);
  const made = await call(request, 'create_service', {
    name,
    storage: ns.id,
    role: 'admin',
    prefix: name,
    allowed_origins: ['https://old.example.com'],
  });
  const token = made.secret;
  await call(request, 'put_key', { namespace_id: ns.id, key: `${name}:motd`, value: JSON.stringify('hi') });
  const kevi = (origin?: string) => ({ 'X-Kevi-Token': token, ...(origin ? { Origin: origin } : {}) });
  expect((await request.get('/v1/kv/motd', { headers: kevi('https://new.example.com') })).status()).toBe(403);

  await gotoHydrated(page, '/services');
  const row = page.getByRole('table', { name: 'Services' }).getByRole('row').filter({ has: page.getByRole('rowheader', { name }) });
  await row.getByRole('button', { name: 'Edit' }).click();
  const dialog = page.getByRole('dialog', { name: `Edit ${name}` });
  await expect(dialog.getByLabel('Allowed origins')).toHaveValue('https://old.example.com');
  await dialog.getByLabel('Allowed origins').fill('https://new.example.com');
  await dialog.getByLabel('Public keys').fill('motd, pub/*');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  await expect(row).toContainText('https://new.example.com');
  await expect(row).not.toContainText('https://old.example.com');
  await expect(row).toContainText('pub/*');

  // The new origin is let in, the old one refused; a public key answers any origin.
  let res = await request.get('/v1/kv/motd', { headers: kevi('https://new.example.com') });
  expect(res.status(), await res.text()).toBe(200);
  res = await request.get('/v1/kv/motd', { headers: kevi('https://old.example.com') });
  expect(res.status(), await res.text()).toBe(200);
  res = await request.post('/v1/kv/private', { headers: kevi('https://old.example.com'), data: { value: 1 } });
  expect(res.status(), await res.text()).toBe(403);
  res = await request.post('/v1/kv/private', { headers: kevi('https://new.example.com'), data: { value: 1 } });
  expect(res.status(), await res.text()).toBe(200);
  const services = await call(request, 'list_services', {});
  const service = services.find((s: any) => s.name === name);
  expect(service.allowed_origins).toEqual(['https://new.example.com']);
  expect(service.public_keys).toEqual(['motd', 'pub/*']);
});
