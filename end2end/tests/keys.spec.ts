import { expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated, putKeys } from './helpers';

test('add, edit and delete a key', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await page.getByRole('button', { name: 'Add key' }).click();
  const add = page.getByRole('dialog', { name: 'Add key' });
  await add.getByLabel('Key').fill('config:site');
  await add.getByLabel('Value').fill('{"theme":"dark"}');
  await add.getByLabel('Metadata (JSON)').fill('{"owner":"web"}');
  await add.getByRole('button', { name: 'Save' }).click();
  await expect(add).toBeHidden();
  await expect(page.getByRole('link', { name: 'config:site' })).toBeVisible();
  let key = await call(request, 'get_key', { namespace_id: ns.id, key: 'config:site' });
  expect(key.value).toBe('{"theme":"dark"}');
  expect(key.metadata).toEqual({ owner: 'web' });

  await page.getByRole('link', { name: 'config:site' }).click();
  const editor = page.getByRole('dialog', { name: 'Edit config:site' });
  await expect(editor.getByLabel('Value')).toHaveValue('{"theme":"dark"}');
  await editor.getByLabel('Value').fill('{"theme":"light"}');
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect(editor.getByRole('status')).toHaveText('Saved');
  key = await call(request, 'get_key', { namespace_id: ns.id, key: 'config:site' });
  expect(key.value).toBe('{"theme":"light"}');

  await editor.getByRole('button', { name: 'Delete' }).click();
  await editor.getByRole('button', { name: 'Confirm delete' }).click();
  await expect(editor).toBeHidden();
  await expect(page.getByRole('link', { name: 'config:site' })).toHaveCount(0);
  const res = await request.post('/api/get_key', {
    data: { namespace_id: ns.id, key: 'config:site' },
    headers: { Accept: 'application/json' },
  });
  expect(res.status()).toBe(404);
});

test('editing a value keeps its metadata and TTL', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'session', value: 'v1', metadata: { a: 1 }, expiration_ttl: 3600 });
  const before = await call(request, 'get_key', { namespace_id: ns.id, key: 'session' });

  await gotoHydrated(page, `/namespaces/${ns.id}?key=session`);
  const editor = page.getByRole('dialog', { name: 'Edit session' });
  await expect(editor.getByLabel('Value')).toHaveValue('v1');
  await expect(editor.getByLabel('Metadata (JSON)')).toHaveValue(/"a": 1/);
  // A key with an expiration opens in date-and-time mode, showing its UTC time to the minute.
  await expect(editor.getByLabel('At a date and time')).toBeChecked();
  await expect(editor.getByLabel('Expires at (UTC)')).toHaveValue(new Date(before.expiration * 1000).toISOString().slice(0, 16));
  await editor.getByLabel('Value').fill('v2');
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect(editor.getByRole('status')).toHaveText('Saved');
  await page.keyboard.press('Escape');
  await expect(editor).toBeHidden();
  await expect(page).toHaveURL(new RegExp(`/namespaces/${ns.id}$`));

  const after = await call(request, 'get_key', { namespace_id: ns.id, key: 'session' });
  expect(after.value).toBe('v2');
  expect(after.metadata).toEqual({ a: 1 });
  // The field shows minutes only, yet an untouched field keeps the exact second.
  expect(after.expiration).toBe(before.expiration);
});

test('the prefix filter lives in the URL and survives a reload', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, ['apple', 'apricot', 'banana']);
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await page.getByLabel('Filter by prefix').fill('ap');
  await expect(page).toHaveURL(/\?prefix=ap$/);
  await expect(page.getByRole('link', { name: 'banana' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'apricot' })).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Filter by prefix')).toHaveValue('ap');
  await expect(page.getByRole('link', { name: 'apple' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'banana' })).toHaveCount(0);
});

test('"Load more" pages through 1,500 keys', async ({ page, request }) => {
  test.setTimeout(120_000);
  const ns = await createNamespace(request);
  const names = Array.from({ length: 1500 }, (_, i) => `item:${String(i).padStart(4, '0')}`);
  await putKeys(request, ns.id, names);
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await expect(page.getByTestId('key-count')).toHaveText('500 keys shown');
  const more = page.getByRole('button', { name: 'Load more' });
  while (await more.isVisible()) {
    const shown = await page.getByTestId('key-count').textContent();
    await more.click();
    await expect(page.getByTestId('key-count')).not.toHaveText(shown ?? '');
  }
  await expect(page.getByTestId('key-count')).toHaveText('1500 keys shown');
  await expect(page.getByRole('link', { name: 'item:1499' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'item:0000' })).toBeVisible();
});

test('two editors of one key: the second save meets a conflict with a diff, then reloads or overwrites', async ({ browser, request, baseURL }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'shared', value: 'line one\nline two\nline three' });
  const first = await browser.newContext({ baseURL });
  const second = await browser.newContext({ baseURL });
  await second.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  try {
    const alice = await first.newPage();
    const bob = await second.newPage();
    await gotoHydrated(alice, `/namespaces/${ns.id}?key=shared`);
    await gotoHydrated(bob, `/namespaces/${ns.id}?key=shared`);
    const aliceEditor = alice.getByRole('dialog', { name: 'Edit shared' });
    const bobEditor = bob.getByRole('dialog', { name: 'Edit shared' });
    await expect(aliceEditor.getByLabel('Value')).toHaveValue('line one\nline two\nline three');
    await expect(bobEditor.getByLabel('Value')).toHaveValue('line one\nline two\nline three');

    // Alice saves first.
    await aliceEditor.getByLabel('Value').fill('line one\nline 2 by alice\nline three');
    await aliceEditor.getByRole('button', { name: 'Save' }).click();
    await expect(aliceEditor.getByRole('status').first()).toHaveText('Saved');

    // Bob's save, based on the version he opened, is refused: who, a diff, and nothing written.
    await bobEditor.getByLabel('Value').fill('line one\nline two\nline three\nline four by bob');
    await bobEditor.getByRole('button', { name: 'Save' }).click();
    const conflict = bobEditor.getByTestId('conflict');
    await expect(conflict).toBeVisible();
    await expect(conflict.getByTestId('conflict-message')).toContainText(/changed by \S+ at \d{4}-\d\d-\d\dT/);
    const diff = conflict.getByTestId('value-diff');
    await expect(diff).toContainText('- line 2 by alice');
    await expect(diff).toContainText('+ line two');
    await expect(diff).toContainText('+ line four by bob');
    await expect(bobEditor.getByRole('status').filter({ hasText: 'Saved' })).toHaveCount(0);
    let stored = await call(request, 'get_key', { namespace_id: ns.id, key: 'shared' });
    expect(stored.value).toBe('line one\nline 2 by alice\nline three');

    // "Copy mine" puts Bob's edit on the clipboard.
    await conflict.getByRole('button', { name: 'Copy mine' }).click();
    await expect(conflict.getByRole('status')).toHaveText('Your value was copied to the clipboard.');
    expect(await bob.evaluate(() => navigator.clipboard.readText())).toBe('line one\nline two\nline three\nline four by bob');

    // "Overwrite with mine" writes Bob's edit over the version he was shown.
    await conflict.getByRole('button', { name: 'Overwrite with mine' }).click();
    await expect(bobEditor.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
    await expect(conflict).toBeHidden();
    stored = await call(request, 'get_key', { namespace_id: ns.id, key: 'shared' });
    expect(stored.value).toBe('line one\nline two\nline three\nline four by bob');

    // Alice, still on her saved version, now meets Bob's write and reloads it.
    await aliceEditor.getByLabel('Value').fill('alice again');
    await aliceEditor.getByRole('button', { name: 'Save' }).click();
    await expect(aliceEditor.getByTestId('conflict')).toBeVisible();
    await aliceEditor.getByRole('button', { name: 'Reload theirs' }).click();
    await expect(aliceEditor.getByTestId('conflict')).toBeHidden();
    await expect(aliceEditor.getByLabel('Value')).toHaveValue('line one\nline two\nline three\nline four by bob');
    // Reloaded, her next save is based on the version now, and lands.
    await aliceEditor.getByLabel('Value').fill('alice after reload');
    await aliceEditor.getByRole('button', { name: 'Save' }).click();
    await expect(aliceEditor.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
    stored = await call(request, 'get_key', { namespace_id: ns.id, key: 'shared' });
    expect(stored.value).toBe('alice after reload');

    // A key deleted meanwhile: Bob is told so, and can create it again with his value.
    await call(request, 'delete_key', { namespace_id: ns.id, key: 'shared' });
    await bobEditor.getByLabel('Value').fill('bob restores it');
    await bobEditor.getByRole('button', { name: 'Save' }).click();
    await expect(bobEditor.getByTestId('conflict-message')).toContainText('deleted');
    await bobEditor.getByRole('button', { name: 'Create it again with mine' }).click();
    await expect(bobEditor.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
    stored = await call(request, 'get_key', { namespace_id: ns.id, key: 'shared' });
    expect(stored.value).toBe('bob restores it');
  } finally {
    await first.close();
    await second.close();
  }
});

test('rename a key from its editor: it moves whole, and a taken name is refused unless replaced', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'draft', value: 'v1', metadata: { m: 1 } });
  await call(request, 'put_key', { namespace_id: ns.id, key: 'draft', value: 'v2', metadata: { m: 2 } });
  await call(request, 'put_key_details', { namespace_id: ns.id, key: 'draft', tags: ['blue'] });
  await call(request, 'put_key', { namespace_id: ns.id, key: 'taken', value: 'other' });
  await gotoHydrated(page, `/namespaces/${ns.id}?key=draft`);
  let editor = page.getByRole('dialog', { name: 'Edit draft' });
  await expect(editor.getByLabel('Value')).toHaveValue('v2');
  await editor.getByRole('button', { name: 'Rename' }).click();
  const form = editor.getByRole('form', { name: 'Rename key' });
  await form.getByLabel('New name').fill('taken');
  await form.getByRole('button', { name: 'Rename key' }).click();
  await expect(form.getByRole('alert')).toContainText('new_name');
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 'taken' })).value).toBe('other');

  await form.getByLabel('New name').fill('published');
  await form.getByRole('button', { name: 'Rename key' }).click();
  // The editor shows the key under its new name, and the list has it instead of the old one.
  editor = page.getByRole('dialog', { name: 'Edit published' });
  await expect(editor.getByLabel('Value')).toHaveValue('v2');
  await expect(page).toHaveURL(/key=published/);
  await page.keyboard.press('Escape');
  await expect(page.getByRole('link', { name: 'published', exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'draft', exact: true })).toHaveCount(0);
  const moved = await call(request, 'get_key', { namespace_id: ns.id, key: 'published' });
  expect([moved.value, moved.metadata]).toEqual(['v2', { m: 2 }]);
  expect((await call(request, 'get_key_details', { namespace_id: ns.id, key: 'published' })).tags).toEqual(['blue']);
  const history = await call(request, 'list_key_versions', { namespace_id: ns.id, key: 'published' });
  expect(history.versions.length).toBe(1);

  // Replacing a key of that name, when asked to.
  await gotoHydrated(page, `/namespaces/${ns.id}?key=published`);
  editor = page.getByRole('dialog', { name: 'Edit published' });
  await expect(editor.getByLabel('Value')).toHaveValue('v2');
  await editor.getByRole('button', { name: 'Rename' }).click();
  await editor.getByLabel('New name').fill('taken');
  await editor.getByLabel('Replace a key of that name').check();
  await editor.getByRole('button', { name: 'Rename key' }).click();
  await expect(page.getByRole('dialog', { name: 'Edit taken' }).getByLabel('Value')).toHaveValue('v2');
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 'taken' })).value).toBe('v2');
});
