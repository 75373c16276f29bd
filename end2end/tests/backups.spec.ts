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
  await form.getByLabel('Namespace', { exact: true }).selectOption({ label: ns.title });
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
