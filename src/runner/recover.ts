import type { Project } from '../config/project-model.ts';
import { verifyAndAudit } from './verify-data.ts';
import type { Publication, Warehouse } from '../engine/warehouse.ts';
import type { AuditTrail } from '../governance/audit-trail.ts';
import type { Publication as RolloutPublication } from '../rollout/rollout-state.ts';
import type { MetadataStore, RunRecord } from '../store/metadata-store.ts';
import type { Clock } from '../util/clock.ts';
import { messageOf } from '../util/errors.ts';
import { ownerGone } from '../util/lease.ts';
import { coversPublication } from '../governance/audit-coverage.ts';
import { finishGc, rolloutHolds } from './collect-garbage.ts';
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
  // Runs a rollout still counts as in flight but that ended without telling it (killed right after finishing).
  for (const a of await deps.rollouts.attempts()) {
    for (const runId of a.state.inFlight.map((r) => r.runId)) {
      const run = await deps.store.runs.get(Number(runId));
      if (!run || run.status === 'running' || !gone(run.owner, run.leaseUntil)) continue;
      out.push(await tellRollout(deps, a.id, run));
    }
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
    // The partitions the interrupted actions may have touched: everything the rollout published, per environment.
    const damaged: string[] = [];
    for (const env of new Set(a.state.published.map((p) => p.environment))) {
      damaged.push(...(await checkTouched(deps, env, a.state.published.filter((p) => p.environment === env))));
    }
    out.push({ what: `rollout ${a.id}`, outcome: `carried out ${a.pending.map((p) => p.kind).join(', ')}${damaged.length ? `; CORRUPT: ${damaged.join('; ')}` : ''}` });
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
  // A run the trail says ended but the store says runs was edited back: never finished twice.
  const ended = (await deps.store.audit.list({ target: `run/${run.id}` })).find((e) => e.action === 'run.finished' || e.action === 'run.failed' || e.action === 'run.abandoned');
  if (ended) return { what: `run ${run.id}`, outcome: `left alone: the store says it is running but audit entry ${ended.seq} says it ended (${ended.action}); \`sluice audit verify\` names it` };
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
      // It succeeded: its batch counts, with no evidence (gates that need its checks wait for the next batch).
      await deps.rollouts.dispatchToId(id, { kind: 'batch_completed', runId: String(run.id), environment: run.environment, partition: run.partition, success: true, evidence: {}, publications }).catch((e: unknown) => deps.log?.(`rollout ${id}: ${messageOf(e)}`));
    }
    const damaged = await checkTouched(deps, run.environment, pubs);
    return { what: `run ${run.id}`, outcome: `finished: it had published ${pubs.length} partition(s); audit entries written${damaged.length ? `; CORRUPT: ${damaged.join('; ')}` : ''}` };
  }
  await deps.store.transaction(async (tx) => {
    await tx.runs.finish(run.id, { status: 'abandoned', error: 'the process running it stopped before it published' }, now);
    await deps.audit.append({ actor: 'sluice', action: 'run.abandoned', target: `run/${run.id}`, reason: 'the process running it stopped before it published; nothing of it is published', details: { owner: run.owner } }, now);
  });
  for (const id of rollouts) await deps.rollouts.dispatchToId(id, { kind: 'run_finished', runId: String(run.id), success: false, error: 'abandoned' }).catch((e: unknown) => deps.log?.(`rollout ${id}: ${messageOf(e)}`));
  return { what: `run ${run.id}`, outcome: 'abandoned: it had published nothing' };
}

/** A finished run's batch, reported to the rollout that waits for it. */
async function tellRollout(deps: RecoverDeps, attempt: string, run: RunRecord): Promise<Recovery> {
  if (run.status === 'succeeded') {
    const pubs = await publicationsOf(deps, run).catch(() => []);
    await deps.rollouts.dispatchToId(attempt, { kind: 'batch_completed', runId: String(run.id), environment: run.environment, partition: run.partition, success: true, evidence: {}, publications: rolloutPublications(run, pubs) });
  } else {
    await deps.rollouts.dispatchToId(attempt, { kind: 'run_finished', runId: String(run.id), success: false, error: run.error ?? run.status });
  }
  await deps.audit.append({ actor: 'sluice', action: 'recovery.rollout', target: `rollout/${attempt}`, reason: `run ${run.id} ${run.status} but its process stopped before telling rollout ${attempt}; told now`, details: { attempt, run: run.id } }, deps.clock.now());
  return { what: `rollout ${attempt}`, outcome: `told of run ${run.id} (${run.status}), which its process never reported` };
}

/**
 * The partitions an interrupted operation touched, checked against their output versions (row
 * count and fingerprint) and repaired where the warehouse can; a mismatch is an audit entry.
 */
async function checkTouched(deps: RecoverDeps, environment: string, pubs: readonly Pick<Publication, 'dataset' | 'partition'>[]): Promise<string[]> {
  if (pubs.length === 0) return [];
  const partitions = new Map<string, string[]>();
  for (const p of pubs) partitions.set(p.dataset, [...(partitions.get(p.dataset) ?? []), p.partition]);
  const { bad } = await verifyAndAudit(deps, await deps.warehouseFor(environment), environment, 'sluice', { partitions, repair: true });
  return bad.map((v) => `${v.dataset} ${v.partition}: ${v.problem ?? 'mismatch'}`);
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
    const damaged = await checkTouched(deps, i.environment, [{ dataset, partition: String(i.payload['partition']) }]);
    return { what: `republish ${dataset} ${String(i.payload['partition'])}`, outcome: `${pubs.length ? 'done before the process stopped; audited now' : 'not done; closed'}${damaged.length ? `; CORRUPT: ${damaged.join('; ')}` : ''}` };
  }
  if (i.kind === 'gc') {
    // Deletions already marked in the warehouse catalog are finished; a second pass of the same policy deletes nothing held.
    const w = await deps.warehouseFor(i.environment);
    const report = await w.collectGarbage({ policy: deps.project.storage.retention, hold: await rolloutHolds(deps, now), now, dryRun: false });
    await finishGc(deps, i.id, i.environment, String(i.payload['actor'] ?? 'sluice'), report, true);
    return { what: `gc ${i.id}`, outcome: `finished: ${report.deleted.length} file(s) deleted, ${report.bytes} bytes` };
  }
  await deps.store.intents.close(i.id);
  return { what: `${i.kind} ${i.id}`, outcome: 'closed' };
}
