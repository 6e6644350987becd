import type { Dataset, Pipeline, Project } from '../config/project-model.ts';
import { quoteIdent } from '../engine/sql.ts';
import type { Warehouse } from '../engine/warehouse.ts';
import { datasetContract } from '../config/load-contracts.ts';
import { checkOutput } from './validate-output.ts';
import { diffTables } from '../quality/diff-tables.ts';
import { columnDrift } from '../quality/column-drift.ts';
import type { BatchEvidence, CheckResult, ColumnDiff, MetricValues } from '../rollout/gate-evidence.ts';
import type { Publication as RolloutPublication } from '../rollout/rollout-state.ts';
import type { StepRef } from '../rollout/rollout-plan.ts';
import type { Clock } from '../util/clock.ts';
import type { StepOutcome } from './run-pipeline.ts';

export interface EvidenceOptions {
  /** Compute PSI/KS drift per column (extra scans; only when a gate asks for it). */
  readonly drift: boolean;
}

/**
 * What one batch tells the gates about a candidate: checks on the candidate's own output, the diff
 * of candidate against baseline (computed over the same input in the same run), drift, and metrics
 * of both sides. Counts and statistics only; rows stay in the engine.
 */
export async function gatherEvidence(
  deps: { project: Project; warehouse: Warehouse; clock: Clock },
  pipeline: Pipeline,
  steps: readonly StepRef[],
  outcomes: readonly StepOutcome[],
  options: EvidenceOptions,
): Promise<{ evidence: BatchEvidence; publications: RolloutPublication[]; success: boolean }> {
  const checks: CheckResult[] = [];
  const baselineMetrics: Record<string, number> = {};
  const candidateMetrics: Record<string, number> = {};
  const publications: RolloutPublication[] = [];
  let diff: BatchEvidence['diff'];
  let success = true;
  for (const ref of steps.filter((s) => s.pipeline === pipeline.name)) {
    const o = outcomes.find((x) => x.step === ref.step);
    if (!o || o.exposure.kind !== 'sliced' || !o.baselineOutput || !o.output) continue;
    const datasets = [...pipeline.datasets.values()].filter((d) => d.step === ref.step);
    for (const d of datasets) {
      publications.push({ dataset: d.name, partition: o.output.partition, outputVersion: o.output.id, baselineOutputVersion: o.baselineOutput.id, candidateRows: o.output.id !== o.baselineOutput.id });
    }
    baselineMetrics['duration_ms'] = o.baselineMs ?? 0;
    baselineMetrics['error_rate'] = 0;
    if (!o.candidateOutput) {
      success = false;
      candidateMetrics['error_rate'] = 1;
      checks.push({ name: 'candidate_runs', success: false, severity: 'error', message: o.candidateError ?? 'the candidate produced no output' });
      continue;
    }
    candidateMetrics['duration_ms'] = o.candidateMs ?? 0;
    candidateMetrics['error_rate'] = 0;
    checks.push({ name: 'candidate_runs', success: true, severity: 'error' });
    Object.assign(baselineMetrics, await tableMetrics(deps.warehouse, o.baselineOutput.table));
    Object.assign(candidateMetrics, await tableMetrics(deps.warehouse, o.candidateOutput.table));
    const dataset: Dataset | undefined = datasets[0];
    for (const d of datasets) {
      // The candidate's own output against the dataset's checks and its current contract.
      const contract = datasetContract(deps.project, d);
      if (d.checks.length === 0 && !contract) continue;
      const { report, validation } = await checkOutput(deps, d, o.candidateOutput.table, contract, deps.clock.now());
      if (contract && validation) {
        const broken = validation.violations.filter((v) => v.breaking);
        checks.push({ name: 'contract', success: broken.length === 0, severity: 'error', observed: broken.length, message: broken.length ? broken.map((v) => v.message).join('; ') : `contract v${contract.current.version} holds` });
      }
      for (const r of report.results) {
        checks.push({ name: r.id, success: r.success, severity: r.severity, observed: typeof r.observedValue === 'number' ? r.observedValue : r.unexpectedCount, message: r.message });
      }
    }
    const key = dataset && dataset.primaryKey.length > 0 ? dataset.primaryKey : o.exposure.sliceKey ? [o.exposure.sliceKey] : [];
    if (key.length > 0) {
      const t = await diffTables(deps.warehouse, o.baselineOutput.table, o.candidateOutput.table, { key, sampleSize: 5 });
      const matched = Math.max(1, t.changed + t.unchanged);
      const drift = options.drift ? await columnDrift(deps.warehouse, o.baselineOutput.table, o.candidateOutput.table, {}) : [];
      const columns: ColumnDiff[] = t.columns.map((c) => {
        const dr = drift.find((x) => x.column === c);
        return { column: c, mismatchShare: (t.changedByColumn[c] ?? 0) / matched, ...(dr ? { psi: dr.psi, ...(dr.ks === null ? {} : { ks: dr.ks }) } : {}) };
      });
      diff = { rowsBaseline: t.leftRows, rowsCandidate: t.rightRows, rowsChanged: t.changed, rowsOnlyBaseline: t.onlyLeft, rowsOnlyCandidate: t.onlyRight, columns };
    }
  }
  const evidence: BatchEvidence = {
    checks,
    ...(diff ? { diff } : {}),
    metrics: { baseline: baselineMetrics, candidate: candidateMetrics },
  };
  return { evidence, publications, success };
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
