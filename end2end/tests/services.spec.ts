import { expect, test } from '@playwright/test';
import { accessURL, readerEmail, teamURL } from '../access-env';
import { call, createNamespace, gotoHydrated, uniqueTitle } from './helpers';

// The services page: services of the multi-tenant KV API (/v1/kv) and their tokens. The main
// server runs with KVM_AUTH=none, so the user `local` is an admin.

const kevi = (token: string) => ({ 'X-Kevi-Token': token });

test('make a service, use its token on /v1/kv, make it read-only, rotate its token, disable it; a taken prefix is refused', async ({
  page,
  context,
  request,
}) => {
  const ns = await createNamespace(request);
  const name = uniqueTitle('svc');
  await gotoHydrated(page, '/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Services' }).click();
  await expect(page).toHaveURL(/\/services$/);
  await expect(page.getByRole('heading', { name: 'Services', level: 1 })).toBeVisible();

  const form = page.getByRole('region', { name: 'New service' });
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Namespace').selectOption({ label: ns.title });
  await form.getByLabel('Role').selectOption('admin');
  await form.getByLabel('Prefix').fill('app');
  await form.getByLabel('Allowed origins').fill('https://app.example.com,\nhttps://admin.example.com');
  await form.getByLabel('Public keys').fill('public/*, motd');
  await form.getByLabel('Description').fill('The e2e application');
  await form.getByRole('button', { name: 'Create service' }).click();

  // The first token, once, in a marked box with a copy button and how to use it.
  const box = page.getByRole('region', { name: `Token for “${name}” created` });
  await expect(box).toBeVisible();
  await expect(box).toContainText('it will not be shown again');
  await expect(box).toContainText('X-Kevi-Token');
  await expect(box).toContainText('/v1/kv');
  const tokenField = box.getByLabel('Token', { exact: true });
  await expect(tokenField).toBeFocused();
  const first = await tokenField.inputValue();
  expect(first).toMatch(/^[0-9a-f]{64}$/);
  const firstId = await box.getAttribute('data-token');
  expect(firstId).toMatch(/^stk-/);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await box.getByRole('button', { name: 'Copy' }).click();
  await expect(box.getByRole('status')).toHaveText('Copied to the clipboard.');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(first);

  // The list shows the service (refreshed after the create), without the secret; the form is
  // empty again but for the namespace.
  const table = page.getByRole('table', { name: 'Services' });
  const row = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name }) });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText(ns.title);
  await expect(row).toContainText('The e2e application');
  await expect(row.getByTestId('service-role')).toHaveText('admin');
  await expect(row).toContainText('https://app.example.com');
  await expect(row).toContainText('https://admin.example.com');
  await expect(row).toContainText('public/*');
  await expect(row).toContainText('motd');
  await expect(row.getByTestId('service-status')).toHaveText('enabled');
  await expect(table).not.toContainText(first);
  await expect(form.getByLabel('Name', { exact: true })).toHaveValue('');
  await expect(form.getByLabel('Prefix')).toHaveValue('');

  // The token works on /v1/kv: list, write, read; the key is stored under the prefix.
  let res = await request.get('/v1/kv', { headers: kevi(first) });
  expect(res.status(), await res.text()).toBe(200);
  expect((await res.json()).keys).toEqual([]);
  res = await request.post('/v1/kv/x', { headers: kevi(first), data: { value: { n: 1 } } });
  expect(res.status(), await res.text()).toBe(200);
  res = await request.get('/v1/kv/x', { headers: kevi(first) });
  expect(res.status(), await res.text()).toBe(200);
  expect((await res.json()).data).toEqual({ n: 1 });
  res = await request.get('/v1/kv', { headers: kevi(first) });
  expect((await res.json()).keys.map((k: { name: string }) => k.name)).toEqual(['x']);
  const stored = await call(request, 'get_key', { namespace_id: ns.id, key: 'app:x' });
  expect(JSON.parse(stored.value)).toEqual({ n: 1 });

  // Edit: the name is fixed, the role becomes read-only; writes are refused (403), reads go on.
  await row.getByRole('button', { name: 'Edit' }).click();
  const dialog = page.getByRole('dialog', { name: `Edit ${name}` });
  await expect(dialog).toContainText(name);
  await expect(dialog.getByLabel('Namespace')).toHaveValue(ns.id);
  await expect(dialog.getByLabel('Prefix')).toHaveValue('app');
  await expect(dialog.getByLabel('Allowed origins')).toHaveValue('https://app.example.com\nhttps://admin.example.com');
  await dialog.getByLabel('Role').selectOption('read-only');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  await expect(row.getByTestId('service-role')).toHaveText('read-only');
  res = await request.post('/v1/kv/x', { headers: kevi(first), data: { value: 2 } });
  expect(res.status(), await res.text()).toBe(403);
  expect(await res.json()).toMatchObject({ error: 'Permission Denied', required: 'admin', current: 'read-only' });
  res = await request.get('/v1/kv/x', { headers: kevi(first) });
  expect(res.status(), await res.text()).toBe(200);

  // Its tokens: the first, then a second one issued (secret shown once); revoking the first
  // refuses it (401) while the second works.
  await row.getByRole('button', { name: 'Tokens' }).click();
  const tokens = page.getByRole('region', { name: `Tokens of ${name}` });
  const tokenTable = tokens.getByRole('table', { name: `Tokens of ${name}` });
  await expect(tokenTable.locator('tbody tr')).toHaveCount(1);
  const firstRow = tokenTable.locator(`tr[data-token="${firstId}"]`);
  await expect(firstRow.getByTestId('token-status')).toHaveText('active');
  await expect(firstRow).toContainText('by local');
  await tokens.getByRole('button', { name: 'Issue token' }).click();
  await expect(tokenTable.locator('tbody tr')).toHaveCount(2);
  await expect(box).toBeVisible();
  await expect(box).not.toHaveAttribute('data-token', firstId!);
  const secondId = await box.getAttribute('data-token');
  const second = await box.getByLabel('Token', { exact: true }).inputValue();
  expect(second).toMatch(/^[0-9a-f]{64}$/);
  expect(second).not.toBe(first);

  await firstRow.getByRole('button', { name: 'Revoke' }).click();
  const revoke = page.getByRole('dialog', { name: `Revoke ${firstId}` });
  await revoke.getByRole('button', { name: 'Revoke' }).click();
  await expect(revoke).toBeHidden();
  await expect(firstRow.getByTestId('token-status')).toContainText('revoked');
  await expect(firstRow.getByRole('button', { name: 'Revoke' })).toHaveCount(0);
  await expect(tokenTable.locator(`tr[data-token="${secondId}"]`).getByTestId('token-status')).toHaveText('active');
  await expect(box).toBeVisible(); // the second token's secret stays: it was not revoked
  res = await request.get('/v1/kv', { headers: kevi(first) });
  expect(res.status(), await res.text()).toBe(401);
  res = await request.get('/v1/kv', { headers: kevi(second) });
  expect(res.status(), await res.text()).toBe(200);

  // Disabled, the service's tokens are all refused; enabled again, they work.
  await row.getByRole('button', { name: 'Disable' }).click();
  await expect(row.getByTestId('service-status')).toHaveText('disabled');
  res = await request.get('/v1/kv', { headers: kevi(second) });
  expect(res.status(), await res.text()).toBe(401);
  await row.getByRole('button', { name: 'Enable' }).click();
  await expect(row.getByTestId('service-status')).toHaveText('enabled');
  res = await request.get('/v1/kv', { headers: kevi(second) });
  expect(res.status(), await res.text()).toBe(200);

  // Another service with the same prefix in the same namespace: refused next to the prefix field.
  await form.getByLabel('Name', { exact: true }).fill(`${name}-b`);
  await form.getByLabel('Namespace').selectOption({ label: ns.title });
  await form.getByLabel('Prefix').fill('app');
  await form.getByRole('button', { name: 'Create service' }).click();
  const prefixError = form.locator('[data-field="prefix"]').getByRole('alert');
  await expect(prefixError).toContainText(`service "${name}" already uses "app"`);
  await expect(form.getByRole('alert')).toHaveCount(1);
  await expect(form.getByLabel('Prefix')).toHaveAttribute('aria-invalid', 'true');
  await expect(form.getByLabel('Prefix')).toHaveValue('app');
  await expect(table.getByRole('rowheader', { name: `${name}-b` })).toHaveCount(0);
  // A bad one, on the prefix field too (400).
  await form.getByLabel('Prefix').fill('a:b');
  await form.getByRole('button', { name: 'Create service' }).click();
  await expect(prefixError).toContainText('is not 1 to 64 of');

  // After a reload the secret is gone; the service and its tokens are listed, server-rendered.
  await gotoHydrated(page, '/services');
  await expect(page.getByRole('region', { name: /^Token for/ })).toHaveCount(0);
  expect(await page.content()).not.toContain(second);
  await expect(row.getByTestId('service-role')).toHaveText('read-only');
});

test.describe('a user who is not an admin', () => {
  // The Cloudflare Access server (playwright.config.ts): reader@example.com is no admin.
  test.use({ baseURL: accessURL });

  test('sees no Services link, and the page says admins manage services', async ({ page, context, request }) => {
    const res = await request.get(`${teamURL}/token?email=${encodeURIComponent(readerEmail)}`);
    expect(res.status()).toBe(200);
    const token = await res.text();
    await context.addCookies([
      { name: 'CF_Authorization', value: token, domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Lax' },
    ]);
    await gotoHydrated(page, '/');
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' })).toBeVisible();
    await expect(page.getByRole('link', { name: 'Services' })).toHaveCount(0);

    await gotoHydrated(page, '/services');
    await expect(page.getByRole('heading', { name: 'Services', level: 1 })).toBeVisible();
    await expect(page.getByRole('main')).toContainText('managed by admins');
    await expect(page.getByRole('table')).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Create service' })).toHaveCount(0);

    for (const [name, input] of [
      ['list_services', {}],
      ['list_service_tokens', { name: 'anything' }],
      ['create_service', { name: 'nope', storage: 'x', role: 'admin', prefix: 'p' }],
    ] as const) {
      const list = await request.post(`/api/${name}`, {
        data: input,
        headers: { Accept: 'application/json', 'Cf-Access-Jwt-Assertion': token },
      });
      expect(list.status(), name).toBe(403);
    }
  });
});
