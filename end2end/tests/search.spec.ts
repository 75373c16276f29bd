import { expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated, uniqueTitle } from './helpers';

test('tag keys in two namespaces, find them by substring and by tag, open one', async ({ page, request }) => {
  const marker = uniqueTitle('m').replace(/[^a-z0-9]/g, '');
  const first = await createNamespace(request);
  const second = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: first.id, key: `order:${marker}:a`, value: 'first value' });
  await call(request, 'put_key', { namespace_id: second.id, key: `order:${marker}:b`, value: 'second value' });
  await call(request, 'put_key', { namespace_id: second.id, key: `other:${marker}`, value: 'x' });
  const tag = `t-${marker}`.slice(0, 60);

  // Tag the first key from the editor's "Tags & metadata" tab.
  await gotoHydrated(page, `/namespaces/${first.id}?key=${encodeURIComponent(`order:${marker}:a`)}`);
  const editor = page.getByRole('dialog', { name: `Edit order:${marker}:a` });
  await editor.getByRole('tab', { name: 'Tags & metadata' }).click();
  await editor.getByLabel('Add tag').fill(tag);
  await editor.getByLabel('Add tag').press('Enter');
  await editor.getByLabel('Custom metadata (JSON)').fill('{"team":"orders"}');
  await editor.getByRole('button', { name: 'Save details' }).click();
  await expect(editor.getByRole('status')).toHaveText('Details saved');
  expect((await call(request, 'get_key_details', { namespace_id: first.id, key: `order:${marker}:a` })).tags).toEqual([tag]);
  // The second through the API.
  await call(request, 'put_key_details', { namespace_id: second.id, key: `order:${marker}:b`, tags: [tag.toUpperCase()] });

  // Substring, case-insensitive, across both namespaces.
  await gotoHydrated(page, '/search');
  await page.getByLabel('Search keys').fill(`${marker.toUpperCase()}:`);
  await expect(page).toHaveURL(new RegExp(`q=${marker.toUpperCase()}`));
  await expect(page.getByRole('link', { name: `order:${marker}:a` })).toBeVisible();
  await expect(page.getByRole('link', { name: `order:${marker}:b` })).toBeVisible();
  await expect(page.getByRole('link', { name: `other:${marker}` })).toHaveCount(0);
  await expect(page.getByTestId('search-count')).toHaveText('2 of 2 matching keys shown');

  // By tag alone; the search is a link.
  await gotoHydrated(page, '/search');
  await page.getByRole('button', { name: new RegExp(`^${tag} \\(2\\)$`, 'i') }).click();
  await expect(page).toHaveURL(/tags=/);
  await expect(page.getByTestId('search-count')).toHaveText('2 of 2 matching keys shown');
  await page.reload();
  await expect(page.getByRole('link', { name: `order:${marker}:b` })).toBeVisible();

  // Opening a result opens that key in its namespace's editor.
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await page.getByRole('link', { name: `order:${marker}:b` }).click();
  await expect(page).toHaveURL(new RegExp(`/namespaces/${second.id}\\?key=`));
  const opened = page.getByRole('dialog', { name: `Edit order:${marker}:b` });
  await expect(opened.getByLabel('Value')).toHaveValue('second value');
});

test('an empty search says what to do, a fruitless one says so', async ({ page }) => {
  await gotoHydrated(page, '/search');
  await expect(page.getByText('to search every namespace at once')).toBeVisible();
  await page.getByLabel('Search keys').fill(`nothing-${Date.now()}`);
  await expect(page.getByText('No keys match.')).toBeVisible();
});

test('the keys page shows tags and filters by one', async ({ page, request }) => {
  const ns = await createNamespace(request);
  for (const key of ['a', 'b', 'c']) {
    await call(request, 'put_key', { namespace_id: ns.id, key, value: key });
  }
  await call(request, 'put_key_details', { namespace_id: ns.id, key: 'b', tags: ['blue'] });
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  const row = page.getByRole('row', { name: /^b blue/ });
  await expect(row).toBeVisible();
  await page.getByLabel('Filter by tag').selectOption('blue');
  await expect(page).toHaveURL(/tag=blue/);
  await expect(page.getByTestId('key-count')).toHaveText('1 keys shown');
  await expect(page.getByRole('link', { name: 'a', exact: true })).toHaveCount(0);
});

test('a search is saved by name, opened from its link, replaced and deleted', async ({ page, request }) => {
  const marker = uniqueTitle('s').replace(/[^a-z0-9]/g, '');
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: `plan:${marker}:1`, value: 'pro' });
  await call(request, 'put_key', { namespace_id: ns.id, key: `plan:${marker}:2`, value: 'free' });
  const name = `Plans ${marker}`;

  await gotoHydrated(page, '/search');
  const saved = page.getByRole('region', { name: 'Saved searches' });
  await expect(saved.getByRole('form', { name: 'Save this search' })).toHaveCount(0);
  await page.getByLabel('Search keys').fill(`plan:${marker}`);
  await expect(page.getByTestId('search-count')).toHaveText('2 of 2 matching keys shown');
  const form = saved.getByRole('form', { name: 'Save this search' });
  await form.getByLabel('Name').fill(name);
  await form.getByRole('button', { name: 'Save search' }).click();
  const link = saved.getByRole('link', { name, exact: true });
  await expect(link).toHaveAttribute('href', `/search?q=plan%3A${marker}`);
  await expect(form.getByLabel('Name')).toHaveValue('');

  // Opened later from its link: the same search runs.
  await gotoHydrated(page, '/search');
  await expect(page.getByTestId('search-count')).toHaveCount(0);
  await link.click();
  await expect(page).toHaveURL(new RegExp(`/search\\?q=plan%3A${marker}$`));
  await expect(page.getByLabel('Search keys')).toHaveValue(`plan:${marker}`);
  await expect(page.getByTestId('search-count')).toHaveText('2 of 2 matching keys shown');

  // Saved again under its name with a narrower search: replaced, not doubled.
  await page.getByLabel('Search keys').fill(`plan:${marker}:1`);
  await expect(page.getByTestId('search-count')).toHaveText('1 of 1 matching keys shown');
  await form.getByLabel('Name').fill(name);
  await form.getByRole('button', { name: 'Save search' }).click();
  await expect(saved.getByRole('link', { name, exact: true })).toHaveAttribute('href', `/search?q=plan%3A${marker}%3A1`);
  expect((await call(request, 'list_saved_searches', {})).filter((s: any) => s.name === name)).toHaveLength(1);

  await saved.getByRole('button', { name: `Delete saved search ${name}` }).click();
  await expect(saved.getByRole('link', { name, exact: true })).toHaveCount(0);
  expect((await call(request, 'list_saved_searches', {})).filter((s: any) => s.name === name)).toHaveLength(0);
});
