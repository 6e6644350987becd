import type { Row } from '../../../engine/sql-engine.ts';
import { columnDrift } from '../../../quality/column-drift.ts';
import { diffTables } from '../../../quality/diff-tables.ts';
import { SluiceError } from '../../../util/errors.ts';
import { formatTable } from '../../../util/format-table.ts';
import type { CliContext } from '../cli-context.ts';
import { openWorkspace } from '../../../app/open-workspace.ts';
import { positiveInt } from '../parse-options.ts';
import { cell, percent } from './format-results.ts';
import { contractOf, findDataset, resolveOutputVersion, datasetPartition } from '../../../runner/resolve-output.ts';

/**
 * `sluice diff DATASET --partition P --versions A B`: rows only in A, only in B, changed (per
 * column) and unchanged, joined on the dataset's primary key, with samples; then distribution drift
 * per column (PSI, and KS for numbers). A and B are output version ids, step versions (their newest
 * output for P) or `published`.
 */
export async function diffVersions(cli: CliContext, name: string, options: { partition?: string; versions: string[]; sample: string; drift: boolean }): Promise<void> {
  const o = options;
  if (o.versions.length !== 2) throw new SluiceError('USAGE', `--versions takes exactly two output versions (got ${o.versions.length}: ${o.versions.join(' ')})`, { field: '--versions' });
  await using ws = await openWorkspace(cli.globals().project, cli.globals().env);
  const { dataset } = findDataset(ws.project, name);
  const key = dataset.primaryKey.length > 0 ? dataset.primaryKey : (contractOf(ws.project, dataset)?.current.primaryKey ?? []);
  if (key.length === 0) throw new SluiceError('USAGE', `dataset ${name} has no primary_key to join the versions on; declare one in its pipeline`, { field: `datasets.${name}.primary_key` });
  // One after the other: a refused first version must not leave a query running while the workspace closes.
  const partition = datasetPartition(dataset, o.partition);
  const a = await resolveOutputVersion(ws.warehouse, dataset, partition, o.versions[0] ?? '', '--versions.0');
  const b = await resolveOutputVersion(ws.warehouse, dataset, partition, o.versions[1] ?? '', '--versions.1');
  const diff = await diffTables(ws.warehouse, a.version.table, b.version.table, { key, sampleSize: positiveInt(o.sample, '--sample') });
  const drift = o.drift ? await columnDrift(ws.warehouse, a.version.table, b.version.table, { columns: diff.columns }) : [];
  const label = (v: typeof a): string => `${v.version.id} (${v.version.stepVersion}${v.published ? ', published' : ''})`;
  const matched = diff.changed + diff.unchanged;
  const perColumn = diff.columns.map((c) => {
    const d = drift.find((x) => x.column === c);
    const changed = diff.changedByColumn[c] ?? 0;
    return { column: c, changed, changed_pct: percent(matched > 0 ? (100 * changed) / matched : 0), psi: d ? d.psi.toFixed(4) : '', ks: d?.ks === null || d?.ks === undefined ? '' : d.ks.toFixed(4) };
  });
  const keyText = (row: Row): string => key.map((k) => `${k}=${cell(row[k] ?? null)}`).join(' ');
  const text = [
    `diff ${dataset.name} partition ${partition}: ${label(a)} -> ${label(b)}, key [${key.join(', ')}], by ${diff.method}`,
    `rows: ${diff.leftRows} -> ${diff.rightRows}; only in ${a.version.id}: ${diff.onlyLeft}; only in ${b.version.id}: ${diff.onlyRight}; changed: ${diff.changed}; unchanged: ${diff.unchanged}`,
    ...(diff.columnsOnlyLeft.length > 0 ? [`columns only in ${a.version.id}: ${diff.columnsOnlyLeft.join(', ')}`] : []),
    ...(diff.columnsOnlyRight.length > 0 ? [`columns only in ${b.version.id}: ${diff.columnsOnlyRight.join(', ')}`] : []),
    '',
    formatTable(perColumn),
    ...(diff.samples.changed.length > 0
      ? ['', `changed rows (first ${diff.samples.changed.length}):`, ...diff.samples.changed.map((r) => `  ${key.map((k) => `${k}=${cell(r.key[k] ?? null)}`).join(' ')}: ${r.changedColumns.map((c) => `${c} ${cell(r.left[c] ?? null)} -> ${cell(r.right[c] ?? null)}`).join(', ')}`)]
      : []),
    ...(diff.samples.onlyLeft.length > 0 ? ['', `only in ${a.version.id} (first ${diff.samples.onlyLeft.length}):`, ...diff.samples.onlyLeft.map((r) => `  ${keyText(r)}`)] : []),
    ...(diff.samples.onlyRight.length > 0 ? ['', `only in ${b.version.id} (first ${diff.samples.onlyRight.length}):`, ...diff.samples.onlyRight.map((r) => `  ${keyText(r)}`)] : []),
  ];
  const { queries: _q, ...diffJson } = diff;
  cli.out({
    json: { dataset: dataset.name, partition, environment: ws.environment, left: { id: a.version.id, stepVersion: a.version.stepVersion, published: a.published }, right: { id: b.version.id, stepVersion: b.version.stepVersion, published: b.published }, diff: diffJson, drift },
    text: text.join('\n'),
  });
}
