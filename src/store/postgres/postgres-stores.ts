import * as v from 'valibot';
import { toAuditEntry, toFreshness, toQueueItem, toStepRun, type RowCodec } from '../schemas/row-mappers.ts';
import { SluiceError } from '../../util/errors.ts';
import { sqlStateOf } from '../../util/postgres-url.ts';
import type {
  AuditLogStore,
  CheckResultRecord,
  CheckResultStore,
  FlagRevisionStore,
  IntentStore,
  QueueItem,
  QueueStore,
  ProfileStore,
  RolloutStore,
  RunRecord,
  RunStatus,
  RunStore,
  StoredRollout,
  Stores,
} from '../metadata-store.ts';
import { decode, decodeJson } from '../schemas/decode.ts';
import { flagStateSchema } from '../schemas/flag-schemas.ts';
import { storedCheckResultsSchema, storedProfileSchema } from '../schemas/quality-schemas.ts';
import { rolloutActionSchema, rolloutLogEntrySchema, rolloutPlanSchema, rolloutStateSchema } from '../schemas/rollout-schemas.ts';
import { artifactsSchema, detailsSchema, pinnedFlagsSchema, stringListSchema } from '../schemas/run-schemas.ts';
import type { PostgresHandle, SqlRow } from './postgres-database.ts';

/**
 * The feature stores on PostgreSQL. Values leave only through the same valibot schemas the SQLite
 * store uses (JSON columns come back parsed by the client; `decode` checks them), so a damaged or
 * hand-edited record is CORRUPT, naming the record and field. Numbers from bigint columns come
 * back as text (the client keeps 64 bits exact) and become numbers here; ids stay far below 2^53.
 */
const RUN_STATUSES: readonly RunStatus[] = ['running', 'succeeded', 'failed', 'abandoned'];
const text = (x: unknown): string => String(x);
const nullableText = (x: unknown): string | null => (x === null || x === undefined ? null : String(x));
/** A timestamptz comes back as a Date; the domain speaks ISO text, as the SQLite store stores it. */
const isoText = (x: unknown): string => (x instanceof Date ? x.toISOString() : String(x));
const nullableIso = (x: unknown): string | null => (x === null || x === undefined ? null : isoText(x));
const json = (x: unknown): string => JSON.stringify(x);

/** How this adapter's columns come back: JSON parsed by the client, timestamps as Dates. */
const codec: RowCodec = { json: decode, time: isoText };

function toRun(r: SqlRow): RunRecord {
  const id = Number(r['id']);
  const status = String(r['status']) as RunStatus;
  if (!RUN_STATUSES.includes(status)) throw new SluiceError('CORRUPT', `run ${id} in the store has status "${status}"`);
  return {
    id,
    pipeline: text(r['pipeline']),
    partition: text(r['partition']),
    environment: text(r['environment']),
    status,
    actor: text(r['actor']),
    startedAt: isoText(r['started_at']),
    finishedAt: nullableIso(r['finished_at']),
    error: nullableText(r['error']),
    artifacts: decode(artifactsSchema, r['artifacts'], `run ${id} artifacts`),
    flags: decode(pinnedFlagsSchema, r['flags'], `run ${id} flags`),
    engine: text(r['engine']),
    published: decode(stringListSchema, r['published'], `run ${id} publications`),
    owner: text(r['owner']),
    leaseUntil: nullableIso(r['lease_until']),
  };
}

function runStore(h: PostgresHandle): RunStore {
  const one = (rows: SqlRow[], id: number): RunRecord => {
    const row = rows[0];
    if (!row) throw new SluiceError('NOT_FOUND', `no run ${id}`);
    return toRun(row);
  };
  return {
    start: async (r, at, lease) => {
      const rows = await h.query(
        `INSERT INTO runs (pipeline, partition, environment, status, actor, started_at, artifacts, flags, engine, owner, lease_until)
         VALUES ($1, $2, $3, 'running', $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
        [r.pipeline, r.partition, r.environment, r.actor, at.toISOString(), json(r.artifacts), json(r.flags), r.engine, lease.owner, lease.until.toISOString()],
      );
      return one(rows, 0);
    },
    renewLease: async (id, until) => {
      await h.query(`UPDATE runs SET lease_until = $1 WHERE id = $2 AND status = 'running'`, [until.toISOString(), id]);
    },
    finish: async (id, result, at) =>
      one(await h.query(`UPDATE runs SET status = $1, finished_at = $2, error = $3, published = $4 WHERE id = $5 RETURNING *`, [result.status, at.toISOString(), result.error ?? null, json(result.published ?? []), id]), id),
    recordStep: async (s) => {
      await h.query(
        `INSERT INTO step_runs (run_id, step, version, version_hash, output_version_id, rows_in, rows_out, duration_ms, status, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (run_id, step) DO UPDATE SET version = excluded.version, version_hash = excluded.version_hash, output_version_id = excluded.output_version_id,
           rows_in = excluded.rows_in, rows_out = excluded.rows_out, duration_ms = excluded.duration_ms, status = excluded.status, error = excluded.error`,
        [s.runId, s.step, s.version, s.versionHash, s.outputVersionId, s.rowsIn, s.rowsOut, s.durationMs, s.status, s.error],
      );
    },
    recordFreshness: async (f) => {
      await h.query(
        `INSERT INTO freshness (environment, dataset, partition, newest_event_time, run_id, measured_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (environment, dataset, partition) DO UPDATE SET newest_event_time = excluded.newest_event_time, run_id = excluded.run_id, measured_at = excluded.measured_at`,
        [f.environment, f.dataset, f.partition, f.newestEventTime, f.runId, f.measuredAt],
      );
    },
    get: async (id) => {
      const row = (await h.query(`SELECT * FROM runs WHERE id = $1`, [id]))[0];
      return row ? toRun(row) : undefined;
    },
    list: async (filter = {}) => {
      const where: string[] = [];
      const args: unknown[] = [];
      const add = (column: string, value: string | undefined): void => {
        if (!value) return;
        args.push(value);
        where.push(`${column} = $${args.length}`);
      };
      add('pipeline', filter.pipeline);
      add('environment', filter.environment);
      add('status', filter.status);
      args.push(filter.limit ?? 50);
      return (await h.query(`SELECT * FROM runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${args.length}`, args)).map(toRun);
    },
    steps: async (runId) =>
      (await h.query(`SELECT * FROM step_runs WHERE run_id = $1 ORDER BY recorded`, [runId])).map(
        toStepRun,
      ),
    freshness: async (environment, dataset) => {
      const rows = dataset
        ? await h.query(`SELECT * FROM freshness WHERE environment = $1 AND dataset = $2 ORDER BY partition`, [environment, dataset])
        : await h.query(`SELECT * FROM freshness WHERE environment = $1 ORDER BY dataset, partition`, [environment]);
      return rows.map(toFreshness);
    },
  };
}

const headSchema = v.object({ seq: v.number(), hash: v.string() });

/**
 * The audit log. The chain is computed by the audit trail, which reads `last()` and appends the
 * next entry in one transaction; with several processes appending at once, two of them would read
 * the same last entry. So `last()` inside a transaction first takes the chain's advisory lock,
 * held until that transaction ends: appenders in every process take turns, and each reads the
 * head its predecessor committed (under READ COMMITTED, the statement after the lock gets a fresh
 * snapshot). The primary key on `seq` still refuses a taken number (CONFLICT) from a writer that
 * skipped the trail.
 */
function auditStore(h: PostgresHandle): AuditLogStore {
  return {
    append: async (e) => {
      try {
        await h.query(`INSERT INTO audit_log (seq, at, actor, action, target, reason, details, prev_hash, hash, alg) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
          e.seq,
          e.at,
          e.actor,
          e.action,
          e.target,
          e.reason,
          json(e.details),
          e.prevHash,
          e.hash,
          e.alg,
        ]);
      } catch (err) {
        if (sqlStateOf(err) === '23505') throw new SluiceError('CONFLICT', `audit entry ${e.seq} was written by someone else first`, {}, [], { cause: err });
        throw err;
      }
    },
    last: async () => {
      await h.lockInTransaction('audit-chain', 'append');
      const r = (await h.query(`SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1`))[0];
      return r ? toAuditEntry(r, codec) : undefined;
    },
    list: async (filter = {}) => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (filter.target) (args.push(filter.target), where.push(`target = $${args.length}`));
      if (filter.action) (args.push(filter.action), where.push(`action = $${args.length}`));
      const cond = where.length ? ` WHERE ${where.join(' AND ')}` : '';
      // Stored order is sequence order here, as in the SQLite store (whose rowid is seq): an entry
      // moved to another number, dropped or edited breaks the chain at that number.
      if (filter.limit) {
        args.push(Math.floor(filter.limit));
        return (await h.query(`SELECT * FROM (SELECT * FROM audit_log${cond} ORDER BY seq DESC LIMIT $${args.length}) last ORDER BY seq`, args)).map((r) => toAuditEntry(r, codec));
      }
      return (await h.query(`SELECT * FROM audit_log${cond} ORDER BY seq`, args)).map((r) => toAuditEntry(r, codec));
    },
    head: async () => {
      const r = (await h.query(`SELECT value FROM meta WHERE key = 'audit_head'`))[0];
      return r ? decodeJson(headSchema, r['value'], 'the audit head') : undefined;
    },
    setHead: async (head) => {
      await h.query(`INSERT INTO meta (key, value) VALUES ('audit_head', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [json(head)]);
    },
  };
}

function flagRevisionStore(h: PostgresHandle): FlagRevisionStore {
  return {
    // The next revision is counted from the last: writers of one flag take turns (another process may be numbering it too).
    append: (r) =>
      h.atomic(async () => {
        await h.lockInTransaction('flag-revision', `${r.environment}/${r.flag}`);
        const rows = await h.query(
          `INSERT INTO flag_revisions (environment, flag, revision, state, actor, reason, at)
           SELECT $1, $2, coalesce(max(revision), 0) + 1, $3, $4, $5, $6 FROM flag_revisions WHERE environment = $1 AND flag = $2
           RETURNING revision`,
          [r.environment, r.flag, json(r.state), r.actor, r.reason, r.at],
        );
        return { ...r, revision: Number(rows[0]?.['revision']) };
      }),
    list: async (environment, flag) => {
      const rows = flag
        ? await h.query(`SELECT * FROM flag_revisions WHERE environment = $1 AND flag = $2 ORDER BY revision`, [environment, flag])
        : await h.query(`SELECT * FROM flag_revisions WHERE environment = $1 ORDER BY flag, revision`, [environment]);
      return rows.map((x) => ({
        environment: text(x['environment']),
        flag: text(x['flag']),
        revision: Number(x['revision']),
        state: decode(flagStateSchema, x['state'], `flag ${text(x['flag'])} revision ${Number(x['revision'])} in ${text(x['environment'])}`),
        actor: text(x['actor']),
        reason: text(x['reason']),
        at: text(x['at']),
      }));
    },
  };
}

function checkResultStore(h: PostgresHandle): CheckResultStore {
  const toRecord = (x: SqlRow): CheckResultRecord => {
    const runId = Number(x['run_id']);
    return {
      runId,
      dataset: text(x['dataset']),
      partition: text(x['partition']),
      versionId: text(x['version_id']),
      results: decode(storedCheckResultsSchema, x['results'], `check results of run ${runId} (${text(x['version_id'])})`),
    };
  };
  return {
    latest: async (environment, dataset) => {
      const x = (await h.query(`SELECT c.* FROM check_results c JOIN runs r ON r.id = c.run_id WHERE r.environment = $1 AND c.dataset = $2 ORDER BY c.run_id DESC LIMIT 1`, [environment, dataset]))[0];
      return x ? toRecord(x) : undefined;
    },
    record: async (r) => {
      await h.query(
        `INSERT INTO check_results (run_id, dataset, partition, version_id, results) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (run_id, dataset, version_id) DO UPDATE SET partition = excluded.partition, results = excluded.results`,
        [r.runId, r.dataset, r.partition, r.versionId, json(r.results)],
      );
    },
    forRun: async (runId) => (await h.query(`SELECT * FROM check_results WHERE run_id = $1 ORDER BY recorded`, [runId])).map(toRecord),
  };
}

function profileStore(h: PostgresHandle): ProfileStore {
  return {
    record: async (p) => {
      await h.query(
        `INSERT INTO profiles (environment, dataset, partition, run_id, version_id, at, profile) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (environment, dataset, version_id) DO UPDATE SET partition = excluded.partition, run_id = excluded.run_id, at = excluded.at, profile = excluded.profile`,
        [p.environment, p.dataset, p.partition, p.runId, p.versionId, p.at, json(p.profile)],
      );
    },
    recent: async (environment, dataset, limit = 400) =>
      (await h.query(`SELECT * FROM (SELECT * FROM profiles WHERE environment = $1 AND dataset = $2 ORDER BY at DESC LIMIT $3) newest ORDER BY at`, [environment, dataset, limit])).map((x) => ({
        environment: text(x['environment']),
        dataset: text(x['dataset']),
        partition: text(x['partition']),
        runId: Number(x['run_id']),
        versionId: text(x['version_id']),
        at: text(x['at']),
        profile: decode(storedProfileSchema, x['profile'], `profile of ${dataset} (${text(x['version_id'])})`),
      })),
  };
}

/** What the `state` column holds: the rollout's state and the actions not yet carried out (as in the SQLite store). */
const storedStateSchema = v.object({ state: rolloutStateSchema, pending: v.array(rolloutActionSchema) });

function rolloutStore(h: PostgresHandle): RolloutStore {
  const toRollout = (x: SqlRow): StoredRollout => {
    const id = text(x['id']);
    const { state, pending } = decode(storedStateSchema, x['state'], `rollout ${id} state`);
    const lease = x['pending_owner'] !== null && x['pending_owner'] !== undefined ? { pendingLease: { owner: text(x['pending_owner']), until: text(x['pending_lease_until']) } } : {};
    return { id, name: text(x['name']), attempt: Number(x['attempt']), plan: decode(rolloutPlanSchema, x['plan'], `rollout ${id} plan`), state, pending, ...lease, updatedAt: isoText(x['updated_at']) };
  };
  return {
    save: async (r, at) => {
      await h.query(
        `INSERT INTO rollout_attempts (id, name, attempt, plan, state, updated_at, pending_owner, pending_lease_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET plan = excluded.plan, state = excluded.state, updated_at = excluded.updated_at, pending_owner = excluded.pending_owner, pending_lease_until = excluded.pending_lease_until`,
        [r.id, r.name, r.attempt, json(r.plan), json({ state: r.state, pending: r.pending }), at.toISOString(), r.pendingLease?.owner ?? null, r.pendingLease?.until ?? null],
      );
    },
    get: async (id) => {
      const x = (await h.query(`SELECT * FROM rollout_attempts WHERE id = $1`, [id]))[0];
      return x ? toRollout(x) : undefined;
    },
    latest: async (name) => {
      const x = (await h.query(`SELECT * FROM rollout_attempts WHERE name = $1 ORDER BY attempt DESC LIMIT 1`, [name]))[0];
      return x ? toRollout(x) : undefined;
    },
    list: async () => (await h.query(`SELECT * FROM rollout_attempts ORDER BY name, attempt`)).map(toRollout),
    // Numbered from the last entry of the attempt: its writers take turns, in every process.
    appendLog: (id, entry, at) =>
      h.atomic(async () => {
        await h.lockInTransaction('rollout-log', id);
        const rows = await h.query(
          `INSERT INTO rollout_transitions (rollout, seq, at, transition)
           SELECT $1, coalesce(max(seq), 0) + 1, $2, $3 FROM rollout_transitions WHERE rollout = $1
           RETURNING seq`,
          [id, at.toISOString(), json(entry)],
        );
        return Number(rows[0]?.['seq']);
      }),
    log: async (id) =>
      (await h.query(`SELECT seq, transition FROM rollout_transitions WHERE rollout = $1 ORDER BY seq`, [id])).map((x) =>
        decode(rolloutLogEntrySchema, x['transition'], `rollout ${id} log entry ${Number(x['seq'])}`),
      ),
  };
}

function intentStore(h: PostgresHandle): IntentStore {
  return {
    open: async (i) => {
      try {
        await h.query(`INSERT INTO intents (id, kind, environment, owner, lease_until, payload, opened_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [i.id, i.kind, i.environment, i.owner, i.leaseUntil, json(i.payload), i.openedAt]);
      } catch (err) {
        if (sqlStateOf(err) === '23505') throw new SluiceError('CONFLICT', `intent ${i.id} is already open`, {}, [], { cause: err });
        throw err;
      }
    },
    renew: async (id, until) => {
      await h.query(`UPDATE intents SET lease_until = $1 WHERE id = $2`, [until.toISOString(), id]);
    },
    close: async (id) => {
      await h.query(`DELETE FROM intents WHERE id = $1`, [id]);
    },
    list: async () =>
      (await h.query(`SELECT * FROM intents ORDER BY opened_at, id`)).map((x) => {
        const kind = text(x['kind']);
        if (kind !== 'republish' && kind !== 'gc') throw new SluiceError('CORRUPT', `intent ${text(x['id'])} in the store has kind "${kind}"`);
        return { id: text(x['id']), kind, environment: text(x['environment']), owner: text(x['owner']), leaseUntil: text(x['lease_until']), payload: decode(detailsSchema, x['payload'], `intent ${text(x['id'])}`), openedAt: text(x['opened_at']) };
      }),
  };
}

function queueStore(h: PostgresHandle): QueueStore {
  return {
    enqueue: async (items, at) => {
      const out: QueueItem[] = [];
      for (const i of items) {
        const rows = await h.query(`INSERT INTO run_queue (pipeline, partition, environment, actor, select_steps, batch, enqueued_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued') RETURNING *`, [i.pipeline, i.partition, i.environment, i.actor, i.select, i.batch, at.toISOString()]);
        if (rows[0]) out.push(toQueueItem(rows[0], codec));
      }
      return out;
    },
    // SKIP LOCKED: workers claiming at once each lock a different row instead of waiting on one.
    claim: async (worker, at, leaseUntil, filter) => {
      const rows = await h.query(
        `UPDATE run_queue SET state = 'claimed', token = token + 1, worker = $1, lease_until = $2
         WHERE id = (SELECT id FROM run_queue WHERE (state = 'queued' OR (state = 'claimed' AND lease_until < $3)) AND ($4::text IS NULL OR environment = $4) ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
         RETURNING *`,
        [worker, leaseUntil.toISOString(), at.toISOString(), filter?.environment ?? null],
      );
      return rows[0] ? toQueueItem(rows[0], codec) : undefined;
    },
    heartbeat: async (id, token, leaseUntil) => (await h.query(`UPDATE run_queue SET lease_until = $1 WHERE id = $2 AND token = $3 AND state = 'claimed' RETURNING id`, [leaseUntil.toISOString(), id, token])).length === 1,
    finish: async (id, token, o, at) =>
      (await h.query(`UPDATE run_queue SET state = $1, run_id = $2, error = $3, finished_at = $4, lease_until = NULL WHERE id = $5 AND token = $6 AND state = 'claimed' RETURNING id`, [o.state, o.runId, o.error, at.toISOString(), id, token])).length === 1,
    get: async (id) => {
      const rows = await h.query(`SELECT * FROM run_queue WHERE id = $1`, [id]);
      return rows[0] ? toQueueItem(rows[0], codec) : undefined;
    },
    list: async (filter) => (await h.query(`SELECT * FROM run_queue WHERE ($1::text IS NULL OR batch = $1) AND ($2::text IS NULL OR state = $2) ORDER BY id`, [filter?.batch ?? null, filter?.state ?? null])).map((r) => toQueueItem(r, codec)),
  };
}

/** The feature stores over one handle: plain calls and calls inside a transaction go through the same one. */
export function postgresStores(h: PostgresHandle): Stores {
  return {
    runs: runStore(h),
    audit: auditStore(h),
    flagRevisions: flagRevisionStore(h),
    checkResults: checkResultStore(h),
    profiles: profileStore(h),
    rollouts: rolloutStore(h),
    intents: intentStore(h),
    queue: queueStore(h),
  };
}
