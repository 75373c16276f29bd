import { expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated, putKeys } from './helpers';

// "Rewind…" on a namespace's page: a preview of what a rewind of the keys under the prefix
// filter would do, then the rewind as a job; keys outside the prefix are left alone.

/** Waits until the clock has passed into a later second than `unix` (versions are stamped in
 *  whole seconds: the moment must fall strictly between the writes before and after it). */
async function pastSecond(unix: number) {
  while (Math.floor(Date.now() / 1000) <= unix) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `YYYY-MM-DDTHH:MM:SS` in UTC, as the dialog's datetime-local field takes it. */
function utcField(unix: number): string {
  return new Date(unix * 1000).toISOString().slice(0, 19);
}

test('a prefix is rewound from the namespace page after a preview', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, ['t/changed', 't/deleted', 'other/x']);
  await pastSecond(Math.floor(Date.now() / 1000));
  const moment = Math.floor(Date.now() / 1000);
  await pastSecond(moment);
  await call(request, 'put_key', { namespace_id: ns.id, key: 't/changed', value: 'changed after' });
  await call(request, 'delete_key', { namespace_id: ns.id, key: 't/deleted' });
  await call(request, 'put_key', { namespace_id: ns.id, key: 't/created', value: 'created after' });
  await call(request, 'put_key', { namespace_id: ns.id, key: 'other/x', value: 'outside the prefix' });

  await gotoHydrated(page, `/namespaces/${ns.id}?prefix=t%2F`);
  await page.getByRole('button', { name: 'Rewind…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Rewind to a moment' });
  await expect(dialog.getByLabel('Only keys starting with')).toHaveValue('t/');
  await dialog.getByLabel('Moment (UTC)').fill(utcField(moment));
  await dialog.getByRole('button', { name: 'Preview' }).click();
  const preview = dialog.getByTestId('rewind-preview');
  await expect(preview).toContainText('Come back (deleted since): 1');
  await expect(preview).toContainText('t/deleted');
  await expect(preview).toContainText('Change back: 1');
  await expect(preview).toContainText('Deleted (created since): 1');
  await expect(preview).toContainText('t/created');
  await expect(preview).toContainText('Unchanged: 0');
  // The changed key's value now and then, as a line diff.
  const changed = preview.getByTestId('changed-key');
  await expect(changed.getByLabel('Compare a changed key')).toHaveValue('0');
  await expect(changed.getByRole('option')).toHaveText(['t/changed']);
  const diff = changed.getByTestId('value-diff');
  await expect(diff).toContainText('- changed after');
  await expect(diff).toContainText('+ value of t/changed');
  // Nothing is written by the preview.
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 't/changed' })).value).toBe('changed after');

  // A new moment asks for a new preview.
  await dialog.getByLabel('Moment (UTC)').fill(utcField(moment - 1));
  await expect(preview).toHaveCount(0);
  await dialog.getByLabel('Moment (UTC)').fill(utcField(moment));
  await dialog.getByRole('button', { name: 'Preview' }).click();
  await expect(preview).toContainText('Change back: 1');

  await dialog.getByRole('button', { name: 'Rewind' }).click();
  const progress = page.getByRole('dialog', { name: 'Progress: Rewind' });
  await expect(progress.getByTestId('job-status')).toHaveText('completed');
  await progress.getByRole('button', { name: 'Close' }).click();

  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 't/changed' })).value).toBe('value of t/changed');
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 't/deleted' })).value).toBe('value of t/deleted');
  const names = (await call(request, 'list_keys', { namespace_id: ns.id })).keys.map((k: any) => k.name);
  expect(names).toEqual(['other/x', 't/changed', 't/deleted']);
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 'other/x' })).value).toBe('outside the prefix');
});
