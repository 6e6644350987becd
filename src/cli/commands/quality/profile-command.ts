import type { ProfileRecord } from '../../../store/metadata-store.ts';
import type { ColumnProfile } from '../../../quality/profile-table.ts';
import { MIN_ROW_CHANGE, MIN_ROWS, type ProfileAnomaly } from '../../../quality/profile-anomalies.ts';
import type { StoredProfile } from '../../../quality/stored-results.ts';
import { formatTable } from '../../../util/format-table.ts';
import type { CliContext } from '../cli-context.ts';
import { loadProjectForMetadata } from '../../../app/load-project.ts';
import { openMetadataReads } from '../../../app/open-metadata.ts';
import { positiveInt } from '../parse-options.ts';
import { cell, percent } from './format-results.ts';
import { findDataset } from '../../../runner/resolve-output.ts';

/** The latest stored profile of each partition (one for `partition`), newest partition last. */
function latestByPartition(records: readonly ProfileRecord[], partition?: string): ProfileRecord[] {
  const latest = new Map<string, ProfileRecord>();
  for (const r of records) {
    if (partition !== undefined && r.partition !== partition) continue;
    const seen = latest.get(r.partition);
    if (!seen || r.at > seen.at || (r.at === seen.at && r.runId > seen.runId)) latest.set(r.partition, r);
  }
  return [...latest.values()].sort((a, b) => a.partition.localeCompare(b.partition));
}

function profileOf(r: ProfileRecord): StoredProfile {
  const p = r.profile as Partial<StoredProfile> | null;
  return { method: p?.method ?? 'exact', rowCount: p?.rowCount ?? 0, columns: p?.columns ?? [], metrics: p?.metrics ?? {}, anomalies: p?.anomalies ?? [], seconds: p?.seconds ?? 0 };
}

const num = (v: number | null | undefined, digits = 4): string => (v === null || v === undefined ? '' : Number.isInteger(v) ? String(v) : v.toPrecision(digits));

/**
 * `sluice profile DATASET [--partition P]`: the stored profiles of published outputs with their
 * anomaly verdicts; one line per partition, or one partition's columns and verdicts in full.
 */
export async function showProfiles(cli: CliContext, name: string, o: { partition?: string; limit: string }): Promise<void> {
  // Stored profiles are metadata: no engine, no warehouse.
  await using md = await openMetadataReads(await loadProjectForMetadata(cli.globals().project), cli.globals().env);
  const { dataset } = findDataset(md.project, name);
  const records = latestByPartition(await md.store.profiles.recent(md.environment, dataset.name, 2000), o.partition);
  const flagged = (p: StoredProfile): ProfileAnomaly[] => p.anomalies.filter((a) => a.flagged);
  if (records.length === 0) {
    const where = o.partition ? ` partition ${o.partition}` : '';
    cli.out({ json: o.partition ? null : [], text: `no profiles of ${dataset.name}${where} in ${md.environment} yet (a profile is taken after each publish)` });
    return;
  }
  if (!o.partition) {
    const shown = records.slice(-positiveInt(o.limit, '--limit'));
    const rows = shown.map((r) => {
      const p = profileOf(r);
      const rows = p.anomalies.find((a) => a.metric === 'row_count');
      return { partition: r.partition, version: r.versionId, run: r.runId, rows: p.rowCount, expected_rows: rows?.expected === null || rows?.expected === undefined ? '' : num(rows.expected, 6), method: p.method, anomalies: flagged(p).map((a) => a.metric).join(', ') || '-' };
    });
    const total = shown.reduce((n, r) => n + flagged(profileOf(r)).length, 0);
    cli.out({
      json: shown.map((r) => ({ ...r, profile: profileOf(r) })),
      text: `profiles of ${dataset.name} in ${md.environment} (latest per partition)\n${formatTable(rows)}\n\n${total === 0 ? 'no anomalies' : `${total} anomaly verdict(s); see sluice profile ${name} --partition P`}`,
    });
    return;
  }
  const r = records[records.length - 1] as ProfileRecord;
  const p = profileOf(r);
  const columns = p.columns.map((c: ColumnProfile) => ({
    column: c.name,
    type: c.type,
    nulls: `${c.nullCount} (${percent(100 * c.nullRate)})`,
    distinct: `${c.distinctCount}${c.estimated.includes('distinctCount') ? ' ~' : ''}`,
    min: c.min === null ? '' : cell(c.min, 24),
    max: c.max === null ? '' : cell(c.max, 24),
    mean: num(c.mean),
    stddev: num(c.stddev),
    p50: c.quantiles ? `${num(c.quantiles.p50)}${c.estimated.includes('quantiles') ? ' ~' : ''}` : '',
    top: c.topValues ? c.topValues.slice(0, 3).map((t) => `${cell(t.value, 16)}:${t.count}`).join(' ') : '',
  }));
  const verdicts = p.anomalies.map((a) => ({ metric: a.metric, verdict: a.flagged ? 'ANOMALY' : a.verdict, value: num(a.actual, 6), expected: num(a.expected, 6), score: a.score === null ? '' : Number.isFinite(a.score) ? a.score.toFixed(2) : String(a.score), history: a.historyUsed }));
  const text = [
    `profile of ${dataset.name} partition ${r.partition}: ${r.versionId} (run ${r.runId}) at ${r.at}, ${p.rowCount} rows, ${p.method}${p.method === 'sampled' ? ' (~ marks estimates)' : ''}, ${p.seconds.toFixed(2)} s`,
    '',
    formatTable(columns),
    '',
    `anomaly verdicts (robust z on median and MAD of earlier partitions, threshold 3.5, 7+ points, ${MIN_ROWS}+ rows, a row count more than ${MIN_ROW_CHANGE} rows off its median):`,
    formatTable(verdicts),
    ...flagged(p).map((a) => `  ! ${a.message}`),
  ];
  cli.out({ json: { ...r, profile: p }, text: text.join('\n') });
}
