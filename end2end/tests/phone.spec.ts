import { Page, expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated } from './helpers';

// Lists on a phone (390 px wide): every table's rows become cards, each cell after its
// column's heading, so a key name gets the width of the screen instead of a squeezed column.

test.use({ viewport: { width: 390, height: 844 } });

/** The heading a cell shows before itself (its `::before` content), without the quotes. */
async function cellLabel(page: Page, selector: string): Promise<string> {
  return page.locator(selector).first().evaluate((td) => getComputedStyle(td, '::before').content.replace(/^"|"$/g, ''));
}

test('the keys, jobs and audit tables are cards on a phone', async ({ page, request }) => {
  const ns = await createNamespace(request);
  const long = 'tenant/4242/settings/notifications';
  await call(request, 'put_key', { namespace_id: ns.id, key: long, value: 'v', metadata: { a: 1 } });
  await call(request, 'put_key', { namespace_id: ns.id, key: 'short', value: 'v' });

  await gotoHydrated(page, `/namespaces/${ns.id}`);
  const link = page.getByRole('link', { name: long, exact: true });
  await expect(link).toBeVisible();
  const box = (await link.boundingBox())!;
  // On one line, most of the screen wide: not squeezed into a narrow column.
  expect(box.width).toBeGreaterThan(200);
  expect(box.height).toBeLessThan(30);
  expect(await cellLabel(page, 'table.data-cards tbody tr td:nth-last-child(5)')).toBe('Key');
  expect(await cellLabel(page, 'table.data-cards tbody tr td:nth-last-child(2)')).toBe('Size');
  await expect(page.locator('table.data-cards thead')).toHaveCSS('position', 'absolute');
  // Nothing wider than the screen.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

  const job = await call(request, 'bulk_tag', { namespace_id: ns.id, keys: ['short'], tags: ['t'], operation: 'add' });
  await expect.poll(async () => (await call(request, 'get_job', { job_id: job.job_id })).status).toBe('completed');
  await gotoHydrated(page, `/jobs?ns=${ns.id}`);
  expect(await cellLabel(page, 'table.data-cards tbody tr td:nth-last-child(7)')).toBe('Type');
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await gotoHydrated(page, `/audit?namespace=${ns.id}`);
  expect(await cellLabel(page, 'table.data-cards tbody tr td:nth-last-child(7)')).toBe('Time');
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
});

test('on a wide screen the tables keep their columns', async ({ page, request }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'k', value: 'v' });
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await expect(page.locator('table.data-cards thead')).toHaveCSS('position', 'static');
  expect(await cellLabel(page, 'table.data-cards tbody tr td:nth-last-child(5)')).toBe('none');
});
