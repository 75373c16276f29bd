import { expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated } from './helpers';

// The release bundle is code-split: `/` loads only the main WASM; the keys page and the key
// editor arrive as their own chunks when first needed, and work once they have.
test('pages load their code when first opened', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'split', value: 'lazy value' });
  const wasm: string[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('.wasm')) wasm.push(new URL(r.url()).pathname);
  });

  await gotoHydrated(page, `/?search=${encodeURIComponent(ns.title)}`);
  expect(wasm).toEqual(['/pkg/kv-manager.wasm']);

  await page.getByRole('link', { name: ns.title }).click();
  await expect(page.getByRole('heading', { name: ns.title })).toBeVisible();
  await expect.poll(() => wasm.some((p) => p.includes('keys_route'))).toBe(true);
  expect(wasm.some((p) => p.includes('key_editor'))).toBe(false);

  await page.getByRole('link', { name: 'split', exact: true }).click();
  const editor = page.getByRole('dialog', { name: 'Edit split' });
  await expect(editor.getByLabel('Value')).toHaveValue('lazy value');
  expect(wasm.some((p) => p.includes('key_editor'))).toBe(true);
});
