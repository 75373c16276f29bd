import { expect, test } from '@playwright/test';
import { gotoHydrated } from './helpers';

test('the theme cycles and a reload keeps it, rendered by the server', async ({ page }) => {
  await gotoHydrated(page, '/');
  const toggle = page.getByRole('button', { name: /^Theme: / });
  await expect(toggle).toHaveText('Theme: System');
  await toggle.click();
  await expect(toggle).toHaveText('Theme: Light');
  await expect(page.locator('html')).not.toHaveClass(/dark/);
  await toggle.click();
  await expect(toggle).toHaveText('Theme: Dark');
  await expect(page.locator('html')).toHaveClass(/dark/);

  // The server already sends the dark class: no flash before the page's scripts run.
  const response = await page.reload();
  const html = (await response?.text()) ?? '';
  expect(html).toMatch(/<html[^>]*class="dark"/);
  await expect(page.locator('html')).toHaveClass(/dark/);
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await expect(toggle).toHaveText('Theme: Dark');

  await toggle.click();
  await expect(toggle).toHaveText('Theme: System');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'system');
});
