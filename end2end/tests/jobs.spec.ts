import { APIRequestContext, expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import { call, createNamespace, gotoHydrated, previewThen, putKeys } from './helpers';

test('bulk tag from the keys page, with live progress', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, ['alpha', 'beta', 'gamma']);
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await page.getByRole('checkbox', { name: 'Select alpha' }).check();
  await page.getByRole('checkbox', { name: 'Select gamma' }).check();
  const bar = page.getByRole('region', { name: 'Bulk actions' });
  await expect(bar.getByTestId('selection-summary')).toHaveText('Selected: 2 keys');
  await bar.getByRole('button', { name: 'Apply tags' }).click();
  const dialog = page.getByRole('dialog', { name: 'Apply tags' });
  await dialog.getByLabel('Tags', { exact: true }).fill('hot, eu');
  await dialog.getByLabel('Add these tags').check();
  // A preview first: nothing is written until the dialog's button is pressed again.
  await dialog.getByRole('button', { name: 'Preview' }).click();
  const preview = dialog.getByTestId('bulk-preview');
  await expect(preview).toContainText('Changed: 2');
  await expect(preview).toContainText('alpha, gamma');
  expect((await call(request, 'get_key_details', { namespace_id: ns.id, key: 'alpha' })).tags).toEqual([]);
  // Changing the dialog asks for a new preview.
  await dialog.getByLabel('Tags', { exact: true }).fill('hot, eu, x');
  await expect(preview).toHaveCount(0);
  await dialog.getByLabel('Tags', { exact: true }).fill('hot, eu');
  await previewThen(dialog, 'Apply tags');

  const progress = page.getByRole('dialog', { name: 'Progress: Apply tags' });
  await expect(progress.getByTestId('job-status')).toHaveText('completed');
  await expect(progress.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');
  await expect(progress.getByTestId('job-processed')).toHaveText('2');
  await expect(progress.getByTestId('job-channel')).toHaveText('Live');
  await expect(progress.getByRole('button', { name: 'Cancel' })).toBeDisabled();
  await expect(progress.getByRole('link', { name: 'View in job history' })).toHaveAttribute('href', /\/jobs\?job=bulk_tag-/);
  await page.keyboard.press('Escape');
  await expect(progress).toBeHidden();

  // The list refreshed when the job ended: the tags show on the two keys only.
  const row = (key: string) => page.getByRole('row').filter({ has: page.getByRole('link', { name: key, exact: true }) });
  await expect(row('alpha')).toContainText('hot');
  await expect(row('alpha')).toContainText('eu');
  await expect(row('gamma')).toContainText('hot');
  await expect(row('beta')).not.toContainText('hot');
  const details = await call(request, 'get_key_details', { namespace_id: ns.id, key: 'alpha' });
  expect(details.tags.sort()).toEqual(['eu', 'hot']);
});

/** Writes `count` keys `<prefix>000000…` in one import job through the upload endpoint. */
async function importKeys(request: APIRequestContext, namespaceId: string, count: number, prefix = 'k:') {
  const lines = Array.from({ length: count }, (_, i) => JSON.stringify({ name: `${prefix}${String(i).padStart(6, '0')}`, value: `v${i}` }));
  const res = await request.post(`/api/import/${namespaceId}?collision=overwrite`, { data: lines.join('\n') + '\n', headers: { 'Content-Type': 'application/x-ndjson' } });
  expect(res.status()).toBe(202);
  const { job_id } = await res.json();
  await expect.poll(async () => (await call(request, 'get_job', { job_id })).status, { timeout: 60_000 }).toBe('completed');
}

test('bulk delete of the selected keys', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, ['keep', 'drop:1', 'drop:2']);
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await page.getByRole('checkbox', { name: 'Select drop:1' }).check();
  await page.getByRole('checkbox', { name: 'Select drop:2' }).check();
  await page.getByRole('region', { name: 'Bulk actions' }).getByRole('button', { name: 'Delete selected' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete selected keys' });
  await expect(confirm).toContainText('Delete 2 keys?');
  await confirm.getByRole('button', { name: 'Preview' }).click();
  await expect(confirm.getByTestId('bulk-preview')).toContainText('Deleted: 2');
  await expect(confirm.getByTestId('bulk-preview')).toContainText('drop:1, drop:2');
  await expect(confirm.getByTestId('bulk-preview')).toContainText('Skipped (left as they are): 0');
  await confirm.getByRole('button', { name: 'Delete' }).click();
  const progress = page.getByRole('dialog', { name: 'Progress: Delete keys' });
  await expect(progress.getByTestId('job-status')).toHaveText('completed');
  await progress.getByRole('button', { name: 'Close' }).click();
  await expect(page.getByRole('link', { name: 'drop:1' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'drop:2' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'keep' })).toBeVisible();
  const left = await call(request, 'list_keys', { namespace_id: ns.id });
  expect(left.keys.map((k: any) => k.name)).toEqual(['keep']);
});

test('cancel a long delete of every matching key', async ({ page, request }) => {
  test.setTimeout(180_000);
  const ns = await createNamespace(request);
  // Enough keys that the job outlasts a click (a debug build deletes 20,000 in half a second).
  await importKeys(request, ns.id, 100_000);
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await expect(page.getByTestId('key-count')).toHaveText('500 keys shown');
  await page.getByRole('checkbox', { name: 'Select all', exact: true }).check();
  await page.getByRole('button', { name: 'Select all 100000 matching' }).click();
  const bar = page.getByRole('region', { name: 'Bulk actions' });
  await expect(bar.getByTestId('selection-summary')).toHaveText('Selected: all 100000 keys');
  await bar.getByRole('button', { name: 'Delete selected' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete selected keys' });
  await confirm.getByRole('button', { name: 'Preview' }).click();
  await expect(confirm.getByTestId('bulk-preview')).toContainText('Deleted: 100000', { timeout: 30_000 });
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  const progress = page.getByRole('dialog', { name: 'Progress: Delete keys' });
  await expect(progress.getByTestId('job-total')).toHaveText('100000');
  await progress.getByRole('button', { name: 'Cancel' }).click();
  await expect(progress.getByTestId('job-status')).toHaveText('cancelled', { timeout: 30_000 });
  const processed = Number(await progress.getByTestId('job-processed').textContent());
  expect(processed).toBeLessThan(100_000);
  await expect(progress.getByRole('button', { name: 'Cancel' })).toBeDisabled();
  const ns2 = await call(request, 'get_namespace', { namespace_id: ns.id });
  expect(ns2.key_count).toBeGreaterThan(0);
});

test('progress falls back to polling when the socket cannot open', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, ['a', 'b']);
  await page.routeWebSocket(/\/api\/jobs\/.*\/ws$/, (ws) => ws.close());
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await page.getByRole('checkbox', { name: 'Select all', exact: true }).check();
  await page.getByRole('region', { name: 'Bulk actions' }).getByRole('button', { name: 'Update TTL' }).click();
  const dialog = page.getByRole('dialog', { name: 'Update TTL' });
  await dialog.getByLabel('TTL (seconds)').fill('7200');
  await previewThen(dialog, 'Update TTL');
  const progress = page.getByRole('dialog', { name: 'Progress: Update TTL' });
  await expect(progress.getByTestId('job-channel')).toHaveText('Polling');
  await expect(progress.getByTestId('job-status')).toHaveText('completed');
  const key = await call(request, 'get_key', { namespace_id: ns.id, key: 'a' });
  expect(key.expiration).toBeGreaterThan(Date.now() / 1000 + 7000);
});

test('import a file chosen with the picker', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'user:1', value: 'old' });
  await gotoHydrated(page, `/?search=${encodeURIComponent(ns.title)}`);
  await page.locator(`li[data-namespace="${ns.id}"]`).getByRole('button', { name: 'Import' }).click();
  const dialog = page.getByRole('dialog', { name: `Import into ${ns.title}` });
  const start = dialog.getByRole('button', { name: 'Start import' });
  await expect(start).toBeDisabled();

  // A file with problems is explained before anything is sent.
  await dialog.getByLabel('File').setInputFiles({
    name: 'bad.ndjson',
    mimeType: 'application/x-ndjson',
    buffer: Buffer.from('{"name":"a","value":"1"}\nnot json\n{"value":"x"}\n{"name":"b"}\n'),
  });
  const problems = dialog.getByRole('list', { name: 'Problems' });
  await expect(problems.getByRole('listitem')).toHaveCount(3);
  await expect(problems).toContainText('line 2: not valid JSON');
  await expect(problems).toContainText('line 3: missing "name" (or "key")');
  await expect(problems).toContainText('line 4: b: missing "value"');
  await expect(start).toBeDisabled();

  const items = Array.from({ length: 7 }, (_, i) => ({ name: `user:${i + 1}`, value: `value ${i + 1}`, tags: ['imported'] }));
  await dialog.getByLabel('File').setInputFiles({
    name: 'users.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(items)),
  });
  await expect(dialog.getByTestId('import-check')).toContainText('JSON detected; 7 items.');
  const preview = dialog.getByRole('table', { name: 'Preview' });
  await expect(preview.getByRole('row')).toHaveCount(6);
  await expect(preview).toContainText('user:5');
  await expect(preview).not.toContainText('user:6');
  await dialog.getByLabel('Overwrite existing keys').check();
  await start.click();

  const progress = page.getByRole('dialog', { name: 'Progress: Import' });
  await expect(progress.getByTestId('job-status')).toHaveText('completed');
  await expect(progress.getByTestId('job-processed')).toHaveText('7');
  await progress.getByRole('button', { name: 'Close' }).click();
  // The namespaces list refreshed with the new count.
  await expect(page.locator(`li[data-namespace="${ns.id}"]`)).toContainText('7 keys');

  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await expect(page.getByTestId('key-count')).toHaveText('7 keys shown');
  await expect(page.getByRole('link', { name: 'user:7' })).toBeVisible();
  const key = await call(request, 'get_key', { namespace_id: ns.id, key: 'user:1' });
  expect(key.value).toBe('value 1');
});

test('export as NDJSON downloads the file', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, ['cfg:a', 'cfg:b', 'other']);
  await gotoHydrated(page, `/?search=${encodeURIComponent(ns.title)}`);
  await page.locator(`li[data-namespace="${ns.id}"]`).getByRole('button', { name: 'Export' }).click();
  const dialog = page.getByRole('dialog', { name: `Export ${ns.title}` });
  await dialog.getByLabel('NDJSON (one key per line)').check();
  await dialog.getByLabel('Prefix (optional)').fill('cfg:');
  const download = page.waitForEvent('download');
  await dialog.getByRole('button', { name: 'Start export' }).click();
  const progress = page.getByRole('dialog', { name: 'Progress: Export' });
  await expect(progress.getByTestId('job-status')).toHaveText('completed');
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/\.ndjson$/);
  const text = fs.readFileSync(await file.path(), 'utf8');
  const lines = text.trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.map((l) => [l.name, l.value])).toEqual([
    ['cfg:a', 'value of cfg:a'],
    ['cfg:b', 'value of cfg:b'],
  ]);
});

test('the jobs page shows a job and its timeline', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, ['x', 'y']);
  const started = await call(request, 'bulk_tag', { namespace_id: ns.id, keys: ['x', 'y'], tags: ['t'], operation: 'add' });
  await expect.poll(async () => (await call(request, 'get_job', { job_id: started.job_id })).status).toBe('completed');

  await gotoHydrated(page, `/jobs?ns=${ns.id}`);
  await expect(page.getByLabel('Namespace')).toHaveValue(ns.id);
  const table = page.getByRole('table', { name: 'Jobs' });
  const row = table.locator(`tr[data-job="${started.job_id}"]`);
  await expect(row).toContainText('Apply tags');
  await expect(row).toContainText(ns.title);
  await expect(row).toContainText('completed');
  await expect(row).toContainText('100% (2 / 2)');

  // Filters live in the URL.
  await page.getByLabel('Status').selectOption('completed');
  await expect(page).toHaveURL(/status=completed/);
  await expect(page).toHaveURL(new RegExp(`ns=${ns.id}`));
  await expect(row).toBeVisible();

  await row.getByRole('link', { name: 'Apply tags' }).click();
  await expect(page).toHaveURL(new RegExp(`job=${started.job_id}`));
  const details = page.getByRole('region', { name: 'Job details' });
  const timeline = details.getByRole('list', { name: 'Timeline' });
  await expect(timeline.locator('li[data-event="created"]')).toBeVisible();
  await expect(timeline.locator('li[data-event="started"]')).toBeVisible();
  const completed = timeline.locator('li[data-event="completed"]');
  await expect(completed).toContainText(/just now|seconds? ago/);
  await expect(completed).toContainText(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
  await expect(completed).toContainText('2 of 2 processed');

  // A link with ?job= opens the details directly, on the server's first render too.
  await gotoHydrated(page, `/jobs?job=${started.job_id}`);
  await expect(page.getByRole('region', { name: 'Job details' }).locator('li[data-event="completed"]')).toBeVisible();
});
