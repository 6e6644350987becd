import { mkdirSync } from 'node:fs';
import { checkFence } from '../publish-fence.ts';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SluiceError, messageOf } from '../../util/errors.ts';
import type { ColumnInfo, OutputVersion, Publication } from '../warehouse.ts';
import { quoteIdent } from '../sql.ts';

/**
 * The embedded warehouse's catalog: which immutable data file holds each output version, which
 * version each dataset partition shows (the publication pointer and its log), the compacted
 * segments, and the consumer catalogs written. A SQLite file beside the data files: its
 * transactions are the commit points of the warehouse (small, fsynced, atomic), and it is never
 * where data rows pass, so a torn commit can never mix partitions. Queries take milliseconds;
 * every method is synchronous (better-sqlite3) and each write is one transaction.
 */

export interface StoredVersion extends Omit<OutputVersion, 'table'> {
  /** Attachment alias of its file (`sluice_v_<16 hex>`). */
  readonly alias: string;
  /** Data file, relative to the warehouse folder. */
  readonly file: string;
  readonly fingerprint: string;
  readonly bytes: number;
  readonly columns: readonly ColumnInfo[];
  /** Set once gc chose to delete it (the file may still be there until gc finishes). */
  readonly deletedAt: string | null;
}

export interface SegmentPartition {
  readonly partition: string;
  readonly versionId: string;
  readonly rowCount: number;
  readonly fingerprint: string;
}

export interface StoredSegment {
  readonly id: string;
  readonly dataset: string;
  readonly level: number;
  readonly alias: string;
  readonly file: string;
  readonly rowCount: number;
  readonly bytes: number;
  readonly createdAt: string;
  readonly retiredAt: string | null;
  readonly partitions: readonly SegmentPartition[];
}

export interface DatasetInfo {
  readonly name: string;
  /** null: unpartitioned (stored as ''). */
  readonly partitionColumn: string | null;
  readonly columns: readonly ColumnInfo[];
}

export interface NewPublication {
  readonly dataset: string;
  readonly partition: string;
  readonly versionId: string;
  readonly runId: number | null;
  readonly actor: string;
  readonly reason: string;
  readonly at: string;
  readonly rollout: string | null;
  readonly intent: string | null;
  /** Kept from an older log (migration); new publications take the next number. */
  readonly seq?: number;
}

type Row = Record<string, unknown>;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS output_versions (
    id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, step TEXT NOT NULL, step_version TEXT NOT NULL,
    version_hash TEXT NOT NULL, partition TEXT NOT NULL, run_id INTEGER NOT NULL, row_count INTEGER NOT NULL,
    fingerprint TEXT NOT NULL, created_at TEXT NOT NULL, alias TEXT NOT NULL UNIQUE, file TEXT NOT NULL,
    bytes INTEGER NOT NULL, columns TEXT NOT NULL, deleted_at TEXT);
  CREATE INDEX IF NOT EXISTS output_versions_step ON output_versions (step, partition);
  CREATE INDEX IF NOT EXISTS output_versions_run ON output_versions (run_id);
  CREATE TABLE IF NOT EXISTS datasets (name TEXT PRIMARY KEY, partition_column TEXT NOT NULL, columns TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS publications (
    dataset TEXT NOT NULL, partition TEXT NOT NULL, version_id TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (dataset, partition));
  CREATE TABLE IF NOT EXISTS publication_log (
    seq INTEGER PRIMARY KEY, dataset TEXT NOT NULL, partition TEXT NOT NULL, version_id TEXT NOT NULL,
    previous_version_id TEXT, published_at TEXT NOT NULL, run_id INTEGER, actor TEXT NOT NULL, reason TEXT NOT NULL,
    rollout TEXT, intent TEXT);
  CREATE INDEX IF NOT EXISTS publication_log_partition ON publication_log (dataset, partition);
  CREATE TABLE IF NOT EXISTS segments (
    id TEXT PRIMARY KEY, dataset TEXT NOT NULL, level INTEGER NOT NULL, alias TEXT NOT NULL UNIQUE, file TEXT NOT NULL,
    row_count INTEGER NOT NULL, bytes INTEGER NOT NULL, created_at TEXT NOT NULL, retired_at TEXT);
  CREATE TABLE IF NOT EXISTS segment_partitions (
    segment_id TEXT NOT NULL REFERENCES segments (id), partition TEXT NOT NULL, version_id TEXT NOT NULL,
    row_count INTEGER NOT NULL, fingerprint TEXT NOT NULL, PRIMARY KEY (segment_id, partition));
  CREATE TABLE IF NOT EXISTS fences (item TEXT PRIMARY KEY, token INTEGER NOT NULL, published_by INTEGER);
  CREATE TABLE IF NOT EXISTS consumer_catalogs (generation INTEGER PRIMARY KEY, written_at TEXT NOT NULL, files TEXT NOT NULL);
`;

export class WarehouseCatalog {
  private constructor(private readonly db: Database.Database) {}

  /**
   * Opens the catalog for writing (creating it), or with `readOnly` an existing one for reading:
   * metadata reads create, migrate and set nothing in a catalog another process writes. They still
   * open it read-write where they may (SQLite's WAL files then go away when they close), and
   * read-only where the folder is read-only to them.
   */
  static open(path: string, o: { readonly readOnly?: boolean } = {}): WarehouseCatalog {
    if (!o.readOnly) mkdirSync(dirname(path), { recursive: true });
    let db: Database.Database;
    try {
      db = o.readOnly ? openExisting(path) : new Database(path);
      db.pragma('busy_timeout = 30000');
      if (!o.readOnly) {
        db.pragma('journal_mode = WAL');
        // The catalog commit is the publish: it must survive power loss, not only a killed process.
        db.pragma('synchronous = FULL');
        db.exec(SCHEMA);
      }
    } catch (e) {
      throw new SluiceError('CORRUPT', `the warehouse catalog ${path} cannot be opened: ${messageOf(e)}`, { file: path });
    }
    return new WarehouseCatalog(db);
  }

  close(): void {
    this.db.close();
  }

  /** A consistent copy of the catalog at `path` (SQLite's online backup). */
  async backup(path: string): Promise<void> {
    await this.db.backup(path);
  }

  /** Runs fn in one immediate transaction (the writer lock is taken at its start). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  meta(key: string): string | undefined {
    const r = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as Row | undefined;
    return r ? String(r['value']) : undefined;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  // ---- output versions ----------------------------------------------------------------------

  addVersion(v: StoredVersion): void {
    try {
      this.db
        .prepare('INSERT INTO output_versions (id, pipeline, step, step_version, version_hash, partition, run_id, row_count, fingerprint, created_at, alias, file, bytes, columns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(v.id, v.pipeline, v.step, v.stepVersion, v.versionHash, v.partition, v.runId, v.rowCount, v.fingerprint, v.createdAt, v.alias, v.file, v.bytes, JSON.stringify(v.columns));
    } catch (e) {
      if (/UNIQUE|PRIMARY KEY/.test(messageOf(e))) throw new SluiceError('CONFLICT', `output version ${v.id} exists already`);
      throw e;
    }
  }

  version(id: string, o: { includeDeleted?: boolean } = {}): StoredVersion | undefined {
    const r = this.db.prepare(`SELECT * FROM output_versions WHERE id = ?${o.includeDeleted ? '' : ' AND deleted_at IS NULL'}`).get(id) as Row | undefined;
    return r ? toVersion(r) : undefined;
  }

  versionsByIds(ids: readonly string[]): Map<string, StoredVersion> {
    // One query whatever the count: the ids travel as a JSON array (refreshViews asks for every published version).
    const rows = this.db.prepare('SELECT * FROM output_versions WHERE deleted_at IS NULL AND id IN (SELECT value FROM json_each(?))').all(JSON.stringify([...new Set(ids)])) as Row[];
    return new Map(rows.map((r) => [String(r['id']), toVersion(r)]));
  }

  versionByAlias(alias: string): StoredVersion | undefined {
    const r = this.db.prepare('SELECT * FROM output_versions WHERE alias = ?').get(alias) as Row | undefined;
    return r ? toVersion(r) : undefined;
  }

  versions(filter: { step?: string; partition?: string; runId?: number; includeDeleted?: boolean } = {}): StoredVersion[] {
    const where: string[] = filter.includeDeleted ? [] : ['deleted_at IS NULL'];
    const args: (string | number)[] = [];
    if (filter.step !== undefined) (where.push('step = ?'), args.push(filter.step));
    if (filter.partition !== undefined) (where.push('partition = ?'), args.push(filter.partition));
    if (filter.runId !== undefined) (where.push('run_id = ?'), args.push(filter.runId));
    const rows = this.db.prepare(`SELECT * FROM output_versions${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`).all(...args) as Row[];
    return rows.map(toVersion);
  }

  markDeleted(ids: readonly string[], at: string): void {
    const stmt = this.db.prepare('UPDATE output_versions SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL');
    for (const id of ids) stmt.run(at, id);
  }

  // ---- datasets and publications ------------------------------------------------------------

  dataset(name: string): DatasetInfo | undefined {
    const r = this.db.prepare('SELECT * FROM datasets WHERE name = ?').get(name) as Row | undefined;
    return r ? { name: String(r['name']), partitionColumn: String(r['partition_column'] ?? '') || null, columns: JSON.parse(String(r['columns'])) as ColumnInfo[] } : undefined;
  }

  datasets(): DatasetInfo[] {
    return (this.db.prepare('SELECT * FROM datasets ORDER BY name').all() as Row[]).map((r) => ({ name: String(r['name']), partitionColumn: String(r['partition_column'] ?? '') || null, columns: JSON.parse(String(r['columns'])) as ColumnInfo[] }));
  }

  addDataset(d: DatasetInfo): void {
    this.db.prepare('INSERT INTO datasets (name, partition_column, columns) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING').run(d.name, d.partitionColumn ?? '', JSON.stringify(d.columns));
  }

  /** dataset -> partition -> version id, for the given datasets (all when omitted). */
  pointers(datasets?: readonly string[]): Map<string, Map<string, string>> {
    const rows = (datasets ? this.db.prepare('SELECT * FROM publications WHERE dataset IN (SELECT value FROM json_each(?))').all(JSON.stringify(datasets)) : this.db.prepare('SELECT * FROM publications').all()) as Row[];
    const out = new Map<string, Map<string, string>>();
    for (const r of rows) {
      const d = String(r['dataset']);
      const m = out.get(d) ?? new Map<string, string>();
      m.set(String(r['partition']), String(r['version_id']));
      out.set(d, m);
    }
    return out;
  }

  /** Appends to the log and moves the pointers; call inside `transaction`. The last item of a partition wins. */
  /**
   * The fencing check of a queued run's publish, inside the caller's transaction: refused when a
   * newer claim of the item was seen or the item was published already; else this token is
   * recorded as the item's publisher.
   */
  fence(item: string, token: number): void {
    const r = this.db.prepare('SELECT token, published_by FROM fences WHERE item = ?').get(item) as Row | undefined;
    checkFence(item, token, r ? { token: Number(r['token']), publishedBy: r['published_by'] === null || r['published_by'] === undefined ? null : Number(r['published_by']) } : undefined);
    this.db.prepare('INSERT INTO fences (item, token, published_by) VALUES (?, ?, ?) ON CONFLICT (item) DO UPDATE SET token = excluded.token, published_by = excluded.published_by').run(item, token, token);
  }

  publish(items: readonly NewPublication[]): Publication[] {
    const previous = this.db.prepare('SELECT version_id FROM publications WHERE dataset = ? AND partition = ?');
    const log = this.db.prepare('INSERT INTO publication_log (seq, dataset, partition, version_id, previous_version_id, published_at, run_id, actor, reason, rollout, intent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const pointer = this.db.prepare('INSERT INTO publications (dataset, partition, version_id, seq) VALUES (?, ?, ?, ?) ON CONFLICT (dataset, partition) DO UPDATE SET version_id = excluded.version_id, seq = excluded.seq');
    const out: Publication[] = [];
    for (const i of items) {
      const prev = previous.get(i.dataset, i.partition) as Row | undefined;
      const previousVersionId = prev ? String(prev['version_id']) : null;
      const seq = Number(log.run(i.seq ?? null, i.dataset, i.partition, i.versionId, previousVersionId, i.at, i.runId, i.actor, i.reason, i.rollout, i.intent).lastInsertRowid);
      pointer.run(i.dataset, i.partition, i.versionId, seq);
      out.push({ dataset: i.dataset, partition: i.partition, versionId: i.versionId, previousVersionId, publishedAt: i.at, runId: i.runId, actor: i.actor, reason: i.reason, seq, rollout: i.rollout, intent: i.intent });
    }
    return out;
  }

  currentPublications(dataset?: string): Publication[] {
    const rows = this.db.prepare(`SELECT l.* FROM publications p JOIN publication_log l ON l.seq = p.seq${dataset !== undefined ? ' WHERE p.dataset = ?' : ''} ORDER BY l.dataset, l.partition`).all(...(dataset !== undefined ? [dataset] : [])) as Row[];
    return rows.map(toPublication);
  }

  publicationHistory(dataset: string, partition?: string): Publication[] {
    const rows = this.db.prepare(`SELECT * FROM publication_log WHERE dataset = ?${partition !== undefined ? ' AND partition = ?' : ''} ORDER BY seq`).all(...(partition !== undefined ? [dataset, partition] : [dataset])) as Row[];
    return rows.map(toPublication);
  }

  // ---- segments -----------------------------------------------------------------------------

  addSegment(s: Omit<StoredSegment, 'retiredAt'>): void {
    this.db.prepare('INSERT INTO segments (id, dataset, level, alias, file, row_count, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(s.id, s.dataset, s.level, s.alias, s.file, s.rowCount, s.bytes, s.createdAt);
    const p = this.db.prepare('INSERT INTO segment_partitions (segment_id, partition, version_id, row_count, fingerprint) VALUES (?, ?, ?, ?, ?)');
    for (const x of s.partitions) p.run(s.id, x.partition, x.versionId, x.rowCount, x.fingerprint);
  }

  /** Live (not retired) segments of a dataset (or with one alias), oldest first, with their partitions: two queries. */
  segments(dataset?: string, o: { includeRetired?: boolean; alias?: string } = {}): StoredSegment[] {
    const where = [...(dataset !== undefined ? ['dataset = ?'] : []), ...(o.alias !== undefined ? ['alias = ?'] : []), ...(o.includeRetired ? [] : ['retired_at IS NULL'])];
    const args = [...(dataset !== undefined ? [dataset] : []), ...(o.alias !== undefined ? [o.alias] : [])];
    const cond = where.length ? ` WHERE ${where.join(' AND ')}` : '';
    const rows = this.db.prepare(`SELECT * FROM segments${cond} ORDER BY created_at, id`).all(...args) as Row[];
    const parts = new Map<string, SegmentPartition[]>();
    for (const p of this.db.prepare(`SELECT * FROM segment_partitions WHERE segment_id IN (SELECT id FROM segments${cond}) ORDER BY partition`).all(...args) as Row[]) {
      const id = String(p['segment_id']);
      const list = parts.get(id) ?? [];
      list.push({ partition: String(p['partition']), versionId: String(p['version_id']), rowCount: Number(p['row_count']), fingerprint: String(p['fingerprint']) });
      parts.set(id, list);
    }
    return rows.map((r) => ({
      id: String(r['id']),
      dataset: String(r['dataset']),
      level: Number(r['level']),
      alias: String(r['alias']),
      file: String(r['file']),
      rowCount: Number(r['row_count']),
      bytes: Number(r['bytes']),
      createdAt: String(r['created_at']),
      retiredAt: r['retired_at'] === null ? null : String(r['retired_at']),
      partitions: parts.get(String(r['id'])) ?? [],
    }));
  }

  segmentByAlias(alias: string): StoredSegment | undefined {
    return this.segments(undefined, { includeRetired: true, alias })[0];
  }

  retireSegments(ids: readonly string[], at: string): void {
    const stmt = this.db.prepare('UPDATE segments SET retired_at = ? WHERE id = ? AND retired_at IS NULL');
    for (const id of ids) stmt.run(at, id);
  }

  /**
   * The segment no longer serves this partition (its rows there are damaged). The row stays, under
   * a version id no pointer names, so the segment's branch keeps excluding the partition's rows.
   */
  dropSegmentPartition(segmentId: string, partition: string): void {
    this.db.prepare("UPDATE segment_partitions SET version_id = 'unserved:' || version_id WHERE segment_id = ? AND partition = ? AND version_id NOT LIKE 'unserved:%'").run(segmentId, partition);
  }

  forgetSegment(id: string): void {
    this.db.prepare('DELETE FROM segment_partitions WHERE segment_id = ?').run(id);
    this.db.prepare('DELETE FROM segments WHERE id = ?').run(id);
  }

  // ---- consumer catalogs --------------------------------------------------------------------

  nextGeneration(files: readonly string[], at: string): number {
    const r = this.db.prepare('INSERT INTO consumer_catalogs (written_at, files) VALUES (?, ?)').run(at, JSON.stringify(files));
    return Number(r.lastInsertRowid);
  }

  /**
   * Files named by consumer catalogs that were current at or after `since` (a reader may still
   * attach them): the last one, and every one replaced (its successor written) at or after `since`
   * — a catalog written long ago but replaced a moment ago was read until that moment.
   */
  filesNamedSince(since: string): Set<string> {
    const rows = this.db.prepare(`SELECT files FROM consumer_catalogs c WHERE c.generation = (SELECT max(generation) FROM consumer_catalogs) OR ${REPLACED_AT} >= ?`).all(since) as Row[];
    return new Set(rows.flatMap((r) => JSON.parse(String(r['files'])) as string[]));
  }

  /** Forgets consumer catalogs replaced before `before` (never the last one). */
  pruneGenerations(before: string): void {
    this.db.prepare(`DELETE FROM consumer_catalogs AS c WHERE c.generation < (SELECT max(generation) FROM consumer_catalogs) AND ${REPLACED_AT} < ?`).run(before);
  }
}

/** When consumer catalog `c` was replaced: when the next generation was written. */
const REPLACED_AT = '(SELECT n.written_at FROM consumer_catalogs n WHERE n.generation > c.generation ORDER BY n.generation LIMIT 1)';

function toVersion(r: Row): StoredVersion {
  return {
    id: String(r['id']),
    pipeline: String(r['pipeline']),
    step: String(r['step']),
    stepVersion: String(r['step_version']),
    versionHash: String(r['version_hash']),
    partition: String(r['partition']),
    runId: Number(r['run_id']),
    rowCount: Number(r['row_count']),
    createdAt: String(r['created_at']),
    fingerprint: String(r['fingerprint']),
    alias: String(r['alias']),
    file: String(r['file']),
    bytes: Number(r['bytes']),
    columns: JSON.parse(String(r['columns'])) as ColumnInfo[],
    deletedAt: r['deleted_at'] === null ? null : String(r['deleted_at']),
  };
}

function toPublication(r: Row): Publication {
  return {
    dataset: String(r['dataset']),
    partition: String(r['partition']),
    versionId: String(r['version_id']),
    previousVersionId: r['previous_version_id'] === null ? null : String(r['previous_version_id']),
    publishedAt: String(r['published_at']),
    runId: r['run_id'] === null ? null : Number(r['run_id']),
    actor: String(r['actor']),
    reason: String(r['reason']),
    seq: Number(r['seq']),
    rollout: r['rollout'] === null ? null : String(r['rollout']),
    intent: r['intent'] === null ? null : String(r['intent']),
  };
}

function openExisting(path: string): Database.Database {
  try {
    return new Database(path, { fileMustExist: true });
  } catch (e) {
    if (!/readonly|read-only|permission|EACCES|unable to open/i.test(messageOf(e))) throw e;
    return new Database(path, { readonly: true, fileMustExist: true });
  }
}

/** The data folder of a warehouse file: `x.duckdb` -> `x/` (its version files, segments and catalog). */
export function dataFolderOf(path: string): string {
  return path.endsWith('.duckdb') ? path.slice(0, -'.duckdb'.length) : `${path}.data`;
}

/** A stored version as the engine-neutral OutputVersion: its rows are the `data` table of its attached file. */
export function toOutputVersion(v: StoredVersion): OutputVersion {
  return { id: v.id, pipeline: v.pipeline, step: v.step, stepVersion: v.stepVersion, versionHash: v.versionHash, partition: v.partition, runId: v.runId, rowCount: v.rowCount, createdAt: v.createdAt, table: `${quoteIdent(v.alias)}.data` };
}
