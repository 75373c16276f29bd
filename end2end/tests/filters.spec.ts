import { Locator, expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated, putKeys, uniqueTitle } from './helpers';

// Every advanced search filter and "Load more"; the audit log's user, source, key-prefix and date
// filters; namespaces past one page; the 404 page.

/** Sets a filter field the way a user leaves it: typed, then committed. */
async function commit(field: Locator, value: string) {
  await field.fill(value);
  await field.dispatchEvent('change');
}

/** `yyyy-mm-ddThh:mm` (UTC) `seconds` from now. */
const utcIn = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString().slice(0, 16);

test('every advanced search filter narrows the results', async ({ page, request }) => {
  const m = uniqueTitle('f').replace(/[^a-z0-9]/g, '');
  const a = await createNamespace(request);
  const b = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: a.id, key: `${m}:small`, value: 'x' });
  await call(request, 'put_key', { namespace_id: a.id, key: `${m}:big`, value: 'y'.repeat(500) });
  await call(request, 'put_key', { namespace_id: a.id, key: `${m}:exp`, value: 'zz', expiration_ttl: 3600 });
  await call(request, 'put_key', { namespace_id: b.id, key: `${m}:other`, value: 'w' });

  await gotoHydrated(page, `/search?q=${m}`);
  await expect(page.getByTestId('search-count')).toHaveText('4 of 4 matching keys shown');
  await page.getByText('Advanced', { exact: true }).click();

  const expiration = page.getByRole('combobox', { name: /^Expiration/ });
  await expiration.selectOption('yes');
  await expect(page).toHaveURL(/expiring=yes/);
  await expect(page.getByTestId('search-count')).toHaveText('1 of 1 matching keys shown');
  await expect(page.getByRole('link', { name: `${m}:exp` })).toBeVisible();
  await expiration.selectOption('no');
  await expect(page.getByTestId('search-count')).toHaveText('3 of 3 matching keys shown');
  await expiration.selectOption('');

  const before = page.getByLabel('Expires before (UTC)');
  await commit(before, utcIn(2 * 3600));
  await expect(page).toHaveURL(/expires_before=/);
  await expect(page.getByTestId('search-count')).toHaveText('1 of 1 matching keys shown');
  await commit(before, utcIn(1800));
  await expect(page.getByText('No keys match.')).toBeVisible();
  await commit(before, '');

  const min = page.getByLabel('Minimum size (bytes)');
  await commit(min, '100');
  await expect(page).toHaveURL(/min_size=100/);
  await expect(page.getByTestId('search-count')).toHaveText('1 of 1 matching keys shown');
  await expect(page.getByRole('link', { name: `${m}:big` })).toBeVisible();
  await commit(min, '');
  const max = page.getByLabel('Maximum size (bytes)');
  await commit(max, '1');
  await expect(page.getByTestId('search-count')).toHaveText('2 of 2 matching keys shown');
  await expect(page.getByRole('link', { name: `${m}:small` })).toBeVisible();
  await expect(page.getByRole('link', { name: `${m}:other` })).toBeVisible();
  await commit(max, '');

  const updated = page.getByLabel('Updated after (UTC)');
  await commit(updated, utcIn(86_400));
  await expect(page.getByText('No keys match.')).toBeVisible();
  await commit(updated, utcIn(-86_400));
  await expect(page.getByTestId('search-count')).toHaveText('4 of 4 matching keys shown');
  await commit(updated, '');

  await page.getByLabel('Namespaces').selectOption([b.id]);
  await expect(page).toHaveURL(new RegExp(`ns=${b.id}`));
  await expect(page.getByTestId('search-count')).toHaveText('1 of 1 matching keys shown');
  await expect(page.getByRole('link', { name: `${m}:other` })).toBeVisible();

  // The filters live in the URL: a reload shows the same results.
  await page.reload();
  await expect(page.getByTestId('search-count')).toHaveText('1 of 1 matching keys shown');
});

test('"Load more" pages through search results', async ({ page, request }) => {
  test.setTimeout(120_000);
  const m = uniqueTitle('p').replace(/[^a-z0-9]/g, '');
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, Array.from({ length: 130 }, (_, i) => `${m}:${String(i).padStart(3, '0')}`));
  await gotoHydrated(page, `/search?q=${m}`);
  await expect(page.getByTestId('search-count')).toHaveText('100 of 130 matching keys shown');
  await page.getByRole('button', { name: 'Load more' }).click();
  await expect(page.getByTestId('search-count')).toHaveText('130 of 130 matching keys shown');
  await expect(page.getByRole('button', { name: 'Load more' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: `${m}:129` })).toBeVisible();
});

test('the audit log filters by user, source, key prefix and date', async ({ page, request, baseURL }) => {
  const ns = await createNamespace(request);
  const p = uniqueTitle('a').replace(/[^a-z0-9]/g, '');
  await call(request, 'put_key', { namespace_id: ns.id, key: `${p}-script`, value: 'v' });
  const service = `svc-${p}`.slice(0, 30);
  const made = await call(request, 'create_service', { name: service, storage: ns.id, role: 'admin', prefix: p.slice(0, 60), allowed_origins: ['https://audit.example.com'] });
  const res = await request.put(`${baseURL}/v1/kv/from-kevi`, {
    headers: { 'X-Kevi-Token': made.secret, 'Content-Type': 'application/json' },
    data: { value: 1 },
  });
  expect(res.status()).toBe(200);

  // One write from the console itself.
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await page.getByRole('button', { name: 'Add key' }).click();
  const add = page.getByRole('dialog', { name: 'Add key' });
  await add.getByLabel('Key').fill(`${p}-console`);
  await add.getByLabel('Value').fill('v');
  await add.getByRole('button', { name: 'Save' }).click();
  await expect(add).toBeHidden();

  await gotoHydrated(page, `/audit?namespace=${ns.id}`);
  const table = page.getByRole('table', { name: 'Audit entries' });
  const entries = table.getByRole('row').filter({ has: page.getByRole('button', { name: 'Details' }) });
  await expect(entries.filter({ hasText: 'key.create' })).toHaveCount(3);

  const source = page.getByLabel('Source', { exact: true });
  await source.selectOption('console');
  await expect(page).toHaveURL(/source=console/);
  await expect(entries).toHaveCount(1);
  await expect(entries.first()).toContainText(`${p}-console`);
  await source.selectOption('kevi');
  await expect(entries).toHaveCount(1);
  await expect(entries.first()).toContainText(service);
  await source.selectOption('');

  await commit(page.getByLabel('User', { exact: true }), service);
  await expect(page).toHaveURL(new RegExp(`user=${service}`));
  await expect(entries).toHaveCount(1);
  await expect(entries.first()).toContainText('from-kevi');
  await commit(page.getByLabel('User', { exact: true }), '');

  await commit(page.getByLabel('Key prefix'), `${p}-con`);
  await expect(page).toHaveURL(/prefix=/);
  await expect(entries).toHaveCount(1);
  await expect(entries.first()).toContainText(`${p}-console`);
  await commit(page.getByLabel('Key prefix'), '');

  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  await commit(page.getByLabel('From', { exact: true }), tomorrow);
  await expect(page).toHaveURL(new RegExp(`from=${tomorrow}`));
  await expect(entries).toHaveCount(0);
  await commit(page.getByLabel('From', { exact: true }), today);
  await commit(page.getByLabel('To', { exact: true }), today);
  await expect(entries.filter({ hasText: 'key.create' })).toHaveCount(3);
});

test('namespaces past one page, and back', async ({ page, request }) => {
  test.setTimeout(120_000);
  const prefix = uniqueTitle('pg');
  for (let i = 0; i < 53; i++) {
    await call(request, 'create_namespace', { title: `${prefix}-${String(i).padStart(2, '0')}` });
  }
  await gotoHydrated(page, `/?search=${encodeURIComponent(prefix)}`);
  const pages = page.getByRole('navigation', { name: 'Pages' });
  await expect(pages).toContainText('Page 1 of 2');
  await expect(page.locator('li[data-namespace]')).toHaveCount(50);
  await expect(page.getByText(`${prefix}-49`)).toBeVisible();
  await pages.getByRole('link', { name: 'Next' }).click();
  await expect(page).toHaveURL(/page=2/);
  await expect(pages).toContainText('Page 2 of 2');
  await expect(page.locator('li[data-namespace]')).toHaveCount(3);
  await expect(page.getByText(`${prefix}-52`)).toBeVisible();
  await expect(pages.getByRole('link', { name: 'Next' })).toHaveCount(0);
  await pages.getByRole('link', { name: 'Previous' }).click();
  await expect(pages).toContainText('Page 1 of 2');
  await expect(page.getByText(`${prefix}-00`)).toBeVisible();
});

test('an unknown address shows the 404 page', async ({ page }) => {
  const res = await page.goto('/no/such/page');
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await expect(page.getByText('There is nothing at this address.')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Namespaces' }).first()).toBeVisible();
});
