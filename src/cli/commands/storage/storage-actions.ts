import { resolve } from 'node:path';
import type { Project } from '../../../config/project-model.ts';
import { currentActor, openWorkspace } from '../../../app/open-workspace.ts';
import { collectGarbage } from '../../../runner/collect-garbage.ts';
import { verifyAndAudit } from '../../../runner/verify-data.ts';
import { pipelineOfDataset } from '../../../runner/dataset-graph.ts';
import { SluiceError } from '../../../util/errors.ts';
import { formatTable } from '../../../util/format-table.ts';
import { EXIT_CODES } from '../../output.ts';
import type { CliContext } from '../cli-context.ts';

/** `sluice verify-data`: every published partition against its output version. */
export async function verifyData(cli: CliContext, o: { dataset?: string[]; repair?: boolean }): Promise<void> {
  await using ws = await openWorkspace(cli.globals().project, cli.globals().env, { recover: true });
  requireDatasets(ws.project, o.dataset ?? [], '--dataset');
  const { verdicts, bad } = await verifyAndAudit(ws, ws.warehouse, ws.environment, currentActor(), { ...(o.dataset ? { datasets: o.dataset } : {}), repair: o.repair === true });
  const unrepaired = bad.filter((v) => !v.repaired);
  const lines = [
    `${verdicts.length - bad.length} of ${verdicts.length} published partition(s) in ${ws.environment} match their output versions`,
    ...bad.map((v) => `${v.repaired ? 'REPAIRED' : 'CORRUPT'} ${v.dataset} ${v.partition}: ${v.problem ?? 'mismatch'} (version ${v.versionId}: expected ${v.expected.rows} rows ${v.expected.fingerprint}, found ${v.found.rows} rows ${v.found.fingerprint} in ${v.servedBy})`),
    ...(unrepaired.length > 0 && !o.repair ? ['sluice verify-data --repair serves them from their output versions again'] : []),
  ];
  cli.out({ json: { environment: ws.environment, verdicts }, text: lines.join('\n'), exitCode: unrepaired.length > 0 ? EXIT_CODES.CORRUPT : 0 });
}

/** `sluice gc`: output versions nothing holds, deleted (or listed with --dry-run). */
export async function gc(cli: CliContext, o: { dryRun?: boolean }): Promise<void> {
  await using ws = await openWorkspace(cli.globals().project, cli.globals().env, { recover: true });
  const r = await collectGarbage(ws, ws.warehouse, ws.environment, { dryRun: o.dryRun === true, actor: currentActor() });
  const versions = r.deleted.filter((d) => d.kind === 'version').length;
  const verb = r.dryRun ? 'would delete' : 'deleted';
  const reasons = new Map<string, number>();
  for (const h of r.held) {
    const why = h.reason.replace(/^rollout \S+/, 'a rollout').replace(/\d+/g, 'N');
    reasons.set(why, (reasons.get(why) ?? 0) + 1);
  }
  const lines = [
    `${verb} ${versions} output version(s) and ${r.deleted.length - versions} other file(s) in ${ws.environment}: ${r.rows} rows, ${formatBytes(r.bytes)}`,
    ...(r.deleted.length > 0 && r.deleted.length <= 30 ? [formatTable(r.deleted.map((d) => ({ kind: d.kind, id: d.id, rows: d.rows, bytes: d.bytes })))] : []),
    `kept ${r.held.length} output version(s)${reasons.size ? ':' : ''}`,
    ...[...reasons].map(([why, n]) => `  ${n} × ${why}`),
  ];
  cli.out({ json: r, text: lines.join('\n') });
}

/** `sluice compact`: published partitions merged into fewer, larger segment files. */
export async function compact(cli: CliContext, o: { dataset?: string[]; force?: boolean }): Promise<void> {
  await using ws = await openWorkspace(cli.globals().project, cli.globals().env, { recover: true });
  requireDatasets(ws.project, o.dataset ?? [], '--dataset');
  const reports = await ws.warehouse.compact({ ...(o.dataset ? { datasets: o.dataset } : {}), force: o.force === true });
  cli.out({
    json: reports,
    text: reports.length === 0
      ? 'nothing to compact'
      : formatTable(reports.map((c) => ({ dataset: c.dataset, segment: c.segment, partitions: c.partitions, rows: c.rows, size: formatBytes(c.bytes), merged: `${c.merged.segments} segment(s) + ${c.merged.overlays} version(s)`, seconds: c.seconds.toFixed(2) }))),
  });
}

/** `sluice export DATASET --to DIR`: the published partitions as Parquet. */
export async function exportDataset(cli: CliContext, dataset: string, o: { to: string }): Promise<void> {
  await using ws = await openWorkspace(cli.globals().project, cli.globals().env, { recover: true });
  requireDatasets(ws.project, [dataset], 'dataset');
  const r = await ws.warehouse.exportDataset(dataset, resolve(o.to));
  cli.out({ json: r, text: `exported ${dataset}: ${r.partitions} partition(s), ${r.written} written, ${r.reused} unchanged; read ${r.current}/**/*.parquet (snapshot ${r.snapshot})` });
}

/** Every name is a dataset some pipeline publishes, or the command stops naming the first that is not. */
function requireDatasets(project: Project, names: readonly string[], field: string): void {
  for (const d of names) if (!pipelineOfDataset(project, d)) throw new SluiceError('NOT_FOUND', `unknown dataset "${d}"`, { field });
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
