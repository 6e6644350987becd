import type { Project } from '../config/project-model.ts';
import type { Warehouse } from '../engine/warehouse.ts';
import { auditCoverage, type CoverageProblem, type CoverageRecords } from '../governance/audit-coverage.ts';
import type { AuditVerdict } from '../governance/audit-chain.ts';
import type { AuditTrail } from '../governance/audit-trail.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import type { Clock } from '../util/clock.ts';
import { ownerGone } from '../util/lease.ts';
import { rollbackIntent } from './rollouts/rollout-effects.ts';

export interface VerifyAuditDeps {
  readonly project: Project;
  readonly store: MetadataStore;
  readonly audit: AuditTrail;
  readonly clock: Clock;
  /** An environment's warehouse when it exists (verify never creates one). */
  readonly existingWarehouse: (environment: string) => Promise<Warehouse | undefined>;
}

export interface AuditReport {
  readonly ok: boolean;
  readonly chain: AuditVerdict;
  readonly coverage: readonly CoverageProblem[];
  /** Half-done work a stopped process left: not a fault of the trail; the next writing command finishes it. */
  readonly unfinished: readonly string[];
  readonly checked: { readonly runs: number; readonly flagRevisions: number; readonly publications: number; readonly environments: readonly string[] };
  readonly keyLocation: string;
  readonly checkpointLocation: string;
}

/**
 * The whole audit check: the chain against the key and the checkpoint outside the store, then the
 * trail against the records it must cover (runs, flag revisions, and the publication log of every
 * environment's warehouse that exists). Reads only.
 */
export async function verifyAudit(deps: VerifyAuditDeps): Promise<AuditReport> {
  const chain = await deps.audit.verify();
  const entries = await deps.store.audit.list();
  const runs = await deps.store.runs.list({ limit: Number.MAX_SAFE_INTEGER });
  const flagRevisions = (await Promise.all(deps.project.environments.map((env) => deps.store.flagRevisions.list(env)))).flat();
  const intents = await deps.store.intents.list();
  const unfinished: string[] = [];
  const inFlightRuns = new Set<number>();
  for (const r of runs) {
    if (r.status !== 'running') continue;
    inFlightRuns.add(r.id);
    if (ownerGone(r.owner, r.leaseUntil, deps.clock)) unfinished.push(`run ${r.id} was left running by ${r.owner}, which stopped`);
  }
  for (const i of intents) if (ownerGone(i.owner, i.leaseUntil, deps.clock)) unfinished.push(`${i.kind} ${i.id} was left unfinished by ${i.owner}, which stopped`);
  const inFlightIntents = new Set(intents.map((i) => i.id));
  for (const a of await deps.store.rollouts.list()) {
    if (a.pending.length === 0) continue;
    inFlightIntents.add(rollbackIntent(a.name));
    if (!a.pendingLease || ownerGone(a.pendingLease.owner, a.pendingLease.until, deps.clock)) unfinished.push(`rollout ${a.id} has ${a.pending.length} pending action(s) left by a process that stopped`);
  }

  const publications: CoverageRecords['publications'][number][] = [];
  const environments: string[] = [];
  for (const environment of deps.project.environments) {
    const w = await deps.existingWarehouse(environment);
    if (!w) continue;
    environments.push(environment);
    const datasets = [...deps.project.pipelines.values()].flatMap((p) => [...p.datasets.keys()]);
    for (const d of datasets) for (const publication of await w.publicationHistory(d)) publications.push({ environment, publication });
  }
  const coverage = auditCoverage(entries, { runs, flagRevisions, flagEnvironments: deps.project.environments, publications, environments, inFlight: { runs: inFlightRuns, intents: inFlightIntents } });
  const unfinishedNote = unfinished.length > 0 ? ' (the next command that writes finishes it)' : '';
  return {
    ok: chain.ok && coverage.problems.length === 0,
    chain,
    coverage: coverage.problems,
    unfinished: [...unfinished.map((u) => `${u}${unfinishedNote}`), ...(coverage.pending > 0 ? [`${coverage.pending} publication(s) of that unfinished work are not audited yet: recovery writes their entries`] : [])],
    checked: { runs: runs.length, flagRevisions: flagRevisions.length, publications: publications.length, environments },
    keyLocation: deps.audit.keyLocation,
    checkpointLocation: deps.audit.checkpointLocation,
  };
}
