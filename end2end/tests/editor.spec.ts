import { Page, expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import { call, createNamespace, gotoHydrated } from './helpers';

// The key editor: new keys with a TTL and with a date, binary values, Format/Minify, each
// validation error next to its field, and removing a tag.

async function openAdd(page: Page, namespaceId: string) {
  await gotoHydrated(page, `/namespaces/${namespaceId}`);
  await page.getByRole('button', { name: 'Add key' }).click();
  return page.getByRole('dialog', { name: 'Add key' });
}

/** `yyyy-mm-ddThh:mm` in UTC, as the date field takes it. */
const utcMinute = (unix: number) => new Date(unix * 1000).toISOString().slice(0, 16);

test('a new key with a TTL in seconds', async ({ page, request }) => {
  const ns = await createNamespace(request);
  const add = await openAdd(page, ns.id);
  await add.getByLabel('Key').fill('with-ttl');
  await add.getByLabel('Value').fill('soon gone');
  await add.getByLabel('After seconds').check();
  await add.getByLabel('TTL (seconds)').fill('3600');
  const before = Math.floor(Date.now() / 1000);
  await add.getByRole('button', { name: 'Save' }).click();
  await expect(add).toBeHidden();
  const key = await call(request, 'get_key', { namespace_id: ns.id, key: 'with-ttl' });
  expect(key.expiration).toBeGreaterThanOrEqual(before + 3600 - 5);
  expect(key.expiration).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3600 + 5);
});

test('a new key that expires at a date and time (UTC)', async ({ page, request }) => {
  const ns = await createNamespace(request);
  const at = Math.floor(Date.now() / 1000 / 60) * 60 + 2 * 86_400;
  const add = await openAdd(page, ns.id);
  await add.getByLabel('Key').fill('with-date');
  await add.getByLabel('Value').fill('v');
  await add.getByLabel('At a date and time').check();
  await add.getByLabel('Expires at (UTC)').fill(utcMinute(at));
  await add.getByRole('button', { name: 'Save' }).click();
  await expect(add).toBeHidden();
  const key = await call(request, 'get_key', { namespace_id: ns.id, key: 'with-date' });
  expect(key.expiration).toBe(at);
});

test('each invalid field gets its own message, and nothing is written', async ({ page, request }) => {
  const ns = await createNamespace(request);
  const add = await openAdd(page, ns.id);
  const save = add.getByRole('button', { name: 'Save' });
  const alert = add.getByRole('alert');

  await add.getByLabel('Key').fill('k'.repeat(513));
  await save.click();
  await expect(alert).toContainText('key');
  await expect(alert).toContainText('512');

  await add.getByLabel('Key').fill('fine');
  await add.getByLabel('Metadata (JSON)').fill('{not json');
  await expect(add.getByText('not valid JSON', { exact: true })).toBeVisible();
  await save.click();
  await expect(alert).toContainText('metadata: not valid JSON');

  await add.getByLabel('Metadata (JSON)').fill(JSON.stringify({ big: 'x'.repeat(1100) }));
  await save.click();
  await expect(alert).toContainText('metadata');
  await expect(alert).toContainText('1024');

  // A TTL under 60 seconds is stopped by the field itself (min="60") before anything is sent.
  await add.getByLabel('Metadata (JSON)').fill('');
  await add.getByLabel('After seconds').check();
  const ttl = add.getByLabel('TTL (seconds)');
  await ttl.fill('30');
  await save.click();
  expect(await ttl.evaluate((el: HTMLInputElement) => el.validity.rangeUnderflow)).toBe(true);
  await expect(add).toBeVisible();

  await add.getByLabel('At a date and time').check();
  await save.click();
  await expect(alert).toContainText('expiration: enter a date and time');
  await add.getByLabel('Expires at (UTC)').fill(utcMinute(Math.floor(Date.now() / 1000) - 86_400));
  await save.click();
  await expect(alert).toContainText('expiration');

  const keys = await call(request, 'list_keys', { namespace_id: ns.id });
  expect(keys.keys).toEqual([]);
  await add.getByLabel('Never').check();
  await save.click();
  await expect(add).toBeHidden();
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 'fine' })).expiration).toBeNull();
});

test('a binary value is shown as base64 and downloads as its bytes', async ({ page, request }) => {
  const ns = await createNamespace(request);
  const bytes = Buffer.from([0, 1, 2, 254, 255, 0x80]);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'blob', value_base64: bytes.toString('base64') });
  await gotoHydrated(page, `/namespaces/${ns.id}?key=blob`);
  const editor = page.getByRole('dialog', { name: 'Edit blob' });
  await expect(editor.getByText('Value (base64: not UTF-8 text)')).toBeVisible();
  await expect(editor.getByLabel('Value')).toHaveValue(bytes.toString('base64'));
  const download = page.waitForEvent('download');
  await editor.getByRole('link', { name: 'Download value' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('blob');
  expect(fs.readFileSync(await file.path())).toEqual(bytes);

  // Saved again unchanged, it stays the same bytes.
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect(editor.getByRole('status')).toHaveText('Saved');
  const key = await call(request, 'get_key', { namespace_id: ns.id, key: 'blob' });
  expect(key.value_base64).toBe(bytes.toString('base64'));
});

test('Format and Minify rewrite a JSON value, which saves as shown', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'doc', value: '{"a":1,"b":[true,null]}' });
  await gotoHydrated(page, `/namespaces/${ns.id}?key=doc`);
  const editor = page.getByRole('dialog', { name: 'Edit doc' });
  const value = editor.getByLabel('Value');
  await editor.getByRole('button', { name: 'Format' }).click();
  await expect(value).toHaveValue('{\n  "a": 1,\n  "b": [\n    true,\n    null\n  ]\n}');
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect(editor.getByRole('status')).toHaveText('Saved');
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 'doc' })).value).toContain('\n  "a": 1');
  await editor.getByRole('button', { name: 'Minify' }).click();
  await expect(value).toHaveValue('{"a":1,"b":[true,null]}');
  // Text that is not JSON offers neither.
  await value.fill('plain text');
  await expect(editor.getByRole('button', { name: 'Format' })).toHaveCount(0);
  await expect(editor.getByRole('button', { name: 'Minify' })).toHaveCount(0);
});

test('remove a tag in the editor', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'tagged', value: 'v' });
  await call(request, 'put_key_details', { namespace_id: ns.id, key: 'tagged', tags: ['keep', 'drop'], custom_metadata: { n: 1 } });
  await gotoHydrated(page, `/namespaces/${ns.id}?key=tagged`);
  const editor = page.getByRole('dialog', { name: 'Edit tagged' });
  await editor.getByRole('tab', { name: 'Tags & metadata' }).click();
  const tags = editor.getByRole('list', { name: 'Tags' });
  await expect(tags.getByRole('listitem')).toHaveCount(2);
  await editor.getByRole('button', { name: 'Remove tag drop' }).click();
  await expect(tags.getByRole('listitem')).toHaveCount(1);
  await editor.getByRole('button', { name: 'Save details' }).click();
  await expect(editor.getByRole('status')).toHaveText('Details saved');
  const details = await call(request, 'get_key_details', { namespace_id: ns.id, key: 'tagged' });
  expect(details.tags).toEqual(['keep']);
  expect(details.custom_metadata).toEqual({ n: 1 });
});

test('a JSON value shows whether it parses, as a tree, and invalid JSON saves only as text on purpose', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'cfg', value: '{"plan":"pro","limits":{"seats":5},"tags":["a","b"]}' });
  await gotoHydrated(page, `/namespaces/${ns.id}?key=cfg`);
  const editor = page.getByRole('dialog', { name: 'Edit cfg' });
  const state = editor.getByTestId('json-state');
  await expect(state).toHaveText('Valid JSON');
  await editor.getByRole('button', { name: 'Tree' }).click();
  const tree = editor.getByTestId('json-tree');
  await expect(tree).toContainText('"plan": "pro"');
  await expect(tree).toContainText('"limits": {1 keys}');
  await expect(tree).toContainText('"tags": [2 items]');
  await expect(tree.locator('details').first()).toHaveAttribute('open', '');

  const save = editor.getByRole('button', { name: 'Save' });
  await editor.getByLabel('Value').fill('{"plan": "pro",');
  await expect(state).toContainText('Not valid JSON: EOF while parsing an object at line 1 column 15');
  await expect(tree).toHaveCount(0);
  await expect(save).toBeDisabled();
  await editor.getByLabel('Save as text anyway').check();
  await expect(save).toBeEnabled();
  await save.click();
  await expect(editor.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 'cfg' })).value).toBe('{"plan": "pro",');
  await editor.getByLabel('Value').fill('plain text');
  await expect(state).toHaveText('');
  await expect(save).toBeEnabled();
});

test('images are previewed as images, an SVG never as markup', async ({ page, request }) => {
  const ns = await createNamespace(request);
  const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
  await call(request, 'put_key', { namespace_id: ns.id, key: 'pixel.png', value_base64: png });
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="12" height="8"><script>window.ranSvg = true</script><rect width="12" height="8" fill="red"/></svg>';
  await call(request, 'put_key', { namespace_id: ns.id, key: 'logo.svg', value: svg });
  await call(request, 'put_key', { namespace_id: ns.id, key: 'notes', value: 'just text' });

  await gotoHydrated(page, `/namespaces/${ns.id}?key=pixel.png`);
  let image = page.getByRole('dialog', { name: 'Edit pixel.png' }).getByTestId('image-preview').getByRole('img');
  await expect(image).toHaveAttribute('src', `data:image/png;base64,${png}`);
  await expect(image).toHaveAttribute('alt', 'The value of pixel.png as an image (image/png)');
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1);

  await gotoHydrated(page, `/namespaces/${ns.id}?key=logo.svg`);
  image = page.getByRole('dialog', { name: 'Edit logo.svg' }).getByTestId('image-preview').getByRole('img');
  await expect(image).toHaveAttribute('src', /^data:image\/svg\+xml;base64,/);
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(12);
  expect(await page.evaluate(() => (window as any).ranSvg)).toBeUndefined();
  await expect(page.locator('svg rect[fill="red"]')).toHaveCount(0);

  await gotoHydrated(page, `/namespaces/${ns.id}?key=notes`);
  await expect(page.getByRole('dialog', { name: 'Edit notes' }).getByLabel('Value')).toHaveValue('just text');
  await expect(page.getByTestId('image-preview')).toHaveCount(0);
});
