import { Page, expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated } from './helpers';

// The dashboard (the main server runs with KVM_AUTH=none, so `local` is an admin). Operations are
// counted where they happen (domain/src/metrics.rs): one per call of a script, whatever the keys
// it touched, and the dashboard writes what was counted before it reads, so a known mix of calls
// on a fresh namespace shows exactly.

/** The figure of one total (`reads`, `writes`, `p99`…). */
function total(page: Page, name: string) {
  return page.getByTestId(`total-${name}`).getByRole('definition');
}

test('a known mix of operations adds up on the dashboard, in its charts and on the keys page', async ({ page }) => {
  test.setTimeout(120_000);
  const ns = await createNamespace(page.request);
  for (const key of ['a', 'b', 'c']) await call(page.request, 'put_key', { namespace_id: ns.id, key, value: `value of ${key}` });
  for (const key of ['a', 'b']) await call(page.request, 'get_key', { namespace_id: ns.id, key });
  await call(page.request, 'delete_key', { namespace_id: ns.id, key: 'c' });
  await call(page.request, 'list_keys', { namespace_id: ns.id });
  const now = await call(page.request, 'get_namespace', { namespace_id: ns.id });
  expect(now.key_count).toBe(2);

  await gotoHydrated(page, `/dashboard?namespace=${ns.id}&range=1h`);
  await expect(page.getByRole('heading', { name: 'Dashboard', level: 1 })).toBeVisible();
  await expect(page.getByRole('link', { name: ns.title, exact: true })).toHaveAttribute('href', `/namespaces/${ns.id}`);
  for (const [name, figure] of [
    ['operations', '7'],
    ['reads', '2'],
    ['writes', '3'],
    ['deletes', '1'],
    ['lists', '1'],
    ['errors', '0'],
    ['keys', '2'],
    ['bytes', `${now.size_bytes} B`],
  ]) {
    await expect(total(page, name), name).toHaveText(figure);
  }
  await expect(total(page, 'p99')).toHaveText(/^(≤ \d+ ms|> 250 ms)$/);
  // Every call came from a script (no browser's fetch headers).
  const surfaces = page.getByRole('table', { name: 'Operations per surface' });
  await expect(surfaces.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'script' }) })).toContainText('7');

  // The range links keep the namespace; the one shown is marked.
  const ranges = page.getByRole('navigation', { name: 'Range' });
  await expect(ranges.getByRole('link')).toHaveText(['1 hour', '24 hours', '7 days', '30 days', '90 days']);
  await expect(ranges.getByRole('link', { name: '1 hour' })).toHaveAttribute('aria-current', 'page');
  await expect(ranges.getByRole('link', { name: '24 hours' })).not.toHaveAttribute('aria-current');
  await expect(ranges.getByRole('link', { name: '7 days' })).toHaveAttribute('href', `/dashboard?range=7d&namespace=${ns.id}`);

  // The charts, named and summed up for screen readers, with their numbers as a table.
  const ops = page.getByRole('img', { name: 'Operations per minute' });
  await expect(ops).toHaveAccessibleDescription(
    /^Operations per minute over the last hour: 7 in all \(2 reads, 3 writes, 1 deletes, 1 lists\), most \d+ at \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/,
  );
  await expect(page.getByRole('img', { name: 'Latency' })).toHaveAccessibleDescription(/p50 (≤ \d+ ms|> 250 ms), p90 .* over the whole range/);
  await expect(page.getByRole('region', { name: 'Bytes stored' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Keys', exact: true })).toBeVisible();
  const opsChart = page.locator('[data-chart="ops"]');
  await expect(opsChart.getByRole('list', { name: 'Legend' }).getByRole('listitem')).toHaveText(['Reads', 'Writes', 'Deletes', 'Lists']);
  await opsChart.getByText('Show as table').click();
  const rows = opsChart.getByRole('table').getByRole('row');
  await expect(rows).toHaveCount(61);
  const sums = await rows.evaluateAll((trs) =>
    trs.slice(1).reduce((sum, tr) => sum + [...tr.querySelectorAll('td')].reduce((s, td) => s + Number(td.textContent), 0), 0),
  );
  expect(sums).toBe(7);

  // Pointing at the chart reads out the point under the pointer, with a guide.
  const pointer = opsChart.getByTestId('chart-pointer');
  const readout = opsChart.getByTestId('chart-readout');
  const box = (await pointer.boundingBox())!;
  await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
  await expect(readout).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC: Reads \d+, Writes \d+, Deletes \d+, Lists \d+$/);
  await expect(opsChart.getByTestId('chart-guide')).toHaveCount(1);
  const last = await readout.textContent();
  await page.mouse.move(box.x + 2, box.y + box.height / 2);
  await expect(readout).not.toHaveText(last!);
  await page.mouse.move(0, 0);
  await expect(readout).toHaveText('');
  // And so do the arrow keys, once it has focus.
  await pointer.focus();
  await expect(pointer).toHaveAttribute('aria-valuenow', '59');
  await page.keyboard.press('Home');
  await expect(pointer).toHaveAttribute('aria-valuenow', '0');
  await page.keyboard.press('ArrowRight');
  await expect(pointer).toHaveAttribute('aria-valuenow', '1');
  await expect(pointer).toHaveAttribute('aria-valuetext', /UTC: Reads \d+, Writes \d+, Deletes \d+, Lists \d+$/);

  // The keys page has the namespace's own panel, collapsed until opened.
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  const panel = page.locator('details').filter({ hasText: 'Usage (24 h)' });
  await panel.getByText('Usage (24 h)').click();
  await expect(total(page, 'writes')).toHaveText('3');
  await expect(total(page, 'reads')).toHaveText('2');
  await expect(total(page, 'deletes')).toHaveText('1');
  await expect(page.getByRole('img', { name: 'Operations per 15 minutes' })).toHaveAccessibleDescription(/over the last 24 hours: \d+ in all \(2 reads, 3 writes, 1 deletes/);
  await expect(panel.getByRole('link', { name: 'Open in dashboard' })).toHaveAttribute('href', `/dashboard?namespace=${ns.id}`);
  await panel.getByRole('link', { name: 'Open in dashboard' }).click();
  await expect(page).toHaveURL(new RegExp(`/dashboard\\?namespace=${ns.id}$`));
  await expect(page.getByRole('navigation', { name: 'Range' }).getByRole('link', { name: '24 hours' })).toHaveAttribute('aria-current', 'page');
  await expect(total(page, 'writes')).toHaveText('3');

  // Every namespace: a burst of listings (other specs share this server) makes it one of the
  // busiest of the hour; it links to its keys. The keys page listed its keys once too.
  for (let round = 0; round < 10; round++) {
    await Promise.all(Array.from({ length: 30 }, () => call(page.request, 'list_keys', { namespace_id: ns.id })));
  }
  await gotoHydrated(page, '/dashboard?range=1h');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' })).toHaveAttribute('aria-current', 'page');
  const busiest = page.getByRole('table', { name: 'Busiest namespaces' });
  const row = busiest.getByRole('row').filter({ has: page.getByRole('rowheader', { name: ns.title }) });
  await expect(row).toHaveCount(1);
  await expect(row.getByRole('cell').first()).toHaveText('308');
  await expect(row.getByRole('link', { name: ns.title })).toHaveAttribute('href', `/namespaces/${ns.id}`);
  await expect(page.getByRole('table', { name: 'Largest namespaces' })).toBeVisible();
  // Admins see the health panel and the services table.
  await expect(page.getByRole('region', { name: 'Health' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Busiest /v1/kv services' })).toBeVisible();
  // Choosing a namespace in the form shows its dashboard, in the same range.
  await page.getByRole('combobox', { name: 'Namespace', exact: true }).selectOption({ label: ns.title });
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(new RegExp(`/dashboard\\?range=1h&namespace=${ns.id}$`));
  await expect(total(page, 'lists')).toHaveText('302');
});

test('an admin makes an alert rule on the dashboard, sees it listed and deletes it', async ({ page }) => {
  const ns = await createNamespace(page.request);
  await gotoHydrated(page, `/dashboard?namespace=${ns.id}`);
  const section = page.getByRole('region', { name: 'Alert rules' });
  await expect(section).toContainText('No alert rules yet');

  // A limit below zero is refused at its field; the dialog stays open.
  await section.getByRole('button', { name: 'New rule' }).click();
  const dialog = page.getByRole('dialog', { name: 'New alert rule' });
  await expect(dialog.getByLabel('Namespace')).toHaveValue(ns.id);
  await dialog.getByRole('radio', { name: 'Threshold' }).check();
  await dialog.getByLabel('Metric').selectOption({ label: 'Keys' });
  await dialog.getByLabel('Above').fill('-1');
  await dialog.getByRole('button', { name: 'Create rule' }).click();
  await expect(dialog.getByRole('alert')).toContainText('threshold: a number, zero or more');
  await expect(dialog.getByLabel('Above')).toHaveAttribute('aria-invalid', 'true');

  await dialog.getByLabel('Above').fill('1000');
  await dialog.getByLabel('Repeat at most every (minutes)').fill('30');
  await dialog.getByRole('button', { name: 'Create rule' }).click();
  await expect(dialog).toBeHidden();
  const table = section.getByRole('table', { name: 'Alert rules' });
  const row = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: ns.title }) });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('threshold');
  await expect(row).toContainText('Keys above 1,000, fired again at most every 30 minutes');
  await expect(row.getByTestId('rule-state')).toHaveText(/^(not checked yet|ok: 0)$/);
  const [made] = (await call(page.request, 'list_alert_rules', {})).filter((r: any) => r.namespace_id === ns.id);
  expect(made).toMatchObject({ kind: 'threshold', metric: 'key_count', threshold: 1000, cooldown_secs: 1800, enabled: true });

  // An expiry rule on the same namespace, two hours ahead, for keys under a prefix.
  await section.getByRole('button', { name: 'New rule' }).click();
  await dialog.getByLabel('Only keys starting with').fill('session:');
  await dialog.getByLabel('Warn this long before they expire').fill('2');
  await dialog.getByLabel('Unit').selectOption('hours');
  await dialog.getByRole('button', { name: 'Create rule' }).click();
  await expect(dialog).toBeHidden();
  await expect(row).toHaveCount(2);
  await expect(table).toContainText('Keys starting with “session:” expiring within 2 hours');

  // Deleting asks first.
  const threshold = row.filter({ hasText: 'threshold' });
  await threshold.getByRole('button', { name: 'Delete' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete the alert rule' });
  await expect(confirm).toContainText(`${ns.title}: Keys above 1,000`);
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await expect(confirm).toBeHidden();
  await expect(row).toHaveCount(1);
  const left = (await call(page.request, 'list_alert_rules', {})).filter((r: any) => r.namespace_id === ns.id);
  expect(left).toMatchObject([{ kind: 'expiry', prefix: 'session:', within_secs: 7200 }]);
  await call(page.request, 'delete_alert_rule', { id: left[0].id });
});
