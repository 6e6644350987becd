import type { DataVerdict, Warehouse } from '../engine/warehouse.ts';
import type { AuditTrail } from '../governance/audit-trail.ts';
import type { Clock } from '../util/clock.ts';

export interface VerifyDataDeps {
  readonly audit: AuditTrail;
  readonly clock: Clock;
}

/**
 * Published partitions checked against their output versions (`Warehouse.verifyData`), every
 * mismatch written to the audit trail as `data.corrupt`, or `data.repaired` when it was served
 * from its version again. `sluice verify-data` and recovery after a crash both go through here.
 */
export async function verifyAndAudit(
  deps: VerifyDataDeps,
  warehouse: Warehouse,
  environment: string,
  actor: string,
  o: Parameters<Warehouse['verifyData']>[0] = {},
): Promise<{ verdicts: DataVerdict[]; bad: DataVerdict[] }> {
  const verdicts = await warehouse.verifyData(o);
  const bad = verdicts.filter((v) => !v.ok);
  for (const v of bad) {
    await deps.audit.append({ actor, action: v.repaired ? 'data.repaired' : 'data.corrupt', target: `dataset/${v.dataset}/${v.partition}`, reason: v.problem ?? 'does not match its output version', details: { environment, version: v.versionId, expected: v.expected, found: v.found, servedBy: v.servedBy } }, deps.clock.now());
  }
  return { verdicts, bad };
}
