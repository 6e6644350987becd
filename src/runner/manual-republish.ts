import { randomUUID } from 'node:crypto';
import type { Project } from '../config/project-model.ts';
import type { Publication, Warehouse } from '../engine/warehouse.ts';
import type { AuditTrail } from '../governance/audit-trail.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import type { Clock } from '../util/clock.ts';
import { crashPoint } from '../util/crash-point.ts';
import { SluiceError } from '../util/errors.ts';
import { keepLease, LEASE_MS, processOwner } from '../util/lease.ts';
import { pipelineOfDataset } from './dataset-graph.ts';

export interface ManualRepublishDeps {
  readonly project: Project;
  readonly warehouse: Warehouse;
  readonly store: MetadataStore;
  readonly audit: AuditTrail;
  readonly clock: Clock;
  readonly environment: string;
}

export interface ManualRepublish {
  readonly dataset: string;
  readonly partition: string;
  readonly versionId: string;
  readonly actor: string;
  readonly reason: string;
}

/**
 * Publishes an existing output version of one partition again, as an intent: the intent is
 * recorded first (with this process as owner and a lease), the publish carries its id, and the
 * audit entry and the intent's close commit together. A crash between them leaves an intent that
 * the next writing command finishes (runner/recover.ts): it audits the publish if the warehouse
 * shows it, and closes the intent as not done otherwise.
 */
export async function manualRepublish(deps: ManualRepublishDeps, r: ManualRepublish): Promise<Publication> {
  const ds = pipelineOfDataset(deps.project, r.dataset)?.datasets.get(r.dataset);
  if (!ds) throw new SluiceError('NOT_FOUND', `unknown dataset "${r.dataset}"`, { field: 'dataset' });
  const v = await deps.warehouse.outputVersion(r.versionId);
  if (!v) throw new SluiceError('NOT_FOUND', `no output version ${r.versionId}${await deletedByGc(deps, r.versionId)}`, { field: '--version' });
  if (v.step !== ds.step) throw new SluiceError('USAGE', `output version ${r.versionId} is of step ${v.step}, but ${r.dataset} publishes step ${ds.step}`, { field: '--version' });
  if (v.partition !== r.partition) throw new SluiceError('USAGE', `output version ${r.versionId} holds partition ${v.partition}, not ${r.partition}: \`sluice publications ${r.dataset} --partition ${r.partition}\` lists the versions of ${r.partition}`, { field: '--version' });

  const now = deps.clock.now();
  const id = `republish-${randomUUID()}`;
  await deps.store.intents.open({ id, kind: 'republish', environment: deps.environment, owner: processOwner(), leaseUntil: new Date(now.getTime() + LEASE_MS).toISOString(), payload: { dataset: r.dataset, partition: r.partition, version: r.versionId, actor: r.actor, reason: r.reason }, openedAt: now.toISOString() });
  crashPoint('republish.intent');
  const lease = keepLease((until) => deps.store.intents.renew(id, until), deps.clock);
  try {
    const [p] = await deps.warehouse.publish([{ dataset: r.dataset, partitionColumn: ds.partitionColumn ?? null, partition: r.partition, versionId: r.versionId }], { runId: null, actor: r.actor, reason: r.reason, at: deps.clock.now(), intent: id });
    if (!p) throw new SluiceError('INTERNAL', 'publish returned nothing');
    crashPoint('republish.published');
    await deps.store.transaction(async (tx) => {
      await deps.audit.append({ actor: r.actor, action: 'republish', target: `dataset/${r.dataset}/${r.partition}`, reason: r.reason, details: { environment: deps.environment, version: p.versionId, previous: p.previousVersionId, seq: p.seq } }, deps.clock.now());
      await tx.intents.close(id);
    });
    return p;
  } catch (e) {
    // Nothing was published (the publish is one warehouse transaction): the intent is undone.
    if (!(await deps.warehouse.publicationHistory(r.dataset, r.partition)).some((p) => p.intent === id)) await deps.store.intents.close(id);
    throw e;
  } finally {
    lease.stop();
  }
}

/** Why a version is gone, when retention freed it: the gc entry of the audit trail that names it. */
async function deletedByGc(deps: ManualRepublishDeps, versionId: string): Promise<string> {
  const entries = await deps.store.audit.list({ target: `warehouse/${deps.environment}` });
  const gc = entries.find((e) => e.action === 'gc' && Array.isArray(e.details['versions']) && (e.details['versions'] as unknown[]).includes(versionId));
  return gc ? `: it was deleted by gc at ${gc.at} (${gc.actor}; audit entry ${gc.seq}), as sluice.yaml storage.retention allows` : '';
}
