import { expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated, putKeys } from './helpers';

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
  await dialog.getByRole('button', { name: 'Apply tags' }).click();

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
