import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { chainEntry, type AuditEntry, type AuditEntryInput } from '../../governance/audit-chain.ts';
import { SluiceError } from '../../util/errors.ts';
import type { FlagRevision, FreshnessRecord, MetadataStore, ProfileRecord, RunFilter, RunRecord, RunStatus, StepRunRecord } from '../metadata-store.ts';

type SqlRow = Record<string, unknown>;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE runs (
     id INTEGER PRIMARY KEY AUTOINCREMENT, pipeline TEXT NOT NULL, partition TEXT NOT NULL, environment TEXT NOT NULL,
     status TEXT NOT NULL, actor TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, error TEXT,
     artifacts TEXT NOT NULL, flags TEXT NOT NULL, engine TEXT NOT NULL, published TEXT NOT NULL DEFAULT '[]',
     pid INTEGER NOT NULL, host TEXT NOT NULL);
   CREATE INDEX runs_by_pipeline ON runs(pipeline, environment, partition);
   CREATE TABLE step_runs (
     run_id INTEGER NOT NULL REFERENCES runs(id), step TEXT NOT NULL, version TEXT NOT NULL, version_hash TEXT NOT NULL,
     output_version_id TEXT, rows_in INTEGER NOT NULL, rows_out INTEGER NOT NULL, duration_ms REAL NOT NULL,
     status TEXT NOT NULL, error TEXT, PRIMARY KEY (run_id, step));
   CREATE TABLE freshness (
     environment TEXT NOT NULL, dataset TEXT NOT NULL, partition TEXT NOT NULL, newest_event_time TEXT,
     run_id INTEGER NOT NULL, measured_at TEXT NOT NULL, PRIMARY KEY (environment, dataset, partition));
   CREATE TABLE audit_log (
     seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
     reason TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  `CREATE TABLE flag_revisions (
     environment TEXT NOT NULL, flag TEXT NOT NULL, revision INTEGER NOT NULL, state TEXT NOT NULL,
     actor TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (environment, flag, revision));
   CREATE TABLE check_results (
     run_id INTEGER NOT NULL, dataset TEXT NOT NULL, partition TEXT NOT NULL, version_id TEXT NOT NULL,
     results TEXT NOT NULL, PRIMARY KEY (run_id, dataset, version_id));
   CREATE TABLE profiles (
     environment TEXT NOT NULL, dataset TEXT NOT NULL, partition TEXT NOT NULL, run_id INTEGER NOT NULL,
     version_id TEXT NOT NULL, at TEXT NOT NULL, profile TEXT NOT NULL, PRIMARY KEY (environment, dataset, version_id));
   CREATE INDEX profiles_by_dataset ON profiles(environment, dataset, at);
   CREATE TABLE rollouts (
     name TEXT PRIMARY KEY, plan TEXT NOT NULL, state TEXT NOT NULL, updated_at TEXT NOT NULL);
   CREATE TABLE rollout_transitions (
     rollout TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, transition TEXT NOT NULL, PRIMARY KEY (rollout, seq));`,
];

/** The embedded metadata store: one SQLite file in WAL mode, shared by the CLI, server and workers on one machine. */
export class SqliteStore implements MetadataStore {
  private readonly db: Database.Database;
  private closed = false;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
  }

  private migrate(): void {
    const current = Number(this.db.pragma('user_version', { simple: true }));
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v] ?? '');
        this.db.pragma(`user_version = ${v + 1}`);
      }).immediate();
    }
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  startRun(r: Pick<RunRecord, 'pipeline' | 'partition' | 'environment' | 'actor' | 'artifacts' | 'flags' | 'engine'>, at: Date): RunRecord {
    const info = this.db
      .prepare(`INSERT INTO runs (pipeline, partition, environment, status, actor, started_at, artifacts, flags, engine, pid, host)
                VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)`)
      .run(r.pipeline, r.partition, r.environment, r.actor, at.toISOString(), JSON.stringify(r.artifacts), JSON.stringify(r.flags), r.engine, process.pid, hostname());
    return this.mustRun(Number(info.lastInsertRowid));
  }

  finishRun(id: number, result: { status: Exclude<RunStatus, 'running'>; error?: string; published?: readonly string[] }, at: Date): RunRecord {
    this.db
      .prepare(`UPDATE runs SET status = ?, finished_at = ?, error = ?, published = ? WHERE id = ?`)
      .run(result.status, at.toISOString(), result.error ?? null, JSON.stringify(result.published ?? []), id);
    return this.mustRun(id);
  }

  recordStep(s: StepRunRecord): void {
    this.db
      .prepare(`INSERT OR REPLACE INTO step_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(s.runId, s.step, s.version, s.versionHash, s.outputVersionId, s.rowsIn, s.rowsOut, s.durationMs, s.status, s.error);
  }

  recordFreshness(f: FreshnessRecord): void {
    this.db
      .prepare(`INSERT OR REPLACE INTO freshness VALUES (?, ?, ?, ?, ?, ?)`)
      .run(f.environment, f.dataset, f.partition, f.newestEventTime, f.runId, f.measuredAt);
  }

  run(id: number): RunRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM runs WHERE id = ?`).get(id) as SqlRow | undefined;
    return row ? toRun(row) : undefined;
  }

  private mustRun(id: number): RunRecord {
    const r = this.run(id);
    if (!r) throw new SluiceError('NOT_FOUND', `no run ${id}`);
    return r;
  }

  runs(filter: RunFilter = {}): RunRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.pipeline) (where.push('pipeline = ?'), args.push(filter.pipeline));
    if (filter.environment) (where.push('environment = ?'), args.push(filter.environment));
    if (filter.status) (where.push('status = ?'), args.push(filter.status));
    const sql = `SELECT * FROM runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? 50) as SqlRow[]).map(toRun);
  }

  steps(runId: number): StepRunRecord[] {
    return (this.db.prepare(`SELECT * FROM step_runs WHERE run_id = ? ORDER BY rowid`).all(runId) as SqlRow[]).map((r) => ({
      runId: Number(r['run_id']),
      step: String(r['step']),
      version: String(r['version']),
      versionHash: String(r['version_hash']),
      outputVersionId: r['output_version_id'] === null ? null : String(r['output_version_id']),
      rowsIn: Number(r['rows_in']),
      rowsOut: Number(r['rows_out']),
      durationMs: Number(r['duration_ms']),
      status: r['status'] === 'failed' ? 'failed' : 'succeeded',
      error: r['error'] === null ? null : String(r['error']),
    }));
  }

  freshness(environment: string, dataset?: string): FreshnessRecord[] {
    const rows = (dataset
      ? this.db.prepare(`SELECT * FROM freshness WHERE environment = ? AND dataset = ? ORDER BY partition`).all(environment, dataset)
      : this.db.prepare(`SELECT * FROM freshness WHERE environment = ? ORDER BY dataset, partition`).all(environment)) as SqlRow[];
    return rows.map((r) => ({
      environment: String(r['environment']),
      dataset: String(r['dataset']),
      partition: String(r['partition']),
      newestEventTime: r['newest_event_time'] === null ? null : String(r['newest_event_time']),
      runId: Number(r['run_id']),
      measuredAt: String(r['measured_at']),
    }));
  }

  reapAbandonedRuns(isAlive: (pid: number) => boolean, at: Date): number[] {
    const host = hostname();
    const stale = (this.db.prepare(`SELECT id, pid FROM runs WHERE status = 'running' AND host = ?`).all(host) as SqlRow[])
      .filter((r) => !isAlive(Number(r['pid'])))
      .map((r) => Number(r['id']));
    for (const id of stale) this.finishRun(id, { status: 'abandoned', error: 'the process running it stopped before it finished' }, at);
    return stale;
  }

  appendAudit(e: AuditEntryInput, at: Date): AuditEntry {
    return this.transaction(() => {
      const last = this.db.prepare(`SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).get() as { seq: number; hash: string } | undefined;
      const entry = chainEntry(last, e, at);
      this.db
        .prepare(`INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(entry.seq, entry.at, entry.actor, entry.action, entry.target, entry.reason, JSON.stringify(entry.details), entry.prevHash, entry.hash);
      // The head is kept apart from the log, so entries dropped from the end are detected too.
      this.db.prepare(`INSERT OR REPLACE INTO meta VALUES ('audit_head', ?)`).run(JSON.stringify({ seq: entry.seq, hash: entry.hash }));
      return entry;
    });
  }

  auditLog(filter: { target?: string; action?: string; limit?: number } = {}): AuditEntry[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.target) (where.push('target = ?'), args.push(filter.target));
    if (filter.action) (where.push('action = ?'), args.push(filter.action));
    // Stored order (rowid), not seq order, so a reordered log shows up as reordered.
    const sql = `SELECT * FROM audit_log${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY rowid${filter.limit ? ` LIMIT ${Math.floor(filter.limit)}` : ''}`;
    return (this.db.prepare(sql).all(...args) as SqlRow[]).map((r) => ({
      seq: Number(r['seq']),
      at: String(r['at']),
      actor: String(r['actor']),
      action: String(r['action']),
      target: String(r['target']),
      reason: String(r['reason']),
      details: JSON.parse(String(r['details'])) as Record<string, unknown>,
      prevHash: String(r['prev_hash']),
      hash: String(r['hash']),
    }));
  }

  auditHead(): { seq: number; hash: string } | undefined {
    const r = this.db.prepare(`SELECT value FROM meta WHERE key = 'audit_head'`).get() as { value: string } | undefined;
    return r ? (JSON.parse(r.value) as { seq: number; hash: string }) : undefined;
  }

  appendFlagRevision(r: Omit<FlagRevision, 'revision'>): FlagRevision {
    const last = this.db.prepare(`SELECT max(revision) AS r FROM flag_revisions WHERE environment = ? AND flag = ?`).get(r.environment, r.flag) as { r: number | null };
    const revision = (last.r ?? 0) + 1;
    this.db.prepare(`INSERT INTO flag_revisions VALUES (?, ?, ?, ?, ?, ?, ?)`).run(r.environment, r.flag, revision, JSON.stringify(r.state), r.actor, r.reason, r.at);
    return { ...r, revision };
  }

  flagRevisions(environment: string, flag?: string): FlagRevision[] {
    const rows = (flag
      ? this.db.prepare(`SELECT * FROM flag_revisions WHERE environment = ? AND flag = ? ORDER BY revision`).all(environment, flag)
      : this.db.prepare(`SELECT * FROM flag_revisions WHERE environment = ? ORDER BY flag, revision`).all(environment)) as SqlRow[];
    return rows.map((x) => ({ environment: String(x['environment']), flag: String(x['flag']), revision: Number(x['revision']), state: JSON.parse(String(x['state'])) as unknown, actor: String(x['actor']), reason: String(x['reason']), at: String(x['at']) }));
  }

  recordCheckResults(r: { runId: number; dataset: string; partition: string; versionId: string; results: unknown }): void {
    this.db.prepare(`INSERT OR REPLACE INTO check_results VALUES (?, ?, ?, ?, ?)`).run(r.runId, r.dataset, r.partition, r.versionId, JSON.stringify(r.results));
  }

  checkResults(runId: number): { dataset: string; partition: string; versionId: string; results: unknown }[] {
    return (this.db.prepare(`SELECT * FROM check_results WHERE run_id = ? ORDER BY rowid`).all(runId) as SqlRow[]).map((x) => ({
      dataset: String(x['dataset']),
      partition: String(x['partition']),
      versionId: String(x['version_id']),
      results: JSON.parse(String(x['results'])) as unknown,
    }));
  }

  recordProfile(p: ProfileRecord): void {
    this.db.prepare(`INSERT OR REPLACE INTO profiles VALUES (?, ?, ?, ?, ?, ?, ?)`).run(p.environment, p.dataset, p.partition, p.runId, p.versionId, p.at, JSON.stringify(p.profile));
  }

  profiles(environment: string, dataset: string, limit = 400): ProfileRecord[] {
    const rows = this.db.prepare(`SELECT * FROM (SELECT * FROM profiles WHERE environment = ? AND dataset = ? ORDER BY at DESC LIMIT ?) ORDER BY at`).all(environment, dataset, limit) as SqlRow[];
    return rows.map((x) => ({ environment: String(x['environment']), dataset: String(x['dataset']), partition: String(x['partition']), runId: Number(x['run_id']), versionId: String(x['version_id']), at: String(x['at']), profile: JSON.parse(String(x['profile'])) as unknown }));
  }

  saveRollout(name: string, plan: unknown, state: unknown, at: Date): void {
    this.db.prepare(`INSERT INTO rollouts VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET plan = excluded.plan, state = excluded.state, updated_at = excluded.updated_at`).run(name, JSON.stringify(plan), JSON.stringify(state), at.toISOString());
  }

  rollout(name: string): { name: string; plan: unknown; state: unknown; updatedAt: string } | undefined {
    const x = this.db.prepare(`SELECT * FROM rollouts WHERE name = ?`).get(name) as SqlRow | undefined;
    return x ? { name: String(x['name']), plan: JSON.parse(String(x['plan'])) as unknown, state: JSON.parse(String(x['state'])) as unknown, updatedAt: String(x['updated_at']) } : undefined;
  }

  rollouts(): { name: string; plan: unknown; state: unknown; updatedAt: string }[] {
    return (this.db.prepare(`SELECT * FROM rollouts ORDER BY name`).all() as SqlRow[]).map((x) => ({ name: String(x['name']), plan: JSON.parse(String(x['plan'])) as unknown, state: JSON.parse(String(x['state'])) as unknown, updatedAt: String(x['updated_at']) }));
  }

  appendRolloutTransition(rollout: string, transition: unknown, at: Date): number {
    const last = this.db.prepare(`SELECT max(seq) AS s FROM rollout_transitions WHERE rollout = ?`).get(rollout) as { s: number | null };
    const seq = (last.s ?? 0) + 1;
    this.db.prepare(`INSERT INTO rollout_transitions VALUES (?, ?, ?, ?)`).run(rollout, seq, at.toISOString(), JSON.stringify(transition));
    return seq;
  }

  rolloutTransitions(rollout: string): unknown[] {
    return (this.db.prepare(`SELECT transition FROM rollout_transitions WHERE rollout = ? ORDER BY seq`).all(rollout) as SqlRow[]).map((x) => JSON.parse(String(x['transition'])) as unknown);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function toRun(r: SqlRow): RunRecord {
  return {
    id: Number(r['id']),
    pipeline: String(r['pipeline']),
    partition: String(r['partition']),
    environment: String(r['environment']),
    status: String(r['status']) as RunStatus,
    actor: String(r['actor']),
    startedAt: String(r['started_at']),
    finishedAt: r['finished_at'] === null ? null : String(r['finished_at']),
    error: r['error'] === null ? null : String(r['error']),
    artifacts: JSON.parse(String(r['artifacts'])) as RunRecord['artifacts'],
    flags: JSON.parse(String(r['flags'])) as Record<string, unknown>,
    engine: String(r['engine']),
    published: JSON.parse(String(r['published'])) as string[],
  };
}
