import { expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated } from './helpers';

// The keyboard alone: Ctrl-K's palette to a namespace, j / k through its keys, e to edit one,
// / to the filter field (where letters type instead of acting), ? for the list of shortcuts.

test('palette, row keys, search focus and help, by keyboard alone', async ({ page, request }) => {
  const ns = await createNamespace(request);
  for (const key of ['kb:1', 'kb:2', 'kb:3']) {
    await call(request, 'put_key', { namespace_id: ns.id, key, value: `value of ${key}` });
  }
  await gotoHydrated(page, '/');

  await page.keyboard.press('Control+k');
  const palette = page.getByRole('dialog', { name: 'Go to' });
  const field = palette.getByLabel('Page, namespace or key');
  await expect(field).toBeFocused();
  await page.keyboard.type(ns.title);
  const results = palette.getByTestId('palette-results');
  await expect(results.getByRole('link', { name: `Namespace ${ns.title}` })).toBeVisible();
  await page.keyboard.press('ArrowDown');
  await expect(results.getByRole('link').first()).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/namespaces/${ns.id}$`));
  await expect(palette).toHaveCount(0);

  // j / k move through the rows: the key's link takes the focus.
  await expect(page.getByRole('link', { name: 'kb:3', exact: true })).toBeVisible();
  await page.keyboard.press('j');
  await expect(page.getByRole('link', { name: 'kb:1', exact: true })).toBeFocused();
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await expect(page.getByRole('link', { name: 'kb:3', exact: true })).toBeFocused();
  await page.keyboard.press('k');
  await expect(page.getByRole('link', { name: 'kb:2', exact: true })).toBeFocused();
  // e opens the row's key in the editor.
  await page.keyboard.press('e');
  const editor = page.getByRole('dialog', { name: 'Edit kb:2' });
  await expect(editor.getByLabel('Value')).toHaveValue('value of kb:2');
  // Letters typed in the editor are text, not shortcuts.
  await editor.getByLabel('Value').press('End');
  await page.keyboard.type(' jk');
  await expect(editor.getByLabel('Value')).toHaveValue('value of kb:2 jk');
  await page.keyboard.press('Escape');
  await expect(editor).toHaveCount(0);

  // / focuses the filter field; typing there filters, j does not move.
  await page.keyboard.press('/');
  const filter = page.getByLabel('Filter by prefix');
  await expect(filter).toBeFocused();
  await page.keyboard.type('kb:j');
  await expect(filter).toHaveValue('kb:j');
  await expect(page).toHaveURL(/\?prefix=kb%3Aj$/);
  await expect(page.getByRole('dialog')).toHaveCount(0);

  // ? lists the shortcuts (from outside a field).
  await filter.blur();
  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(help.getByTestId('shortcuts')).toContainText('Open the command palette');
  await expect(help.getByTestId('shortcuts')).toContainText('Edit the row');
  await page.keyboard.press('Escape');
  await expect(help).toHaveCount(0);

  // The palette finds keys by part of their name, and pages by name.
  await page.keyboard.press('Control+k');
  await page.keyboard.type('kb:3');
  await expect(palette.getByTestId('palette-results').getByRole('link', { name: `Key kb:3 · ${ns.title}` })).toBeVisible();
  await field.fill('audit');
  await expect(palette.getByTestId('palette-results').getByRole('link', { name: 'Page Audit log' })).toBeVisible();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/audit$/);
});
