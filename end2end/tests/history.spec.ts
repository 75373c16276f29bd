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

test('compare a version with another version and with the current value', async ({ page, request }) => {
  const ns = await createNamespace(request);
  const put = (value: string) => call(request, 'put_key', { namespace_id: ns.id, key: 'conf', value });
  await put('{\n  "a": 1,\n  "b": 2,\n  "c": 3\n}');
  await put('{\n  "a": 1,\n  "c": 4\n}');
  await put('{\n  "a": 1,\n  "c": 4,\n  "d": 5\n}');
  await gotoHydrated(page, `/namespaces/${ns.id}?key=conf`);
  const editor = page.getByRole('dialog', { name: 'Edit conf' });
  await editor.getByRole('tab', { name: 'History' }).click();
  await editor.locator('tr[data-version="1"]').getByRole('button', { name: 'View' }).click();
  const compare = editor.getByLabel('Compare with');

  // Version 2 is newer: the diff runs from version 1 to it.
  await compare.selectOption('version 2');
  const versions = editor.getByRole('region', { name: 'From version 1 to version 2' });
  await expect(versions.getByTestId('value-diff')).toHaveText(
    ['  {', '    "a": 1,', '-   "b": 2,', '-   "c": 3', '+   "c": 4', '  }'].join(''),
  );
  await expect(versions).toContainText('1 lines added, 2 removed');

  // The current value is the newest.
  await compare.selectOption('the current value');
  const current = editor.getByRole('region', { name: 'From version 1 to the current value' });
  await expect(current.getByTestId('value-diff')).toContainText('+   "d": 5');
  await expect(current).toContainText('2 lines added, 2 removed');
});
