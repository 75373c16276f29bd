import { defineConfig } from '@playwright/test';
import { accessAudience, accessPort, accessURL, adminEmail, readerEmail, teamPort, teamURL } from './access-env';
import { accountId, cloudflarePort, cloudflareURL } from './cloudflare-env';
import { bin, logDir, postgresDatabase, postgresPort, postgresURL, serve } from './server-env';

// The server under test: the release build `make run` serves (server-env.ts), on its own port and
// its own fresh SQLite file, so a `make run` on port 3000 is never disturbed. Its webhooks may
// reach this machine (--webhook-allow-networks): webhooks.spec.ts runs its receiver here.
const port = process.env.KVM_E2E_PORT ?? '3100';
const baseURL = `http://127.0.0.1:${port}`;
const postgres = postgresDatabase();
// When this run began: the log check reads only logs written since (server-logs.ts).
process.env.KVM_E2E_STARTED ??= String(Date.now());
// The specs that also run against a server on PostgreSQL.
const onPostgres = /(namespaces|keys|search|jobs|audit|rewind|undo|backups|backup-plans|webhooks|dashboard)\.spec\.ts/;

export default defineConfig({
  testDir: './tests',
  // `test.only` left in a spec fails CI instead of skipping the rest.
  forbidOnly: !!process.env.CI,
  globalTeardown: './server-logs.ts',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  workers: 2,
  reporter: [['list']],
  outputDir: './test-results',
  use: {
    baseURL,
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    { name: 'no-js', use: { javaScriptEnabled: false }, testMatch: /ssr\.spec\.ts/ },
    { name: 'hydrated', testIgnore: /ssr\.spec\.ts/ },
    ...(postgres ? [{ name: 'postgres', use: { baseURL: postgresURL }, testMatch: onPostgres }] : []),
  ],
  webServer: [
    {
      command: `rm -rf end2end/.data && mkdir -p end2end/.data ${logDir} && ${serve('main', `--addr 127.0.0.1:${port} --database-url "sqlite://end2end/.data/e2e.db?mode=rwc" --backup-dir end2end/.data/backups --webhook-allow-networks 127.0.0.0/8`)}`,
      cwd: '..',
      url: `${baseURL}/health`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    // Cloudflare Access mode (tests/access.spec.ts): a stand-in for the Access team (its key set
    // and test tokens), then a second server that signs users in through it, on its own port
    // and its own fresh SQLite file.
    {
      command: 'exec node end2end/access-team.mjs',
      cwd: '..',
      url: `${teamURL}/cdn-cgi/access/certs`,
      env: { KVM_E2E_TEAM_PORT: teamPort, KVM_E2E_POLICY_AUD: accessAudience },
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      command: `rm -rf end2end/.data-access && mkdir -p end2end/.data-access ${logDir} && ${serve('access', `--addr 127.0.0.1:${accessPort} --database-url "sqlite://end2end/.data-access/e2e.db?mode=rwc"`)}`,
      cwd: '..',
      url: `${accessURL}/health`,
      env: {
        TEAM_DOMAIN: teamURL,
        POLICY_AUD: accessAudience,
        KVM_ADMINS: adminEmail,
        KVM_READONLY_USERS: readerEmail,
      },
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    // The Cloudflare backend (tests/cf-backend.spec.ts): a server whose keys live on the main
    // server above, through its Cloudflare-compatible API and a token made on its database.
    {
      command: [
        `rm -rf end2end/.data-cf && mkdir -p end2end/.data-cf ${logDir}`,
        `export CLOUDFLARE_API_TOKEN="$(${bin} token create --name e2e-instance-b --database-url 'sqlite://end2end/.data/e2e.db?mode=rwc' | tail -n 1)"`,
        serve(
          'cloudflare',
          `--addr 127.0.0.1:${cloudflarePort} --database-url "sqlite://end2end/.data-cf/e2e.db?mode=rwc" --backend cloudflare --cloudflare-account-id ${accountId} --cloudflare-api-base-url ${baseURL}/client/v4`,
        ),
      ].join(' && '),
      cwd: '..',
      url: `${cloudflareURL}/health`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    // The same console on PostgreSQL, in a database made afresh for the run (its backups too).
    ...(postgres
      ? [
          {
            command: [
              `rm -rf end2end/.data-postgres && mkdir -p end2end/.data-postgres ${logDir}`,
              `psql "${postgres.admin}" -q -c "DROP DATABASE IF EXISTS ${postgres.name} WITH (FORCE)" -c "CREATE DATABASE ${postgres.name}"`,
              serve('postgres', `--addr 127.0.0.1:${postgresPort} --database-url "${postgres.url}" --backup-dir end2end/.data-postgres/backups --webhook-allow-networks 127.0.0.0/8`),
            ].join(' && '),
            cwd: '..',
            url: `${postgresURL}/health`,
            reuseExistingServer: false,
            timeout: 120_000,
            stdout: 'ignore' as const,
            stderr: 'pipe' as const,
          },
        ]
      : []),
  ],
});
