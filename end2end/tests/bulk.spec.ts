import { Page, expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated, previewThen, putKeys, uniqueTitle } from './helpers';

// The bulk bar's actions not covered in jobs.spec.ts: copy and move (skipping and overwriting
// existing keys), removing expirations, removing and replacing tags, clearing the selection.

async function select(page: Page, ...keys: string[]) {
  for (const key of keys) {
    await page.getByRole('checkbox', { name: `Select ${key}`, exact: true }).check();
  }
}

async function runBulk(page: Page, action: string, progressTitle: string, fill: (dialog: ReturnType<Page['getByRole']>) => Promise<void>) {
  await page.getByRole('region', { name: 'Bulk actions' }).getByRole('button', { name: action }).click();
  const dialog = page.getByRole('dialog', { name: action });
  await fill(dialog);
  const progress = page.getByRole('dialog', { name: `Progress: ${progressTitle}` });
  await expect(progress.getByTestId('job-status')).toHaveText('completed');
  return progress;
}

test('copy to another namespace skips existing keys unless asked to overwrite', async ({ page, request }) => {
  const source = await createNamespace(request);
  const target = await createNamespace(request, uniqueTitle('target'));
  await putKeys(request, source.id, ['a', 'b', 'c']);
  await call(request, 'put_key', { namespace_id: target.id, key: 'b', value: 'kept in target' });

  await gotoHydrated(page, `/namespaces/${source.id}`);
  await select(page, 'a', 'b');
  let progress = await runBulk(page, 'Copy to namespace', 'Copy keys', async (dialog) => {
    await dialog.getByLabel('Target namespace').selectOption({ label: target.title });
    await expect(dialog.getByLabel('Overwrite existing keys')).not.toBeChecked();
    await expect(dialog).toContainText('Keys that already exist in the target are skipped.');
    await previewThen(dialog, 'Copy');
  });
  await expect(progress.getByTestId('job-processed')).toHaveText('2');
  await progress.getByRole('button', { name: 'Close' }).click();
  expect((await call(request, 'get_key', { namespace_id: target.id, key: 'a' })).value).toBe('value of a');
  expect((await call(request, 'get_key', { namespace_id: target.id, key: 'b' })).value).toBe('kept in target');
  // A copy leaves the source as it was.
  expect((await call(request, 'list_keys', { namespace_id: source.id })).keys.map((k: any) => k.name)).toEqual(['a', 'b', 'c']);

  await select(page, 'b');
  progress = await runBulk(page, 'Copy to namespace', 'Copy keys', async (dialog) => {
    await dialog.getByLabel('Target namespace').selectOption({ label: target.title });
    await dialog.getByLabel('Overwrite existing keys').check();
    await expect(dialog).toContainText('Keys that already exist in the target are replaced.');
    await previewThen(dialog, 'Copy');
  });
  await progress.getByRole('button', { name: 'Close' }).click();
  expect((await call(request, 'get_key', { namespace_id: target.id, key: 'b' })).value).toBe('value of b');
});

test('move to another namespace takes the keys out of this one, leaving skipped ones', async ({ page, request }) => {
  const source = await createNamespace(request);
  const target = await createNamespace(request, uniqueTitle('target'));
  await putKeys(request, source.id, ['m1', 'm2', 'stay']);
  await call(request, 'put_key', { namespace_id: target.id, key: 'm2', value: 'already there' });

  await gotoHydrated(page, `/namespaces/${source.id}`);
  await select(page, 'm1', 'm2');
  const progress = await runBulk(page, 'Move to namespace', 'Move keys', async (dialog) => {
    await dialog.getByLabel('Target namespace').selectOption({ label: target.title });
    await expect(dialog).toContainText('Keys that already exist in the target are skipped and stay in this namespace.');
    await previewThen(dialog, 'Move');
  });
  await progress.getByRole('button', { name: 'Close' }).click();
  // m1 moved; m2 existed in the target, so it stays here and the target keeps its own value.
  await expect(page.getByRole('link', { name: 'm1', exact: true })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'm2', exact: true })).toBeVisible();
  expect((await call(request, 'list_keys', { namespace_id: source.id })).keys.map((k: any) => k.name)).toEqual(['m2', 'stay']);
  expect((await call(request, 'get_key', { namespace_id: target.id, key: 'm1' })).value).toBe('value of m1');
  expect((await call(request, 'get_key', { namespace_id: target.id, key: 'm2' })).value).toBe('already there');

  // With overwrite, the rest goes and replaces the target's.
  await select(page, 'm2');
  const again = await runBulk(page, 'Move to namespace', 'Move keys', async (dialog) => {
    await dialog.getByLabel('Target namespace').selectOption({ label: target.title });
    await dialog.getByLabel('Overwrite existing keys').check();
    await previewThen(dialog, 'Move');
  });
  await again.getByRole('button', { name: 'Close' }).click();
  await expect(page.getByRole('link', { name: 'm2', exact: true })).toHaveCount(0);
  expect((await call(request, 'get_key', { namespace_id: target.id, key: 'm2' })).value).toBe('value of m2');
});

test('remove the expiration of the selected keys', async ({ page, request }) => {
  const ns = await createNamespace(request);
  for (const key of ['t1', 't2', 't3']) {
    await call(request, 'put_key', { namespace_id: ns.id, key, value: 'v', expiration_ttl: 3600 });
  }
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await select(page, 't1', 't2');
  const progress = await runBulk(page, 'Update TTL', 'Update TTL', async (dialog) => {
    await dialog.getByLabel('Remove expiration').check();
    await previewThen(dialog, 'Update TTL');
  });
  await progress.getByRole('button', { name: 'Close' }).click();
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 't1' })).expiration).toBeNull();
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 't2' })).expiration).toBeNull();
  expect((await call(request, 'get_key', { namespace_id: ns.id, key: 't3' })).expiration).toBeGreaterThan(Date.now() / 1000);
});

test('remove some tags, then replace all of them', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, ['x', 'y']);
  for (const key of ['x', 'y']) {
    await call(request, 'put_key_details', { namespace_id: ns.id, key, tags: ['red', 'blue', 'green'] });
  }
  const tags = async (key: string) => (await call(request, 'get_key_details', { namespace_id: ns.id, key })).tags.sort();

  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await select(page, 'x');
  let progress = await runBulk(page, 'Apply tags', 'Apply tags', async (dialog) => {
    await dialog.getByLabel('Tags', { exact: true }).fill('RED, green');
    await dialog.getByLabel('Remove these tags').check();
    await expect(dialog).toContainText("These tags are taken off each key; its other tags stay.");
    await previewThen(dialog, 'Apply tags');
  });
  await progress.getByRole('button', { name: 'Close' }).click();
  expect(await tags('x')).toEqual(['blue']);
  expect(await tags('y')).toEqual(['blue', 'green', 'red']);

  await select(page, 'x', 'y');
  progress = await runBulk(page, 'Apply tags', 'Apply tags', async (dialog) => {
    await dialog.getByLabel('Tags', { exact: true }).fill('only');
    await dialog.getByLabel('Replace all tags with these').check();
    await previewThen(dialog, 'Apply tags');
  });
  await expect(progress.getByTestId('job-processed')).toHaveText('2');
  await progress.getByRole('button', { name: 'Close' }).click();
  expect(await tags('x')).toEqual(['only']);
  expect(await tags('y')).toEqual(['only']);
  const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'y', exact: true }) });
  await expect(row).toContainText('only');
  await expect(row).not.toContainText('green');
});

test('clear selection empties it and hides the bulk bar', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, ['p', 'q']);
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await select(page, 'p', 'q');
  const bar = page.getByRole('region', { name: 'Bulk actions' });
  await expect(bar.getByTestId('selection-summary')).toHaveText('Selected: 2 keys');
  await bar.getByRole('button', { name: 'Clear selection' }).click();
  await expect(bar).toBeHidden();
  await expect(page.getByRole('checkbox', { name: 'Select p', exact: true })).not.toBeChecked();
  await expect(page.getByRole('checkbox', { name: 'Select q', exact: true })).not.toBeChecked();
});
