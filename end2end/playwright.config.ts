import { defineConfig } from '@playwright/test';

// The server under test: the debug build from `cargo leptos build`, on its own port and its own
// fresh SQLite file, so a `make run` on port 3000 is never disturbed.
const port = process.env.KVM_E2E_PORT ?? '3100';
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: './tests',
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
  ],
  webServer: {
    command: `rm -rf end2end/.data && mkdir -p end2end/.data && exec target/debug/kv-manager serve --addr 127.0.0.1:${port} --database-url "sqlite://end2end/.data/e2e.db?mode=rwc" --site-root target/site`,
    cwd: '..',
    url: `${baseURL}/health`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
