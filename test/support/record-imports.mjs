// Preloaded into a child process (`node --import ./test/support/record-imports.mjs ...`): appends
// the URL of every module it resolves to $SLUICE_TEST_IMPORTS_FILE, so a test can assert what a
// command loads (e.g. no DuckDB binding for commands that read only metadata) without timing it.
// The same file is the module-resolution hook, registered from the main thread.
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) register(import.meta.url);

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  const file = process.env.SLUICE_TEST_IMPORTS_FILE;
  if (file) appendFileSync(file, `${r.url}\n`);
  return r;
}
