import { APIRequestContext, expect, test } from '@playwright/test';
import { cloudflareURL } from '../cloudflare-env';
import { call, createNamespace, gotoHydrated, uniqueTitle } from './helpers';

// The console over the Cloudflare backend: the main test server plays Cloudflare, a second one
// (KVM_BACKEND=cloudflare) keeps its keys there and its own index of them.

async function searchOnB(request: APIRequestContext, namespaceId: string, query: string): Promise<string[]> {
  const res = await request.post(`${cloudflareURL}/api/search_keys`, {
    data: { query, namespace_ids: [namespaceId] },
    headers: { Accept: 'application/json' },
  });
  expect(res.status()).toBe(200);
  return (await res.json()).results.map((r: { key: string }) => r.key);
}

test('"Sync now" takes keys written on Cloudflare by others into the console\'s index', async ({ page, request }) => {
  // Written on "Cloudflare" directly, not through the console that shows it.
  const ns = await createNamespace(request, uniqueTitle('remote'));
  await call(request, 'put_key', { namespace_id: ns.id, key: 'written-elsewhere', value: 'x' });

  await gotoHydrated(page, `${cloudflareURL}/namespaces/${ns.id}`);
  // The listing reads Cloudflare: the key is there; the index (search) has not seen it yet.
  await expect(page.getByRole('link', { name: 'written-elsewhere' })).toBeVisible();
  expect(await searchOnB(request, ns.id, 'elsewhere')).toEqual([]);

  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Synced' })).toHaveText(
    'Synced: 1 key(s) taken in, 0 dropped',
  );
  expect(await searchOnB(request, ns.id, 'elsewhere')).toEqual(['written-elsewhere']);

  // Deleted on Cloudflare: the next sync drops it.
  await call(request, 'delete_key', { namespace_id: ns.id, key: 'written-elsewhere' });
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Synced' })).toHaveText(
    'Synced: 0 key(s) taken in, 1 dropped',
  );
  expect(await searchOnB(request, ns.id, 'elsewhere')).toEqual([]);
  await expect(page.getByRole('link', { name: 'written-elsewhere' })).toHaveCount(0);

  // A console over its own store has nothing to sync, so no button.
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await expect(page.getByRole('button', { name: 'Add key' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Sync now' })).toHaveCount(0);
});
