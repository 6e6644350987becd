import { datasetContract } from '../config/load-contracts.ts';
import type { SqlEngine } from '../engine/sql-engine.ts';
import type { Dataset, Pipeline, Project } from '../config/project-model.ts';
import { quoteIdent } from '../engine/sql.ts';
import type { OutputVersion, Warehouse } from '../engine/warehouse.ts';
import { columnDrift } from '../quality/column-drift.ts';
import { diffTables } from '../quality/diff-tables.ts';
import { detectProfileAnomalies } from '../quality/profile-anomalies.ts';
import type { AnomalyResult, BatchEvidence, CheckResult, ColumnDiff, MetricValues } from '../rollout/gate-evidence.ts';
import type { Stores } from '../store/metadata-store.ts';
import type { Clock } from '../util/clock.ts';
import { checkOutput, type OutputCheck } from './validate-output.ts';

/** What a sliced step computed in one run: both versions over the same input, and the blend to publish. */
export interface CandidateOutputs {
  readonly baseline: OutputVersion;
  readonly candidate?: OutputVersion;
  /** Why the candidate produced no output (its SQL failed, or the blend could not be built). */
  readonly candidateError?: string;
  /** The output that would be published with the candidate's rows (the blend, or the candidate at 100 %). */
  readonly exposed?: OutputVersion;
  readonly baselineMs: number;
  readonly candidateMs: number;
  readonly sliceKey?: string;
}

export interface EvidenceOptions {
  /** Also compare candidate with baseline (metrics, diff, anomalies): what rollout gates judge. */
  readonly full: boolean;
  /** Compute PSI/KS drift per column (extra scans; only when a gate asks for it). */
  readonly drift: boolean;
  readonly environment: string;
}

export interface CandidateEvidence {
  readonly evidence: BatchEvidence;
  /** Set when the candidate must not be published: it failed, or it (or its blend) broke an error check or the contract. */
  readonly broken?: string;
  /** Check runs already made on outputs (by version id), so the publish check does not repeat them. */
  readonly checked: ReadonlyMap<string, OutputCheck>;
}

/**
 * What one batch tells about a candidate, gathered right after its step computed and before any
 * downstream step reads it: the dataset's checks and contract on the candidate's own output and on
 * the blend that would be published; with `full`, also metrics of both sides, the diff of candidate
 * against baseline (same input, same run), drift, and anomalies of the candidate against the
 * dataset's history. Counts and statistics only; rows stay in the engine.
 */
export async function candidateEvidence(
  deps: { project: Project; warehouse: Warehouse; clock: Clock; store: Pick<Stores, 'profiles'>; engine?: SqlEngine },
  pipeline: Pipeline,
  step: string,
  o: CandidateOutputs,
  options: EvidenceOptions,
): Promise<CandidateEvidence> {
  const datasets = [...pipeline.datasets.values()].filter((d) => d.step === step);
  const checks: CheckResult[] = [];
  const checked = new Map<string, OutputCheck>();
  const baselineMetrics: Record<string, number> = { duration_ms: o.baselineMs, error_rate: 0 };
  if (!o.candidate) {
    checks.push({ name: 'candidate_runs', success: false, severity: 'error', message: o.candidateError ?? 'the candidate produced no output' });
    return { evidence: { checks, metrics: { baseline: baselineMetrics, candidate: { error_rate: 1 } } }, broken: o.candidateError ?? 'the candidate produced no output', checked };
  }
  checks.push({ name: 'candidate_runs', success: true, severity: 'error' });
  const sides: { label: string; out: OutputVersion }[] = [{ label: '', out: o.candidate }];
  if (o.exposed && o.exposed.id !== o.candidate.id && o.exposed.id !== o.baseline.id) sides.push({ label: 'blend.', out: o.exposed });
  for (const d of datasets) {
    const contract = datasetContract(deps.project, d);
    if (d.checks.length === 0 && !contract) continue;
    for (const side of sides) {
      const result = await checkOutput(deps.engine ?? deps.warehouse, d, side.out.table, contract, deps.clock.now());
      checked.set(`${d.name}\0${side.out.id}`, result);
      const { report, validation } = result;
      if (contract && validation) {
        const broken = validation.violations.filter((v) => v.breaking);
        checks.push({ name: `${side.label}contract`, success: broken.length === 0, severity: 'error', observed: broken.length, message: broken.length ? broken.map((v) => v.message).join('; ') : `contract v${contract.current.version} holds` });
      }
      for (const r of report.results) {
        checks.push({ name: `${side.label}${r.id}`, success: r.success, severity: r.severity, observed: typeof r.observedValue === 'number' ? r.observedValue : r.unexpectedCount, message: r.message });
      }
    }
  }
  const failing = checks.find((c) => !c.success && c.severity === 'error');
  const broken = failing ? `${failing.name.startsWith('blend.') ? 'the blended output' : 'the candidate'} failed ${failing.name.replace(/^blend\./, '')}${failing.message ? `: ${failing.message}` : ''}` : undefined;
  if (!options.full) return { evidence: { checks }, ...(broken ? { broken } : {}), checked };

  const candidateMetrics: Record<string, number> = { duration_ms: o.candidateMs, error_rate: 0 };
  Object.assign(baselineMetrics, await tableMetrics(deps.warehouse, o.baseline.table));
  Object.assign(candidateMetrics, await tableMetrics(deps.warehouse, o.candidate.table));
  const dataset: Dataset | undefined = datasets[0];
  let diff: BatchEvidence['diff'];
  const key = dataset && dataset.primaryKey.length > 0 ? dataset.primaryKey : o.sliceKey ? [o.sliceKey] : [];
  if (key.length > 0) {
    const t = await diffTables(deps.warehouse, o.baseline.table, o.candidate.table, { key, sampleSize: 5 });
    const matched = Math.max(1, t.changed + t.unchanged);
    const drift = options.drift ? await columnDrift(deps.warehouse, o.baseline.table, o.candidate.table, {}) : [];
    const columns: ColumnDiff[] = t.columns.map((c) => {
      const dr = drift.find((x) => x.column === c);
      return { column: c, mismatchShare: (t.changedByColumn[c] ?? 0) / matched, ...(dr ? { psi: dr.psi, ...(dr.ks === null ? {} : { ks: dr.ks }) } : {}) };
    });
    diff = { rowsBaseline: t.leftRows, rowsCandidate: t.rightRows, rowsChanged: t.changed, rowsOnlyBaseline: t.onlyLeft, rowsOnlyCandidate: t.onlyRight, columns };
  }
  const anomalies = dataset ? await candidateAnomalies(deps, dataset, o.candidate, candidateMetrics, options.environment) : [];
  return {
    evidence: { checks, ...(diff ? { diff } : {}), metrics: { baseline: baselineMetrics, candidate: candidateMetrics }, anomalies },
    ...(broken ? { broken } : {}),
    checked,
  };
}

/** Anomalies of the candidate's row count and null rates against the dataset's published history. */
async function candidateAnomalies(deps: { store: Pick<Stores, 'profiles'>; clock: Clock }, dataset: Dataset, candidate: OutputVersion, metrics: MetricValues, environment: string): Promise<AnomalyResult[]> {
  const history = (await deps.store.profiles.recent(environment, dataset.name)).map((r) => ({ partition: r.partition, at: r.at, order: r.runId, metrics: r.profile.metrics }));
  const watched = Object.fromEntries(Object.entries(metrics).filter(([k]) => k === 'row_count' || k.startsWith('null_rate.')));
  return detectProfileAnomalies(history, { partition: candidate.partition, at: deps.clock.now().toISOString(), order: candidate.runId, metrics: watched }).map((a) => ({
    metric: a.metric,
    flagged: a.flagged,
    ...(a.score !== null ? { score: a.score } : {}),
    ...(a.expected !== null ? { expected: a.expected } : {}),
    actual: a.actual,
    message: a.message,
  }));
}

/** Row count and per-column null rates in one scan. */
async function tableMetrics(w: Warehouse, table: string): Promise<MetricValues> {
  const cols = await w.columns(table);
  const double = (e: string): string => w.dialect.toDouble(e, 'integer');
  const parts = [`${double('count(*)')} AS "row_count"`, ...cols.map((c) => `(1 - ${double(`count(${quoteIdent(c.name)})`)} / greatest(count(*), 1)) AS ${quoteIdent(`null_rate.${c.name}`)}`)];
  const [r] = await w.query(`SELECT ${parts.join(', ')} FROM ${table}`);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r ?? {})) out[k] = Number(v);
  return out;
}

/** The evidence of several steps of one rollout in one batch, as one record for its gates. */
export function mergeEvidence(parts: readonly BatchEvidence[]): BatchEvidence {
  if (parts.length === 1 && parts[0]) return parts[0];
  const checks = parts.flatMap((p) => p.checks ?? []);
  const diff = [...parts].reverse().find((p) => p.diff)?.diff;
  const metrics = parts.reduce<{ baseline: Record<string, number>; candidate: Record<string, number> }>((m, p) => ({ baseline: { ...m.baseline, ...p.metrics?.baseline }, candidate: { ...m.candidate, ...p.metrics?.candidate } }), { baseline: {}, candidate: {} });
  const anomalies = parts.flatMap((p) => p.anomalies ?? []);
  return { checks, ...(diff ? { diff } : {}), metrics, ...(anomalies.length ? { anomalies } : {}) };
}
