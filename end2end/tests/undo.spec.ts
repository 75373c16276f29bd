import { APIRequestContext, expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated } from './helpers';

// A bulk delete previewed (a dry run), run, then undone with "Undo…" in the job history: a
// preview of what goes back, then the undo as a job of its own; afterwards the namespace's
// export is what it was before the job.

/** The namespace's NDJSON export, as text. */
async function exportText(request: APIRequestContext, namespaceId: string): Promise<string> {
  const started = await call(request, 'start_export', { namespace_id: namespaceId, format: 'ndjson' });
  let job: any;
  await expect
    .poll(async () => (job = await call(request, 'get_job', { job_id: started.job_id })).status, { timeout: 30_000 })
    .toBe('completed');
  const res = await request.get(job.result.download_url);
  expect(res.status()).toBe(200);
  return res.text();
}

test('a bulk delete is previewed, run, then undone from the job history: the export is as before', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'drop:1', value: 'one', metadata: { n: 1 } });
  await call(request, 'put_key', { namespace_id: ns.id, key: 'drop:2', value: 'two', expiration_ttl: 86400 });
  await call(request, 'put_key', { namespace_id: ns.id, key: 'keep', value: 'kept' });
  const before = await exportText(request, ns.id);

  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await page.getByRole('checkbox', { name: 'Select drop:1' }).check();
  await page.getByRole('checkbox', { name: 'Select drop:2' }).check();
  await page.getByRole('region', { name: 'Bulk actions' }).getByRole('button', { name: 'Delete selected' }).click();
  // A dry run first: what the delete would do, nothing written.
  const confirm = page.getByRole('dialog', { name: 'Delete selected keys' });
  await confirm.getByRole('button', { name: 'Preview' }).click();
  await expect(confirm.getByTestId('bulk-preview')).toContainText('Deleted: 2');
  await expect(confirm.getByTestId('bulk-preview')).toContainText('drop:1, drop:2');
  expect(await exportText(request, ns.id)).toEqual(before);
  await confirm.getByRole('button', { name: 'Delete' }).click();
  const progress = page.getByRole('dialog', { name: 'Progress: Delete keys' });
  await expect(progress.getByTestId('job-status')).toHaveText('completed');
  expect(await exportText(request, ns.id)).not.toEqual(before);
  await progress.getByRole('link', { name: 'View in job history' }).click();

  const details = page.getByRole('region', { name: 'Job details' });
  await details.getByRole('button', { name: 'Undo…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Undo this job' });
  const preview = dialog.getByTestId('undo-preview');
  await expect(preview).toContainText('Come back (the job deleted them): 2');
  await expect(preview).toContainText('drop:1, drop:2');
  await expect(preview).toContainText('Changed again since (left alone): 0');
  // The preview wrote nothing.
  expect((await call(request, 'list_keys', { namespace_id: ns.id })).keys.map((k: any) => k.name)).toEqual(['keep']);

  await dialog.getByRole('button', { name: 'Undo' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page).toHaveURL(/job=undo-/);
  const undoId = new URL(page.url()).searchParams.get('job')!;
  await expect.poll(async () => (await call(request, 'get_job', { job_id: undoId })).status).toBe('completed');
  await details.getByRole('button', { name: 'Refresh' }).click();
  await expect(details.locator('dd').nth(0)).toHaveText('Undo');
  await expect(details.locator('dd').nth(1)).toHaveText('completed');
  expect(await exportText(request, ns.id)).toEqual(before);
  // The undo can itself be undone.
  await expect(details.getByRole('button', { name: 'Undo…' })).toBeVisible();
});

test('a job of a kind that cannot be undone offers no Undo', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'x', value: '1' });
  const started = await call(request, 'bulk_tag', { namespace_id: ns.id, keys: ['x'], tags: ['t'], operation: 'add' });
  await expect.poll(async () => (await call(request, 'get_job', { job_id: started.job_id })).status).toBe('completed');
  await gotoHydrated(page, `/jobs?job=${started.job_id}`);
  const details = page.getByRole('region', { name: 'Job details' });
  await expect(details).toContainText('Apply tags');
  await expect(details.getByRole('button', { name: 'Undo…' })).toHaveCount(0);
});
