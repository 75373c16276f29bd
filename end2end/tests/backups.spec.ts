import { expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated, putKeys, uniqueTitle } from './helpers';

// The Backups page: "Back up now" for a namespace, the backup listed with its key count, then
// "Restore…" into a new namespace: a preview first (every key created, nothing written yet), then
// the restore as a job, and a link to the namespace it made.

test('a namespace is backed up and restored into a new namespace after a preview', async ({ page, request }) => {
  test.setTimeout(120_000);
  const ns = await createNamespace(request);
  const names = ['b/one', 'b/three', 'b/two'];
  await putKeys(request, ns.id, names);

  await gotoHydrated(page, '/backups');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Backups' })).toHaveAttribute('aria-current', 'page');
  const form = page.getByRole('form', { name: 'Back up now' });
  await form.getByRole('checkbox', { name: ns.title, exact: true }).check();
  await expect(form.getByLabel('Target')).toHaveValue('local');
  await form.getByRole('button', { name: 'Back up now' }).click();
  const backingUp = page.getByRole('dialog', { name: 'Progress: Backup' });
  await expect(backingUp.getByTestId('job-status')).toHaveText('completed');
  await backingUp.getByRole('button', { name: 'Close' }).click();

  // The list is read again when the backup ends.
  const row = page.getByRole('table', { name: 'Backups' }).getByRole('row').filter({ hasText: ns.title });
  await expect(row).toHaveCount(1);
  const cells = row.getByRole('cell');
  await expect(cells.nth(1)).toHaveText(ns.title);
  await expect(cells.nth(3)).toHaveText('3');
  await expect(cells.nth(5)).toHaveText('complete');
  await row.getByRole('button', { name: 'Restore…' }).click();

  const dialog = page.getByRole('dialog', { name: 'Restore a backup' });
  await dialog.getByLabel('A new namespace').check();
  const title = uniqueTitle('restored');
  await dialog.getByLabel('New namespace title').fill(title);
  await dialog.getByRole('button', { name: 'Preview' }).click();
  const preview = dialog.getByTestId('restore-preview');
  await expect(preview).toContainText('Created: 3');
  for (const count of ['Changed: 0', 'Deleted: 0', 'Unchanged: 0', 'Kept as they are (by the mode): 0', 'Expired (not written): 0', 'Failed: 0']) {
    await expect(preview).toContainText(count);
  }
  await expect(preview).toContainText(names.join(', '));
  // The preview makes no namespace.
  expect((await call(request, 'list_namespaces', { search: title })).namespaces).toEqual([]);

  // A changed field asks for a new preview.
  await dialog.getByLabel('Overwrite').check();
  await expect(preview).toHaveCount(0);
  await expect(dialog.getByRole('button', { name: 'Preview' })).toBeVisible();
  await dialog.getByLabel('Add missing keys').check();
  await dialog.getByRole('button', { name: 'Preview' }).click();
  await expect(preview).toContainText('Created: 3');

  await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
  const restoring = page.getByRole('dialog', { name: 'Progress: Restore' });
  await expect(restoring.getByTestId('job-status')).toHaveText('completed');
  await restoring.getByRole('button', { name: 'Close' }).click();

  await page.getByRole('status').filter({ hasText: 'Restore completed into' }).getByRole('link', { name: title }).click();
  await expect(page.getByRole('heading', { level: 1, name: title })).toBeVisible();
  for (const name of names) {
    await expect(page.getByRole('link', { name, exact: true })).toBeVisible();
  }
  const restored = (await call(request, 'list_namespaces', { search: title })).namespaces;
  expect(restored.map((n: any) => n.title)).toEqual([title]);
  expect((await call(request, 'get_key', { namespace_id: restored[0].id, key: 'b/two' })).value).toBe('value of b/two');
});

test('several namespaces are backed up by one job, one backup each', async ({ page, request }) => {
  test.setTimeout(90_000);
  const first = await createNamespace(request);
  const second = await createNamespace(request);
  await putKeys(request, first.id, ['x/1', 'x/2']);
  await putKeys(request, second.id, ['y/1', 'y/2', 'y/3', 'y/4']);

  await gotoHydrated(page, '/backups');
  const form = page.getByRole('form', { name: 'Back up now' });
  // Nothing chosen: the form says so at the field and starts nothing.
  await form.getByRole('button', { name: 'Back up now' }).click();
  await expect(form.getByText('choose a namespace')).toBeVisible();
  await form.getByRole('checkbox', { name: first.title, exact: true }).check();
  await form.getByRole('checkbox', { name: second.title, exact: true }).check();
  await form.getByRole('button', { name: 'Back up now' }).click();
  const progress = page.getByRole('dialog', { name: 'Progress: Backup' });
  await expect(progress).toContainText('2 namespaces');
  await expect(progress.getByTestId('job-status')).toHaveText('completed');
  await progress.getByRole('button', { name: 'Close' }).click();

  const table = page.getByRole('table', { name: 'Backups' });
  for (const [ns, keys] of [[first, '2'], [second, '4']] as const) {
    const row = table.getByRole('row').filter({ hasText: ns.title });
    await expect(row).toHaveCount(1);
    await expect(row.getByRole('cell').nth(3)).toHaveText(keys);
  }
  // One job made both.
  const jobs = (await call(request, 'list_jobs', { type: 'backup', namespace_id: first.id })).jobs;
  expect(jobs).toHaveLength(1);
  expect(jobs[0].result.backups.map((b: any) => b.namespace_id)).toEqual([first.id, second.id]);
});


test('the preview of a restore over changed keys shows a diff of any one of them', async ({ page, request }) => {
  test.setTimeout(90_000);
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, ['c/one', 'c/two', 'c/three']);
  const job = await call(request, 'start_backup', { namespace_id: ns.id });
  await expect.poll(async () => (await call(request, 'get_job', { job_id: job.job_id })).status).toBe('completed');
  await call(request, 'put_key', { namespace_id: ns.id, key: 'c/one', value: 'one changed' });
  await call(request, 'put_key', { namespace_id: ns.id, key: 'c/two', value: 'value of c/two', metadata: { note: 'added' } });

  await gotoHydrated(page, '/backups');
  const row = page.getByRole('table', { name: 'Backups' }).getByRole('row').filter({ hasText: ns.title });
  await row.getByRole('button', { name: 'Restore…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Restore a backup' });
  await dialog.getByLabel('Overwrite').check();
  await dialog.getByRole('button', { name: 'Preview' }).click();
  const preview = dialog.getByTestId('restore-preview');
  await expect(preview).toContainText('Changed: 2');
  await expect(preview).toContainText('Unchanged: 1');

  const changed = preview.getByTestId('changed-key');
  const choice = changed.getByLabel('Compare a changed key');
  await expect(changed.getByRole('option')).toHaveText(['c/one', 'c/two']);
  await expect(changed.getByTestId('value-diff')).toContainText('- one changed');
  await expect(changed.getByTestId('value-diff')).toContainText('+ value of c/one');
  // The other key differs in its metadata only.
  await choice.selectOption({ label: 'c/two' });
  await expect(changed).toContainText('The value is the same.');
  await expect(changed).toContainText('Also different: metadata.');
  await expect(changed.getByTestId('value-diff')).toHaveCount(0);
});
