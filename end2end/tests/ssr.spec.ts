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

test('search, jobs, tokens, services and a key read view render without JavaScript', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'ssr:read', value: 'read me', metadata: { v: 1 }, expiration_ttl: 86_400 });
  const job = await call(request, 'bulk_tag', { namespace_id: ns.id, keys: ['ssr:read'], tags: ['ssr'], operation: 'add' });
  await expect.poll(async () => (await call(request, 'get_job', { job_id: job.job_id })).status).toBe('completed');
  const token = `ssr-${Date.now()}`;
  await call(request, 'create_api_token', { name: token });

  // A key opened by its address reads in the page: value, metadata and expiration.
  await page.goto(`/namespaces/${ns.id}?key=${encodeURIComponent('ssr:read')}`);
  const view = page.getByRole('region', { name: 'Key ssr:read' });
  await expect(view.getByLabel('Value')).toHaveValue('read me');
  await expect(view.getByTestId('metadata-view')).toContainText('"v": 1');
  await expect(view.getByTestId('expiration-view')).toContainText('UTC');
  await expect(view.getByRole('link', { name: 'Close' })).toHaveAttribute('href', `/namespaces/${ns.id}`);

  // The search form works as a plain GET form.
  await page.goto('/search');
  await page.getByLabel('Search keys').fill('ssr:read');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/\/search\?q=ssr%3Aread/);
  await expect(page.getByRole('link', { name: 'ssr:read' }).first()).toBeVisible();

  await page.goto(`/jobs?ns=${ns.id}&job=${job.job_id}`);
  await expect(page.getByRole('heading', { name: 'Jobs', level: 1 })).toBeVisible();
  await expect(page.locator(`tr[data-job="${job.job_id}"]`)).toContainText('completed');
  await expect(page.getByRole('region', { name: 'Job details' })).toContainText('Apply tags');

  await page.goto('/tokens');
  await expect(page.getByRole('heading', { name: 'API tokens', level: 1 })).toBeVisible();
  await expect(page.getByRole('table', { name: 'API tokens' })).toContainText(token);

  await page.goto('/services');
  await expect(page.getByRole('heading', { name: 'Services', level: 1 })).toBeVisible();
  await expect(page.getByRole('region', { name: 'New service' })).toBeVisible();
});

test('the backups page renders its list and its plans without JavaScript', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, ['ssr:backed-up']);
  const job = await call(request, 'start_backup', { namespace_id: ns.id });
  await expect.poll(async () => (await call(request, 'get_job', { job_id: job.job_id })).status).toBe('completed');
  await call(request, 'save_backup_plan', { namespace_id: ns.id, prefix: 'ssr:', cron: '@yearly', keep_days: 90 });

  await page.goto('/backups');
  await expect(page.getByRole('heading', { name: 'Backups', level: 1 })).toBeVisible();
  const row = page.getByRole('table', { name: 'Backups' }).getByRole('row').filter({ hasText: ns.title });
  await expect(row.getByRole('cell').nth(3)).toHaveText('1');
  await expect(row.getByRole('cell').nth(5)).toHaveText('complete');
  await expect(page.getByRole('form', { name: 'Back up now' }).getByRole('checkbox', { name: ns.title, exact: true })).toHaveCount(1);
  await expect(page.getByLabel('Target')).toHaveValue('local');
  const plan = page.getByRole('table', { name: 'Backup plans' }).getByRole('row').filter({ has: page.getByRole('rowheader', { name: ns.title, exact: true }) });
  await expect(plan.getByRole('cell').nth(0)).toHaveText('ssr:');
  await expect(plan.getByRole('cell').nth(1)).toHaveText('@yearly');
  await expect(plan.getByRole('cell').nth(3)).toHaveText('90 days at most');
  await expect(plan.getByRole('cell').nth(4)).toHaveText('active');
  await expect(plan.getByRole('cell').nth(5)).toHaveText(`${new Date().getUTCFullYear() + 1}-01-01 00:00 UTC`);
});

test('the webhooks page renders its endpoints and a delivery log without JavaScript', async ({ page, request }) => {
  const ns = await createNamespace(request);
  // Disabled, so no event is sent to it; its test event finds nobody on port 9.
  const url = `http://127.0.0.1:9/ssr-${Date.now()}`;
  const hook = await call(request, 'create_webhook', {
    url,
    description: 'rendered on the server',
    events: ['key.deleted', 'job.completed'],
    namespace_id: ns.id,
    prefix: 'ssr:',
    enabled: false,
  });
  expect(hook.secret.length).toBeGreaterThanOrEqual(16);
  const attempt = await call(request, 'test_webhook', { id: hook.endpoint.id });
  expect(attempt.outcome).toBe('test_failed');

  await page.goto(`/webhooks?log=${hook.endpoint.id}`);
  await expect(page.getByRole('heading', { name: 'Webhooks', level: 1 })).toBeVisible();
  const row = page.getByRole('table', { name: 'Webhook endpoints' }).getByRole('row').filter({ has: page.getByRole('rowheader', { name: url }) });
  await expect(row).toContainText('rendered on the server');
  await expect(row.getByRole('cell').nth(0)).toHaveText('key.deletedjob.completed');
  await expect(row.getByRole('cell').nth(1)).toHaveText(`${ns.title}keys starting with ssr:`);
  await expect(row.getByTestId('webhook-state')).toHaveText('disabled');
  await expect(row.getByRole('link', { name: 'Delivery log' })).toHaveAttribute('href', `/webhooks?log=${hook.endpoint.id}`);
  const log = page.getByRole('region', { name: `Delivery log of ${url}` });
  const failed = log.getByRole('table', { name: 'Delivery attempts' }).getByRole('row').filter({ hasText: 'test failed' });
  await expect(failed).toHaveCount(1);
  await expect(failed.getByTestId('attempt-status')).toContainText('no answer');
  await expect(failed).toContainText(attempt.first_event);
  await expect(page.getByRole('region', { name: 'How to verify signatures' })).toContainText('HMAC-SHA256');
  await expect(page.getByText(hook.secret)).toHaveCount(0);
});

test('the dashboard renders its totals, charts and tables without JavaScript', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'ssr:counted', value: 'v' });
  await call(request, 'get_key', { namespace_id: ns.id, key: 'ssr:counted' });

  await page.goto(`/dashboard?namespace=${ns.id}&range=1h`);
  await expect(page.getByRole('heading', { name: 'Dashboard', level: 1 })).toBeVisible();
  await expect(page.getByTestId('total-writes').getByRole('definition')).toHaveText('1');
  await expect(page.getByTestId('total-reads').getByRole('definition')).toHaveText('1');
  await expect(page.getByTestId('total-keys').getByRole('definition')).toHaveText('1');
  const ops = page.getByRole('img', { name: 'Operations per minute' });
  await expect(ops).toHaveAccessibleDescription(/^Operations per minute over the last hour: 2 in all \(1 reads, 1 writes, 0 deletes, 0 lists\)/);
  await expect(ops.locator('path, line').first()).toBeAttached();
  await expect(page.getByRole('img', { name: 'Latency' })).toBeVisible();
  // "Show as table" opens without JavaScript.
  const chart = page.locator('[data-chart="ops"]');
  await chart.getByText('Show as table').click();
  await expect(chart.getByRole('table').getByRole('row')).toHaveCount(61);

  // The ranges are plain links, the namespace a plain form.
  await page.getByRole('navigation', { name: 'Range' }).getByRole('link', { name: '24 hours' }).click();
  await expect(page).toHaveURL(new RegExp(`/dashboard\\?range=24h&namespace=${ns.id}$`));
  await expect(page.getByRole('link', { name: '24 hours' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('img', { name: 'Operations per 15 minutes' })).toBeVisible();
  await page.getByRole('combobox', { name: 'Namespace', exact: true }).selectOption({ label: 'All namespaces' });
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/\/dashboard\?range=24h&namespace=$/);
  await expect(page.getByRole('table', { name: 'Busiest namespaces' })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Largest namespaces' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Health' })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Alert rules' }).or(page.getByText('No alert rules yet'))).toBeVisible();
});
