import type { Project } from '../config/project-model.ts';
import type { Publication, Warehouse } from '../engine/warehouse.ts';
import type { AuditTrail } from '../governance/audit-trail.ts';
import type { Publication as RolloutPublication } from '../rollout/rollout-state.ts';
import type { MetadataStore, RunRecord } from '../store/metadata-store.ts';
import type { Clock } from '../util/clock.ts';
import { messageOf } from '../util/errors.ts';
import { ownerGone } from '../util/lease.ts';
import { coversPublication } from '../governance/audit-coverage.ts';
import type { RolloutService } from './rollouts/rollout-service.ts';

export interface RecoverDeps {
  readonly project: Project;
  readonly store: MetadataStore;
  readonly audit: AuditTrail;
  readonly clock: Clock;
  readonly warehouseFor: (environment: string) => Promise<Warehouse>;
  readonly rollouts: RolloutService;
  /** Which pids of this host are alive (tests may say). */
  readonly alive?: (pid: number) => boolean;
  readonly log?: (line: string) => void;
}

/** One piece of half-done work finished or undone. */
export interface Recovery {
  readonly what: string;
  readonly outcome: string;
}

/**
 * Finishes or undoes work whose owner is gone (its lease expired, or its process on this host
 * stopped), never work still running; each recovery is an audit entry:
 * - a run left `running`: if the warehouse shows what it published, the missing audit entries are
 *   written and the run is finished as succeeded (the rollout it pinned hears of the batch);
 *   otherwise it is marked abandoned (nothing of it was published);
 * - a rollout's pending actions (a rollback half done): carried out;
 * - an intent (a manual republish): its audit entries written when the warehouse shows it, else closed as not done.
 * Commands that write, or that read rollout state, call this first; metadata reads do not.
 */
export async function recover(deps: RecoverDeps): Promise<Recovery[]> {
  const out: Recovery[] = [];
  const gone = (owner: string, until: string | null | undefined): boolean => ownerGone(owner, until, deps.clock, deps.alive);
  for (const run of await deps.store.runs.list({ status: 'running', limit: 10_000 })) {
    if (!gone(run.owner, run.leaseUntil)) continue;
    out.push(await recoverRun(deps, run));
  }
  for (const a of await deps.rollouts.attempts()) {
    const retired = await deps.rollouts.retireIfPromoted(a);
    if (retired > 0) {
      await deps.audit.append({ actor: 'sluice', action: 'recovery.rollout', target: `rollout/${a.name}`, reason: `retired the baseline of ${retired} flag(s) that ${a.id}'s promotion left at full exposure (its process stopped)`, details: { attempt: a.id } }, deps.clock.now());
      out.push({ what: `rollout ${a.id}`, outcome: `retired the baseline of ${retired} flag(s) after its promotion` });
    }
    if (a.pending.length === 0) continue;
    if (a.pendingLease && !gone(a.pendingLease.owner, a.pendingLease.until)) continue;
    await deps.rollouts.finishPending(a.id);
    await deps.audit.append({ actor: 'sluice', action: 'recovery.rollout', target: `rollout/${a.name}`, reason: `carried out ${a.pending.length} pending action(s) of ${a.id} left by a process that stopped`, details: { attempt: a.id, actions: a.pending.map((p) => p.kind) } }, deps.clock.now());
    out.push({ what: `rollout ${a.id}`, outcome: `carried out ${a.pending.map((p) => p.kind).join(', ')}` });
  }
  for (const i of await deps.store.intents.list()) {
    if (!gone(i.owner, i.leaseUntil)) continue;
    out.push(await recoverIntent(deps, i));
  }
  for (const r of out) deps.log?.(`recovered ${r.what}: ${r.outcome}`);
  return out;
}

/** Publications of one run in its environment's warehouse. */
async function publicationsOf(deps: RecoverDeps, run: RunRecord): Promise<Publication[]> {
  const w = await deps.warehouseFor(run.environment);
  const pipeline = deps.project.pipelines.get(run.pipeline);
  const datasets = pipeline ? [...pipeline.datasets.keys()] : [];
  const out: Publication[] = [];
  for (const d of datasets) out.push(...(await w.publicationHistory(d, run.partition)).filter((p) => p.runId === run.id));
  return out;
}

/** Audit entries that must exist for these publications; the missing ones are written. */
async function auditPublications(deps: RecoverDeps, environment: string, pubs: readonly Publication[], actor: string, reason: string, action: string): Promise<number> {
  let written = 0;
  for (const p of pubs) {
    const target = `dataset/${p.dataset}/${p.partition}`;
    if (coversPublication(await deps.store.audit.list({ target }), environment, p)) continue;
    await deps.audit.append({ actor, action, target, reason, details: { environment, ...(p.runId === null ? {} : { run: p.runId }), version: p.versionId, previous: p.previousVersionId, seq: p.seq, recovered: true } }, deps.clock.now());
    written++;
  }
  return written;
}

async function recoverRun(deps: RecoverDeps, run: RunRecord): Promise<Recovery> {
  const now = deps.clock.now();
  let pubs: Publication[] = [];
  try {
    pubs = await publicationsOf(deps, run);
  } catch (e) {
    deps.log?.(`run ${run.id}: cannot read what it published (${messageOf(e)}); marking it abandoned`);
  }
  const rollouts = [...new Set(Object.values(run.flags.exposures).flatMap((e) => (e.rollout ? [e.rollout] : [])))];
  if (pubs.length > 0) {
    await deps.store.transaction(async (tx) => {
      await auditPublications(deps, run.environment, pubs, run.actor, `run ${run.id} (recovered)`, 'publish');
      const r = await tx.runs.finish(run.id, { status: 'succeeded', published: pubs.map((p) => `${p.dataset}/${p.partition}@${p.versionId}`) }, now);
      await deps.audit.append({ actor: 'sluice', action: 'run.finished', target: `run/${run.id}`, reason: 'succeeded (recovered: its process stopped after it published)', details: { published: r.published, recovered: true } }, now);
    });
    // The rollouts it pinned learn what it published, so a rollback knows its candidate rows.
    for (const id of rollouts) {
      const publications = rolloutPublications(run, pubs);
      await deps.rollouts.dispatchToId(id, { kind: 'batch_completed', runId: String(run.id), environment: run.environment, partition: run.partition, success: false, evidence: {}, publications }).catch((e: unknown) => deps.log?.(`rollout ${id}: ${messageOf(e)}`));
    }
    return { what: `run ${run.id}`, outcome: `finished: it had published ${pubs.length} partition(s); audit entries written` };
  }
  await deps.store.transaction(async (tx) => {
    await tx.runs.finish(run.id, { status: 'abandoned', error: 'the process running it stopped before it published' }, now);
    await deps.audit.append({ actor: 'sluice', action: 'run.abandoned', target: `run/${run.id}`, reason: 'the process running it stopped before it published; nothing of it is published', details: { owner: run.owner } }, now);
  });
  for (const id of rollouts) await deps.rollouts.dispatchToId(id, { kind: 'run_finished', runId: String(run.id), success: false, error: 'abandoned' }).catch((e: unknown) => deps.log?.(`rollout ${id}: ${messageOf(e)}`));
  return { what: `run ${run.id}`, outcome: 'abandoned: it had published nothing' };
}

/** What a recovered run published, in the rollout's terms: candidate rows unless it is the step's baseline output. */
function rolloutPublications(run: RunRecord, pubs: readonly Publication[]): RolloutPublication[] {
  return pubs.flatMap((p) => {
    const artifact = Object.entries(run.artifacts).find(([step]) => p.versionId.startsWith(`${step}.r${run.id}`));
    if (!artifact || !artifact[1].candidate) return [];
    const [step, a] = artifact;
    const baseline = `${step}.r${run.id}.${a.version}`;
    return [{ dataset: p.dataset, partition: p.partition, outputVersion: p.versionId, baselineOutputVersion: baseline, candidateRows: p.versionId !== baseline }];
  });
}

async function recoverIntent(deps: RecoverDeps, i: Awaited<ReturnType<MetadataStore['intents']['list']>>[number]): Promise<Recovery> {
  const now = deps.clock.now();
  if (i.kind === 'republish') {
    const w = await deps.warehouseFor(i.environment);
    const dataset = String(i.payload['dataset']);
    const pubs = (await w.publicationHistory(dataset, String(i.payload['partition']))).filter((p) => p.intent === i.id);
    await deps.store.transaction(async (tx) => {
      const n = await auditPublications(deps, i.environment, pubs, String(i.payload['actor']), String(i.payload['reason']), 'republish');
      await deps.audit.append({ actor: 'sluice', action: 'recovery.republish', target: `dataset/${dataset}/${String(i.payload['partition'])}`, reason: pubs.length ? `the republish was done; ${n} audit entr(ies) written` : 'the republish was not done; nothing changed', details: { intent: i.id } }, now);
      await tx.intents.close(i.id);
    });
    return { what: `republish ${dataset} ${String(i.payload['partition'])}`, outcome: pubs.length ? 'done before the process stopped; audited now' : 'not done; closed' };
  }
  await deps.store.intents.close(i.id);
  return { what: `${i.kind} ${i.id}`, outcome: 'closed' };
}
