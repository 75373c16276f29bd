import { expect, test } from '@playwright/test';
import { call, createNamespace, putKeys } from './helpers';

// Runs with JavaScript disabled: everything here comes from the server's HTML.
test('namespaces and keys render without JavaScript', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, ['alpha', 'beta', 'gamma:1', 'gamma:2']);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'note', value: 'server rendered value', metadata: { by: 'ssr' } });

  await page.goto(`/?search=${encodeURIComponent(ns.title)}`);
  const row = page.locator(`li[data-namespace="${ns.id}"]`);
  await expect(row.getByRole('link', { name: ns.title })).toBeVisible();
  await expect(row).toContainText('5 keys');

  await page.goto(`/namespaces/${ns.id}`);
  await expect(page.getByRole('heading', { name: ns.title })).toBeVisible();
  for (const key of ['alpha', 'beta', 'gamma:1', 'gamma:2', 'note']) {
    await expect(page.getByRole('link', { name: key, exact: true })).toBeVisible();
  }
  // The key editor is a dialog for the browser (its code loads when a key is opened); without
  // JavaScript the key list still shows each key's size and metadata.
  const note = page.locator('tr', { has: page.getByRole('link', { name: 'note', exact: true }) });
  await expect(note).toContainText('21 B');
  await expect(note.locator('span[title]')).toHaveAttribute('title', '{"by":"ssr"}');

  await page.goto(`/namespaces/${ns.id}?prefix=gamma`);
  await expect(page.getByRole('link', { name: 'gamma:1' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'alpha', exact: true })).toHaveCount(0);
  await expect(page.getByLabel('Filter by prefix')).toHaveValue('gamma');
});

test('the audit log renders without JavaScript', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'ssr-audited', value: 'v' });
  await page.goto(`/audit?namespace=${ns.id}&operation=key.create`);
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  const table = page.getByRole('table', { name: 'Audit entries' });
  await expect(table).toContainText('ssr-audited');
  await expect(table).toContainText(ns.title);
  await expect(page.getByLabel('Operation', { exact: true })).toHaveValue('key.create');
  await expect(page.getByRole('link', { name: 'Export CSV' })).toHaveAttribute('href', new RegExp(`namespace_ids=${ns.id}`));
});
