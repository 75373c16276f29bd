import { expect, test } from '@playwright/test';
import { call, createNamespace, gotoHydrated, putKeys, uniqueTitle } from './helpers';

// The Backups page's "Backup plans": a plan made in its dialog (a bad cron is refused at the
// field), listed with its next run, paused and resumed, run now (its job's progress, then its
// backup in the Backups table), its retention edited, and deleted (its backup stays).

/** `YYYY-MM-DD HH:MM UTC` of the first 1 January, 03:00 UTC, after now: when `0 3 1 1 *` runs. */
function nextNewYear0300(): string {
  const now = new Date();
  let year = now.getUTCFullYear();
  if (now.getTime() >= Date.UTC(year, 0, 1, 3, 0)) year += 1;
  return `${year}-01-01 03:00 UTC`;
}

test('a backup plan is made, paused, resumed, run now, edited and deleted', async ({ page, request }) => {
  test.setTimeout(120_000);
  const ns = await createNamespace(request, uniqueTitle('plan'));
  const names = ['p/one', 'p/two', 'p/three', 'p/four'];
  await putKeys(request, ns.id, names);
  // Once a year, so the scheduler never runs it while the test does.
  const cron = '0 3 1 1 *';
  const nextRun = nextNewYear0300();

  await gotoHydrated(page, '/backups');
  const section = page.getByRole('region', { name: 'Backup plans' });
  await section.getByRole('button', { name: 'New plan' }).click();
  const dialog = page.getByRole('dialog', { name: 'New backup plan' });
  const namespace = dialog.getByLabel('Namespace', { exact: true });
  await expect(namespace).toHaveValue('');
  await expect(namespace.locator('option:checked')).toHaveText('All namespaces');
  await namespace.selectOption({ label: ns.title });
  await expect(dialog.getByLabel('Target')).toHaveValue('local');
  await expect(dialog.getByText('@daily')).toBeVisible();
  await dialog.getByLabel('Backups kept').fill('7');

  // The server names the field at fault: the dialog shows it there and stays open.
  const cronField = dialog.getByLabel('Schedule (cron, UTC)');
  await cronField.fill('every night');
  await dialog.getByRole('button', { name: 'Create plan' }).click();
  await expect(dialog.getByRole('alert')).toContainText('"every night" is not a cron expression');
  await expect(cronField).toHaveAttribute('aria-invalid', 'true');
  expect((await call(request, 'list_backup_plans', {})).plans.filter((p: any) => p.namespace_id === ns.id)).toEqual([]);

  await cronField.fill(cron);
  await dialog.getByRole('button', { name: 'Create plan' }).click();
  await expect(dialog).toHaveCount(0);

  // Listed (the list is read again), with its next run; saved as typed.
  const table = section.getByRole('table', { name: 'Backup plans' });
  const row = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: ns.title, exact: true }) });
  await expect(row).toHaveCount(1);
  const cells = row.getByRole('cell');
  await expect(cells.nth(0)).toHaveText('every key');
  await expect(cells.nth(1)).toHaveText(cron);
  await expect(cells.nth(2)).toHaveText('local');
  await expect(cells.nth(3)).toHaveText('last 7 backups');
  await expect(cells.nth(4)).toHaveText('active');
  await expect(cells.nth(5)).toHaveText(nextRun);
  await expect(cells.nth(6)).toHaveText('never');
  const saved = (await call(request, 'list_backup_plans', {})).plans.filter((p: any) => p.namespace_id === ns.id);
  expect(saved).toHaveLength(1);
  expect(saved[0]).toMatchObject({ cron, target: 'local', keep_last: 7, keep_days: null, prefix: null, paused: false });

  // Pause, then resume.
  await row.getByRole('button', { name: 'Pause' }).click();
  await expect(cells.nth(4)).toHaveText('paused');
  await expect(cells.nth(5)).toHaveText('none while paused');
  expect((await call(request, 'list_backup_plans', {})).plans.find((p: any) => p.id === saved[0].id).paused).toBe(true);
  await row.getByRole('button', { name: 'Resume' }).click();
  await expect(cells.nth(4)).toHaveText('active');
  await expect(cells.nth(5)).toHaveText(nextRun);
  await expect(row.getByRole('button', { name: 'Pause' })).toBeVisible();

  // Run now: the page follows the job, then lists its backup; the plan links to the job.
  await row.getByRole('button', { name: 'Run now' }).click();
  const progress = page.getByRole('dialog', { name: 'Progress: Backup' });
  await expect(progress).toContainText(ns.title);
  await expect(progress.getByTestId('job-status')).toHaveText('completed');
  await progress.getByRole('button', { name: 'Close' }).click();
  const backup = page.getByRole('table', { name: 'Backups' }).getByRole('row').filter({ hasText: ns.title });
  await expect(backup).toHaveCount(1);
  await expect(backup.getByRole('cell').nth(3)).toHaveText(String(names.length));
  await expect(backup.getByRole('cell').nth(5)).toHaveText('complete');
  await expect(cells.nth(6)).toContainText('just now');
  const ran = (await call(request, 'list_backup_plans', {})).plans.find((p: any) => p.id === saved[0].id);
  expect(ran.last_job_ids).toHaveLength(1);
  await expect(cells.nth(6).getByRole('link', { name: ran.last_job_ids[0] })).toHaveAttribute('href', `/jobs?job=${ran.last_job_ids[0]}`);
  // Run now leaves the schedule as it was.
  await expect(cells.nth(5)).toHaveText(nextRun);

  // Edit the retention: the dialog opens with the plan's fields.
  await row.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit backup plan' });
  await expect(edit.getByLabel('Namespace', { exact: true })).toHaveValue(ns.id);
  await expect(edit.getByLabel('Schedule (cron, UTC)')).toHaveValue(cron);
  await expect(edit.getByLabel('Backups kept')).toHaveValue('7');
  await edit.getByLabel('Backups kept').fill('3');
  await edit.getByLabel('Days kept').fill('30');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(edit).toHaveCount(0);
  await expect(cells.nth(3)).toHaveText('last 3 backups, 30 days at most');
  await expect(cells.nth(1)).toHaveText(cron);
  const edited = (await call(request, 'list_backup_plans', {})).plans.find((p: any) => p.id === saved[0].id);
  expect(edited).toMatchObject({ keep_last: 3, keep_days: 30, cron });

  // Delete, after a confirmation; the plan's backup stays.
  await row.getByRole('button', { name: 'Delete' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete the backup plan' });
  await expect(confirm).toContainText(ns.title);
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await expect(confirm).toHaveCount(0);
  await expect(row).toHaveCount(0);
  expect((await call(request, 'list_backup_plans', {})).plans.find((p: any) => p.id === saved[0].id)).toBeUndefined();
  await expect(backup).toHaveCount(1);
});
