import { expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated } from './helpers';

// The pages' Content-Security-Policy lets everything the console needs run: its scripts, the
// WebAssembly and its lazily loaded chunks, styles and requests. A violation shows in the console.
test('every page hydrates with no Content-Security-Policy violation', async ({ page, request }) => {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) {
      violations.push(message.text());
    }
  });
  // Reported by the page itself too, whatever the browser logs.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const ns = await createNamespace(request);
  await call(request, 'put_key', { namespace_id: ns.id, key: 'csp', value: 'checked' });

  // Each page loaded from the server, then hydrated; the key editor is a chunk of its own.
  for (const path of ['/', `/namespaces/${ns.id}`, '/search?q=csp', '/jobs', '/audit', `/namespaces/${ns.id}?key=csp`]) {
    await gotoHydrated(page, path);
  }
  await expect(page.getByRole('dialog', { name: 'Edit csp' }).getByLabel('Value')).toHaveValue('checked');

  // And through the console's own links, which load the lazy routes' chunks.
  await gotoHydrated(page, `/?search=${encodeURIComponent(ns.title)}`);
  await page.locator(`li[data-namespace="${ns.id}"]`).getByRole('link', { name: ns.title }).click();
  await expect(page.getByRole('link', { name: 'csp', exact: true })).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Search' }).click();
  await expect(page.getByRole('heading', { name: 'Search', exact: true })).toBeVisible();
  await nav.getByRole('link', { name: /^Jobs/ }).click();
  await expect(page.getByRole('heading', { name: 'Jobs', exact: true })).toBeVisible();
  await nav.getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');

  expect(violations).toEqual([]);
});
