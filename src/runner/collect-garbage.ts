import { randomUUID } from 'node:crypto';
import type { Project } from '../config/project-model.ts';
import type { GcReport, Warehouse } from '../engine/warehouse.ts';
import type { AuditTrail } from '../governance/audit-trail.ts';
import { ENDED_STATES } from '../rollout/rollout-state.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import type { Clock } from '../util/clock.ts';
import { crashPoint } from '../util/crash-point.ts';
import { keepLease, LEASE_MS, processOwner } from '../util/lease.ts';

export interface GcDeps {
  readonly project: Project;
  readonly store: MetadataStore;
  readonly audit: AuditTrail;
  readonly clock: Clock;
}

/**
 * Output versions a rollout holds: the baseline and candidate outputs of every partition an active
 * rollout published, or one that ended within the retention horizon (a late rollback, a rehearsal
 * or a comparison may still want them).
 */
export async function rolloutHolds(deps: GcDeps, now: Date): Promise<Map<string, string>> {
  const horizon = now.getTime() - deps.project.storage.retention.keepForMs;
  const held = new Map<string, string>();
  for (const a of await deps.store.rollouts.list()) {
    const ended = ENDED_STATES.includes(a.state.kind);
    if (ended && Date.parse(a.updatedAt) < horizon) continue;
    const why = `rollout ${a.id} (${a.state.kind})`;
    for (const p of a.state.published) {
      for (const id of [p.outputVersion, p.baselineOutputVersion, ...(p.candidates ?? []).flatMap((c) => [c.outputVersion, c.baselineOutputVersion])]) if (!held.has(id)) held.set(id, why);
    }
  }
  return held;
}

/**
 * `sluice gc` for one environment, as an intent: recorded (with this process as owner) before
 * anything is deleted, finished with an audit entry naming what was freed; a crash in between is
 * finished by the next writing command (runner/recover.ts). A dry run records nothing.
 */
export async function collectGarbage(deps: GcDeps, warehouse: Warehouse, environment: string, o: { dryRun: boolean; actor: string }): Promise<GcReport> {
  const now = deps.clock.now();
  const plan = { policy: deps.project.storage.retention, hold: await rolloutHolds(deps, now), now, dryRun: o.dryRun };
  if (o.dryRun) return warehouse.collectGarbage(plan);
  const id = `gc-${randomUUID()}`;
  await deps.store.intents.open({ id, kind: 'gc', environment, owner: processOwner(), leaseUntil: new Date(now.getTime() + LEASE_MS).toISOString(), payload: { actor: o.actor }, openedAt: now.toISOString() });
  crashPoint('gc.intent');
  const lease = keepLease((until) => deps.store.intents.renew(id, until), deps.clock);
  try {
    const report = await warehouse.collectGarbage(plan);
    await finishGc(deps, id, environment, o.actor, report);
    return report;
  } finally {
    lease.stop();
  }
}

/** The audit entry of a gc, and its intent closed, in one transaction. */
export async function finishGc(deps: Pick<GcDeps, 'store' | 'audit' | 'clock'>, intent: string, environment: string, actor: string, report: GcReport, recovered = false): Promise<void> {
  const versions = report.deleted.filter((d) => d.kind === 'version').map((d) => d.id);
  await deps.store.transaction(async (tx) => {
    await deps.audit.append({ actor, action: 'gc', target: `warehouse/${environment}`, reason: `${recovered ? 'finished after its process stopped: ' : ''}deleted ${versions.length} output version(s), ${report.deleted.length - versions.length} other file(s): ${report.rows} rows, ${report.bytes} bytes`, details: { environment, versions, files: report.deleted.filter((d) => d.kind !== 'version').map((d) => d.id), rows: report.rows, bytes: report.bytes, intent } }, deps.clock.now());
    await tx.intents.close(intent);
  });
}
