import type { Command } from 'commander';
import type { ProfileRecord } from '../../../store/metadata-store.ts';
import type { ColumnProfile } from '../../../quality/profile-table.ts';
import type { ProfileAnomaly } from '../../../quality/profile-anomalies.ts';
import type { StoredProfile } from '../../../quality/stored-results.ts';
import type { Emit } from '../../emit.ts';
import { formatTable } from '../../../util/format-table.ts';
import type { GlobalOptions } from '../../main.ts';
import { openWorkspace } from '../../../app/open-workspace.ts';
import { positiveInt } from '../core-commands.ts';
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
export function registerProfileCommand(program: Command, emit: Emit): void {
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  program
    .command('profile')
    .argument('<dataset>')
    .option('--partition <p>', "one partition's latest profile in full")
    .option('--limit <n>', 'most recent partitions listed', '30')
    .description('stored profiles of a dataset (taken after each publish) and their anomaly verdicts')
    .action(async (name: string, o: { partition?: string; limit: string }) => {
      await using ws = await openWorkspace(globals().project, globals().env);
      const { dataset } = findDataset(ws.project, name);
      const records = latestByPartition(await ws.store.profiles.recent(ws.environment, dataset.name, 2000), o.partition);
      const flagged = (p: StoredProfile): ProfileAnomaly[] => p.anomalies.filter((a) => a.flagged);
      if (records.length === 0) {
        const where = o.partition ? ` partition ${o.partition}` : '';
        emit({ json: o.partition ? null : [], text: `no profiles of ${dataset.name}${where} in ${ws.environment} yet (a profile is taken after each publish)` }, globals());
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
        emit(
          {
            json: shown.map((r) => ({ ...r, profile: profileOf(r) })),
            text: `profiles of ${dataset.name} in ${ws.environment} (latest per partition)\n${formatTable(rows)}\n\n${total === 0 ? 'no anomalies' : `${total} anomaly verdict(s); see sluice profile ${name} --partition P`}`,
          },
          globals(),
        );
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
        'anomaly verdicts (robust z on median and MAD of earlier partitions, threshold 3.5, 7+ points):',
        formatTable(verdicts),
        ...flagged(p).map((a) => `  ! ${a.message}`),
      ];
      emit({ json: { ...r, profile: p }, text: text.join('\n') }, globals());
    });
}
