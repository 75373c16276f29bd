import { expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated, putKeys } from './helpers';

test('add, edit and delete a key', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await page.getByRole('button', { name: 'Add key' }).click();
  const add = page.getByRole('dialog', { name: 'Add key' });
  await add.getByLabel('Key').fill('config:site');
  await add.getByLabel('Value').fill('{"theme":"dark"}');
  await add.getByLabel('Metadata (JSON)').fill('{"owner":"web"}');
  await add.getByRole('button', { name: 'Save' }).click();
  await expect(add).toBeHidden();
  await expect(page.getByRole('link', { name: 'config:site' })).toBeVisible();
  let key = await call(request, 'get_key', { namespace_id: ns.id, key: 'config:site' });
  expect(key.value).toBe('{"theme":"dark"}');
  expect(key.metadata).toEqual({ owner: 'web' });

  await page.getByRole('link', { name: 'config:site' }).click();
  const editor = page.getByRole('dialog', { name: 'Edit config:site' });
  await expect(editor.getByLabel('Value')).toHaveValue('{"theme":"dark"}');
  await editor.getByLabel('Value').fill('{"theme":"light"}');
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect(editor.getByRole('status')).toHaveText('Saved');
  key = await call(request, 'get_key', { namespace_id: ns.id, key: 'config:site' });
  expect(key.value).toBe('{"theme":"light"}');

  await editor.getByRole('button', { name: 'Delete' }).click();
  await editor.getByRole('button', { name: 'Confirm delete' }).click();
  await expect(editor).toBeHidden();
  await expect(page.getByRole('link', { name: 'config:site' })).toHaveCount(0);
  const res = await request.post('/api/get_key', {
    data: { namespace_id: ns.id, key: 'config:site' },
    headers: { Accept: 'application/json' },
  });
  expect(res.status()).toBe(404);
});

test('editing a value keeps its metadata and TTL', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'session', value: 'v1', metadata: { a: 1 }, expiration_ttl: 3600 });
  const before = await call(request, 'get_key', { namespace_id: ns.id, key: 'session' });

  await gotoHydrated(page, `/namespaces/${ns.id}?key=session`);
  const editor = page.getByRole('dialog', { name: 'Edit session' });
  await expect(editor.getByLabel('Value')).toHaveValue('v1');
  await expect(editor.getByLabel('Metadata (JSON)')).toHaveValue(/"a": 1/);
  // A key with an expiration opens in date-and-time mode, showing its UTC time to the minute.
  await expect(editor.getByLabel('At a date and time')).toBeChecked();
  await expect(editor.getByLabel('Expires at (UTC)')).toHaveValue(new Date(before.expiration * 1000).toISOString().slice(0, 16));
  await editor.getByLabel('Value').fill('v2');
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect(editor.getByRole('status')).toHaveText('Saved');
  await page.keyboard.press('Escape');
  await expect(editor).toBeHidden();
  await expect(page).toHaveURL(new RegExp(`/namespaces/${ns.id}$`));

  const after = await call(request, 'get_key', { namespace_id: ns.id, key: 'session' });
  expect(after.value).toBe('v2');
  expect(after.metadata).toEqual({ a: 1 });
  // The field shows minutes only, yet an untouched field keeps the exact second.
  expect(after.expiration).toBe(before.expiration);
});

test('the prefix filter lives in the URL and survives a reload', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, ['apple', 'apricot', 'banana']);
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await page.getByLabel('Filter by prefix').fill('ap');
  await expect(page).toHaveURL(/\?prefix=ap$/);
  await expect(page.getByRole('link', { name: 'banana' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'apricot' })).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Filter by prefix')).toHaveValue('ap');
  await expect(page.getByRole('link', { name: 'apple' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'banana' })).toHaveCount(0);
});

test('"Load more" pages through 1,500 keys', async ({ page, request }) => {
  test.setTimeout(120_000);
  const ns = await createNamespace(request);
  const names = Array.from({ length: 1500 }, (_, i) => `item:${String(i).padStart(4, '0')}`);
  await putKeys(request, ns.id, names);
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await expect(page.getByTestId('key-count')).toHaveText('500 keys shown');
  const more = page.getByRole('button', { name: 'Load more' });
  while (await more.isVisible()) {
    const shown = await page.getByTestId('key-count').textContent();
    await more.click();
    await expect(page.getByTestId('key-count')).not.toHaveText(shown ?? '');
  }
  await expect(page.getByTestId('key-count')).toHaveText('1500 keys shown');
  await expect(page.getByRole('link', { name: 'item:1499' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'item:0000' })).toBeVisible();
});
