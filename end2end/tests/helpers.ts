import { APIRequestContext, Locator, Page, expect } from '@playwright/test';

/** A title no other test uses. */
export function uniqueTitle(prefix = 'e2e'): string {
  return `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Calls a server function the way a script does; fails the test on an error status. */
export async function call(request: APIRequestContext, name: string, input: object): Promise<any> {
  const res = await request.post(`/api/${name}`, {
    data: input,
    headers: { Accept: 'application/json' },
  });
  const body = await res.json();
  expect(res.status(), `${name}: ${JSON.stringify(body)}`).toBe(200);
  return body;
}

export async function createNamespace(request: APIRequestContext, title = uniqueTitle()): Promise<{ id: string; title: string }> {
  return call(request, 'create_namespace', { title });
}

/** Writes many keys with bounded concurrency. */
export async function putKeys(request: APIRequestContext, namespaceId: string, names: string[], concurrency = 20) {
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const key = names[next++];
      await call(request, 'put_key', { namespace_id: namespaceId, key, value: `value of ${key}` });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Opens a page and waits until the console has hydrated (on a busy two-core machine fetching
 *  and compiling the WASM can take longer than the default 10 s). */
export async function gotoHydrated(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
}

/** A bulk dialog's two steps: "Preview" (a dry run, shown in the dialog), then `label`, which
 *  runs the job as previewed. */
export async function previewThen(dialog: Locator, label: string) {
  await dialog.getByRole('button', { name: 'Preview', exact: true }).click();
  await expect(dialog.getByTestId('bulk-preview')).toBeVisible();
  await dialog.getByRole('button', { name: label, exact: true }).click();
}
