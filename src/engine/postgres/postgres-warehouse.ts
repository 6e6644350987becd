import pg from 'pg';
import { SluiceError } from '../../util/errors.ts';
import { postgresConnectionError, scrubSecret } from '../../util/postgres-url.ts';
import type { Row } from '../sql-engine.ts';
import { quoteIdent } from '../sql.ts';
import type { ColumnInfo, CompactionReport, DataVerdict, EngineInfo, ExportReport, GcPlan, GcReport, OutputVersion, Publication, PublishItem, PublishMeta, Warehouse, WarehouseSession } from '../warehouse.ts';
import { postgresDialect } from './postgres-dialect.ts';
import { publishInTransaction, type PublishSettings } from './postgres-publish.ts';
import { sqlFailed, toRows, valueTypes } from './postgres-values.ts';
import { verifyPublishedData } from './postgres-verify-data.ts';
import * as catalog from './postgres-warehouse-catalog.ts';
import { parseWarehouseLocation, type PostgresWarehouseLocation } from './postgres-warehouse-location.ts';
import { PostgresWarehouseSession } from './postgres-warehouse-session.ts';

export interface PostgresWarehouseOptions {
  /** The setting the URL came from (`warehouse.url`, `SLUICE_WAREHOUSE_URL`), named in errors. */
  readonly setting?: string;
  /** Replaces `{env}` in the URL. */
  readonly environment?: string;
  /** See PublishSettings: the longest a publish holds up a new reader (default 10 ms). */
  readonly publishLockTimeoutMs?: number;
  /** How long a publish keeps trying while long readers hold a dataset (default 60 s). */
  readonly publishWaitMs?: number;
  /** Connections of the pool: every open session holds one (default 10). */
  readonly maxConnections?: number;
}

/**
 * The server-grade warehouse on PostgreSQL (decided in docs/decisions/0009):
 * - an output version is an immutable table of schema `sluice_versions`, created by a session
 *   from the step's SQL;
 * - the catalog (`sluice_warehouse`: versions, datasets, pointers, publication log) lives in the
 *   same database, so a publish is one transaction of the server;
 * - each dataset is a view in the datasets schema (`public` unless the URL names another) over
 *   the version tables its partitions point to, replaced inside that transaction: publishing and
 *   rollback move pointers and never copy a row; readers in other connections query the view.
 */
export class PostgresWarehouse implements Warehouse {
  readonly dialect = postgresDialect;
  private closed = false;
  /** Open sessions: close() ends them first, as the pool waits for every connection given out. */
  private readonly sessions = new Set<PostgresWarehouseSession>();

  private constructor(
    private readonly pool: pg.Pool,
    private readonly where: PostgresWarehouseLocation,
    readonly engine: EngineInfo,
    private readonly publishSettings: PublishSettings,
  ) {}

  static async open(url: string, options: PostgresWarehouseOptions = {}): Promise<PostgresWarehouse> {
    const where = parseWarehouseLocation(url, options.setting ?? 'warehouse.url', options.environment);
    const pool = new pg.Pool({
      connectionString: where.connectionString,
      connectionTimeoutMillis: where.connectTimeoutMs,
      application_name: 'sluice-warehouse',
      keepAlive: true,
      max: options.maxConnections ?? 10,
      idleTimeoutMillis: 10_000,
      allowExitOnIdle: true,
      types: valueTypes,
    });
    // An idle connection the server closes (a restart) must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    let version: string;
    try {
      const client = await pool.connect();
      try {
        version = String((await client.query('SHOW server_version')).rows[0]?.['server_version'] ?? 'unknown');
        await ensureCatalog(client, where, options.environment);
      } finally {
        client.release();
      }
    } catch (e) {
      await pool.end().catch(() => undefined);
      if (e instanceof SluiceError) throw e;
      throw postgresConnectionError(e, where, 'warehouse');
    }
    return new PostgresWarehouse(pool, where, { kind: 'postgres', version: version.split(' ')[0] ?? version }, {
      datasetsSchema: where.datasetsSchema,
      lockTimeoutMs: options.publishLockTimeoutMs ?? 10,
      waitMs: options.publishWaitMs ?? 60_000,
    });
  }

  get location(): string {
    return where(this.where);
  }

  /** Other processes connect to the same database and query `<datasets schema>.<dataset>`. */
  get readerCatalog(): string {
    return `${where(this.where)}, datasets as views in schema ${this.where.datasetsSchema}`;
  }

  async openSession(): Promise<WarehouseSession> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw postgresConnectionError(e, this.where, 'warehouse');
    }
    const session: PostgresWarehouseSession = new PostgresWarehouseSession(client, { datasetRelation: (name) => this.publishedRelation(name), scrub: (t) => this.scrub(t), closed: () => this.sessions.delete(session) });
    this.sessions.add(session);
    return session;
  }

  async query(sql: string): Promise<Row[]> {
    try {
      return toRows(await this.pool.query(sql));
    } catch (e) {
      throw sqlFailed(e, (t) => this.scrub(t));
    }
  }

  async exec(sql: string): Promise<void> {
    await this.query(sql);
  }

  async outputVersion(id: string): Promise<OutputVersion | undefined> {
    const v = await catalog.versionById(this.pool, id);
    return v ? catalog.toOutputVersion(v) : undefined;
  }

  async outputVersions(filter: { step?: string; partition?: string; runId?: number }): Promise<OutputVersion[]> {
    return (await catalog.versions(this.pool, filter)).map(catalog.toOutputVersion);
  }

  async columns(table: string): Promise<ColumnInfo[]> {
    return (await this.query(this.dialect.describeSql(table))).map((r) => ({ name: String(r['column_name']), type: String(r['column_type']) }));
  }

  async datasetTable(dataset: string): Promise<string> {
    return `${quoteIdent(this.where.datasetsSchema)}.${quoteIdent(dataset)}`;
  }

  /** The relation of a dataset published here, or undefined when no dataset has that name. */
  private async publishedRelation(name: string): Promise<string | undefined> {
    return (await catalog.datasetInfo(this.pool, name)) ? this.datasetTable(name) : undefined;
  }

  async publish(items: readonly PublishItem[], meta: PublishMeta): Promise<Publication[]> {
    if (items.length === 0) return [];
    const client = await this.pool.connect().catch((e: unknown) => {
      throw postgresConnectionError(e, this.where, 'warehouse');
    });
    try {
      return await publishInTransaction(client, items, meta, this.publishSettings);
    } catch (e) {
      throw sqlFailed(e, (t) => this.scrub(t));
    } finally {
      client.release();
    }
  }

  async currentPublications(dataset?: string): Promise<Publication[]> {
    return catalog.currentPublications(this.pool, dataset);
  }

  async publicationHistory(dataset: string, partition?: string): Promise<Publication[]> {
    return catalog.publicationHistory(this.pool, dataset, partition);
  }

  async verifyData(o: { datasets?: readonly string[]; partitions?: ReadonlyMap<string, readonly string[]>; repair?: boolean } = {}): Promise<DataVerdict[]> {
    return verifyPublishedData(this.pool, o);
  }

  /** Nothing to do in the background: a dataset is a view over version tables, with no segments to merge. */
  async maintain(): Promise<CompactionReport[]> {
    return [];
  }

  async compact(): Promise<CompactionReport[]> {
    throw notYet('compaction (sluice storage compact)');
  }

  async collectGarbage(_plan: GcPlan): Promise<GcReport> {
    throw notYet('retention (sluice storage gc)');
  }

  async exportDataset(_dataset: string, _dir: string): Promise<ExportReport> {
    throw notYet('export to Parquet (sluice storage export)');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.sessions]) await s.close();
    await this.pool.end();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private scrub(text: string): string {
    return scrubSecret(text, this.where);
  }
}

function where(l: PostgresWarehouseLocation): string {
  return l.description;
}

function notYet(what: string): SluiceError {
  return new SluiceError('CONFIG_INVALID', `the PostgreSQL warehouse does not do ${what} yet: run it on the embedded DuckDB warehouse`, { field: 'warehouse' });
}

/**
 * Creates the catalog schema on first use, under an advisory lock (two processes opening a new
 * database at once would otherwise race on CREATE SCHEMA), and refuses a catalog newer than this code.
 */
async function ensureCatalog(client: pg.PoolClient, l: PostgresWarehouseLocation, environment: string | undefined): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['sluice warehouse catalog']);
    await client.query(catalog.CATALOG_DDL);
    if (l.datasetsSchema !== 'public') await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(l.datasetsSchema)}`);
    const r = await client.query(`SELECT value FROM ${catalog.CATALOG_SCHEMA}.meta WHERE key = 'catalog_version'`);
    const found = r.rows[0] ? Number(r.rows[0]['value']) : undefined;
    if (found === undefined) await client.query(`INSERT INTO ${catalog.CATALOG_SCHEMA}.meta (key, value) VALUES ('catalog_version', $1)`, [String(catalog.CATALOG_VERSION)]);
    else if (found > catalog.CATALOG_VERSION) {
      throw new SluiceError('CONFIG_INVALID', `the PostgreSQL warehouse ${l.description} (${l.setting}) has catalog version ${found}, newer than this Sluice understands (${catalog.CATALOG_VERSION}): upgrade Sluice`, { field: l.setting });
    }
    // One database holds one environment's data: two environments on one URL would read each other's publications.
    if (environment !== undefined) {
      const e = await client.query(`SELECT value FROM ${catalog.CATALOG_SCHEMA}.meta WHERE key = 'environment'`);
      const owner = e.rows[0] ? String(e.rows[0]['value']) : undefined;
      if (owner === undefined) await client.query(`INSERT INTO ${catalog.CATALOG_SCHEMA}.meta (key, value) VALUES ('environment', $1)`, [environment]);
      else if (owner !== environment) {
        throw new SluiceError('CONFLICT', `the PostgreSQL warehouse ${l.description} (${l.setting}) holds environment ${owner}, not ${environment}: give each environment a database of its own with {env} in the URL (postgres://…/shop_{env})`, { field: l.setting });
      }
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (e instanceof SluiceError) throw e;
    throw new SluiceError('CONFIG_INVALID', `cannot prepare the PostgreSQL warehouse ${l.description} (${l.setting}): ${scrubSecret(e instanceof Error ? e.message : String(e), l)}`, { field: l.setting }, [], { cause: e });
  }
}
