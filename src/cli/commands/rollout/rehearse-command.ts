import { rehearseRollback, type RehearsalReport } from '../../../runner/rehearse-rollback.ts';
import { formatTable } from '../../../util/format-table.ts';
import { currentActor, openWorkspace } from '../../../app/open-workspace.ts';
import { rehearsalCopy } from '../../../app/rehearsal-copy.ts';
import { existingWarehouse } from '../../../app/open-workspace.ts';
import type { CliContext } from '../cli-context.ts';

/** `rollout rehearse NAME`: a rollback of the current state on a copy; exit 6 when a check fails. */
export async function rehearseRollout(cli: CliContext, name: string, o: { tempDir?: string }): Promise<void> {
  await using ws = await openWorkspace(cli.globals().project, cli.globals().env, { recover: true });
  const report = await rehearseRollback(
    { project: ws.project, store: ws.store, warehouseFor: existingWarehouse(ws), rollouts: ws.rollouts, clock: ws.clock, copy: rehearsalCopy(ws), ...(o.tempDir ? { tempRoot: o.tempDir } : {}) },
    name,
    currentActor(),
  );
  cli.out({ json: report, text: rehearsalText(report), exitCode: report.ok ? 0 : 6 });
}

const ms = (n: number): string => `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;
const mb = (n: number): string => `${(n / 1048576).toFixed(1)} MB`;

export function rehearsalText(r: RehearsalReport): string {
  const lines = [
    `rehearsal of rollout ${r.rollout} (${r.stateBefore}${r.stageBefore ? ` at ${r.stageBefore}` : ''}) on a copy of ${r.environments.join(', ') || 'no environment'}: ${mb(r.copy.bytes)} copied in ${ms(r.copy.ms)}`,
    `rollback: ${r.stateAfter} in ${ms(r.rollbackMs)}: ${r.plan ? `republished ${r.plan.republish.length} partition(s) (${r.rowsRestored} rows), re-ran ${r.plan.rerun.reduce((n, x) => n + x.partitions.length, 0)} downstream partition(s)` : 'nothing reverted'}`,
  ];
  if (r.assumedFinished.length) lines.push(`  runs in flight treated as finished without publishing: ${r.assumedFinished.join(', ')}`);
  lines.push('', 'restored partitions (row count, XOR and sum of row hashes, against the baseline output):');
  lines.push(
    formatTable(
      r.restored.map((p) => ({ env: p.environment, dataset: p.dataset, partition: p.partition, now: p.publishedVersion ?? '', baseline: p.baselineVersion, replaced: p.replacedVersion, rows: `${p.published.rows}/${p.baseline.rows}`, equal: p.equal ? 'yes' : 'NO' })),
    ),
  );
  lines.push('', 'downstream re-runs (published partition against the re-run output):');
  lines.push(formatTable(r.downstream.map((d) => ({ env: d.environment, dataset: d.dataset, partition: d.partition, run: d.runId ?? '', status: d.runStatus ?? '', version: d.publishedVersion ?? '', recovered: d.equal ? 'yes' : `NO: ${d.problem ?? ''}` }))));
  lines.push('', `verified in ${ms(r.verifyMs)}; real environment ${r.realUnchanged ? 'unchanged (publications, flags, audit log, rollout state)' : 'CHANGED meanwhile'}; the copy was deleted`);
  for (const w of r.plan?.warnings ?? []) lines.push(`warning: ${w}`);
  for (const p of r.problems) lines.push(`problem: ${p}`);
  lines.push(r.ok ? 'result: OK: a rollback now restores every touched partition to its baseline' : 'result: FAILED');
  return lines.join('\n');
}
