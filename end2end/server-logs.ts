import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { logDir } from './server-env';

// Global teardown: the run fails when any server it started logged an error or panicked, even if
// every test passed (an error the user never saw is still a bug). Lines are matched on tracing's
// level field and on Rust's panic message; `KVM_E2E_EXPECTED_ERRORS` may hold a regular
// expression of lines a run provokes on purpose (none today).
export default async function checkServerLogs() {
  const dir = join(__dirname, '..', logDir);
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.log'));
  } catch {
    throw new Error(`no server logs in ${dir}: the servers did not start as configured`);
  }
  const expected = process.env.KVM_E2E_EXPECTED_ERRORS ? new RegExp(process.env.KVM_E2E_EXPECTED_ERRORS) : undefined;
  const bad: string[] = [];
  // Logs of servers this run did not start (a PostgreSQL one of an earlier run) are left alone.
  const started = Number(process.env.KVM_E2E_STARTED ?? 0);
  for (const file of files) {
    if (statSync(join(dir, file)).mtimeMs < started) continue;
    const lines = readFileSync(join(dir, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      const plain = line.replace(/\x1b\[[0-9;]*m/g, '');
      if ((/^\S+\s+ERROR\s/.test(plain) || /panicked at/.test(plain)) && !expected?.test(plain)) {
        bad.push(`${file}:${i + 1}: ${plain.slice(0, 400)}`);
      }
    });
  }
  if (bad.length > 0) {
    throw new Error(`the servers logged ${bad.length} error(s) or panic(s) during the run:\n${bad.slice(0, 20).join('\n')}`);
  }
}
