import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ensureProjectAuditKey } from '../../../app/audit-anchor.ts';
import { currentActor } from '../../../app/open-workspace.ts';
import { runDemo } from '../../../demo/run-demo.ts';
import { scaffoldProject } from '../../../demo/scaffold.ts';
import type { CliContext } from '../cli-context.ts';
import { positiveInt } from '../parse-options.ts';

/** `sluice init DIR`: a working project with sample data, and the next commands to type. */
export async function init(cli: CliContext, dir: string): Promise<void> {
  const r = await scaffoldProject({ dir, days: 3, ordersPerDay: 500 });
  const key = ensureProjectAuditKey(r.root);
  cli.out({
    json: { ...r, auditKey: key.keyLocation },
    text: [`created ${r.root}`, ...r.files.map((f) => `  ${f}`), '  data/ (3 days of sample orders)', '', `audit key: ${key.keyLocation} (outside the project and the store: keep it, back it up, never commit it)`, '', `next (from here): ${next(r.root, 'validate')} && ${next(r.root, 'run orders --partition 2026-11-01')}`].join('\n'),
  });
}

export interface DemoOptions {
  readonly dir?: string;
  readonly days: string;
  readonly ordersPerDay: string;
  readonly store?: string;
  readonly warehouse?: string;
}

/** `sluice demo`: the demo project, its backfill and its two rollouts, told as they happen. */
export async function demo(cli: CliContext, o: DemoOptions): Promise<void> {
  const dir = o.dir ?? join(mkdtempSync(join(tmpdir(), 'sluice-demo-')), 'shop');
  // The same settings as the environment variables, which the composition root reads (and checks).
  if (o.store !== undefined) process.env['SLUICE_STORE_URL'] = o.store;
  if (o.warehouse !== undefined) process.env['SLUICE_WAREHOUSE_URL'] = o.warehouse;
  const r = await runDemo({ dir, days: positiveInt(o.days, '--days'), ordersPerDay: positiveInt(o.ordersPerDay, '--orders-per-day'), actor: currentActor(), log: cli.globals().json ? undefined : (s) => process.stdout.write(`${s}\n`) });
  cli.out({ json: r, text: '' });
}

/** A command that works as typed where `init` ran: the README's install puts `sluice` behind npx in the clone. */
function next(root: string, command: string): string {
  const rel = relative(process.cwd(), root) || '.';
  return `npx sluice --project ${/^[\w./-]+$/.test(rel) ? rel : JSON.stringify(rel)} ${command}`;
}
