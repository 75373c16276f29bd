import { expect, test } from '@playwright/test';
import { cloudflareURL } from '../cloudflare-env';
import { call, gotoHydrated, previewThen, uniqueTitle } from './helpers';

// The console over the Cloudflare backend (a server whose keys live on the main test server, as
// they would on Cloudflare): a namespace made, keys added, edited and bulk-deleted there end up on
// "Cloudflare", read back through its own API.

test('namespaces, keys, the editor and bulk delete on the Cloudflare backend', async ({ page, request }) => {
  const title = uniqueTitle('cf');
  await gotoHydrated(page, `${cloudflareURL}/`);
  await expect(page.locator('html')).toHaveAttribute('data-remote-store', 'true');
  await page.getByRole('button', { name: 'Create namespace' }).click();
  const create = page.getByRole('dialog', { name: 'Create namespace' });
  await create.getByLabel('Title').fill(title);
  await create.getByRole('button', { name: 'Create' }).click();
  await expect(create).toBeHidden();
  const made = page.locator('li[data-namespace]').filter({ hasText: title });
  await expect(made).toBeVisible();
  const id = await made.getAttribute('data-namespace');
  // On "Cloudflare" under the same id.
  expect((await call(request, 'get_namespace', { namespace_id: id })).title).toBe(title);

  await gotoHydrated(page, `${cloudflareURL}/namespaces/${id}`);
  for (const key of ['cf:1', 'cf:2', 'cf:3']) {
    await page.getByRole('button', { name: 'Add key' }).click();
    const add = page.getByRole('dialog', { name: 'Add key' });
    await add.getByLabel('Key').fill(key);
    await add.getByLabel('Value').fill(`value of ${key}`);
    await add.getByLabel('Metadata (JSON)').fill('{"via":"b"}');
    await add.getByRole('button', { name: 'Save' }).click();
    await expect(add).toBeHidden();
    await expect(page.getByRole('link', { name: key, exact: true })).toBeVisible();
  }
  const onCloudflare = await call(request, 'get_key', { namespace_id: id, key: 'cf:2' });
  expect([onCloudflare.value, onCloudflare.metadata]).toEqual(['value of cf:2', { via: 'b' }]);

  await page.getByRole('link', { name: 'cf:2', exact: true }).click();
  const editor = page.getByRole('dialog', { name: 'Edit cf:2' });
  await expect(editor.getByLabel('Value')).toHaveValue('value of cf:2');
  await editor.getByLabel('Value').fill('edited on b');
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect(editor.getByRole('status')).toHaveText('Saved');
  await page.keyboard.press('Escape');
  expect((await call(request, 'get_key', { namespace_id: id, key: 'cf:2' })).value).toBe('edited on b');

  await page.getByRole('checkbox', { name: 'Select cf:1', exact: true }).check();
  await page.getByRole('checkbox', { name: 'Select cf:3', exact: true }).check();
  await page.getByRole('region', { name: 'Bulk actions' }).getByRole('button', { name: 'Delete selected' }).click();
  await previewThen(page.getByRole('dialog', { name: 'Delete selected keys' }), 'Delete');
  const progress = page.getByRole('dialog', { name: 'Progress: Delete keys' });
  await expect(progress.getByTestId('job-status')).toHaveText('completed');
  await progress.getByRole('button', { name: 'Close' }).click();
  await expect(page.getByRole('link', { name: 'cf:1', exact: true })).toHaveCount(0);
  const left = await call(request, 'list_keys', { namespace_id: id });
  expect(left.keys.map((k: any) => k.name)).toEqual(['cf:2']);
});

test('on the Cloudflare backend a change made on Cloudflare meanwhile stops the editor from overwriting it', async ({ page, request }) => {
  const ns = await call(request, 'create_namespace', { title: uniqueTitle('cf-conflict') });
  await call(request, 'put_key', { namespace_id: ns.id, key: 'doc', value: 'first' });
  await gotoHydrated(page, `${cloudflareURL}/namespaces/${ns.id}?key=doc`);
  const editor = page.getByRole('dialog', { name: 'Edit doc' });
  await expect(editor.getByLabel('Value')).toHaveValue('first');
  // Written on "Cloudflare" directly, not through this console.
  await call(request, 'put_key', { namespace_id: ns.id, key: 'doc', value: 'changed on cloudflare' });
  await editor.getByLabel('Value').fill('mine');
  await editor.getByRole('button', { name: 'Save' }).click();
  const conflict = editor.getByTestId('conflict');
  await expect(conflict.getByTestId('conflict-message')).toContainText('was changed since version');
  await expect(conflict.getByTestId('value-diff')).toContainText('- changed on cloudflare');
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 'doc' })).value).toBe('changed on cloudflare');
  await conflict.getByRole('button', { name: 'Overwrite with mine' }).click();
  await expect(editor.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 'doc' })).value).toBe('mine');
});
