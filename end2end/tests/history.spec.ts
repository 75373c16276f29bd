import { expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated } from './helpers';

test('edit twice, then restore the first value from History', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'doc', value: 'first' });
  await gotoHydrated(page, `/namespaces/${ns.id}?key=doc`);
  const editor = page.getByRole('dialog', { name: 'Edit doc' });
  for (const value of ['second', 'third']) {
    await editor.getByLabel('Value').fill(value);
    await editor.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(editor.getByRole('status')).toHaveText('Saved');
  }
  await editor.getByRole('tab', { name: 'History' }).click();
  const rows = editor.locator('tr[data-version]');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText('local');
  await expect(rows.nth(0)).toContainText('update');

  const oldest = editor.locator('tr[data-version="1"]');
  await oldest.getByRole('button', { name: 'View' }).click();
  await expect(editor.getByTestId('version-value')).toHaveText('first');
  await oldest.getByRole('button', { name: 'Restore' }).click();
  await expect(editor.getByRole('status')).toHaveText('Version 1 restored');
  await expect(rows).toHaveCount(3);
  await expect(editor.locator('tr[data-version="3"]')).toContainText('restore');

  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 'doc' })).value).toBe('first');
  await editor.getByRole('tab', { name: 'Value' }).click();
  await expect(editor.getByLabel('Value')).toHaveValue('first');
});
