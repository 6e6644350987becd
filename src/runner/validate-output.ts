import { performance } from 'node:perf_hooks';
import { type ContractSet, datasetContract } from '../config/load-contracts.ts';
import type { Dataset } from '../config/project-model.ts';
import type { OutputVersion } from '../engine/warehouse.ts';
import type { SqlEngine } from '../engine/sql-engine.ts';
import { detectProfileAnomalies, watchedMetrics } from '../quality/profile-anomalies.ts';
import { profileMetrics, profileTable } from '../quality/profile-table.ts';
import { type CheckRunReport, runChecks } from '../quality/run-checks.ts';
import { type ContractValidation, validateAgainstContract } from '../quality/validate-against-contract.ts';
import { SluiceError, messageOf } from '../util/errors.ts';
import type { ContractCheckResult, StoredCheckResult, StoredProfile } from '../quality/stored-results.ts';
import type { RunnerDeps } from './run-pipeline.ts';

/** Where observers report what went wrong (stderr by default). */
export type ObserverLog = (line: string) => void;

/** Runner dependencies, plus an optional log line sink for observers. */
export type ValidationDeps = RunnerDeps & { readonly log?: ObserverLog };

/**
 * Write, audit, publish: what a dataset's output must pass before it is published.
 *
 * With a contract (`contract:` in the pipeline), the output is validated against the contract's
 * current version (columns, types, nullability, primary key, its checks) and the dataset's own
 * checks join the same fused scan. A broken contract stops the run with CONTRACT_BROKEN; a failing
 * `error` check with CHECK_FAILED; either way nothing is published. Results are stored with the
 * run (the contract summary first, then every check).
 */
export async function validateOutput(deps: RunnerDeps, dataset: Dataset, out: OutputVersion, runId: number, checked?: OutputCheck, engine: SqlEngine = deps.warehouse, subject = `dataset ${dataset.name}`): Promise<void> {
  const contract = datasetContract(deps.project, dataset);
  if (dataset.checks.length === 0 && !contract) return;
  // The same output checked earlier in this run (a candidate's blend) is not scanned again.
  const { report, validation, ownCount } = checked ?? (await checkOutput(engine, dataset, out.table, contract, deps.clock.now()));
  const summary = contract && validation ? contractSummary(contract, validation, report.elementCount) : undefined;
  const results: StoredCheckResult[] = [...(summary ? [summary] : []), ...report.results];
  await deps.store.checkResults.record({ runId, dataset: dataset.name, partition: out.partition, versionId: out.id, results });

  const failedChecks = report.results.slice(ownCount).filter((r) => !r.success && r.severity === 'error');
  const checkLines = failedChecks.map((r) => `  - ${r.message}`);
  if (summary && !summary.success && contract) {
    const breaking = summary.violations.filter((v) => v.breaking);
    const notes = summary.violations.filter((v) => !v.breaking);
    throw new SluiceError(
      'CONTRACT_BROKEN',
      [
        `${subject}: output ${out.id} of step ${out.step} (${out.stepVersion}) breaks contract ${contract.ref} v${contract.current.version} (${breaking.length} violation(s)); nothing was published:`,
        ...breaking.map((v) => `  - ${v.message}`),
        ...(notes.length > 0 ? [`  (not breaking: ${notes.map((v) => v.message).join('; ')})`] : []),
        ...(failedChecks.length > 0 ? [`and ${failedChecks.length} error check(s) of the dataset failed:`, ...checkLines] : []),
      ].join('\n'),
      { file: summary.contract.file ?? contract.ref, field: `datasets.${dataset.name}.contract`, step: out.step, version: out.stepVersion },
    );
  }
  if (failedChecks.length > 0) {
    throw new SluiceError(
      'CHECK_FAILED',
      `${subject}: ${failedChecks.length} error check(s) failed on output ${out.id} of step ${out.step} (${out.stepVersion}); nothing was published:\n${checkLines.join('\n')}`,
      { step: out.step, version: out.stepVersion, field: subject.startsWith('step ') ? `steps.${out.step}.checks` : `datasets.${dataset.name}.checks` },
    );
  }
}

/**
 * Runs a dataset's checks, and its contract when it has one, on a table in one fused scan. The
 * report's first `ownCount` results are the contract's; the rest are the dataset's checks in order.
 */
/** One check run of an output: the report, the contract validation when there is a contract. */
export interface OutputCheck {
  readonly report: CheckRunReport;
  readonly validation?: ContractValidation;
  readonly ownCount: number;
}

/**
 * `engine` is where the checks run: a run's session, so that a `custom_sql` check can read the
 * run's other steps by name, or the warehouse (published datasets only).
 */
export async function checkOutput(
  engine: SqlEngine,
  dataset: Dataset,
  table: string,
  contract: ContractSet | undefined,
  now: Date,
): Promise<OutputCheck> {
  const options = { now, sampleSize: 20, indexColumns: dataset.primaryKey };
  if (!contract) return { report: await runChecks(engine, table, dataset.checks, options), ownCount: 0 };
  const validation = await validateAgainstContract(engine, table, contract.current, { ...options, extraChecks: dataset.checks });
  if (!validation.checks) throw new SluiceError('INTERNAL', 'contract validation returned no check report');
  return { report: validation.checks, validation, ownCount: validation.contractCheckCount ?? 0 };
}

export function contractSummary(contract: ContractSet, v: ContractValidation, elementCount: number): ContractCheckResult {
  const breaking = v.violations.filter((x) => x.breaking);
  return {
    id: 'contract',
    check: 'contract',
    columns: [...new Set(breaking.flatMap((x) => (x.column ? [x.column] : [])))],
    severity: 'error',
    success: v.valid,
    contract: { ref: contract.ref, version: v.version, file: contract.files.get(v.version) ?? null },
    elementCount,
    unexpectedCount: breaking.length,
    violations: v.violations,
    message: v.valid
      ? `contract ${contract.ref} v${v.version} holds${v.violations.length > 0 ? ` (notes: ${v.violations.map((x) => x.message).join('; ')})` : ''}`
      : `contract ${contract.ref} v${v.version} broken: ${breaking.map((x) => x.message).join('; ')}`,
  };
}

/**
 * After a publish: observers of the published output. Profiles it (cheaply on big outputs, see
 * `profileTable`), judges its row count and null rates against the dataset's stored history, and
 * stores the profile with the verdicts. Never decides anything about the publish that already
 * happened: failures are logged (stderr by default), never thrown. Anomalies are logged too.
 */
export async function afterPublish(deps: ValidationDeps, dataset: Dataset, out: OutputVersion, runId: number, environment: string): Promise<void> {
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  try {
    const started = performance.now();
    // An output version is a stored table, profiled whole: the engine's statistics describe it.
    const profile = await profileTable(deps.warehouse, out.table, { rowCount: out.rowCount, useStatistics: true });
    const at = deps.clock.now().toISOString();
    const history = (await deps.store.profiles.recent(environment, dataset.name)).map((r) => ({ partition: r.partition, at: r.at, order: r.runId, metrics: watchedMetrics(r.profile) }));
    const anomalies = detectProfileAnomalies(history, { partition: out.partition, at, order: runId, metrics: watchedMetrics(profile) });
    const stored: StoredProfile = {
      method: profile.method,
      rowCount: profile.rowCount,
      columns: profile.columns,
      metrics: profileMetrics(profile),
      anomalies,
      seconds: (performance.now() - started) / 1000,
    };
    await deps.store.profiles.record({ environment, dataset: dataset.name, partition: out.partition, runId, versionId: out.id, at, profile: stored });
    for (const a of anomalies.filter((x) => x.flagged)) log(`warning: anomaly in ${dataset.name} partition ${out.partition} (${out.id}): ${a.message}`);
  } catch (e) {
    log(`warning: could not profile ${dataset.name} partition ${out.partition} (${out.id}); the publish stands: ${messageOf(e)}`);
  }
}
