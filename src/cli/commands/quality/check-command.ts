import type { CheckResult } from '../../../quality/check-types.ts';
import { checkOutput, contractSummary } from '../../../runner/validate-output.ts';
import type { ContractCheckResult, StoredCheckResult } from '../../../quality/stored-results.ts';
import { formatTable } from '../../../util/format-table.ts';
import type { CliContext } from '../cli-context.ts';
import { openWorkspace } from '../../../app/open-workspace.ts';
import { positiveInt } from '../parse-options.ts';
import { checkRows, contractLine } from './format-results.ts';
import { contractOf, datasetPartition, findDataset, resolveOutputVersion } from '../../../runner/resolve-output.ts';

/** Check results of on-demand runs are stored under run 0 (no run): one record per dataset and output version, the latest kept. */
export const ON_DEMAND_RUN = 0;

/**
 * `sluice check DATASET --partition P [--version V]`: the dataset's declared checks (and its
 * contract, when it has one) on the published partition or on one output version, in one fused
 * scan. Prints every result, stores them, exits 6 when an error check fails or the contract breaks.
 */
export async function checkDataset(cli: CliContext, name: string, options: { partition?: string; version: string; sample: string }): Promise<void> {
  await using ws = await openWorkspace(cli.globals().project, cli.globals().env);
  const sample = positiveInt(options.sample, '--sample');
  const { dataset } = findDataset(ws.project, name);
  const o = { ...options, partition: datasetPartition(dataset, options.partition) };
  const contract = contractOf(ws.project, dataset);
  const { version, published } = await resolveOutputVersion(ws.warehouse, dataset, o.partition, o.version, '--version');
  // Checks run as in the run that computed the output: a custom SQL check may read its other steps by name.
  await using session = await ws.warehouse.openSession();
  for (const s of await ws.store.runs.steps(version.runId)) {
    if (s.outputVersionId && s.step !== version.step && (await ws.warehouse.outputVersion(s.outputVersionId))) await session.bindOutput(s.step, s.outputVersionId);
  }
  const { report, validation, ownCount } = await checkOutput(session, dataset, version.table, contract, ws.clock.now());
  const summary: ContractCheckResult | undefined = contract && validation ? contractSummary(contract, validation, report.elementCount) : undefined;
  const results: StoredCheckResult[] = [...(summary ? [summary] : []), ...report.results];
  await ws.store.checkResults.record({ runId: ON_DEMAND_RUN, dataset: dataset.name, partition: o.partition, versionId: version.id, results });
  const own: readonly CheckResult[] = report.results.slice(ownCount);
  const failed = report.results.filter((r) => !r.success && r.severity === 'error');
  const warned = report.results.filter((r) => !r.success && r.severity === 'warn');
  const ok = failed.length === 0 && (summary?.success ?? true);
  const text = [
    `check ${dataset.name} partition ${o.partition} on ${version.id} (${published ? 'published; ' : ''}step ${version.step} ${version.stepVersion}, ${report.elementCount} rows) in ${ws.environment}`,
    ...(summary ? contractLine(summary) : []),
    '',
    report.results.length > 0 ? formatTable(checkRows(report.results, sample, ownCount)) : `(no checks declared for ${dataset.name})`,
    '',
    `${report.results.length} check(s)${summary ? ` (${ownCount} from the contract, ${own.length} declared on the dataset)` : ''}: ${report.results.length - failed.length - warned.length} passed, ${failed.length} failed, ${warned.length} warned${ok ? '' : ' -> FAILED'}`,
    ...failed.map((r) => `  - ${r.message}`),
  ];
  cli.out({
    json: { dataset: dataset.name, partition: o.partition, environment: ws.environment, version: version.id, stepVersion: version.stepVersion, published, success: ok, contract: summary ?? null, results: report.results, queries: report.queries },
    text: text.join('\n'),
    exitCode: ok ? 0 : 6,
  });
}
