import { APIRequestContext, expect, test } from '@playwright/test';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bin } from '../server-env';
import { call, createNamespace, gotoHydrated, putKeys } from './helpers';

// The jobs page: filters, paging, a job's failing keys, download, cancel and resume from the
// details.

const root = path.resolve(__dirname, '..', '..');

/** Uploads `count` keys as one NDJSON import; answers the job id (not waited for). */
async function startImport(request: APIRequestContext, base: string, namespaceId: string, count: number) {
  const lines = Array.from({ length: count }, (_, i) => `{"name":"k:${String(i).padStart(7, '0')}","value":"v${i}"}`);
  const res = await request.post(`${base}/api/import/${namespaceId}?collision=overwrite`, {
    data: lines.join('\n') + '\n',
    headers: { 'Content-Type': 'application/x-ndjson' },
  });
  expect(res.status()).toBe(202);
  return (await res.json()).job_id as string;
}

async function finished(request: APIRequestContext, jobId: string, base = '') {
  let job: any;
  await expect
    .poll(async () => {
      job = await (await request.post(`${base}/api/get_job`, { data: { job_id: jobId }, headers: { Accept: 'application/json' } })).json();
      return ['completed', 'failed', 'cancelled', 'interrupted'].includes(job.status);
    }, { timeout: 60_000 })
    .toBe(true);
  return job;
}

test('filter by type, status and errors, sort oldest first, and load more', async ({ page, request }) => {
  test.setTimeout(120_000);
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, ['only']);
  const tagged: string[] = [];
  for (let i = 0; i < 52; i++) {
    const started = await call(request, 'bulk_tag', { namespace_id: ns.id, keys: ['only'], tags: [`t${i}`], operation: 'add' });
    tagged.push(started.job_id);
    await finished(request, started.job_id);
  }
  const withError = await call(request, 'bulk_ttl', { namespace_id: ns.id, keys: ['only', 'missing-key'], expiration_ttl: 3600 });
  await finished(request, withError.job_id);

  await gotoHydrated(page, `/jobs?ns=${ns.id}`);
  const table = page.getByRole('table', { name: 'Jobs' });
  const rows = table.locator('tbody tr');
  await expect(rows).toHaveCount(50);
  await page.getByRole('button', { name: 'Load more' }).click();
  await expect(rows).toHaveCount(53);
  await expect(page.getByRole('button', { name: 'Load more' })).toHaveCount(0);

  await page.getByLabel('Type').selectOption('bulk_ttl');
  await expect(page).toHaveURL(/type=bulk_ttl/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('Update TTL');
  await page.getByLabel('Type').selectOption('');
  await page.getByLabel('Has errors').check();
  await expect(page).toHaveURL(/errors=1/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute('data-job', withError.job_id);
  await page.getByLabel('Has errors').uncheck();
  await page.getByLabel('Status').selectOption('failed');
  await expect(page.getByText('No jobs match.')).toBeVisible();
  await page.getByLabel('Status').selectOption('completed');
  await expect(rows).toHaveCount(50);
  await page.getByLabel('Sort').selectOption('oldest');
  await expect(page).toHaveURL(/sort=oldest/);
  await expect(rows.first()).toHaveAttribute('data-job', tagged[0]);
  await expect(rows.nth(1)).toHaveAttribute('data-job', tagged[1]);

  // The failing keys of a job, with the reason, in its details.
  await gotoHydrated(page, `/jobs?ns=${ns.id}&job=${withError.job_id}`);
  const details = page.getByRole('region', { name: 'Job details' });
  const failed = details.getByRole('list', { name: 'Failed keys' });
  await expect(failed).toContainText('missing-key');
  await expect(failed).toContainText('does not exist');
});

test('download a finished export from its details', async ({ page, request }) => {
  const ns = await createNamespace(request);
  await putKeys(request, ns.id, ['d:1', 'd:2']);
  const started = await call(request, 'start_export', { namespace_id: ns.id, format: 'ndjson' });
  await finished(request, started.job_id);
  await gotoHydrated(page, `/jobs?job=${started.job_id}`);
  const details = page.getByRole('region', { name: 'Job details' });
  const download = page.waitForEvent('download');
  await details.getByRole('link', { name: 'Download' }).click();
  const file = await download;
  const names = fs.readFileSync(await file.path(), 'utf8').trim().split('\n').map((l) => JSON.parse(l).name);
  expect(names).toEqual(['d:1', 'd:2']);
});

test('cancel a running import from its details', async ({ page, request }) => {
  test.setTimeout(120_000);
  const ns = await createNamespace(request);
  const id = await startImport(request, '', ns.id, 400_000);
  await gotoHydrated(page, `/jobs?job=${id}`);
  const details = page.getByRole('region', { name: 'Job details' });
  await details.getByRole('button', { name: 'Cancel' }).click();
  const job = await finished(request, id);
  expect(job.status).toBe('cancelled');
  await details.getByRole('button', { name: 'Refresh' }).click();
  await expect(details.getByRole('list', { name: 'Timeline' }).locator('li[data-event="cancelled"]')).toBeVisible();
  await expect(details.getByRole('button', { name: 'Cancel' })).toHaveCount(0);
  const count = (await call(request, 'get_namespace', { namespace_id: ns.id })).key_count;
  expect(count).toBeLessThan(400_000);
});

/** A kv-manager of this test's own, so that it can be killed mid-job. */
function startOwnServer(port: number, dir: string, log: string): ChildProcess {
  const binary = path.isAbsolute(bin) ? bin : path.join(root, bin);
  const out = fs.openSync(path.join(root, 'end2end', '.logs', log), 'a');
  return spawn(
    binary,
    ['serve', '--addr', `127.0.0.1:${port}`, '--database-url', `sqlite://${dir}/e2e.db?mode=rwc`, '--data-dir', `${dir}/data`, '--site-root', path.join(root, 'target', 'site'), '--instance-id', 'e2e-resume'],
    { cwd: root, stdio: ['ignore', out, out] },
  );
}

async function healthy(request: APIRequestContext, base: string) {
  await expect.poll(async () => (await request.get(`${base}/health`).catch(() => undefined))?.status(), { timeout: 30_000 }).toBe(200);
}

test('resume an import that a killed server left interrupted', async ({ page, request }) => {
  test.setTimeout(180_000);
  const port = 3111;
  const base = `http://127.0.0.1:${port}`;
  const dir = path.join(root, 'end2end', '.data-resume');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  let server = startOwnServer(port, dir, 'resume.log');
  try {
    await healthy(request, base);
    const ns = await (await request.post(`${base}/api/create_namespace`, { data: { title: 'resume' }, headers: { Accept: 'application/json' } })).json();
    const total = 300_000;
    const id = await startImport(request, base, ns.id, total);
    await expect
      .poll(async () => {
        const job = await (await request.post(`${base}/api/get_job`, { data: { job_id: id }, headers: { Accept: 'application/json' } })).json();
        expect(job.status).not.toBe('completed');
        return job.processed;
      }, { intervals: [10], timeout: 60_000 })
      .toBeGreaterThan(0);
    server.kill('SIGKILL');
    await new Promise((resolve) => server.once('exit', resolve));

    server = startOwnServer(port, dir, 'resume.log');
    await healthy(request, base);
    await gotoHydrated(page, `${base}/jobs?job=${id}`);
    const details = page.getByRole('region', { name: 'Job details' });
    await expect(details).toContainText('interrupted');
    await details.getByRole('button', { name: 'Resume' }).click();
    // The click only sends the request: until the server has taken the job back, `interrupted` is still
    // its status, and `finished` would take that for the end.
    await expect
      .poll(async () => (await (await request.post(`${base}/api/get_job`, { data: { job_id: id }, headers: { Accept: 'application/json' } })).json()).status, { timeout: 30_000 })
      .not.toBe('interrupted');
    const job = await finished(request, id, base);
    expect(job.status).toBe('completed');
    expect(job.processed).toBe(total);
    await details.getByRole('button', { name: 'Refresh' }).click();
    await expect(details.getByRole('list', { name: 'Timeline' }).locator('li[data-event="resumed"]')).toBeVisible();
    const counted = await (await request.post(`${base}/api/get_namespace`, { data: { namespace_id: ns.id }, headers: { Accept: 'application/json' } })).json();
    expect(counted.key_count).toBe(total);
  } finally {
    server.kill('SIGKILL');
  }
});
