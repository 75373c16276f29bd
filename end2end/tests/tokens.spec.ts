import { expect, test } from '@playwright/test';
import { accessURL, readerEmail, teamURL } from '../access-env';
import { gotoHydrated, uniqueTitle } from './helpers';

// The API tokens page (the main server runs with KVM_AUTH=none: the user `local` is an admin).
// A token made there signs in to the Cloudflare-compatible API; its secret is shown once.

test('make a token, use it on /client/v4, refuse a duplicate name, revoke it', async ({ page, context, request }) => {
  const name = uniqueTitle('token');
  await gotoHydrated(page, '/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API tokens' }).click();
  await expect(page).toHaveURL(/\/tokens$/);
  await expect(page.getByRole('heading', { name: 'API tokens', level: 1 })).toBeVisible();

  const form = page.getByRole('region', { name: 'New token' });
  await form.getByLabel('Name').fill(name);
  await form.getByRole('button', { name: 'Create token' }).click();

  // The secret, once, in a marked box with a copy button and how to use it.
  const box = page.getByRole('region', { name: `Token “${name}” created` });
  await expect(box).toBeVisible();
  await expect(box).toContainText('it will not be shown again');
  await expect(box).toContainText('Authorization: Bearer');
  await expect(box).toContainText('/client/v4');
  const secretField = box.getByLabel('Secret', { exact: true });
  await expect(secretField).toBeFocused();
  const secret = await secretField.inputValue();
  expect(secret).toMatch(/^kvm_[0-9a-f]{64}$/);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await box.getByRole('button', { name: 'Copy' }).click();
  await expect(box.getByRole('status')).toHaveText('Copied to the clipboard.');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);

  // The list shows it (refreshed after the create), without its secret.
  const table = page.getByRole('table', { name: 'API tokens' });
  const row = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name }) });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('read-write');
  await expect(row).toContainText('by local');
  await expect(row).toContainText('never');
  await expect(row.getByTestId('token-status')).toHaveText('active');
  await expect(table).not.toContainText(secret);

  // The secret works against the Cloudflare-compatible API.
  const auth = { Authorization: `Bearer ${secret}` };
  const verified = await request.get('/client/v4/user/tokens/verify', { headers: auth });
  expect(verified.status()).toBe(200);
  const body = await verified.json();
  expect(body.success).toBe(true);
  expect(body.result.status).toBe('active');
  const id = await row.getAttribute('data-token');
  expect(body.result.id).toBe(id);

  // After a reload the secret is gone; the list has the token, now used.
  await gotoHydrated(page, '/tokens');
  await expect(page.getByRole('region', { name: `Token “${name}” created` })).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);
  await expect(row.getByTestId('token-status')).toHaveText('active');
  await expect(row).not.toContainText('never');
  await expect(row).toContainText('just now');

  // A second live token of that name is refused next to the name field (409); so is a blank
  // name (400). No secret box appears.
  const nameField = form.getByLabel('Name');
  await nameField.fill(name);
  await form.getByRole('button', { name: 'Create token' }).click();
  await expect(form.getByRole('alert')).toContainText('already exists');
  await expect(nameField).toHaveValue(name);
  await nameField.fill('   ');
  await form.getByRole('button', { name: 'Create token' }).click();
  await expect(form.getByRole('alert')).toContainText('1 to 100 characters');
  await expect(page.getByRole('region', { name: /created$/ })).toHaveCount(0);
  await expect(row).toHaveCount(1);

  // Revoke through the dialog, which names the token; Cancel first leaves it alone.
  await row.getByRole('button', { name: 'Revoke' }).click();
  let dialog = page.getByRole('dialog', { name: `Revoke ${name}` });
  await expect(dialog).toContainText(name);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(row.getByTestId('token-status')).toHaveText('active');
  await row.getByRole('button', { name: 'Revoke' }).click();
  dialog = page.getByRole('dialog', { name: `Revoke ${name}` });
  await dialog.getByRole('button', { name: 'Revoke' }).click();
  await expect(dialog).toBeHidden();
  await expect(row.getByTestId('token-status')).toContainText('revoked');
  await expect(row.getByRole('button', { name: 'Revoke' })).toHaveCount(0);

  const refused = await request.get('/client/v4/user/tokens/verify', { headers: auth });
  expect(refused.status()).toBe(401);
  expect((await refused.json()).success).toBe(false);

  // Server-rendered the same way; the name is free again for a new token.
  await gotoHydrated(page, '/tokens');
  await expect(row.getByTestId('token-status')).toContainText('revoked');
  await form.getByLabel('Name').fill(name);
  await form.getByRole('button', { name: 'Create token' }).click();
  const newBox = page.getByRole('region', { name: `Token “${name}” created` });
  await expect(newBox).toBeVisible();
  const rows = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name }) });
  await expect(rows).toHaveCount(2);

  // Revoking the token whose secret is on screen takes the secret away too.
  await rows.getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('dialog', { name: `Revoke ${name}` }).getByRole('button', { name: 'Revoke' }).click();
  await expect(newBox).toHaveCount(0);
  await expect(rows.getByTestId('token-status')).toContainText(['revoked', 'revoked']);
});

test.describe('a user who is not an admin', () => {
  // The Cloudflare Access server (playwright.config.ts): reader@example.com is no admin.
  test.use({ baseURL: accessURL });

  test('sees no API tokens link, and the page says admins manage tokens', async ({ page, context, request }) => {
    const res = await request.get(`${teamURL}/token?email=${encodeURIComponent(readerEmail)}`);
    expect(res.status()).toBe(200);
    const token = await res.text();
    await context.addCookies([
      { name: 'CF_Authorization', value: token, domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Lax' },
    ]);
    await gotoHydrated(page, '/');
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' })).toBeVisible();
    await expect(page.getByRole('link', { name: 'API tokens' })).toHaveCount(0);

    await gotoHydrated(page, '/tokens');
    await expect(page.getByRole('heading', { name: 'API tokens', level: 1 })).toBeVisible();
    await expect(page.getByRole('main')).toContainText('API tokens are managed by admins');
    await expect(page.getByRole('table')).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Create token' })).toHaveCount(0);

    const list = await request.post('/api/list_api_tokens', {
      data: {},
      headers: { Accept: 'application/json', 'Cf-Access-Jwt-Assertion': token },
    });
    expect(list.status()).toBe(403);
  });
});
