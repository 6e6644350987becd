import type pg from 'pg';
import { checkFence } from '../publish-fence.ts';
import { SluiceError } from '../../util/errors.ts';
import { qualified } from '../sql.ts';
import type { ColumnInfo, OutputVersion, Publication } from '../warehouse.ts';

/**
 * The warehouse's own catalog, in tables of its schema `sluice_warehouse`: output versions (with the
 * table in `sluice_versions` that holds each), datasets with their columns, the pointer per
 * published partition and the publication log. Every function takes the client to run on, so a
 * publish reads and writes them inside its one transaction.
 */
export const CATALOG_SCHEMA = 'sluice_warehouse';
export const VERSIONS_SCHEMA = 'sluice_versions';
export const CATALOG_VERSION = 1;

const c = (table: string): string => qualified(CATALOG_SCHEMA, table);

export const CATALOG_DDL = `
CREATE SCHEMA IF NOT EXISTS ${CATALOG_SCHEMA};
CREATE SCHEMA IF NOT EXISTS ${VERSIONS_SCHEMA};
CREATE TABLE IF NOT EXISTS ${c('meta')} (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ${c('output_versions')} (
  id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, step TEXT NOT NULL, step_version TEXT NOT NULL, version_hash TEXT NOT NULL,
  partition TEXT NOT NULL, run_id BIGINT NOT NULL, row_count BIGINT NOT NULL, created_at TEXT NOT NULL,
  table_name TEXT NOT NULL UNIQUE, columns JSONB NOT NULL, fingerprint TEXT NOT NULL, deleted_at TEXT);
CREATE INDEX IF NOT EXISTS output_versions_step ON ${c('output_versions')} (step, partition);
CREATE TABLE IF NOT EXISTS ${c('datasets')} (name TEXT PRIMARY KEY, partition_column TEXT, columns JSONB NOT NULL);
CREATE TABLE IF NOT EXISTS ${c('publication_log')} (
  seq BIGSERIAL PRIMARY KEY, dataset TEXT NOT NULL, partition TEXT NOT NULL, version_id TEXT NOT NULL REFERENCES ${c('output_versions')} (id),
  previous_version_id TEXT, published_at TEXT NOT NULL, run_id BIGINT, actor TEXT NOT NULL, reason TEXT NOT NULL, rollout TEXT, intent TEXT);
CREATE INDEX IF NOT EXISTS publication_log_partition ON ${c('publication_log')} (dataset, partition, seq);
CREATE TABLE IF NOT EXISTS ${c('pointers')} (
  dataset TEXT NOT NULL REFERENCES ${c('datasets')} (name), partition TEXT NOT NULL, version_id TEXT NOT NULL REFERENCES ${c('output_versions')} (id),
  seq BIGINT NOT NULL REFERENCES ${c('publication_log')} (seq), PRIMARY KEY (dataset, partition));
CREATE TABLE IF NOT EXISTS ${c('fences')} (item TEXT PRIMARY KEY, token BIGINT NOT NULL, published_by BIGINT);
`;

export interface StoredVersion {
  readonly id: string;
  readonly pipeline: string;
  readonly step: string;
  readonly stepVersion: string;
  readonly versionHash: string;
  readonly partition: string;
  readonly runId: number;
  readonly rowCount: number;
  readonly createdAt: string;
  readonly tableName: string;
  readonly columns: readonly ColumnInfo[];
  readonly fingerprint: string;
}

export interface DatasetInfo {
  readonly name: string;
  readonly partitionColumn: string | null;
  readonly columns: readonly ColumnInfo[];
}

type Queryable = Pick<pg.ClientBase, 'query'>;
type Rec = Record<string, unknown>;

const text = (v: unknown): string => String(v);
const orNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function toVersion(r: Rec): StoredVersion {
  return {
    id: text(r['id']),
    pipeline: text(r['pipeline']),
    step: text(r['step']),
    stepVersion: text(r['step_version']),
    versionHash: text(r['version_hash']),
    partition: text(r['partition']),
    runId: Number(r['run_id']),
    rowCount: Number(r['row_count']),
    createdAt: text(r['created_at']),
    tableName: text(r['table_name']),
    columns: r['columns'] as ColumnInfo[],
    fingerprint: text(r['fingerprint']),
  };
}

function toPublication(r: Rec): Publication {
  return {
    dataset: text(r['dataset']),
    partition: text(r['partition']),
    versionId: text(r['version_id']),
    previousVersionId: orNull(r['previous_version_id']),
    publishedAt: text(r['published_at']),
    runId: r['run_id'] === null ? null : Number(r['run_id']),
    actor: text(r['actor']),
    reason: text(r['reason']),
    seq: Number(r['seq']),
    rollout: orNull(r['rollout']),
    intent: orNull(r['intent']),
  };
}

/** The relation of a version's rows, as SQL names it. */
export function versionRelation(tableName: string): string {
  return qualified(VERSIONS_SCHEMA, tableName);
}

export function toOutputVersion(v: StoredVersion): OutputVersion {
  return { id: v.id, pipeline: v.pipeline, step: v.step, stepVersion: v.stepVersion, versionHash: v.versionHash, partition: v.partition, runId: v.runId, rowCount: v.rowCount, createdAt: v.createdAt, table: versionRelation(v.tableName) };
}

export async function addVersion(db: Queryable, v: StoredVersion): Promise<void> {
  await db.query(
    `INSERT INTO ${c('output_versions')} (id, pipeline, step, step_version, version_hash, partition, run_id, row_count, created_at, table_name, columns, fingerprint) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [v.id, v.pipeline, v.step, v.stepVersion, v.versionHash, v.partition, v.runId, v.rowCount, v.createdAt, v.tableName, JSON.stringify(v.columns), v.fingerprint],
  );
}

export async function versionById(db: Queryable, id: string): Promise<StoredVersion | undefined> {
  const r = await db.query(`SELECT * FROM ${c('output_versions')} WHERE id = $1 AND deleted_at IS NULL`, [id]);
  return r.rows[0] ? toVersion(r.rows[0] as Rec) : undefined;
}

export async function versionsByIds(db: Queryable, ids: readonly string[]): Promise<Map<string, StoredVersion>> {
  const r = await db.query(`SELECT * FROM ${c('output_versions')} WHERE deleted_at IS NULL AND id = ANY($1::text[])`, [[...new Set(ids)]]);
  return new Map(r.rows.map((x: Rec) => [text(x['id']), toVersion(x)]));
}

export async function versions(db: Queryable, filter: { step?: string; partition?: string; runId?: number }): Promise<StoredVersion[]> {
  const where = ['deleted_at IS NULL'];
  const args: (string | number)[] = [];
  const add = (col: string, v: string | number): void => {
    args.push(v);
    where.push(`${col} = $${args.length}`);
  };
  if (filter.step !== undefined) add('step', filter.step);
  if (filter.partition !== undefined) add('partition', filter.partition);
  if (filter.runId !== undefined) add('run_id', filter.runId);
  const r = await db.query(`SELECT * FROM ${c('output_versions')} WHERE ${where.join(' AND ')} ORDER BY created_at, id`, args);
  return r.rows.map((x: Rec) => toVersion(x));
}

export async function datasetInfo(db: Queryable, name: string): Promise<DatasetInfo | undefined> {
  const r = await db.query(`SELECT * FROM ${c('datasets')} WHERE name = $1`, [name]);
  const x = r.rows[0] as Rec | undefined;
  return x ? { name: text(x['name']), partitionColumn: orNull(x['partition_column']), columns: x['columns'] as ColumnInfo[] } : undefined;
}

export async function addDataset(db: Queryable, d: DatasetInfo): Promise<void> {
  await db.query(`INSERT INTO ${c('datasets')} (name, partition_column, columns) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`, [d.name, d.partitionColumn, JSON.stringify(d.columns)]);
}

/** partition -> version id of one dataset; `forUpdate` locks the rows until the transaction ends. */
export async function pointersOf(db: Queryable, dataset: string): Promise<Map<string, string>> {
  const r = await db.query(`SELECT partition, version_id FROM ${c('pointers')} WHERE dataset = $1`, [dataset]);
  return new Map(r.rows.map((x: Rec) => [text(x['partition']), text(x['version_id'])]));
}

/** The table of every version a dataset shows, by partition (ordered), for its view. */
export async function pointedTables(db: Queryable, dataset: string): Promise<{ partition: string; tableName: string }[]> {
  const r = await db.query(`SELECT p.partition, v.table_name FROM ${c('pointers')} p JOIN ${c('output_versions')} v ON v.id = p.version_id WHERE p.dataset = $1 ORDER BY p.partition`, [dataset]);
  return r.rows.map((x: Rec) => ({ partition: text(x['partition']), tableName: text(x['table_name']) }));
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
}

/** Appends to the log and moves the pointer; inside the publish transaction. */
export async function recordPublication(db: Queryable, i: NewPublication, previousVersionId: string | null): Promise<Publication> {
  const r = await db.query(
    `INSERT INTO ${c('publication_log')} (dataset, partition, version_id, previous_version_id, published_at, run_id, actor, reason, rollout, intent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING seq`,
    [i.dataset, i.partition, i.versionId, previousVersionId, i.at, i.runId, i.actor, i.reason, i.rollout, i.intent],
  );
  const seq = Number((r.rows[0] as Rec | undefined)?.['seq']);
  if (!Number.isSafeInteger(seq)) throw new SluiceError('INTERNAL', 'the publication log gave no sequence number');
  await db.query(
    `INSERT INTO ${c('pointers')} (dataset, partition, version_id, seq) VALUES ($1, $2, $3, $4) ON CONFLICT (dataset, partition) DO UPDATE SET version_id = excluded.version_id, seq = excluded.seq`,
    [i.dataset, i.partition, i.versionId, seq],
  );
  return { dataset: i.dataset, partition: i.partition, versionId: i.versionId, previousVersionId, publishedAt: i.at, runId: i.runId, actor: i.actor, reason: i.reason, seq, rollout: i.rollout, intent: i.intent };
}

export async function currentPublications(db: Queryable, dataset?: string): Promise<Publication[]> {
  const r = await db.query(
    `SELECT l.* FROM ${c('pointers')} p JOIN ${c('publication_log')} l ON l.seq = p.seq${dataset !== undefined ? ' WHERE p.dataset = $1' : ''} ORDER BY l.dataset, l.partition`,
    dataset !== undefined ? [dataset] : [],
  );
  return r.rows.map((x: Rec) => toPublication(x));
}

export async function publicationHistory(db: Queryable, dataset: string, partition?: string): Promise<Publication[]> {
  const r = await db.query(`SELECT * FROM ${c('publication_log')} WHERE dataset = $1${partition !== undefined ? ' AND partition = $2' : ''} ORDER BY seq`, partition !== undefined ? [dataset, partition] : [dataset]);
  return r.rows.map((x: Rec) => toPublication(x));
}

/**
 * A queued run's fencing token, checked and recorded in the publish transaction: a token older than
 * one seen for the item is refused (a worker that lost its lease), and an item publishes once.
 * The item's advisory lock makes two claims of one item take turns, also before its row exists.
 */
export async function applyFence(db: Queryable, item: string, token: number): Promise<void> {
  await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sluice fence ${item}`]);
  const r = (await db.query(`SELECT token, published_by FROM ${c('fences')} WHERE item = $1`, [item])).rows[0] as Rec | undefined;
  checkFence(item, token, r ? { token: Number(r['token']), publishedBy: r['published_by'] === null || r['published_by'] === undefined ? null : Number(r['published_by']) } : undefined);
  await db.query(`INSERT INTO ${c('fences')} (item, token, published_by) VALUES ($1, $2, $2) ON CONFLICT (item) DO UPDATE SET token = excluded.token, published_by = excluded.published_by`, [item, token]);
}
