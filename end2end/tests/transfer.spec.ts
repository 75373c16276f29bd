import { Page, expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import { call, createNamespace, gotoHydrated, putKeys } from './helpers';

// Import in its skip and fail modes, a file dropped on the dialog, pasted text, and a JSON export.

async function openImport(page: Page, ns: { id: string; title: string }) {
  await gotoHydrated(page, `/?search=${encodeURIComponent(ns.title)}`);
  await page.locator(`li[data-namespace="${ns.id}"]`).getByRole('button', { name: 'Import' }).click();
  return page.getByRole('dialog', { name: `Import into ${ns.title}` });
}

const ndjson = (items: object[]) => Buffer.from(items.map((i) => JSON.stringify(i)).join('\n') + '\n');

test('import skips existing keys by default', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'taken', value: 'mine' });
  const dialog = await openImport(page, ns);
  await dialog.getByLabel('File').setInputFiles({
    name: 'keys.ndjson',
    mimeType: 'application/x-ndjson',
    buffer: ndjson([
      { name: 'taken', value: 'theirs' },
      { name: 'fresh', value: 'new' },
    ]),
  });
  await expect(dialog.getByTestId('import-check')).toContainText('NDJSON detected; 2 items.');
  await expect(dialog.getByLabel('Skip existing keys')).toBeChecked();
  await dialog.getByRole('button', { name: 'Start import' }).click();
  const progress = page.getByRole('dialog', { name: 'Progress: Import' });
  await expect(progress.getByTestId('job-status')).toHaveText('completed');
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 'taken' })).value).toBe('mine');
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 'fresh' })).value).toBe('new');
  const job = await call(request, 'list_jobs', { namespace_id: ns.id });
  expect(job.jobs[0].skipped).toBe(1);
});

test('import in fail mode writes nothing when any key exists', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'k2', value: 'existing' });
  const dialog = await openImport(page, ns);
  await dialog.getByLabel('File').setInputFiles({
    name: 'keys.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify([1, 2, 3].map((i) => ({ name: `k${i}`, value: `v${i}` })))),
  });
  await dialog.getByLabel('Fail if any key exists').check();
  await expect(dialog).toContainText('Nothing is written unless every key in the file is new.');
  await dialog.getByRole('button', { name: 'Start import' }).click();
  const progress = page.getByRole('dialog', { name: 'Progress: Import' });
  await expect(progress.getByTestId('job-status')).toHaveText('failed');
  await expect(progress).toContainText('k2');
  const keys = await call(request, 'list_keys', { namespace_id: ns.id });
  expect(keys.keys.map((k: any) => k.name)).toEqual(['k2']);
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 'k2' })).value).toBe('existing');
});

test('a file dropped on the import dialog is checked and imported', async ({ page, request }) => {
  const ns = await createNamespace(request);
  const dialog = await openImport(page, ns);
  const text = ndjson([
    { name: 'dropped:1', value: 'one' },
    { name: 'dropped:2', value: 'two', tags: ['dnd'] },
  ]).toString();
  const dataTransfer = await page.evaluateHandle((content) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([content], 'dropped.ndjson', { type: 'application/x-ndjson' }));
    return transfer;
  }, text);
  const zone = dialog.getByTestId('drop-zone');
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
  await expect(dialog.getByTestId('chosen-file')).toContainText('dropped.ndjson');
  await expect(dialog.getByTestId('import-check')).toContainText('NDJSON detected; 2 items.');
  await dialog.getByRole('button', { name: 'Start import' }).click();
  const progress = page.getByRole('dialog', { name: 'Progress: Import' });
  await expect(progress.getByTestId('job-status')).toHaveText('completed');
  await expect(progress.getByTestId('job-processed')).toHaveText('2');
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 'dropped:2' })).value).toBe('two');
  expect((await call(request, 'get_key_details', { namespace_id: ns.id, key: 'dropped:2' })).tags).toEqual(['dnd']);
});

test('export as JSON downloads one array of every key', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, ['j:1', 'j:2', 'j:3']);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'j:meta', value: 'm', metadata: { by: 'e2e' } });
  await gotoHydrated(page, `/?search=${encodeURIComponent(ns.title)}`);
  await page.locator(`li[data-namespace="${ns.id}"]`).getByRole('button', { name: 'Export' }).click();
  const dialog = page.getByRole('dialog', { name: `Export ${ns.title}` });
  await dialog.getByLabel('JSON (one array)').check();
  const download = page.waitForEvent('download');
  await dialog.getByRole('button', { name: 'Start export' }).click();
  const progress = page.getByRole('dialog', { name: 'Progress: Export' });
  await expect(progress.getByTestId('job-status')).toHaveText('completed');
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/\.json$/);
  const items = JSON.parse(fs.readFileSync(await file.path(), 'utf8'));
  expect(Array.isArray(items)).toBe(true);
  expect(items.map((i: any) => i.name)).toEqual(['j:1', 'j:2', 'j:3', 'j:meta']);
  expect(items[3].metadata).toEqual({ by: 'e2e' });
  expect(items[0].value).toBe('value of j:1');
});

test('import by pasting NDJSON, checked as a file would be', async ({ page, request }) => {
  const ns = await createNamespace(request);
  const dialog = await openImport(page, ns);
  const start = dialog.getByRole('button', { name: 'Start import' });
  const pasted = dialog.getByLabel('Or paste JSON or NDJSON');

  await pasted.fill('{"name":"a","value":"1"}\nnot json\n');
  await expect(dialog.getByRole('list', { name: 'Problems' })).toContainText('line 2: not valid JSON');
  await expect(start).toBeDisabled();
  await pasted.fill('');
  await expect(dialog.getByTestId('import-check')).toHaveCount(0);
  await expect(start).toBeDisabled();

  await pasted.fill('{"name":"pasted:1","value":"one","metadata":{"n":1}}\n{"name":"pasted:2","value":"two","tags":["p"]}\n');
  await expect(dialog.getByTestId('import-check')).toContainText('NDJSON detected; 2 items.');
  await expect(dialog.getByTestId('chosen-file')).toContainText('Pasted text');
  await start.click();
  const progress = page.getByRole('dialog', { name: 'Progress: Import' });
  await expect(progress.getByTestId('job-status')).toHaveText('completed');
  await expect(progress.getByTestId('job-processed')).toHaveText('2');
  const one = await call(request, 'get_key', { namespace_id: ns.id, key: 'pasted:1' });
  expect([one.value, one.metadata]).toEqual(['one', { n: 1 }]);
  const details = await call(request, 'get_key_details', { namespace_id: ns.id, key: 'pasted:2' });
  expect(details.tags).toEqual(['p']);
});
