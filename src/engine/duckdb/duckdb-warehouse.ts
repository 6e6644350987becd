import { isAbsolute, join } from 'node:path';
import type { FileSource, Source } from '../source.ts';
import { SluiceError, messageOf } from '../../util/errors.ts';
import type { Row } from '../sql-engine.ts';
import { qualified, quoteIdent, quoteLiteral } from '../sql.ts';
import type { ColumnInfo, EngineInfo, NewOutputVersion, OutputVersion, Publication, PublishItem, PublishMeta, Warehouse, WarehouseSession } from '../warehouse.ts';
import { DuckDBEngine, type DuckDBOptions, type DuckDBSession } from './duckdb-engine.ts';
import { checkCsvHeaders, fileReader } from './duckdb-file-reader.ts';
import { duckdbDialect } from './duckdb-dialect.ts';

const META = 'sluice';
const VERSIONS = 'sluice_versions';

/**
 * The embedded warehouse. Layout (chosen from the measurements in DESIGN.md):
 * - every output version is its own immutable table in schema `sluice_versions`;
 * - a dataset is a plain table in `main`; publishing swaps a partition's rows (DELETE + INSERT)
 *   and moves the publication pointer in the same transaction, so reads run at plain-table speed
 *   and publish cost grows with the partition's own rows;
 * - the publication pointer and its history live in schema `sluice`, next to the data, so a crash
 *   can never leave data and pointer disagreeing.
 */
export class DuckDBWarehouse implements Warehouse {
  readonly dialect = duckdbDialect;
  private catalog: string | undefined;
  /** Settles when this process's publish in progress ends. */
  private publishing: Promise<void> = Promise.resolve();
  private constructor(
    private readonly db: DuckDBEngine,
    readonly engine: EngineInfo,
  ) {}

  static async open(path: string, options: DuckDBOptions = {}): Promise<DuckDBWarehouse> {
    const db = await DuckDBEngine.open(path, options);
    const w = new DuckDBWarehouse(db, { kind: 'duckdb', version: (await db.version()).replace(/^v/, '') });
    await w.init();
    return w;
  }

  async openSession(): Promise<WarehouseSession> {
    return new DuckDBWarehouseSession(await this.db.connect(), this);
  }

  get path(): string {
    return this.db.path;
  }

  get location(): string {
    return this.db.path;
  }

  async init(): Promise<void> {
    await this.db.exec(`
      CREATE SCHEMA IF NOT EXISTS ${META};
      CREATE SCHEMA IF NOT EXISTS ${VERSIONS};
      CREATE TABLE IF NOT EXISTS ${META}.output_versions (
        id VARCHAR PRIMARY KEY, pipeline VARCHAR NOT NULL, step VARCHAR NOT NULL, step_version VARCHAR NOT NULL,
        version_hash VARCHAR NOT NULL, partition VARCHAR NOT NULL, run_id BIGINT NOT NULL,
        row_count BIGINT NOT NULL, created_at TIMESTAMPTZ NOT NULL, table_name VARCHAR NOT NULL);
      CREATE TABLE IF NOT EXISTS ${META}.publications (
        dataset VARCHAR NOT NULL, partition VARCHAR NOT NULL, version_id VARCHAR NOT NULL, seq BIGINT NOT NULL,
        PRIMARY KEY (dataset, partition));
      CREATE SEQUENCE IF NOT EXISTS ${META}.publication_seq;
      CREATE TABLE IF NOT EXISTS ${META}.publication_log (
        seq BIGINT PRIMARY KEY, dataset VARCHAR NOT NULL, partition VARCHAR NOT NULL, version_id VARCHAR NOT NULL,
        previous_version_id VARCHAR, published_at TIMESTAMPTZ NOT NULL, run_id BIGINT, actor VARCHAR NOT NULL, reason VARCHAR NOT NULL);
      ALTER TABLE ${META}.publication_log ADD COLUMN IF NOT EXISTS rollout VARCHAR;
      ALTER TABLE ${META}.publication_log ADD COLUMN IF NOT EXISTS intent VARCHAR;
    `);
  }

  query(sql: string): Promise<Row[]> {
    return this.db.query(sql);
  }

  exec(sql: string): Promise<void> {
    return this.db.exec(sql);
  }

  async outputVersion(id: string): Promise<OutputVersion | undefined> {
    const rows = await this.db.query(`SELECT * FROM ${META}.output_versions WHERE id = ${quoteLiteral(id)}`);
    return rows[0] ? toOutputVersion(rows[0]) : undefined;
  }

  async outputVersions(filter: { step?: string; partition?: string; runId?: number }): Promise<OutputVersion[]> {
    const where: string[] = [];
    if (filter.step) where.push(`step = ${quoteLiteral(filter.step)}`);
    if (filter.partition) where.push(`partition = ${quoteLiteral(filter.partition)}`);
    if (filter.runId !== undefined) where.push(`run_id = ${filter.runId}`);
    const rows = await this.db.query(`SELECT * FROM ${META}.output_versions${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`);
    return rows.map(toOutputVersion);
  }

  async columns(table: string): Promise<ColumnInfo[]> {
    const rows = await this.db.query(`DESCRIBE SELECT * FROM ${table}`);
    return rows.map((r) => ({ name: String(r['column_name']), type: String(r['column_type']) }));
  }

  /**
   * Publishes on a connection of its own, so the warehouse's reads (other runs' checks) never land
   * inside a publish transaction; publishes of this process take turns.
   */
  async publish(items: readonly PublishItem[], meta: PublishMeta): Promise<Publication[]> {
    if (items.length === 0) return [];
    const previous = this.publishing;
    let release: () => void = () => undefined;
    this.publishing = new Promise<void>((r) => (release = r));
    await previous;
    const conn = await this.db.connect();
    try {
      return await this.publishOn(conn, items, meta);
    } finally {
      await conn.close();
      release();
    }
  }

  private async publishOn(conn: DuckDBSession, items: readonly PublishItem[], meta: PublishMeta): Promise<Publication[]> {
    // Resolve and check everything before the transaction, so a bad item changes nothing. Metadata
    // is read in a few set-wise queries: per-partition round trips dominated small publishes.
    const ids = [...new Set(items.map((i) => i.versionId))];
    const versions = new Map((await conn.query(`SELECT * FROM ${META}.output_versions WHERE id IN (${ids.map(quoteLiteral).join(', ')})`)).map(toOutputVersion).map((v) => [v.id, v]));
    const resolved = items.map((item) => {
      const version = versions.get(item.versionId);
      if (!version) throw new SluiceError('NOT_FOUND', `no output version ${item.versionId}`, { field: 'version' });
      if (version.partition !== item.partition) {
        throw new SluiceError('USAGE', `output version ${item.versionId} holds partition ${version.partition}, not ${item.partition}`);
      }
      return { item, version };
    });
    const datasets = [...new Set(items.map((i) => i.dataset))];
    return conn.transaction(async () => {
      const targets = new Map<string, string>();
      for (const ds of datasets) {
        const first = resolved.find((r) => r.item.dataset === ds);
        const target = await this.datasetTable(ds);
        targets.set(ds, target);
        if (first) await conn.exec(`CREATE TABLE IF NOT EXISTS ${target} AS SELECT * FROM ${first.version.table} LIMIT 0`);
      }
      const columns = await this.columnSignatures(conn, datasets, ids);
      for (const { item, version } of resolved) {
        const have = columns.get(`main.${item.dataset}`) ?? '';
        const got = columns.get(`${VERSIONS}.${version.id}`) ?? '';
        if (have !== got) {
          throw new SluiceError('DATA_INVALID', `output ${version.id} of step ${version.step} (${version.stepVersion}) has columns (${got}) but dataset ${item.dataset} has (${have})`, { step: version.step, version: version.stepVersion });
        }
      }
      const previous = new Map((await conn.query(`SELECT dataset, partition, version_id FROM ${META}.publications WHERE dataset IN (${datasets.map(quoteLiteral).join(', ')})`)).map((r) => [`${String(r['dataset'])}\0${String(r['partition'])}`, String(r['version_id'])]));
      // Compare-and-set, read inside the transaction that writes: a publication made after the
      // caller decided is never overwritten.
      const stale = items.filter((i) => i.expected !== undefined && (previous.get(`${i.dataset}\0${i.partition}`) ?? null) !== i.expected);
      if (stale.length > 0) {
        throw new SluiceError('CONFLICT', `publish refused: ${stale.map((i) => `${i.dataset} ${i.partition} shows ${previous.get(`${i.dataset}\0${i.partition}`) ?? 'nothing'}, not ${i.expected ?? 'nothing'}`).join('; ')}`, { field: 'expected' });
      }
      const seqs = (await conn.query(`SELECT nextval('${META}.publication_seq')::BIGINT AS seq FROM range(${resolved.length})`)).map((r) => Number(r['seq'])).sort((a, b) => a - b);
      const at = meta.at.toISOString();
      const out: Publication[] = [];
      for (const [k, { item }] of resolved.entries()) {
        const target = targets.get(item.dataset) ?? '';
        const key = `${item.dataset}\0${item.partition}`;
        const previousVersionId = previous.get(key) ?? null;
        await conn.exec(`DELETE FROM ${target} WHERE ${quoteIdent(item.partitionColumn)} = ${quoteLiteral(item.partition)}`);
        await conn.exec(`INSERT INTO ${target} BY NAME SELECT * FROM ${versionTable(item.versionId)}`);
        previous.set(key, item.versionId);
        out.push({ dataset: item.dataset, partition: item.partition, versionId: item.versionId, previousVersionId, publishedAt: at, runId: meta.runId, actor: meta.actor, reason: meta.reason, seq: seqs[k] ?? 0, rollout: item.rollout ?? null, intent: meta.intent ?? null });
      }
      // The pointer of each partition is its last publication in this call; the log keeps all of them.
      const latest = new Map(out.map((p) => [`${p.dataset}\0${p.partition}`, p]));
      await conn.exec(`INSERT OR REPLACE INTO ${META}.publications VALUES ${[...latest.values()].map((p) => `(${quoteLiteral(p.dataset)}, ${quoteLiteral(p.partition)}, ${quoteLiteral(p.versionId)}, ${p.seq})`).join(', ')}`);
      await conn.exec(`INSERT INTO ${META}.publication_log (seq, dataset, partition, version_id, previous_version_id, published_at, run_id, actor, reason, rollout, intent) VALUES ${out.map((p) => `(${p.seq}, ${quoteLiteral(p.dataset)}, ${quoteLiteral(p.partition)}, ${quoteLiteral(p.versionId)}, ${p.previousVersionId === null ? 'NULL' : quoteLiteral(p.previousVersionId)}, ${quoteLiteral(at)}, ${meta.runId ?? 'NULL'}, ${quoteLiteral(meta.actor)}, ${quoteLiteral(meta.reason)}, ${p.rollout === null ? 'NULL' : quoteLiteral(p.rollout)}, ${p.intent === null ? 'NULL' : quoteLiteral(p.intent)})`).join(', ')}`);
      return out;
    });
  }

  /** "schema.table" -> its columns as a comparable signature, for dataset tables and version tables at once. */
  private async columnSignatures(conn: DuckDBSession, datasets: readonly string[], versionIds: readonly string[]): Promise<Map<string, string>> {
    const rows = await conn.query(`SELECT schema_name, table_name, lower(column_name) || ' ' || data_type AS col FROM duckdb_columns()
      WHERE database_name = current_database()
        AND ((schema_name = 'main' AND table_name IN (${datasets.map(quoteLiteral).join(', ')})) OR (schema_name = '${VERSIONS}' AND table_name IN (${versionIds.map(quoteLiteral).join(', ')})))`);
    const byTable = new Map<string, string[]>();
    for (const r of rows) {
      const k = `${String(r['schema_name'])}.${String(r['table_name'])}`;
      byTable.set(k, [...(byTable.get(k) ?? []), String(r['col'])]);
    }
    return new Map([...byTable].map(([k, cols]) => [k, cols.sort().join(', ')]));
  }

  /** `"<database>".main."<dataset>"`: fully qualified, because a run's temp views may share a dataset's name. */
  async datasetTable(dataset: string): Promise<string> {
    if (!this.catalog) {
      const [r] = await this.db.query('SELECT current_database() AS d');
      this.catalog = String(r?.['d']);
    }
    return qualified(this.catalog, 'main', dataset);
  }

  async currentPublications(dataset?: string): Promise<Publication[]> {
    const where = dataset ? `WHERE p.dataset = ${quoteLiteral(dataset)}` : '';
    const rows = await this.db.query(`SELECT l.* FROM ${META}.publications p JOIN ${META}.publication_log l USING (seq) ${where} ORDER BY l.dataset, l.partition`);
    return rows.map(toPublication);
  }

  async publicationHistory(dataset: string, partition?: string): Promise<Publication[]> {
    const where = [`dataset = ${quoteLiteral(dataset)}`, ...(partition ? [`partition = ${quoteLiteral(partition)}`] : [])];
    const rows = await this.db.query(`SELECT * FROM ${META}.publication_log WHERE ${where.join(' AND ')} ORDER BY seq`);
    return rows.map(toPublication);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** One run's session: a DuckDB connection of its own, so temp bindings and transactions stay apart. */
class DuckDBWarehouseSession implements WarehouseSession {
  readonly dialect = duckdbDialect;
  constructor(
    private readonly conn: DuckDBSession,
    private readonly warehouse: DuckDBWarehouse,
  ) {}

  query(sql: string): Promise<Row[]> {
    return this.conn.query(sql);
  }

  exec(sql: string): Promise<void> {
    return this.conn.exec(sql);
  }

  async bindSource(source: Source, partition: string, projectRoot: string): Promise<{ rows: number }> {
    const where = source.kind === 'files' ? source.path : `table ${source.table}`;
    const field = `sources.${source.name}`;
    try {
      let reader: string;
      let filter = source.partitionColumn ? ` WHERE ${quoteIdent(source.partitionColumn)} = ${quoteLiteral(partition)}` : '';
      if (source.kind === 'files') {
        const files = await this.sourceFiles(source, projectRoot, partition);
        if (files.length === 0) {
          const what = source.hive && source.partitionColumn ? `no folder ${source.partitionColumn}=${partition}` : 'no files';
          throw new SluiceError('NOT_FOUND', `source ${source.name} (${where}): ${what} for partition ${partition}`, { field });
        }
        reader = fileReader(source, files);
        // A hive folder holds exactly one partition; the filter is then implied by the file list.
        if (source.hive) filter = '';
      } else {
        reader = source.table;
      }
      await this.conn.exec(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(source.name)} AS SELECT * FROM ${reader}${filter}`);
      if (source.columns && !(source.kind === 'files' && source.format === 'csv')) await this.checkDeclaredColumns(source, where);
      const [r] = await this.conn.query(`SELECT count(*)::BIGINT AS n FROM ${quoteIdent(source.name)}`);
      const rows = Number(r?.['n'] ?? 0);
      if (source.partitionColumn && rows === 0) {
        throw new SluiceError('NOT_FOUND', `source ${source.name} (${where}) has no rows for partition ${partition}`, { field });
      }
      return { rows };
    } catch (e) {
      if (e instanceof SluiceError && e.code !== 'SQL_FAILED') throw e;
      throw new SluiceError('DATA_INVALID', `source ${source.name} (${where}): ${messageOf(e)}`, { field }, [], { cause: e });
    }
  }

  /** The files of a source for one partition: for hive layouts only that partition's folder. */
  private async sourceFiles(source: FileSource, root: string, partition: string): Promise<string[]> {
    const pattern = isAbsolute(source.path) ? source.path : join(root, source.path);
    const rows = await this.conn.query(`SELECT file FROM glob(${quoteLiteral(pattern)}) ORDER BY file`);
    let files = rows.map((r) => String(r['file']));
    if (source.hive && source.partitionColumn) {
      const segment = `/${source.partitionColumn}=${partition}/`;
      files = files.filter((f) => f.includes(segment));
    }
    if (source.format === 'csv' && source.columns) checkCsvHeaders(source, files);
    return files;
  }

  private async checkDeclaredColumns(source: Source, where: string): Promise<void> {
    const actual = await this.warehouse.columns(quoteIdent(source.name));
    const declared = Object.entries(source.columns ?? {});
    const byName = new Map(actual.map((c) => [c.name.toLowerCase(), c]));
    const problems: string[] = [];
    for (const [name, type] of declared) {
      const col = byName.get(name.toLowerCase());
      if (!col) problems.push(`missing column ${name}`);
      else if (!sameType(col.type, type)) problems.push(`column ${name} is ${col.type}, declared ${type.toUpperCase()}`);
    }
    const declaredNames = new Set(declared.map(([n]) => n.toLowerCase()));
    for (const c of actual) if (!declaredNames.has(c.name.toLowerCase()) && c.name !== source.partitionColumn) problems.push(`unexpected column ${c.name}`);
    if (problems.length > 0) {
      throw new SluiceError('DATA_INVALID', `source ${source.name} (${where}): columns do not match the declared ones: ${problems.join('; ')}`, { field: `sources.${source.name}.columns` });
    }
  }

  async bindOutput(name: string, versionId: string): Promise<void> {
    await this.conn.exec(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS SELECT * FROM ${versionTable(versionId)}`);
  }

  async createOutputVersion(v: NewOutputVersion, sql: string, createdAt: Date): Promise<OutputVersion> {
    const table = versionTable(v.id);
    return this.conn.transaction(async () => {
      try {
        await this.conn.exec(`CREATE TABLE ${table} AS ${stripTrailingSemicolon(sql)}`);
      } catch (e) {
        throw new SluiceError('SQL_FAILED', `step ${v.step} version ${v.stepVersion} failed: ${messageOf(e)}`, { step: v.step, version: v.stepVersion }, [], { cause: e });
      }
      const [c] = await this.conn.query(`SELECT count(*)::BIGINT AS n FROM ${table}`);
      const rowCount = Number(c?.['n'] ?? 0);
      await this.conn.exec(`INSERT INTO ${META}.output_versions VALUES (${[v.id, v.pipeline, v.step, v.stepVersion, v.versionHash, v.partition].map(quoteLiteral).join(', ')}, ${v.runId}, ${rowCount}, ${quoteLiteral(createdAt.toISOString())}, ${quoteLiteral(table)})`);
      return { ...v, table, rowCount, createdAt: createdAt.toISOString() };
    });
  }

  close(): Promise<void> {
    return this.conn.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export function versionTable(versionId: string): string {
  return qualified(VERSIONS, versionId);
}

function stripTrailingSemicolon(sql: string): string {
  return sql.trim().replace(/;\s*$/, '');
}

const TYPE_ALIASES: Record<string, string> = {
  INT: 'INTEGER', INT4: 'INTEGER', INT8: 'BIGINT', LONG: 'BIGINT', STRING: 'VARCHAR', TEXT: 'VARCHAR',
  FLOAT8: 'DOUBLE', FLOAT: 'FLOAT', REAL: 'FLOAT', BOOL: 'BOOLEAN', NUMERIC: 'DECIMAL', TIMESTAMPTZ: 'TIMESTAMP WITH TIME ZONE',
};

function sameType(actual: string, declared: string): boolean {
  const norm = (t: string): string => {
    const u = t.trim().toUpperCase();
    return TYPE_ALIASES[u] ?? u;
  };
  const a = norm(actual);
  const d = norm(declared);
  return a === d || (d === 'DECIMAL' && a.startsWith('DECIMAL'));
}

function toOutputVersion(r: Row): OutputVersion {
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
    table: String(r['table_name']),
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
    rollout: r['rollout'] === null || r['rollout'] === undefined ? null : String(r['rollout']),
    intent: r['intent'] === null || r['intent'] === undefined ? null : String(r['intent']),
  };
}
