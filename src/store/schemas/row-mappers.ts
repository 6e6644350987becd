import type { AuditEntry, FreshnessRecord, QueueItem, StepRunRecord } from '../metadata-store.ts';
import { SluiceError } from '../../util/errors.ts';
import { detailsSchema } from './run-schemas.ts';
import type * as v from 'valibot';

/**
 * Store rows to domain records, the same for every adapter; only how a column comes back differs,
 * which the adapter's codec says: a JSON column as text to parse (SQLite) or already parsed
 * (PostgreSQL), a timestamp as ISO text (SQLite) or a Date (PostgreSQL).
 */
export interface RowCodec {
  json<T>(schema: v.GenericSchema<unknown, T>, value: unknown, what: string): T;
  time(value: unknown): string;
}

type Row = Record<string, unknown>;

const text = (x: unknown): string => String(x);
const nullableText = (x: unknown): string | null => (x === null || x === undefined ? null : String(x));

export function toAuditEntry(r: Row, c: RowCodec): AuditEntry {
  const seq = Number(r['seq']);
  return {
    seq,
    at: text(r['at']),
    actor: text(r['actor']),
    action: text(r['action']),
    target: text(r['target']),
    reason: text(r['reason']),
    details: c.json(detailsSchema, r['details'], `audit entry ${seq} details`),
    prevHash: text(r['prev_hash']),
    alg: r['alg'] === 'hmac-sha256' ? 'hmac-sha256' : 'sha256',
    hash: text(r['hash']),
  };
}

export function toStepRun(r: Row): StepRunRecord {
  return {
    runId: Number(r['run_id']),
    step: text(r['step']),
    version: text(r['version']),
    versionHash: text(r['version_hash']),
    outputVersionId: nullableText(r['output_version_id']),
    rowsIn: Number(r['rows_in']),
    rowsOut: Number(r['rows_out']),
    durationMs: Number(r['duration_ms']),
    status: r['status'] === 'failed' ? 'failed' : 'succeeded',
    error: nullableText(r['error']),
  };
}

export function toFreshness(r: Row): FreshnessRecord {
  return {
    environment: text(r['environment']),
    dataset: text(r['dataset']),
    partition: text(r['partition']),
    newestEventTime: nullableText(r['newest_event_time']),
    runId: Number(r['run_id']),
    measuredAt: text(r['measured_at']),
  };
}

const QUEUE_STATES: readonly QueueItem['state'][] = ['queued', 'claimed', 'done', 'failed'];

export function toQueueItem(x: Row, c: RowCodec): QueueItem {
  const state = text(x['state']) as QueueItem['state'];
  if (!QUEUE_STATES.includes(state)) throw new SluiceError('CORRUPT', `queue item ${text(x['id'])} in the store has state "${state}"`);
  const time = (v: unknown): string | null => (v === null || v === undefined ? null : c.time(v));
  return {
    id: Number(x['id']),
    pipeline: text(x['pipeline']),
    partition: text(x['partition']),
    environment: text(x['environment']),
    actor: text(x['actor']),
    select: nullableText(x['select_steps']),
    batch: text(x['batch']),
    enqueuedAt: c.time(x['enqueued_at']),
    state,
    token: Number(x['token']),
    worker: nullableText(x['worker']),
    leaseUntil: time(x['lease_until']),
    runId: x['run_id'] === null || x['run_id'] === undefined ? null : Number(x['run_id']),
    error: nullableText(x['error']),
    finishedAt: time(x['finished_at']),
  };
}
