import AxeBuilder from '@axe-core/playwright';
import { Page, expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated, putKeys } from './helpers';

// axe-core on every page and dialog, in the light and the dark theme: no serious or critical
// violation (WCAG 2.1 A and AA rules). And one flow done with the keyboard alone, focus visible at
// every stop.

async function assertAccessible(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const bad = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n    ')}`);
  expect(bad, `${what}:\n${bad.join('\n')}`).toEqual([]);
}

for (const theme of ['light', 'dark'] as const) {
  test(`every page and dialog, ${theme} theme`, async ({ page, request, context, baseURL }) => {
    test.setTimeout(180_000);
    await context.addCookies([{ name: 'kvm_theme', value: theme, url: baseURL! }]);
    const ns = await createNamespace(request);
    const other = await createNamespace(request);
    await putKeys(request, ns.id, ['a11y:one', 'a11y:two']);
    await call(request, 'put_key_details', { namespace_id: ns.id, key: 'a11y:one', tags: ['a11y'] });
    const job = await call(request, 'bulk_ttl', { namespace_id: ns.id, keys: ['a11y:one', 'gone'], expiration_ttl: 3600 });
    await expect.poll(async () => (await call(request, 'get_job', { job_id: job.job_id })).status).toBe('completed');
    const service = `a11y-${theme}-${Date.now().toString(36)}`.slice(0, 30);
    await call(request, 'create_service', { name: service, storage: other.id, role: 'admin', prefix: service });

    // Namespaces, and its dialogs.
    await gotoHydrated(page, `/?search=${encodeURIComponent(ns.title)}`);
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    await assertAccessible(page, 'namespaces');
    for (const [button, dialog] of [
      ['Create namespace', 'Create namespace'],
      ['Import', `Import into ${ns.title}`],
      ['Export', `Export ${ns.title}`],
      ['Rename', `Rename ${ns.title}`],
      ['Delete', `Delete ${ns.title}`],
    ]) {
      const scope = button === 'Create namespace' ? page : page.locator(`li[data-namespace="${ns.id}"]`);
      await scope.getByRole('button', { name: button, exact: true }).click();
      await expect(page.getByRole('dialog', { name: dialog })).toBeVisible();
      await assertAccessible(page, `dialog ${dialog}`);
      await page.keyboard.press('Escape');
      await expect(page.getByRole('dialog')).toHaveCount(0);
    }

    // Keys, the add dialog, the bulk dialogs, the editor's three tabs, a job's progress.
    await gotoHydrated(page, `/namespaces/${ns.id}`);
    await assertAccessible(page, 'keys');
    await page.getByRole('button', { name: 'Add key' }).click();
    await expect(page.getByRole('dialog', { name: 'Add key' })).toBeVisible();
    await assertAccessible(page, 'dialog Add key');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Rewind…' }).click();
    const rewind = page.getByRole('dialog', { name: 'Rewind to a moment' });
    await rewind.getByRole('button', { name: 'Preview' }).click();
    await expect(rewind.getByTestId('rewind-preview')).toBeVisible();
    await assertAccessible(page, 'dialog Rewind with its preview');
    await page.keyboard.press('Escape');
    await expect(page.getByRole('dialog')).toHaveCount(0);
    await page.getByRole('checkbox', { name: 'Select a11y:two', exact: true }).check();
    await assertAccessible(page, 'keys with the bulk bar');
    for (const [button, dialog] of [
      ['Copy to namespace', 'Copy to namespace'],
      ['Move to namespace', 'Move to namespace'],
      ['Update TTL', 'Update TTL'],
      ['Apply tags', 'Apply tags'],
      ['Delete selected', 'Delete selected keys'],
    ]) {
      await page.getByRole('region', { name: 'Bulk actions' }).getByRole('button', { name: button }).click();
      await expect(page.getByRole('dialog', { name: dialog })).toBeVisible();
      await assertAccessible(page, `dialog ${dialog}`);
      await page.keyboard.press('Escape');
      await expect(page.getByRole('dialog')).toHaveCount(0);
    }
    await page.getByRole('region', { name: 'Bulk actions' }).getByRole('button', { name: 'Apply tags' }).click();
    const tags = page.getByRole('dialog', { name: 'Apply tags' });
    await tags.getByLabel('Tags', { exact: true }).fill('seen');
    await tags.getByRole('button', { name: 'Preview' }).click();
    await expect(tags.getByTestId('bulk-preview')).toBeVisible();
    await assertAccessible(page, 'dialog Apply tags with its preview');
    await tags.getByRole('button', { name: 'Apply tags' }).click();
    const progress = page.getByRole('dialog', { name: 'Progress: Apply tags' });
    await expect(progress.getByTestId('job-status')).toHaveText('completed');
    await assertAccessible(page, 'dialog Progress');
    await page.keyboard.press('Escape');

    await gotoHydrated(page, `/namespaces/${ns.id}?key=a11y:one`);
    const editor = page.getByRole('dialog', { name: 'Edit a11y:one' });
    await expect(editor.getByLabel('Value')).toBeVisible();
    await assertAccessible(page, 'editor: value');
    await editor.getByRole('tab', { name: 'Tags & metadata' }).click();
    await expect(editor.getByRole('button', { name: 'Save details' })).toBeVisible();
    await assertAccessible(page, 'editor: tags and metadata');
    await editor.getByRole('tab', { name: 'History' }).click();
    await expect(editor.getByText('No earlier versions yet', { exact: false }).or(editor.getByRole('table'))).toBeVisible();
    await assertAccessible(page, 'editor: history');

    await gotoHydrated(page, '/search?q=a11y');
    await expect(page.getByTestId('search-count')).toBeVisible();
    await page.getByText('Advanced', { exact: true }).click();
    await assertAccessible(page, 'search');

    await gotoHydrated(page, `/jobs?job=${job.job_id}`);
    await expect(page.getByRole('region', { name: 'Job details' })).toContainText('Update TTL');
    await assertAccessible(page, 'jobs');

    // Backups, and the restore dialog with its preview.
    const backup = await call(request, 'start_backup', { namespace_id: ns.id });
    await expect.poll(async () => (await call(request, 'get_job', { job_id: backup.job_id })).status).toBe('completed');
    await gotoHydrated(page, '/backups');
    const backupRow = page.getByRole('table', { name: 'Backups' }).getByRole('row').filter({ hasText: ns.title });
    await expect(backupRow).toHaveCount(1);
    await assertAccessible(page, 'backups');
    await backupRow.getByRole('button', { name: 'Restore…' }).click();
    const restore = page.getByRole('dialog', { name: 'Restore a backup' });
    await restore.getByLabel('Namespace', { exact: true }).selectOption(ns.id);
    await restore.getByRole('button', { name: 'Preview' }).click();
    await expect(restore.getByTestId('restore-preview')).toBeVisible();
    await assertAccessible(page, 'dialog Restore with its preview');
    await page.keyboard.press('Escape');
    await expect(page.getByRole('dialog')).toHaveCount(0);

    // Backup plans: the list with a plan, its dialog and the delete confirmation.
    await call(request, 'save_backup_plan', { namespace_id: ns.id, cron: '0 3 1 1 *', keep_last: 2, keep_days: 10 });
    await gotoHydrated(page, '/backups');
    const plans = page.getByRole('region', { name: 'Backup plans' });
    const planRow = plans.getByRole('row').filter({ has: page.getByRole('rowheader', { name: ns.title, exact: true }) });
    await expect(planRow).toContainText('last 2 backups, 10 days at most');
    await assertAccessible(page, 'backups with a plan');
    for (const [scope, button, dialog] of [
      [plans, 'New plan', 'New backup plan'],
      [planRow, 'Edit', 'Edit backup plan'],
      [planRow, 'Delete', 'Delete the backup plan'],
    ] as const) {
      await scope.getByRole('button', { name: button, exact: true }).click();
      await expect(page.getByRole('dialog', { name: dialog })).toBeVisible();
      await assertAccessible(page, `dialog ${dialog}`);
      await page.keyboard.press('Escape');
      await expect(page.getByRole('dialog')).toHaveCount(0);
    }

    await gotoHydrated(page, `/audit?namespace=${ns.id}`);
    await expect(page.getByRole('table', { name: 'Audit entries' })).toBeVisible();
    await page.getByRole('button', { name: 'Details' }).first().click();
    await assertAccessible(page, 'audit');

    await gotoHydrated(page, '/tokens');
    await assertAccessible(page, 'tokens');

    await gotoHydrated(page, '/services');
    const row = page.getByRole('table', { name: 'Services' }).getByRole('row').filter({ has: page.getByRole('rowheader', { name: service }) });
    await assertAccessible(page, 'services');
    await row.getByRole('button', { name: 'Edit' }).click();
    await expect(page.getByRole('dialog', { name: `Edit ${service}` })).toBeVisible();
    await assertAccessible(page, 'dialog Edit service');
    await page.keyboard.press('Escape');
    await row.getByRole('button', { name: 'Tokens' }).click();
    await expect(page.getByRole('region', { name: `Tokens of ${service}` })).toBeVisible();
    await assertAccessible(page, 'service tokens');

    // Webhooks: an endpoint (disabled, so no event is sent to it) whose test event found no
    // receiver, its delivery log, its dialogs, and a new endpoint's secret.
    const hook = await call(request, 'create_webhook', { url: `http://127.0.0.1:9/a11y-${theme}`, events: ['key.created'], namespace_id: ns.id, enabled: false });
    expect((await call(request, 'test_webhook', { id: hook.endpoint.id })).outcome).toBe('test_failed');
    await gotoHydrated(page, `/webhooks?log=${hook.endpoint.id}`);
    const hookRow = page.getByRole('table', { name: 'Webhook endpoints' }).locator(`tr[data-webhook="${hook.endpoint.id}"]`);
    await expect(hookRow.getByTestId('webhook-state')).toHaveText('disabled');
    await expect(page.getByRole('table', { name: 'Delivery attempts' })).toContainText('test failed');
    await assertAccessible(page, 'webhooks with a delivery log');
    for (const [scope, button, dialog] of [
      [page, 'New endpoint', 'New endpoint'],
      [hookRow, 'Edit', 'Edit endpoint'],
      [hookRow, 'Delete', 'Delete the endpoint'],
    ] as const) {
      await scope.getByRole('button', { name: button, exact: true }).click();
      await expect(page.getByRole('dialog', { name: dialog })).toBeVisible();
      await assertAccessible(page, `dialog ${dialog}`);
      await page.keyboard.press('Escape');
      await expect(page.getByRole('dialog')).toHaveCount(0);
    }
    await page.getByRole('button', { name: 'New endpoint', exact: true }).click();
    const newHook = page.getByRole('dialog', { name: 'New endpoint' });
    await newHook.getByLabel('URL').fill(`http://127.0.0.1:9/a11y-${theme}-new`);
    await newHook.getByRole('checkbox', { name: 'Enabled' }).uncheck();
    await newHook.getByRole('button', { name: 'Create endpoint' }).click();
    await expect(page.getByRole('region', { name: /^Endpoint .* created$/ })).toBeVisible();
    await assertAccessible(page, 'webhooks with a new secret');

    // The dashboard of every namespace (with the health panel) and of one, its alert rule
    // dialog, and a namespace's usage panel on its keys page.
    await gotoHydrated(page, '/dashboard?range=1h');
    await expect(page.getByRole('img', { name: 'Operations per minute' })).toBeVisible();
    await expect(page.getByRole('region', { name: 'Health' })).toBeVisible();
    await assertAccessible(page, 'dashboard');
    await gotoHydrated(page, `/dashboard?namespace=${ns.id}`);
    await expect(page.getByRole('img', { name: 'Operations per 15 minutes' })).toBeVisible();
    await page.locator('[data-chart="ops"]').getByText('Show as table').click();
    await page.locator('[data-chart="ops"]').getByTestId('chart-pointer').hover();
    await expect(page.locator('[data-chart="ops"]').getByTestId('chart-readout')).not.toBeEmpty();
    await assertAccessible(page, 'dashboard of a namespace');
    await page.getByRole('button', { name: 'New rule' }).click();
    await expect(page.getByRole('dialog', { name: 'New alert rule' })).toBeVisible();
    await assertAccessible(page, 'dialog New alert rule');
    await page.getByRole('dialog', { name: 'New alert rule' }).getByRole('radio', { name: 'Threshold' }).check();
    await assertAccessible(page, 'dialog New alert rule, a threshold');
    await page.keyboard.press('Escape');
    await expect(page.getByRole('dialog')).toHaveCount(0);
    await gotoHydrated(page, `/namespaces/${ns.id}`);
    await page.getByText('Usage (24 h)').click();
    await expect(page.getByRole('img', { name: 'Operations per 15 minutes' })).toBeVisible();
    await assertAccessible(page, 'keys with the usage panel');

    await page.goto('/no/such/page');
    await assertAccessible(page, '404');
  });
}

/** Presses Tab until the focused element is `name` (by its accessible name or text), checking at
 *  every stop that the focus can be seen (an outline or a ring). The bound is generous: the search
 *  page has a button per tag in use, and the shared server holds the tags of every other spec. */
async function tabTo(page: Page, name: string | RegExp, limit = 400) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      const label =
        el.getAttribute('aria-label') ??
        (el.id ? document.querySelector(`label[for="${el.id}"]`)?.textContent : null) ??
        el.closest('label')?.textContent ??
        el.textContent ??
        '';
      const visible = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
      return { label: label.trim().replace(/\s+/g, ' '), visible, tag: el.tagName };
    });
    if (!focused) continue;
    expect(focused.visible, `focus is not visible on ${focused.tag} "${focused.label}"`).toBe(true);
    if (typeof name === 'string' ? focused.label.startsWith(name) : name.test(focused.label)) return;
  }
  throw new Error(`Tab never reached ${name}`);
}

test('create a namespace, add a key, find it and delete it with the keyboard alone', async ({ page, request }) => {
  test.setTimeout(120_000);
  const title = `kbd-${Date.now()}`;
  const key = `kbd:${Date.now()}`;
  await gotoHydrated(page, '/');

  await tabTo(page, 'Create namespace');
  await page.keyboard.press('Enter');
  const create = page.getByRole('dialog', { name: 'Create namespace' });
  await expect(create.getByLabel('Title')).toBeFocused();
  await page.keyboard.type(title);
  await page.keyboard.press('Enter');
  await expect(create).toBeHidden();

  // Among many namespaces (the list is sorted by title) it may be on a later page: find it
  // with the search field first.
  await tabTo(page, 'Search namespaces');
  await page.keyboard.type(title);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/search=/);
  const made = page.locator('li[data-namespace]').filter({ hasText: title });
  await expect(made).toBeVisible();
  const id = await made.getAttribute('data-namespace');
  await tabTo(page, title);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/namespaces/${id}$`));
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
  await tabTo(page, 'Add key');
  await page.keyboard.press('Enter');
  const add = page.getByRole('dialog', { name: 'Add key' });
  await expect(add.getByLabel('Key')).toBeFocused();
  await page.keyboard.type(key);
  await tabTo(page, 'Value');
  await page.keyboard.type('typed, not clicked');
  await tabTo(page, 'Save');
  await page.keyboard.press('Enter');
  await expect(add).toBeHidden();
  expect((await call(request, 'get_key', { namespace_id: id, key })).value).toBe('typed, not clicked');

  await tabTo(page, 'Search');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/search/);
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
  await tabTo(page, 'Search keys');
  await page.keyboard.type(key);
  await expect(page.getByTestId('search-count')).toHaveText('1 of 1 matching keys shown');
  await tabTo(page, key);
  await page.keyboard.press('Enter');
  const editor = page.getByRole('dialog', { name: `Edit ${key}` });
  await expect(editor.getByLabel('Value')).toHaveValue('typed, not clicked');
  await tabTo(page, 'Delete');
  await page.keyboard.press('Enter');
  await tabTo(page, 'Confirm delete');
  await page.keyboard.press('Enter');
  await expect(editor).toBeHidden();
  const res = await request.post('/api/get_key', { data: { namespace_id: id, key }, headers: { Accept: 'application/json' } });
  expect(res.status()).toBe(404);
});
