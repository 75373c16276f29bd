// What the browser tests run: the build `make run` serves (the release binary and the site files
// of `cargo leptos build --release --split`), unless KVM_E2E_BIN names another binary. Every
// server the suite starts writes its output to a file of its own under end2end/.logs, which the
// global teardown (server-logs.ts) reads: a line logged at ERROR level or a panic fails the run.

export const bin = process.env.KVM_E2E_BIN ?? 'target/release/kv-manager';
export const logDir = 'end2end/.logs';

/** The shell words that start `kv-manager serve` with its output in `end2end/.logs/<name>.log`. */
export function serve(name: string, args: string): string {
  return `exec ${bin} serve ${args} --site-root target/site > ${logDir}/${name}.log 2>&1`;
}

// A server on PostgreSQL (when KVM_TEST_POSTGRES_URL names a database): the namespaces, keys,
// search, jobs and audit specs run against it too. Its database is made afresh for each run, named
// after the test database with `_e2e` added, on the same server.
export const postgresPort = '3103';
export const postgresURL = `http://127.0.0.1:${postgresPort}`;

export function postgresDatabase(): { admin: string; url: string; name: string } | undefined {
  const base = process.env.KVM_TEST_POSTGRES_URL;
  if (!base) return undefined;
  const url = new URL(base);
  const name = `${url.pathname.replace(/^\//, '') || 'postgres'}_e2e`.replace(/[^A-Za-z0-9_]/g, '_');
  const admin = url.toString();
  url.pathname = `/${name}`;
  return { admin, url: url.toString(), name };
}
