import { parseDecimal } from '../../../util/decimal.ts';
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { loadProjectOrThrow } from '../../../app/load-project.ts';
import type { Project } from '../../../config/project-model.ts';
import { openScratchEngine } from '../../../app/adapters.ts';
import { quoteIdent, quoteLiteral } from '../../../engine/sql.ts';
import { type SynthSchema, synthesize } from '../../../quality/synthesize.ts';
import { SluiceError } from '../../../util/errors.ts';
import { formatTable } from '../../../util/format-table.ts';
import type { CliContext } from '../cli-context.ts';
import { contractOf, findDataset, findSource } from '../../../runner/resolve-output.ts';

interface SynthTarget {
  readonly kind: 'dataset' | 'source';
  readonly schema: SynthSchema;
  /** Set to the partition on every row (it is what a run selects on). */
  readonly partitionColumn?: string;
  /** A hive-partitioned source: written into a `column=value` folder so the source's glob can read it. */
  readonly hive: boolean;
  readonly format: 'parquet' | 'csv';
}

/**
 * What to synthesize for a name: a dataset's current contract, or a source's declared columns. A
 * source's duplicated key is `key`, else the first primary key of its pipeline's datasets that the
 * source declares (what the steps must dedupe on).
 */
function targetOf(project: Project, name: string, key: readonly string[] | undefined): SynthTarget {
  const source = findSource(project, name);
  if (source) {
    const { source: s } = source;
    if (!s.columns || Object.keys(s.columns).length === 0)
      throw new SluiceError('USAGE', `source ${name} declares no columns; add \`columns: { name: TYPE, ... }\` to it in ${source.pipeline.file} to synthesize data for it`, { file: source.pipeline.file, field: `sources.${name}.columns` });
    const columns = Object.entries(s.columns).map(([n, type]) => ({ name: n, type, nullable: true }));
    const part = s.partitionColumn;
    const withPart = part && !columns.some((c) => c.name === part) && !(s.kind === 'files' && s.hive) ? [...columns, { name: part, type: 'DATE', nullable: false }] : columns;
    const declared = new Set(columns.map((c) => c.name));
    const guessed = [...source.pipeline.datasets.values()].map((d) => d.primaryKey).find((pk) => pk.length > 0 && pk.every((k) => declared.has(k)));
    const primaryKey = key ?? guessed ?? [];
    const unknown = primaryKey.filter((k) => !declared.has(k));
    if (unknown.length > 0) throw new SluiceError('USAGE', `--key: source ${name} declares no column ${unknown.join(', ')} (columns: ${[...declared].join(', ')})`, { field: '--key' });
    return {
      kind: 'source',
      schema: { columns: withPart, primaryKey },
      ...(part ? { partitionColumn: part } : {}),
      hive: s.kind === 'files' && s.hive && !!part,
      format: s.kind === 'files' && s.format === 'csv' ? 'csv' : 'parquet',
    };
  }
  const { dataset } = findDataset(project, name);
  const contract = contractOf(project, dataset);
  if (key) throw new SluiceError('USAGE', `--key is for sources; dataset ${name} duplicates its contract's primary key`, { field: '--key' });
  if (!contract) throw new SluiceError('USAGE', `dataset ${name} declares no contract to synthesize from; add contract: contracts/${name} to it, or name a source`, { field: `datasets.${name}.contract` });
  return { kind: 'dataset', schema: { columns: contract.current.columns, primaryKey: contract.current.primaryKey }, partitionColumn: dataset.partitionColumn, hive: false, format: 'parquet' };
}

/**
 * `sluice synth DATASET-or-SOURCE`: a table of edge cases (nulls, empty and odd strings, extreme
 * and non-finite numbers, epoch and far-future dates, late events, duplicate keys) from a dataset's
 * contract or a source's declared columns, written as Parquet or CSV so a candidate version can be
 * tried on it. Default place: `data/synthetic/<name>.<format>` in the project; for a hive source
 * `data/synthetic/<name>/<column>=<partition>/<name>.<format>`, so a source path can point there.
 */
export async function synth(cli: CliContext, name: string, o: { rows: string; seed: string; partition: string; out?: string; format?: 'parquet' | 'csv'; duplicateKeyEvery: string; key?: string }): Promise<void> {
  const project = await loadProjectOrThrow(cli.globals().project);
  const t = targetOf(project, name, o.key === undefined ? undefined : o.key.split(',').map((k) => k.trim()).filter(Boolean));
  const rows = wholeNumber(o.rows, '--rows');
  const seed = wholeNumber(o.seed, '--seed');
  const dupEvery = wholeNumber(o.duplicateKeyEvery, '--duplicate-key-every');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(o.partition) || Number.isNaN(Date.parse(o.partition))) throw new SluiceError('USAGE', `--partition takes a date YYYY-MM-DD (got "${o.partition}")`, { field: '--partition' });
  const format = o.format ?? (o.out ? (/\.csv$/i.test(o.out) ? 'csv' : 'parquet') : t.format);
  const file = o.out
    ? isAbsolute(o.out) ? o.out : resolve(o.out)
    : t.hive && t.partitionColumn
      ? join(project.root, 'data', 'synthetic', name, `${t.partitionColumn}=${o.partition}`, `${name}.${format}`)
      : join(project.root, 'data', 'synthetic', `${name}.${format}`);
  mkdirSync(dirname(file), { recursive: true });
  await using db = await openScratchEngine();
  const r = await synthesize(db, t.schema, { rows, seed, target: 'synth', now: new Date(`${o.partition}T12:00:00Z`), duplicateKeyEvery: dupEvery });
  const part = t.partitionColumn;
  if (part && t.schema.columns.some((c) => c.name === part)) await db.exec(`UPDATE synth SET ${quoteIdent(part)} = CAST(${quoteLiteral(o.partition)} AS DATE)`);
  await db.exec(db.dialect.copyToFile?.('synth', file, format) ?? '');
  const rel = relative(process.cwd(), file);
  const shown = rel === '' || rel.startsWith('..') ? file : rel;
  const hint =
    t.kind === 'source' && t.hive && !o.out
      ? `to run a version on it: copy ${relative(project.root, dirname(file))}/ next to the source's other partitions (or point the source's path at data/synthetic/${name}/*/*.${format}), then sluice run --partition ${o.partition}`
      : t.kind === 'source'
        ? `to run a version on it: point sources.${name}.path at this file (or copy it beside the source's files), then sluice run --partition ${o.partition}`
        : `to try a consumer on it: read it in place of ${name} (e.g. a source with path ${relative(project.root, file)})`;
  const edges = Object.entries(r.edges).map(([column, list]) => ({ column, type: t.schema.columns.find((c) => c.name === column)?.type ?? '', edges: part === column ? `= ${o.partition} (the partition)` : list.join(', ') }));
  cli.out({
    json: { name, kind: t.kind, rows, seed, partition: o.partition, format, file, edges: r.edges },
    text: [`wrote ${rows} synthetic rows for ${t.kind} ${name} to ${shown} (${format}, seed ${seed})`, '', formatTable(edges), '', hint].join('\n'),
  });
}

function wholeNumber(v: string, what: string): number {
  const n = parseDecimal(v, { integer: true });
  if (n === undefined) throw new SluiceError('USAGE', `${what} takes a whole number (got "${v}")`, { field: what });
  return n;
}
