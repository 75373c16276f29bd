import { APIRequestContext, BrowserContext, expect, test } from '@playwright/test';
import { accessURL, adminEmail, readerEmail, teamURL } from '../access-env';
import { gotoHydrated, uniqueTitle } from './helpers';

// Cloudflare Access mode, against the second server (playwright.config.ts): users sign in with
// tokens from the team stand-in (access-team.mjs); admin@example.com is an admin,
// reader@example.com is read-only.
test.use({ baseURL: accessURL });

/** A token for `email`, signed by the team stand-in. */
async function tokenFor(request: APIRequestContext, email: string): Promise<string> {
  const res = await request.get(`${teamURL}/token?email=${encodeURIComponent(email)}`);
  expect(res.status()).toBe(200);
  return res.text();
}

/** Signs the browser in the way Access does: the token in the CF_Authorization cookie. */
async function signIn(context: BrowserContext, token: string) {
  await context.addCookies([
    { name: 'CF_Authorization', value: token, domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Lax' },
  ]);
}

/** A server function called the way a script behind Access does: the token in the header. */
async function callAs(request: APIRequestContext, token: string, name: string, input: object) {
  const res = await request.post(`/api/${name}`, {
    data: input,
    headers: { Accept: 'application/json', 'Cf-Access-Jwt-Assertion': token },
  });
  return { status: res.status(), body: await res.json() };
}

async function okAs(request: APIRequestContext, token: string, name: string, input: object): Promise<any> {
  const { status, body } = await callAs(request, token, name, input);
  expect(status, `${name}: ${JSON.stringify(body)}`).toBe(200);
  return body;
}

test('without a sign-in token, pages and server functions answer 401; /health does not ask', async ({ page, request }) => {
  const response = await page.goto('/');
  expect(response?.status()).toBe(401);
  const api = await request.post('/api/list_namespaces', { data: {}, headers: { Accept: 'application/json' } });
  expect(api.status()).toBe(401);
  expect((await api.json()).error.code).toBe('unauthorized');
  // A token the team did not sign is no better than none.
  const forged = await request.get('/', { headers: { 'Cf-Access-Jwt-Assertion': 'not.a.token' } });
  expect(forged.status()).toBe(401);
  expect((await request.get('/health')).status()).toBe(200);
});

test('an admin signs in and writes through the console', async ({ page, context, request }) => {
  const token = await tokenFor(request, adminEmail);
  await signIn(context, token);
  await gotoHydrated(page, '/');
  await expect(page.locator('html')).toHaveAttribute('data-can-write', 'true');
  const user = page.getByTestId('signed-in-user');
  await expect(user).toHaveText(adminEmail);
  await expect(page.getByRole('link', { name: 'Log out' })).toHaveAttribute('href', '/cdn-cgi/access/logout');

  const title = uniqueTitle('access-admin');
  await page.getByRole('button', { name: 'Create namespace' }).click();
  const create = page.getByRole('dialog', { name: 'Create namespace' });
  await create.getByLabel('Title').fill(title);
  await create.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(create).toBeHidden();
  const row = page.locator('li[data-namespace]', { hasText: title });
  for (const name of ['Export', 'Import', 'Rename', 'Delete']) {
    await expect(row.getByRole('button', { name, exact: true })).toBeVisible();
  }

  await row.getByRole('link', { name: title }).click();
  await expect(page.getByRole('heading', { name: title })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await page.getByRole('button', { name: 'Add key' }).click();
  const add = page.getByRole('dialog', { name: 'Add key' });
  await add.getByLabel('Key').fill('greeting');
  await add.getByLabel('Value').fill('hello');
  await add.getByRole('button', { name: 'Save' }).click();
  await expect(add).toBeHidden();
  await expect(page.getByRole('checkbox', { name: 'Select all' })).toBeVisible();
  await expect(page.getByRole('checkbox', { name: 'Select greeting' })).toBeVisible();

  await page.getByRole('link', { name: 'greeting', exact: true }).click();
  const editor = page.getByRole('dialog', { name: 'Edit greeting' });
  await expect(editor.getByLabel('Value')).toHaveValue('hello');
  await expect(editor.getByLabel('Value')).toBeEditable();
  await expect(editor.getByRole('button', { name: 'Save', exact: true })).toBeVisible();
  await expect(editor.getByRole('button', { name: 'Delete', exact: true })).toBeVisible();

  // The change is the admin's, as the server records it.
  const ns = (await okAs(request, token, 'list_namespaces', { search: title })).namespaces[0];
  expect((await okAs(request, token, 'get_key', { namespace_id: ns.id, key: 'greeting' })).value).toBe('hello');
  const audit = await okAs(request, token, 'list_audit', { namespace_ids: [ns.id], operations: ['key.create'] });
  expect(audit.entries.map((e: any) => e.user)).toEqual([adminEmail]);
});

test('a read-only user reads everything and sees no write control; the server refuses their writes', async ({
  page,
  context,
  request,
}) => {
  // Written by the admin, through the API.
  const admin = await tokenFor(request, adminEmail);
  const title = uniqueTitle('access-reader');
  const ns = await okAs(request, admin, 'create_namespace', { title });
  await okAs(request, admin, 'put_key', { namespace_id: ns.id, key: 'greeting', value: 'hello v1' });
  await okAs(request, admin, 'put_key', { namespace_id: ns.id, key: 'greeting', value: 'hello v2', metadata: { lang: 'en' } });
  await okAs(request, admin, 'put_key_details', {
    namespace_id: ns.id,
    key: 'greeting',
    tags: ['public'],
    custom_metadata: { owner: 'ops' },
  });

  const reader = await tokenFor(request, readerEmail);
  await signIn(context, reader);

  // The namespaces page: the header says who and that they only read; Export is there, nothing else.
  await gotoHydrated(page, `/?search=${encodeURIComponent(title)}`);
  await expect(page.locator('html')).toHaveAttribute('data-can-write', 'false');
  const user = page.getByTestId('signed-in-user');
  await expect(user).toContainText(readerEmail);
  await expect(user).toContainText('read-only');
  await expect(page.getByRole('link', { name: 'Log out' })).toHaveAttribute('href', '/cdn-cgi/access/logout');
  await expect(page.getByRole('button', { name: 'Create namespace' })).toHaveCount(0);
  const row = page.locator(`li[data-namespace="${ns.id}"]`);
  await expect(row.getByRole('link', { name: title })).toBeVisible();
  await expect(row).toContainText('1 key');
  await expect(row.getByRole('button', { name: 'Export' })).toBeVisible();
  for (const name of ['Import', 'Rename', 'Delete']) {
    await expect(row.getByRole('button', { name, exact: true })).toHaveCount(0);
  }

  // The keys page: the keys, the filters; no "Add key", no checkboxes, so no bulk bar.
  await gotoHydrated(page, `/namespaces/${ns.id}`);
  await expect(page.getByRole('heading', { name: title })).toBeVisible();
  await expect(page.getByRole('link', { name: 'greeting', exact: true })).toBeVisible();
  await expect(page.getByLabel('Filter by prefix')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Add key' })).toHaveCount(0);
  await expect(page.getByRole('checkbox')).toHaveCount(0);
  await expect(page.getByRole('region', { name: 'Bulk actions' })).toHaveCount(0);

  // The key opens for reading: value, metadata, tags, custom metadata and versions.
  await page.getByRole('link', { name: 'greeting', exact: true }).click();
  const viewer = page.getByRole('dialog', { name: 'View greeting' });
  await expect(viewer.getByLabel('Value')).toHaveValue('hello v2');
  await expect(viewer.getByLabel('Value')).not.toBeEditable();
  await expect(viewer.getByTestId('metadata-view')).toContainText('"lang": "en"');
  await expect(viewer.getByTestId('expiration-view')).toHaveText('Never');
  for (const name of ['Save', 'Delete', 'Confirm delete']) {
    await expect(viewer.getByRole('button', { name, exact: true })).toHaveCount(0);
  }
  await expect(viewer.getByRole('radio')).toHaveCount(0);

  await viewer.getByRole('tab', { name: 'Tags & metadata' }).click();
  await expect(viewer.getByTestId('tags-view')).toHaveText('public');
  await expect(viewer.getByTestId('custom-metadata-view')).toContainText('"owner": "ops"');
  await expect(viewer.getByRole('button', { name: 'Remove tag public' })).toHaveCount(0);
  await expect(viewer.getByLabel('Add tag')).toHaveCount(0);
  await expect(viewer.getByRole('button', { name: 'Add tag' })).toHaveCount(0);
  await expect(viewer.getByRole('button', { name: 'Save details' })).toHaveCount(0);
  await expect(viewer.getByRole('textbox')).toHaveCount(0);

  await viewer.getByRole('tab', { name: 'History' }).click();
  const version = viewer.locator('tr[data-version="1"]');
  await expect(version).toContainText(adminEmail);
  await version.getByRole('button', { name: 'View' }).click();
  await expect(viewer.getByTestId('version-value')).toHaveText('hello v1');
  await expect(viewer.getByRole('button', { name: 'Restore' })).toHaveCount(0);
  await page.keyboard.press('Escape');
  await expect(viewer).toBeHidden();

  // Search works for them.
  await gotoHydrated(page, `/search?q=greeting&ns=${ns.id}`);
  await expect(page.getByRole('link', { name: 'greeting', exact: true })).toBeVisible();

  // Backup plans are for admins: a note instead of the list, and no error.
  await gotoHydrated(page, '/backups');
  const plans = page.getByRole('region', { name: 'Backup plans' });
  await expect(plans).toContainText('Backup plans (scheduled backups) are managed by admins.');
  await expect(plans.getByRole('table')).toHaveCount(0);
  await expect(plans.getByRole('button')).toHaveCount(0);
  await expect(page.getByRole('alert')).toHaveCount(0);

  // Export works too. It is their own job: its progress dialog offers "Cancel" (disabled once it
  // has ended); the finished job's history offers neither Cancel nor Resume.
  await gotoHydrated(page, `/?search=${encodeURIComponent(title)}`);
  await row.getByRole('button', { name: 'Export' }).click();
  const dialog = page.getByRole('dialog', { name: `Export ${title}` });
  const download = page.waitForEvent('download');
  await dialog.getByRole('button', { name: 'Start export' }).click();
  const progress = page.getByRole('dialog', { name: 'Progress: Export' });
  await expect(progress.getByTestId('job-status')).toHaveText('completed');
  await download;
  await expect(progress.getByRole('button', { name: 'Run in background' })).toBeVisible();
  await expect(progress.getByRole('button', { name: 'Cancel' })).toBeDisabled();
  await progress.getByRole('link', { name: 'View in job history' }).click();
  const details = page.getByRole('region', { name: 'Job details' });
  await expect(details).toContainText('completed');
  await expect(details).toContainText(readerEmail);
  await expect(details.getByRole('link', { name: 'Download' })).toBeVisible();
  for (const name of ['Cancel', 'Resume']) {
    await expect(details.getByRole('button', { name, exact: true })).toHaveCount(0);
  }

  // Whatever the console shows, the server refuses their changes.
  const put = await callAs(request, reader, 'put_key', { namespace_id: ns.id, key: 'greeting', value: 'changed' });
  expect(put.status).toBe(403);
  expect(put.body.error.code).toBe('forbidden');
  expect(put.body.error.message).toContain('read-only');
  expect((await callAs(request, reader, 'create_namespace', { title: uniqueTitle('refused') })).status).toBe(403);
  expect((await okAs(request, admin, 'get_key', { namespace_id: ns.id, key: 'greeting' })).value).toBe('hello v2');
});
