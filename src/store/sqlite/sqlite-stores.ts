import type Database from 'better-sqlite3';
import { toAuditEntry, toFreshness, toQueueItem, toStepRun, type RowCodec } from '../schemas/row-mappers.ts';
import { SluiceError } from '../../util/errors.ts';
import type {
  CheckResultRecord,
  AuditLogStore,
  CheckResultStore,
  FlagRevisionStore,
  IntentStore,
  QueueStore,
  ProfileStore,
  RolloutStore,
  RunStatus,
  RunStore,
  Stores,
  StoredRollout,
  RunRecord,
} from '../metadata-store.ts';
import { decodeJson } from '../schemas/decode.ts';
import { flagStateSchema } from '../schemas/flag-schemas.ts';
import { storedCheckResultsSchema, storedProfileSchema } from '../schemas/quality-schemas.ts';
import { rolloutActionSchema, rolloutLogEntrySchema, rolloutPlanSchema, rolloutStateSchema } from '../schemas/rollout-schemas.ts';
import { artifactsSchema, detailsSchema, pinnedFlagsSchema, stringListSchema } from '../schemas/run-schemas.ts';
import * as v from 'valibot';

type SqlRow = Record<string, unknown>;

/** How the stores reach the connection: at once inside a transaction of this flow, else in turn. */
export interface SqliteHandle {
  run<T>(fn: (db: Database.Database) => T): Promise<T>;
}

const RUN_STATUSES: readonly RunStatus[] = ['running', 'succeeded', 'failed', 'abandoned'];
const text = (x: unknown): string => String(x);
const nullableText = (x: unknown): string | null => (x === null || x === undefined ? null : String(x));

/** How this adapter's columns come back: JSON as text, timestamps as ISO text. */
const codec: RowCodec = { json: decodeJson, time: text };

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
    startedAt: text(r['started_at']),
    finishedAt: nullableText(r['finished_at']),
    error: nullableText(r['error']),
    artifacts: decodeJson(artifactsSchema, r['artifacts'], `run ${id} artifacts`),
    flags: decodeJson(pinnedFlagsSchema, r['flags'], `run ${id} flags`),
    engine: text(r['engine']),
    published: decodeJson(stringListSchema, r['published'], `run ${id} publications`),
    owner: `${text(r['host'])}:${Number(r['pid'])}`,
    leaseUntil: nullableText(r['lease_until']),
  };
}

/** `host:pid` into its parts (the host may hold colons; the pid is the last part). */
function splitOwner(owner: string): { host: string; pid: number } {
  const i = owner.lastIndexOf(':');
  return { host: owner.slice(0, i), pid: Number(owner.slice(i + 1)) };
}

function runStore(h: SqliteHandle): RunStore {
  const get = (db: Database.Database, id: number): RunRecord | undefined => {
    const row = db.prepare(`SELECT * FROM runs WHERE id = ?`).get(id) as SqlRow | undefined;
    return row ? toRun(row) : undefined;
  };
  const must = (db: Database.Database, id: number): RunRecord => {
    const r = get(db, id);
    if (!r) throw new SluiceError('NOT_FOUND', `no run ${id}`);
    return r;
  };
  const finish = (db: Database.Database, id: number, result: { status: Exclude<RunStatus, 'running'>; error?: string; published?: readonly string[] }, at: Date): RunRecord => {
    db.prepare(`UPDATE runs SET status = ?, finished_at = ?, error = ?, published = ? WHERE id = ?`).run(result.status, at.toISOString(), result.error ?? null, JSON.stringify(result.published ?? []), id);
    return must(db, id);
  };
  return {
    start: (r, at, lease) =>
      h.run((db) => {
        const { host, pid } = splitOwner(lease.owner);
        const info = db
          .prepare(`INSERT INTO runs (pipeline, partition, environment, status, actor, started_at, artifacts, flags, engine, pid, host, lease_until) VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)`)
          .run(r.pipeline, r.partition, r.environment, r.actor, at.toISOString(), JSON.stringify(r.artifacts), JSON.stringify(r.flags), r.engine, pid, host, lease.until.toISOString());
        return must(db, Number(info.lastInsertRowid));
      }),
    renewLease: (id, until) =>
      h.run((db) => {
        db.prepare(`UPDATE runs SET lease_until = ? WHERE id = ? AND status = 'running'`).run(until.toISOString(), id);
      }),
    finish: (id, result, at) => h.run((db) => finish(db, id, result, at)),
    recordStep: (s) =>
      h.run((db) => {
        db.prepare(`INSERT OR REPLACE INTO step_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(s.runId, s.step, s.version, s.versionHash, s.outputVersionId, s.rowsIn, s.rowsOut, s.durationMs, s.status, s.error);
      }),
    recordFreshness: (f) =>
      h.run((db) => {
        db.prepare(`INSERT OR REPLACE INTO freshness VALUES (?, ?, ?, ?, ?, ?)`).run(f.environment, f.dataset, f.partition, f.newestEventTime, f.runId, f.measuredAt);
      }),
    get: (id) => h.run((db) => get(db, id)),
    list: (filter = {}) =>
      h.run((db) => {
        const where: string[] = [];
        const args: unknown[] = [];
        if (filter.pipeline) (where.push('pipeline = ?'), args.push(filter.pipeline));
        if (filter.environment) (where.push('environment = ?'), args.push(filter.environment));
        if (filter.status) (where.push('status = ?'), args.push(filter.status));
        const sql = `SELECT * FROM runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
        return (db.prepare(sql).all(...args, filter.limit ?? 50) as SqlRow[]).map(toRun);
      }),
    steps: (runId) =>
      h.run((db) =>
        (db.prepare(`SELECT * FROM step_runs WHERE run_id = ? ORDER BY rowid`).all(runId) as SqlRow[]).map(
          toStepRun,
        ),
      ),
    freshness: (environment, dataset) =>
      h.run((db) => {
        const rows = (dataset
          ? db.prepare(`SELECT * FROM freshness WHERE environment = ? AND dataset = ? ORDER BY partition`).all(environment, dataset)
          : db.prepare(`SELECT * FROM freshness WHERE environment = ? ORDER BY dataset, partition`).all(environment)) as SqlRow[];
        return rows.map(toFreshness);
      }),
  };
}

const headSchema = v.object({ seq: v.number(), hash: v.string() });

function auditStore(h: SqliteHandle): AuditLogStore {
  return {
    append: (e) =>
      h.run((db) => {
        try {
          db.prepare(`INSERT INTO audit_log (seq, at, actor, action, target, reason, details, prev_hash, hash, alg) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(e.seq, e.at, e.actor, e.action, e.target, e.reason, JSON.stringify(e.details), e.prevHash, e.hash, e.alg);
        } catch (err) {
          if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new SluiceError('CONFLICT', `audit entry ${e.seq} was written by someone else first`, {}, [], { cause: err });
          throw err;
        }
      }),
    last: () =>
      h.run((db) => {
        const r = db.prepare(`SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1`).get() as SqlRow | undefined;
        return r ? toAuditEntry(r, codec) : undefined;
      }),
    list: (filter = {}) =>
      h.run((db) => {
        const where: string[] = [];
        const args: unknown[] = [];
        if (filter.target) (where.push('target = ?'), args.push(filter.target));
        if (filter.action) (where.push('action = ?'), args.push(filter.action));
        const cond = where.length ? ` WHERE ${where.join(' AND ')}` : '';
        // Stored order (rowid), not seq order, so a reordered log shows up as reordered.
        const sql = filter.limit
          ? `SELECT * FROM (SELECT rowid AS r, * FROM audit_log${cond} ORDER BY rowid DESC LIMIT ${Math.floor(filter.limit)}) ORDER BY r`
          : `SELECT * FROM audit_log${cond} ORDER BY rowid`;
        return (db.prepare(sql).all(...args) as SqlRow[]).map((r) => toAuditEntry(r, codec));
      }),
    head: () =>
      h.run((db) => {
        const r = db.prepare(`SELECT value FROM meta WHERE key = 'audit_head'`).get() as { value: string } | undefined;
        return r ? decodeJson(headSchema, r.value, 'the audit head') : undefined;
      }),
    setHead: (head) =>
      h.run((db) => {
        db.prepare(`INSERT OR REPLACE INTO meta VALUES ('audit_head', ?)`).run(JSON.stringify(head));
      }),
  };
}

function flagRevisionStore(h: SqliteHandle): FlagRevisionStore {
  return {
    append: (r) =>
      h.run((db) => {
        const last = db.prepare(`SELECT max(revision) AS r FROM flag_revisions WHERE environment = ? AND flag = ?`).get(r.environment, r.flag) as { r: number | null };
        const revision = (last.r ?? 0) + 1;
        db.prepare(`INSERT INTO flag_revisions VALUES (?, ?, ?, ?, ?, ?, ?)`).run(r.environment, r.flag, revision, JSON.stringify(r.state), r.actor, r.reason, r.at);
        return { ...r, revision };
      }),
    list: (environment, flag) =>
      h.run((db) => {
        const rows = (flag
          ? db.prepare(`SELECT * FROM flag_revisions WHERE environment = ? AND flag = ? ORDER BY revision`).all(environment, flag)
          : db.prepare(`SELECT * FROM flag_revisions WHERE environment = ? ORDER BY flag, revision`).all(environment)) as SqlRow[];
        return rows.map((x) => ({
          environment: text(x['environment']),
          flag: text(x['flag']),
          revision: Number(x['revision']),
          state: decodeJson(flagStateSchema, x['state'], `flag ${text(x['flag'])} revision ${Number(x['revision'])} in ${text(x['environment'])}`),
          actor: text(x['actor']),
          reason: text(x['reason']),
          at: text(x['at']),
        }));
      }),
  };
}

function checkResultStore(h: SqliteHandle): CheckResultStore {
  const toRecord = (x: SqlRow): CheckResultRecord => {
    const runId = Number(x['run_id']);
    return {
      runId,
      dataset: text(x['dataset']),
      partition: text(x['partition']),
      versionId: text(x['version_id']),
      results: decodeJson(storedCheckResultsSchema, x['results'], `check results of run ${runId} (${text(x['version_id'])})`),
    };
  };
  return {
    latest: (environment, dataset) =>
      h.run((db) => {
        const x = db.prepare(`SELECT c.* FROM check_results c JOIN runs r ON r.id = c.run_id WHERE r.environment = ? AND c.dataset = ? ORDER BY c.run_id DESC LIMIT 1`).get(environment, dataset) as SqlRow | undefined;
        return x ? toRecord(x) : undefined;
      }),
    record: (r) =>
      h.run((db) => {
        db.prepare(`INSERT OR REPLACE INTO check_results VALUES (?, ?, ?, ?, ?)`).run(r.runId, r.dataset, r.partition, r.versionId, JSON.stringify(r.results));
      }),
    forRun: (runId) => h.run((db) => (db.prepare(`SELECT * FROM check_results WHERE run_id = ? ORDER BY rowid`).all(runId) as SqlRow[]).map(toRecord)),
  };
}

function profileStore(h: SqliteHandle): ProfileStore {
  return {
    record: (p) =>
      h.run((db) => {
        db.prepare(`INSERT OR REPLACE INTO profiles VALUES (?, ?, ?, ?, ?, ?, ?)`).run(p.environment, p.dataset, p.partition, p.runId, p.versionId, p.at, JSON.stringify(p.profile));
      }),
    recent: (environment, dataset, limit = 400) =>
      h.run((db) =>
        (db.prepare(`SELECT * FROM (SELECT * FROM profiles WHERE environment = ? AND dataset = ? ORDER BY at DESC LIMIT ?) ORDER BY at`).all(environment, dataset, limit) as SqlRow[]).map((x) => ({
          environment: text(x['environment']),
          dataset: text(x['dataset']),
          partition: text(x['partition']),
          runId: Number(x['run_id']),
          versionId: text(x['version_id']),
          at: text(x['at']),
          profile: decodeJson(storedProfileSchema, x['profile'], `profile of ${dataset} (${text(x['version_id'])})`),
        })),
      ),
  };
}

/** What the `state` column holds: the rollout's state and the actions not yet carried out. */
const storedStateSchema = v.object({ state: rolloutStateSchema, pending: v.array(rolloutActionSchema) });

function rolloutStore(h: SqliteHandle): RolloutStore {
  const toRollout = (x: SqlRow): StoredRollout => {
    const id = text(x['id']);
    const { state, pending } = decodeJson(storedStateSchema, x['state'], `rollout ${id} state`);
    const lease = x['pending_owner'] !== null && x['pending_owner'] !== undefined ? { pendingLease: { owner: text(x['pending_owner']), until: text(x['pending_lease_until']) } } : {};
    return { id, name: text(x['name']), attempt: Number(x['attempt']), plan: decodeJson(rolloutPlanSchema, x['plan'], `rollout ${id} plan`), state, pending, ...lease, updatedAt: text(x['updated_at']) };
  };
  return {
    save: (r, at) =>
      h.run((db) => {
        db.prepare(
          `INSERT INTO rollout_attempts (id, name, attempt, plan, state, updated_at, pending_owner, pending_lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET plan = excluded.plan, state = excluded.state, updated_at = excluded.updated_at, pending_owner = excluded.pending_owner, pending_lease_until = excluded.pending_lease_until`,
        ).run(r.id, r.name, r.attempt, JSON.stringify(r.plan), JSON.stringify({ state: r.state, pending: r.pending }), at.toISOString(), r.pendingLease?.owner ?? null, r.pendingLease?.until ?? null);
      }),
    get: (id) =>
      h.run((db) => {
        const x = db.prepare(`SELECT * FROM rollout_attempts WHERE id = ?`).get(id) as SqlRow | undefined;
        return x ? toRollout(x) : undefined;
      }),
    latest: (name) =>
      h.run((db) => {
        const x = db.prepare(`SELECT * FROM rollout_attempts WHERE name = ? ORDER BY attempt DESC LIMIT 1`).get(name) as SqlRow | undefined;
        return x ? toRollout(x) : undefined;
      }),
    list: () => h.run((db) => (db.prepare(`SELECT * FROM rollout_attempts ORDER BY name, attempt`).all() as SqlRow[]).map(toRollout)),
    appendLog: (id, entry, at) =>
      h.run((db) => {
        const last = db.prepare(`SELECT max(seq) AS s FROM rollout_transitions WHERE rollout = ?`).get(id) as { s: number | null };
        const seq = (last.s ?? 0) + 1;
        db.prepare(`INSERT INTO rollout_transitions VALUES (?, ?, ?, ?)`).run(id, seq, at.toISOString(), JSON.stringify(entry));
        return seq;
      }),
    log: (id) =>
      h.run((db) =>
        (db.prepare(`SELECT seq, transition FROM rollout_transitions WHERE rollout = ? ORDER BY seq`).all(id) as SqlRow[]).map((x) =>
          decodeJson(rolloutLogEntrySchema, x['transition'], `rollout ${id} log entry ${Number(x['seq'])}`),
        ),
      ),
  };
}

function intentStore(h: SqliteHandle): IntentStore {
  return {
    open: (i) =>
      h.run((db) => {
        db.prepare(`INSERT INTO intents VALUES (?, ?, ?, ?, ?, ?, ?)`).run(i.id, i.kind, i.environment, i.owner, i.leaseUntil, JSON.stringify(i.payload), i.openedAt);
      }),
    renew: (id, until) =>
      h.run((db) => {
        db.prepare(`UPDATE intents SET lease_until = ? WHERE id = ?`).run(until.toISOString(), id);
      }),
    close: (id) =>
      h.run((db) => {
        db.prepare(`DELETE FROM intents WHERE id = ?`).run(id);
      }),
    list: () =>
      h.run((db) =>
        (db.prepare(`SELECT * FROM intents ORDER BY opened_at, id`).all() as SqlRow[]).map((x) => {
          const kind = text(x['kind']);
          if (kind !== 'republish' && kind !== 'gc') throw new SluiceError('CORRUPT', `intent ${text(x['id'])} in the store has kind "${kind}"`);
          return { id: text(x['id']), kind, environment: text(x['environment']), owner: text(x['owner']), leaseUntil: text(x['lease_until']), payload: decodeJson(detailsSchema, x['payload'], `intent ${text(x['id'])}`), openedAt: text(x['opened_at']) };
        }),
      ),
  };
}

function queueStore(h: SqliteHandle): QueueStore {
  return {
    enqueue: (items, at) =>
      h.run((db) => {
        const insert = db.prepare(`INSERT INTO run_queue (pipeline, partition, environment, actor, select_steps, batch, enqueued_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued') RETURNING *`);
        return db.transaction(() => items.map((i) => toQueueItem(insert.get(i.pipeline, i.partition, i.environment, i.actor, i.select, i.batch, at.toISOString()) as SqlRow, codec)))();
      }),
    // One statement: SQLite runs it alone, so two workers never take the same item.
    claim: (worker, at, leaseUntil, filter) =>
      h.run((db) => {
        const r = db
          .prepare(
            `UPDATE run_queue SET state = 'claimed', token = token + 1, worker = ?, lease_until = ?
             WHERE id = (SELECT id FROM run_queue WHERE (state = 'queued' OR (state = 'claimed' AND lease_until < ?)) AND (? IS NULL OR environment = ?) ORDER BY id LIMIT 1)
             RETURNING *`,
          )
          .get(worker, leaseUntil.toISOString(), at.toISOString(), filter?.environment ?? null, filter?.environment ?? null) as SqlRow | undefined;
        return r ? toQueueItem(r, codec) : undefined;
      }),
    heartbeat: (id, token, leaseUntil) => h.run((db) => db.prepare(`UPDATE run_queue SET lease_until = ? WHERE id = ? AND token = ? AND state = 'claimed'`).run(leaseUntil.toISOString(), id, token).changes === 1),
    finish: (id, token, o, at) =>
      h.run((db) => db.prepare(`UPDATE run_queue SET state = ?, run_id = ?, error = ?, finished_at = ?, lease_until = NULL WHERE id = ? AND token = ? AND state = 'claimed'`).run(o.state, o.runId, o.error, at.toISOString(), id, token).changes === 1),
    get: (id) =>
      h.run((db) => {
        const r = db.prepare(`SELECT * FROM run_queue WHERE id = ?`).get(id) as SqlRow | undefined;
        return r ? toQueueItem(r, codec) : undefined;
      }),
    list: (filter) =>
      h.run((db) => (db.prepare(`SELECT * FROM run_queue WHERE (? IS NULL OR batch = ?) AND (? IS NULL OR state = ?) ORDER BY id`).all(filter?.batch ?? null, filter?.batch ?? null, filter?.state ?? null, filter?.state ?? null) as SqlRow[]).map((r) => toQueueItem(r, codec))),
  };
}

/** The feature stores over one handle (curried: the same factory serves plain calls and a transaction). */
export function sqliteStores(h: SqliteHandle): Stores {
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
