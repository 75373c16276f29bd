import { expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated, uniqueTitle } from './helpers';

test('audit log: filter, expand details, export CSV', async ({ page, request }) => {
  const ns = await createNamespace(request);
  const key = uniqueTitle('audited');
  await call(request, 'put_key', { namespace_id: ns.id, key, value: 'first' });
  await call(request, 'put_key', { namespace_id: ns.id, key, value: 'second' });
  await call(request, 'delete_key', { namespace_id: ns.id, key });

  await gotoHydrated(page, '/audit');
  await page.getByLabel('Namespace', { exact: true }).selectOption({ label: ns.title });
  await expect(page).toHaveURL(new RegExp(`namespace=${ns.id}`));
  const table = page.getByRole('table', { name: 'Audit entries' });
  const entries = table.getByRole('row').filter({ has: page.getByRole('button', { name: 'Details' }) });
  // namespace.create, key.create, key.update, key.delete
  await expect(entries).toHaveCount(4);

  await page.getByLabel('Operation', { exact: true }).selectOption('key.update');
  await expect(page).toHaveURL(/operation=key\.update/);
  await expect(entries).toHaveCount(1);
  const row = entries.first();
  await expect(row).toContainText('key.update');
  await expect(row).toContainText(ns.title);
  await expect(row).toContainText(key);

  const details = row.getByRole('button', { name: 'Details' });
  await expect(details).toHaveAttribute('aria-expanded', 'false');
  await details.click();
  await expect(details).toHaveAttribute('aria-expanded', 'true');
  const json = table.getByLabel('Details JSON');
  await expect(json).toBeVisible();
  const text = (await json.textContent()) ?? '';
  expect(() => JSON.parse(text)).not.toThrow();
  await expect(table).toContainText('Request id:');
  await details.click();
  await expect(json).toBeHidden();

  const exportLink = page.getByRole('link', { name: 'Export CSV' });
  await expect(exportLink).toHaveAttribute('download', /.*/);
  const href = (await exportLink.getAttribute('href')) ?? '';
  expect(href).toContain('/api/audit.csv?');
  expect(href).toContain(`namespace_ids=${ns.id}`);
  expect(href).toContain('operations=key.update');
  const csv = await page.request.get(href);
  expect(csv.status()).toBe(200);
  expect(csv.headers()['content-type']).toContain('text/csv');
  const body = await csv.text();
  expect(body).toContain(key);
  expect(body).toContain('key.update');
  expect(body).not.toContain('key.delete');
});

test('the keys page links to its audit log', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'linked', value: 'v' });
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await page.getByRole('main').getByRole('link', { name: 'Audit log', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/audit\\?namespace=${ns.id}$`));
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  await expect(page.getByLabel('Namespace', { exact: true })).toHaveValue(ns.id);
  const entries = page.getByRole('table', { name: 'Audit entries' }).getByRole('row').filter({ has: page.getByRole('button', { name: 'Details' }) });
  await expect(entries).toHaveCount(2);
  await expect(entries.first()).toContainText('linked');
});
