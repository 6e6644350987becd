import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where a reference suite lives: `conformance/<suite>` of this repository (the suites are kept in
 * the tree, with their origin and licence), or `$SLUICE_CONFORMANCE_DIR/<suite>` when set.
 */
export function conformanceDir(suite: string): string {
  const env = process.env['SLUICE_CONFORMANCE_DIR'];
  if (env) return join(resolve(env), suite);
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return join(repoRoot, 'conformance', suite);
}
