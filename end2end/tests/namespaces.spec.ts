import { expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated, putKeys, uniqueTitle } from './helpers';

test('create, rename and delete a namespace', async ({ page, request }) => {
  const title = uniqueTitle('create');
  await gotoHydrated(page, '/');
  await page.getByRole('button', { name: 'Create namespace' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create namespace' });
  await dialog.getByLabel('Title').fill(title);
  await dialog.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(dialog).toBeHidden();
  // The list refreshes on its own (a fresh database holds fewer than 50 namespaces).
  await expect(page.locator('li[data-namespace]', { hasText: title })).toBeVisible();

  // The title search is a GET form: its query lands in the URL.
  await page.getByLabel('Search namespaces').fill(title);
  await page.getByLabel('Search namespaces').press('Enter');
  await expect(page).toHaveURL(new RegExp(`[?&]search=${title}`));
  await expect(page.locator('li[data-namespace]')).toHaveCount(1);
  const row = page.locator('li[data-namespace]', { hasText: title });
  await expect(row).toContainText('0 keys');

  const renamed = `${title}-renamed`;
  await row.getByRole('button', { name: 'Rename' }).click();
  const rename = page.getByRole('dialog', { name: `Rename ${title}` });
  await rename.getByLabel('Title').fill(renamed);
  await rename.getByRole('button', { name: 'Save' }).click();
  await expect(rename).toBeHidden();
  await expect(page.locator('li[data-namespace]', { hasText: renamed })).toBeVisible();
  const list = await call(request, 'list_namespaces', { search: renamed });
  expect(list.namespaces.map((n: any) => n.title)).toEqual([renamed]);

  const renamedRow = page.locator('li[data-namespace]', { hasText: renamed });
  await renamedRow.getByRole('button', { name: 'Delete' }).click();
  const del = page.getByRole('dialog', { name: `Delete ${renamed}` });
  await del.getByRole('button', { name: 'Delete' }).click();
  await expect(del).toBeHidden();
  await expect(page.locator('li[data-namespace]', { hasText: renamed })).toHaveCount(0);
  expect((await call(request, 'list_namespaces', { search: renamed })).total).toBe(0);
});

test('a duplicate title is refused next to the field', async ({ page, request }) => {
  const existing = await createNamespace(request);
  await gotoHydrated(page, '/');
  await page.getByRole('button', { name: 'Create namespace' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create namespace' });
  await dialog.getByLabel('Title').fill(existing.title);
  await dialog.getByRole('button', { name: 'Create', exact: true }).click();
  // The server's own message, right under the Title field.
  const refused = await request.post('/api/create_namespace', { data: { title: existing.title }, headers: { Accept: 'application/json' } });
  expect(refused.status()).toBe(409);
  const { error } = await refused.json();
  expect(error.field).toBe('title');
  const alert = dialog.getByRole('alert');
  await expect(alert).toHaveCount(1);
  await expect(alert).toHaveText(error.message);
  await expect(alert).toContainText('already exists');
  await expect(dialog.locator('label:has-text("Title") + [role=alert]')).toHaveText(error.message);
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
});

test('deleting a namespace with keys asks for its title', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, ['one', 'two']);
  await gotoHydrated(page, `/?search=${encodeURIComponent(ns.title)}`);
  await page.locator(`li[data-namespace="${ns.id}"]`).getByRole('button', { name: 'Delete' }).click();
  const dialog = page.getByRole('dialog', { name: `Delete ${ns.title}` });
  const confirm = dialog.getByRole('button', { name: 'Delete' });
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel('Type the title to confirm').fill('wrong');
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel('Type the title to confirm').fill(ns.title);
  await confirm.click();
  await expect(dialog).toBeHidden();
  await expect(page.locator(`li[data-namespace="${ns.id}"]`)).toHaveCount(0);
  const res = await request.post('/api/get_namespace', { data: { namespace_id: ns.id }, headers: { Accept: 'application/json' } });
  expect(res.status()).toBe(404);
});

test('namespace ids and key names are copied to the clipboard', async ({ page, context, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'user:42/profile', value: 'v' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);

  await gotoHydrated(page, `/?search=${encodeURIComponent(ns.title)}`);
  const row = page.locator(`li[data-namespace="${ns.id}"]`);
  await row.getByRole('button', { name: 'Copy namespace id' }).click();
  await expect(row.getByTestId('copy-status')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(ns.id);

  await gotoHydrated(page, `/namespaces/${ns.id}?key=${encodeURIComponent('user:42/profile')}`);
  const editor = page.getByRole('dialog', { name: 'Edit user:42/profile' });
  await editor.getByRole('button', { name: 'Copy key name' }).click();
  await expect(editor.getByTestId('copy-status')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('user:42/profile');
  await editor.getByRole('button', { name: 'Close' }).first().click();
  await page.getByRole('button', { name: 'Copy namespace id' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(ns.id);
});

test('namespaces show as a list or a grid, remembered for the user', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await gotoHydrated(page, `/?search=${encodeURIComponent(ns.title)}`);
  const choice = page.getByRole('group', { name: 'Show namespaces as' });
  const list = page.locator('ul[data-view]');
  await expect(choice.getByRole('button', { name: 'List' })).toHaveAttribute('aria-pressed', 'true');
  await expect(list).toHaveAttribute('data-view', 'list');
  try {
    await choice.getByRole('button', { name: 'Grid' }).click();
    await expect(list).toHaveAttribute('data-view', 'grid');
    await expect(choice.getByRole('button', { name: 'Grid' })).toHaveAttribute('aria-pressed', 'true');
    await expect.poll(async () => (await call(request, 'get_settings', {})).namespace_view).toBe('grid');
    // Remembered: the server renders the grid on the next visit, before any script runs.
    const html = await (await request.get(`/?search=${encodeURIComponent(ns.title)}`)).text();
    expect(html).toContain('data-view="grid"');
    await gotoHydrated(page, `/?search=${encodeURIComponent(ns.title)}`);
    await expect(list).toHaveAttribute('data-view', 'grid');
    await expect(page.locator(`li[data-namespace="${ns.id}"]`).getByRole('link', { name: ns.title })).toBeVisible();
    await choice.getByRole('button', { name: 'List' }).click();
    await expect(list).toHaveAttribute('data-view', 'list');
  } finally {
    await call(request, 'set_setting', { name: 'namespace_view', value: 'list' });
  }
});
