import { expect, test } from '@playwright/test';
import crypto from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { accessURL, readerEmail, teamURL } from '../access-env';
import { call, createNamespace, gotoHydrated, uniqueTitle } from './helpers';

// The webhooks page (the main server runs with KVM_AUTH=none, so `local` is an admin, and with
// --webhook-allow-networks 127.0.0.0/8, so a receiver on this machine may be reached). A real
// HTTP receiver runs in the spec: it checks each delivery's signature the way the page's help
// tells a receiver to, and keeps what it was sent.

type Delivery = { signed: boolean; fresh: boolean; body: { delivery_id: string; endpoint_id: string; events: any[] } };

/** An HTTP server on 127.0.0.1 that verifies `KVM-Webhook-Signature` with `secret`: 200 when it
 *  holds, 401 otherwise. */
async function startReceiver(secret: string) {
  const deliveries: Delivery[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const timestamp = String(req.headers['kvm-webhook-timestamp'] ?? '');
      const expected =
        'v1=' + crypto.createHmac('sha256', secret).update(Buffer.concat([Buffer.from(`${timestamp}.`), raw])).digest('hex');
      const given = String(req.headers['kvm-webhook-signature'] ?? '');
      const signed = given.length === expected.length && crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected));
      const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) <= 300;
      deliveries.push({ signed, fresh, body: JSON.parse(raw.toString('utf8')) });
      res.writeHead(signed && fresh ? 200 : 401, { 'Content-Type': 'text/plain' });
      res.end(signed && fresh ? 'thanks' : 'bad signature');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const events = () => deliveries.flatMap((d) => d.body.events.map((event) => ({ ...event, signed: d.signed, fresh: d.fresh })));
  return {
    url: `http://127.0.0.1:${port}/kv-events`,
    deliveries,
    events,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('an endpoint gets a signed test event and the key events of its namespace, logged in the console', async ({ page }) => {
  test.setTimeout(120_000);
  const ns = await createNamespace(page.request);
  const secret = `e2e-${crypto.randomBytes(16).toString('hex')}`;
  const receiver = await startReceiver(secret);
  try {
    await gotoHydrated(page, '/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await expect(page).toHaveURL(/\/webhooks$/);
    await expect(page.getByRole('heading', { name: 'Webhooks', level: 1 })).toBeVisible();
    await expect(page.getByRole('region', { name: 'How to verify signatures' })).toContainText('KVM-Webhook-Signature: v1=<hex>');

    // A URL that is not http(s) is refused at the URL field; the dialog stays open.
    await page.getByRole('button', { name: 'New endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'New endpoint' });
    const url = dialog.getByLabel('URL');
    await expect(url).toBeFocused();
    await url.fill('ftp://x');
    await dialog.getByRole('button', { name: 'Create endpoint' }).click();
    await expect(dialog.getByRole('alert')).toContainText('only http and https URLs can receive webhooks');
    await expect(url).toHaveAttribute('aria-invalid', 'true');

    // No event type chosen: refused at the events.
    await url.fill(receiver.url);
    for (const event of ['key.created', 'key.updated', 'key.deleted']) {
      await expect(dialog.getByRole('checkbox', { name: event })).toBeChecked();
      await dialog.getByRole('checkbox', { name: event }).uncheck();
    }
    await dialog.getByRole('button', { name: 'Create endpoint' }).click();
    await expect(dialog.getByRole('group', { name: 'Events' }).getByRole('alert')).toContainText('choose at least one event type');

    // key.created of the test's namespace only, with a secret of ours.
    await dialog.getByRole('checkbox', { name: 'key.created' }).check();
    await dialog.getByLabel('Description (optional)').fill('e2e receiver');
    await dialog.getByLabel('Namespace').selectOption({ label: ns.title });
    await dialog.getByLabel('Signing secret (optional)').fill(secret);
    await dialog.getByRole('button', { name: 'Create endpoint' }).click();
    await expect(dialog).toBeHidden();

    // The secret, once.
    const box = page.getByRole('region', { name: `Endpoint ${receiver.url} created` });
    await expect(box).toContainText('it will not be shown again');
    await expect(box.getByLabel('Signing secret')).toHaveValue(secret);

    const table = page.getByRole('table', { name: 'Webhook endpoints' });
    const row = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: receiver.url }) });
    await expect(row).toHaveCount(1);
    await expect(row).toContainText('e2e receiver');
    await expect(row.getByRole('cell').nth(0)).toHaveText('key.created');
    await expect(row.getByRole('cell').nth(1)).toContainText(ns.title);
    await expect(row.getByTestId('webhook-state')).toHaveText('delivering');
    await expect(row).toContainText('never');
    const id = await row.getAttribute('data-webhook');
    expect(id).toMatch(/^whk_/);

    // Its delivery log, empty; then a test event, delivered and logged.
    await row.getByRole('link', { name: 'Delivery log' }).click();
    await expect(page).toHaveURL(new RegExp(`/webhooks\\?log=${id}$`));
    const log = page.getByRole('region', { name: `Delivery log of ${receiver.url}` });
    await expect(log).toContainText('No deliveries yet');
    await row.getByRole('button', { name: 'Send test event' }).click();
    await expect(page.getByTestId('webhook-test-result')).toContainText(`Test event delivered to ${receiver.url} (HTTP 200) in`);
    const attempts = log.getByRole('table', { name: 'Delivery attempts' });
    const testRow = attempts.getByRole('row').filter({ hasText: 'test delivered' });
    await expect(testRow).toHaveCount(1);
    await expect(testRow.getByTestId('attempt-status')).toContainText('200');
    await expect(testRow).toContainText('thanks');
    expect(receiver.deliveries).toHaveLength(1);
    const [probe] = receiver.events();
    expect(probe).toMatchObject({ type: 'webhook.test', signed: true, fresh: true });
    expect(receiver.deliveries[0].body.endpoint_id).toBe(id);
    await expect(testRow).toContainText(probe.id);

    // A key made in the console reaches the receiver as key.created, signed.
    const key = uniqueTitle('hooked');
    await gotoHydrated(page, `/namespaces/${ns.id}`);
    await page.getByRole('button', { name: 'Add key' }).click();
    const add = page.getByRole('dialog', { name: 'Add key' });
    await add.getByLabel('Key').fill(key);
    await add.getByLabel('Value').fill('sent to a webhook');
    await add.getByRole('button', { name: 'Save' }).click();
    await expect(add).toBeHidden();
    await expect.poll(() => receiver.events().filter((e) => e.type === 'key.created').length, { timeout: 30_000 }).toBe(1);
    const created = receiver.events().find((e) => e.type === 'key.created');
    expect(created).toMatchObject({ key, signed: true, fresh: true, namespace: { id: ns.id, title: ns.title }, actor: { user: 'local' } });
    expect(created.id).toMatch(/^evt_/);

    // The log shows that delivery, with the event's id; the row its last delivery.
    await gotoHydrated(page, `/webhooks?log=${id}`);
    const delivered = attempts.getByRole('row').filter({ has: page.getByRole('cell', { name: 'delivered', exact: true }) });
    await expect(async () => {
      await log.getByRole('button', { name: 'Refresh' }).click();
      await expect(delivered).toHaveCount(1, { timeout: 2_000 });
    }).toPass({ timeout: 30_000 });
    await expect(delivered).toContainText(created.id);
    await expect(delivered.getByTestId('attempt-status')).toContainText('200');
    await expect(row).not.toContainText('never');
    await expect(row.getByTestId('webhook-pending')).toHaveText('0');

    // 50 more test events: the log shows 50 attempts a page, and "Older" the two before them.
    for (let i = 0; i < 50; i++) await call(page.request, 'test_webhook', { id });
    await log.getByRole('button', { name: 'Refresh' }).click();
    await expect(attempts.getByRole('row')).toHaveCount(51);
    await expect(log.getByRole('link', { name: 'Newest' })).toHaveCount(0);
    await log.getByRole('link', { name: 'Older' }).click();
    await expect(page).toHaveURL(new RegExp(`/webhooks\\?log=${id}&before=\\d+$`));
    await expect(attempts.getByRole('row')).toHaveCount(3);
    await expect(delivered).toHaveCount(1);
    await expect(testRow).toContainText(probe.id);
    await expect(log.getByRole('link', { name: 'Older' })).toHaveCount(0);
    await log.getByRole('link', { name: 'Newest' }).click();
    await expect(attempts.getByRole('row')).toHaveCount(51);

    // Edit it; disable and enable it.
    await row.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit endpoint' });
    await expect(edit.getByLabel('URL')).toHaveValue(receiver.url);
    await expect(edit.getByRole('checkbox', { name: 'key.created' })).toBeChecked();
    await expect(edit.getByRole('checkbox', { name: 'key.updated' })).not.toBeChecked();
    await edit.getByLabel('Description (optional)').fill('e2e receiver, edited');
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect(edit).toBeHidden();
    await expect(row).toContainText('e2e receiver, edited');
    await row.getByRole('button', { name: 'Disable' }).click();
    await expect(row.getByTestId('webhook-state')).toHaveText('disabled');
    await row.getByRole('button', { name: 'Enable' }).click();
    await expect(row.getByTestId('webhook-state')).toHaveText('delivering');

    // Delete it, after a confirmation: its row and its log go.
    await row.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete the endpoint' });
    await expect(confirm).toContainText(receiver.url);
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await expect(confirm).toBeHidden();
    await expect(row).toHaveCount(0);
    await expect(page).toHaveURL(/\/webhooks$/);
    await expect(page.getByRole('region', { name: /^Delivery log/ })).toHaveCount(0);
  } finally {
    await receiver.close();
  }
});

test.describe('a user who is not an admin', () => {
  // The Cloudflare Access server (playwright.config.ts): reader@example.com is no admin.
  test.use({ baseURL: accessURL });

  test('sees no Webhooks link, and the page says admins manage webhooks', async ({ page, context, request }) => {
    test.skip(test.info().project.name === 'postgres', 'the Access server is the same for every project');
    const res = await request.get(`${teamURL}/token?email=${encodeURIComponent(readerEmail)}`);
    expect(res.status()).toBe(200);
    const token = await res.text();
    await context.addCookies([
      { name: 'CF_Authorization', value: token, domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Lax' },
    ]);
    await gotoHydrated(page, '/');
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' })).toBeVisible();
    await expect(page.getByRole('link', { name: 'Webhooks' })).toHaveCount(0);

    await gotoHydrated(page, '/webhooks');
    await expect(page.getByRole('heading', { name: 'Webhooks', level: 1 })).toBeVisible();
    await expect(page.getByRole('main')).toContainText('Webhooks are managed by admins');
    await expect(page.getByRole('table')).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'New endpoint' })).toHaveCount(0);

    const list = await request.post('/api/list_webhooks', {
      data: {},
      headers: { Accept: 'application/json', 'Cf-Access-Jwt-Assertion': token },
    });
    expect(list.status()).toBe(403);
  });
});
