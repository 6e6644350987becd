import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { SluiceError, messageOf } from '../../util/errors.ts';
import { sqlStateOf } from '../../util/postgres-url.ts';
import { hiveEscape } from '../hive-path.ts';
import { PARTITION_RELATION, WHOLE, type PartitionBinding } from '../partition-binding.ts';
import { naiveBounds, partitionPredicate } from '../partition-predicate.ts';
import type { FileSource, Source } from '../source.ts';
import type { Row } from '../sql-engine.ts';
import { quoteIdent, quoteLiteral, sqlLiteral } from '../sql.ts';
import type { ColumnInfo, NewOutputVersion, OutputVersion, WarehouseSession } from '../warehouse.ts';
import { checkHeaders, csvHeader, globFiles, hiveKeys } from './csv-files.ts';
import { postgresDialect } from './postgres-dialect.ts';
import { postgresType } from './postgres-types.ts';
import { sqlFailed, toRows } from './postgres-values.ts';
import { addVersion, toOutputVersion, versionById, versionRelation, type StoredVersion } from './postgres-warehouse-catalog.ts';

/** What a session needs of its warehouse. */
export interface SessionHost {
  /** The dataset's published relation when `name` is a dataset of this warehouse. */
  datasetRelation(name: string): Promise<string | undefined>;
  scrub(text: string): string;
  /** Called once the session has given its connection back. */
  closed(): void;
}

/**
 * One run's session: one pooled connection held until close. Its bindings are TEMP views (and the
 * TEMP tables COPY loads files into), which PostgreSQL keeps per connection, so two sessions never
 * see each other's; close() discards them before the connection goes back to the pool. An output
 * version is a table of `sluice_versions` created from the step's SQL and named in the catalog in
 * the same transaction: a failed step leaves neither.
 */
export class PostgresWarehouseSession implements WarehouseSession {
  readonly dialect = postgresDialect;
  private closed = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly host: SessionHost,
  ) {}

  async query(sql: string): Promise<Row[]> {
    try {
      return toRows(await this.client.query(sql));
    } catch (e) {
      throw sqlFailed(e, (t) => this.host.scrub(t));
    }
  }

  async exec(sql: string): Promise<void> {
    await this.query(sql);
  }

  async bindSource(source: Source, partition: PartitionBinding, projectRoot: string, options: { readonly allowEmpty?: boolean } = {}): Promise<{ rows: number }> {
    const where = source.kind === 'files' ? source.path : `table ${source.table}`;
    const field = `sources.${source.name}`;
    const column = partition.value === WHOLE ? undefined : source.partitionColumn;
    try {
      await this.dropBinding(source.name);
      if (source.kind === 'files') await this.loadFiles(source, projectRoot, column, partition.value, options.allowEmpty === true, where);
      else {
        const reader = await this.tableReader(source.table);
        let filter = '';
        if (column) {
          const cols = await this.describe(reader);
          filter = ` WHERE ${partitionPredicate(column, cols.find((c) => c.name === column)?.type, partition.value)}`;
        }
        await this.exec(`CREATE TEMP VIEW ${quoteIdent(source.name)} AS SELECT * FROM ${reader}${filter}`);
        if (source.columns) await this.checkDeclaredColumns(source, where);
      }
      const [r] = await this.query(`SELECT count(*) AS n FROM pg_temp.${quoteIdent(source.name)}`);
      const rows = Number(r?.['n'] ?? 0);
      if (column && rows === 0 && !options.allowEmpty) {
        throw new SluiceError('NOT_FOUND', `source ${source.name} (${where}) has no rows for partition ${partition.value} (set allow_empty: true on the datasets that read it to publish empty partitions)`, { field });
      }
      return { rows };
    } catch (e) {
      if (e instanceof SluiceError && e.code !== 'SQL_FAILED') throw e;
      throw new SluiceError('DATA_INVALID', `source ${source.name} (${where}): ${messageOf(e)}`, { field }, [], { cause: e });
    }
  }

  /** A binding of this session under `name` is replaced: its view and the table its rows were loaded into. */
  private async dropBinding(name: string): Promise<void> {
    // pg_temp: only this session's own objects, never a table of that name in the database.
    await this.exec(`DROP VIEW IF EXISTS pg_temp.${quoteIdent(name)}; DROP TABLE IF EXISTS pg_temp.${quoteIdent(loadedTable(name))}`);
  }

  /**
   * CSV files loaded with COPY ... FROM STDIN into a TEMP table (no WAL, this connection only),
   * keeping only the partition's rows (COPY's WHERE), and bound as a view over it. Declared
   * columns give the types; without them the columns are typed from their values after loading
   * (inferTypes) and the view filters the partition. Hive folder keys become columns.
   */
  private async loadFiles(source: FileSource, root: string, column: string | undefined, value: string, allowEmpty: boolean, where: string): Promise<void> {
    if (source.format !== 'csv') {
      throw new SluiceError('CONFIG_INVALID', `source ${source.name} (${where}): the PostgreSQL warehouse loads CSV files only, not ${source.format} (convert the files to CSV, or load them into a table and use a table: source)`, { field: `sources.${source.name}.format` });
    }
    const all = globFiles(isAbsolute(source.path) ? source.path : join(root, source.path));
    let files = all;
    let filtered = column !== undefined;
    if (source.hive && source.partitionColumn && column) {
      const key = `/${source.partitionColumn}=`;
      files = all.filter((f) => f.includes(`${key}${hiveEscape(value)}/`));
      // A hive folder holds exactly one partition; finer folders inside a time partition are filtered by its bounds.
      if (files.length > 0) filtered = false;
      else if (naiveBounds(value)) files = all.filter((f) => f.includes(`${key}${value}-`) || f.includes(`${key}${value}T`));
    }
    const name = source.name;
    const table = `pg_temp.${quoteIdent(loadedTable(name))}`;
    const model = files[0] ?? all[0];
    const declared = source.columns ? Object.entries(source.columns) : undefined;
    if (!model && !declared) throw new SluiceError('NOT_FOUND', `source ${name} (${where}): no files, and no declared columns to publish an empty partition with`, { field: `sources.${name}.columns` });
    const fileColumns: [string, string][] = declared ?? csvHeader(model ?? '').map((c) => [c, 'TEXT']);
    const hive = source.hive && model ? hiveKeys(model).filter(([k]) => !fileColumns.some(([c]) => c === k)) : [];
    const hiveTypes = hive.map(([k]) => [k, hiveType(files.map((f) => hiveKeys(f).find(([x]) => x === k)?.[1] ?? ''))] as [string, string]);
    const columns = [...fileColumns.map(([c, t]) => [c, postgresType(t)] as [string, string]), ...hiveTypes];
    await this.exec(`CREATE TEMP TABLE ${quoteIdent(loadedTable(name))} (${columns.map(([c, t]) => `${quoteIdent(c)} ${t}`).join(', ')})`);
    if (files.length === 0) {
      if (!(allowEmpty && column)) {
        const what = source.hive && column ? `no folder ${column}=${hiveEscape(value)}` : 'no files';
        throw new SluiceError('NOT_FOUND', `source ${name} (${where}): ${what} for partition ${value}`, { field: `sources.${name}` });
      }
    } else {
      checkHeaders(source, files, fileColumns.map(([c]) => c));
      const type = columns.find(([c]) => c === column)?.[1];
      // Declared types: COPY keeps only the partition's rows. Undeclared (TEXT) columns are typed after loading, then filtered.
      const filter = declared && filtered && column ? ` WHERE ${partitionPredicate(column, type, value)}` : '';
      const list = fileColumns.map(([c]) => quoteIdent(c)).join(', ');
      for (const file of files) {
        // Hive keys are not in the file: each file's folder values become the columns' defaults for its COPY.
        const keys = new Map(hiveKeys(file));
        for (const [k, t] of hiveTypes) await this.exec(`ALTER TABLE ${table} ALTER COLUMN ${quoteIdent(k)} SET DEFAULT CAST(${sqlLiteral(keys.get(k) ?? null)} AS ${t})`);
        await this.copyFile(`COPY ${table} (${list}) FROM STDIN WITH (FORMAT csv, HEADER true)${filter}`, file);
      }
    }
    if (declared || files.length === 0) {
      await this.exec(`CREATE TEMP VIEW ${quoteIdent(name)} AS SELECT * FROM ${table}`);
      return;
    }
    const typed = await this.inferTypes(table, columns);
    const select = typed.map(([c, t]) => (t === 'TEXT' ? quoteIdent(c) : `CAST(${quoteIdent(c)} AS ${t}) AS ${quoteIdent(c)}`)).join(', ');
    const filter = filtered && column ? ` WHERE ${partitionPredicate(column, typed.find(([c]) => c === column)?.[1], value)}` : '';
    await this.exec(`CREATE TEMP VIEW ${quoteIdent(name)} AS SELECT * FROM (SELECT ${select} FROM ${table}) q${filter}`);
  }

  /**
   * Types for CSV columns loaded as TEXT, as a reader that sniffs would give them: BIGINT, DOUBLE
   * PRECISION, DATE, TIMESTAMP or BOOLEAN when every non-empty value has that shape (one scan,
   * in the engine), else TEXT. Columns typed already (hive keys) keep their type.
   */
  private async inferTypes(table: string, columns: readonly (readonly [string, string])[]): Promise<[string, string][]> {
    const shapes: readonly [string, string][] = [
      ['BIGINT', '^-?[0-9]{1,18}$'],
      ['DOUBLE PRECISION', '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'],
      ['DATE', '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'],
      ['TIMESTAMP', '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?$'],
      ['BOOLEAN', '^(true|false|TRUE|FALSE|True|False)$'],
    ];
    const text = columns.map(([c, t], i) => ({ c, t, i })).filter((x) => x.t === 'TEXT');
    if (text.length === 0) return columns.map(([c, t]) => [c, t]);
    const terms = text.flatMap(({ c, i }) => shapes.map(([, re], k) => `bool_and(${quoteIdent(c)} ~ ${quoteLiteral(re)}) AS s_${i}_${k}`));
    const [r = {}] = await this.query(`SELECT ${terms.join(', ')} FROM ${table}`);
    return columns.map(([c, t], i) => {
      if (t !== 'TEXT') return [c, t];
      const k = shapes.findIndex((_, k) => r[`s_${i}_${k}`] === true);
      return [c, k >= 0 ? (shapes[k]?.[0] ?? 'TEXT') : 'TEXT'];
    });
  }

  private async copyFile(sql: string, file: string): Promise<void> {
    try {
      await pipeline(createReadStream(file), this.client.query(copyFrom(sql)));
    } catch (e) {
      throw new SluiceError('DATA_INVALID', `${file}: ${this.host.scrub(messageOf(e))}`, { file }, [], { cause: e });
    }
  }

  /** A `table:` source: a dataset published here (by its name, or `main.<name>` as DuckDB projects write it), else a table of the database. */
  private async tableReader(table: string): Promise<string> {
    const name = table.replace(/^(main|public)\./i, '').replace(/^"(.*)"$/, '$1');
    const dataset = await this.host.datasetRelation(name);
    if (dataset) return dataset;
    return table.replace(/^main\./i, 'public.');
  }

  private async describe(relation: string): Promise<ColumnInfo[]> {
    return (await this.query(this.dialect.describeSql(relation))).map((r) => ({ name: String(r['column_name']), type: String(r['column_type']) }));
  }

  private async checkDeclaredColumns(source: Source, where: string): Promise<void> {
    const actual = await this.describe(`pg_temp.${quoteIdent(source.name)}`);
    const declared = Object.entries(source.columns ?? {});
    const byName = new Map(actual.map((c) => [c.name.toLowerCase(), c]));
    const problems: string[] = [];
    const canon = (t: string): string => this.dialect.canonicalType(postgresType(t)).replace(/^DECIMAL\(.*\)$/, 'DECIMAL');
    for (const [name, type] of declared) {
      const col = byName.get(name.toLowerCase());
      if (!col) problems.push(`missing column ${name}`);
      else if (canon(col.type) !== canon(type)) problems.push(`column ${name} is ${col.type}, declared ${type.toUpperCase()}`);
    }
    const names = new Set(declared.map(([n]) => n.toLowerCase()));
    for (const c of actual) if (!names.has(c.name.toLowerCase()) && c.name !== source.partitionColumn) problems.push(`unexpected column ${c.name}`);
    if (problems.length > 0) throw new SluiceError('DATA_INVALID', `source ${source.name} (${where}): columns do not match the declared ones: ${problems.join('; ')}`, { field: `sources.${source.name}.columns` });
  }

  async bindPartition(p: PartitionBinding): Promise<void> {
    const ts = (v: string | null, type: string): string => `CAST(${v === null ? 'NULL' : quoteLiteral(v)} AS ${type})`;
    await this.exec(
      `DROP VIEW IF EXISTS pg_temp.${PARTITION_RELATION}; CREATE TEMP VIEW ${PARTITION_RELATION} AS SELECT CAST(${quoteLiteral(p.value)} AS TEXT) AS value, ${ts(p.startsAt, 'TIMESTAMP')} AS starts_at, ${ts(p.endsAt, 'TIMESTAMP')} AS ends_at, ${ts(p.startsAtUtc, 'TIMESTAMPTZ')} AS starts_at_utc, ${ts(p.endsAtUtc, 'TIMESTAMPTZ')} AS ends_at_utc`,
    );
  }

  async bindOutput(name: string, versionId: string): Promise<void> {
    const v = await versionById(this.client, versionId);
    if (!v) throw new SluiceError('NOT_FOUND', `no output version ${versionId}`);
    await this.dropBinding(name);
    await this.exec(`CREATE TEMP VIEW ${quoteIdent(name)} AS SELECT * FROM ${versionRelation(v.tableName)}`);
  }

  async createOutputVersion(v: NewOutputVersion, sql: string, createdAt: Date): Promise<OutputVersion> {
    const tableName = versionTableName(v.id);
    const relation = versionRelation(tableName);
    try {
      await this.client.query('BEGIN');
      let rowCount: number;
      try {
        const created = await this.client.query(`CREATE TABLE ${relation} AS ${sql.trim().replace(/;\s*$/, '')}`);
        rowCount = created.rowCount ?? 0;
      } catch (e) {
        if (sqlStateOf(e) === '42P07') throw new SluiceError('CONFLICT', `output version ${v.id} exists already`);
        throw new SluiceError('SQL_FAILED', `step ${v.step} version ${v.stepVersion} failed: ${this.host.scrub(messageOf(e))}`, { step: v.step, version: v.stepVersion }, [], { cause: e });
      }
      const columns = (await this.query(this.dialect.describeSql(relation))).map((r) => ({ name: String(r['column_name']), type: String(r['column_type']) }));
      const fingerprint = await versionFingerprint((s) => this.query(s), relation, columns);
      const stored: StoredVersion = { ...v, rowCount, createdAt: createdAt.toISOString(), tableName, columns, fingerprint };
      await addVersion(this.client, stored);
      await this.client.query('COMMIT');
      return toOutputVersion(stored);
    } catch (e) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      if (e instanceof SluiceError) throw e;
      if (sqlStateOf(e) === '23505') throw new SluiceError('CONFLICT', `output version ${v.id} exists already`);
      throw sqlFailed(e, (t) => this.host.scrub(t));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      // Temp views and tables, settings and prepared statements of the run end with it.
      await this.client.query('DISCARD ALL');
      this.client.release();
    } catch (e) {
      // A connection that cannot be cleaned is not given back to the pool.
      this.client.release(e instanceof Error ? e : new Error(String(e)));
    }
    this.host.closed();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** The TEMP table a file source's rows are loaded into. */
function loadedTable(name: string): string {
  return `sluice_src_${name}`.slice(0, 63);
}

/** The type of a hive folder key from its values: dates and integers as such, anything else text. */
function hiveType(values: readonly string[]): string {
  if (values.length > 0 && values.every((v) => /^\d{4}-\d{2}-\d{2}$/.test(v))) return 'DATE';
  if (values.length > 0 && values.every((v) => /^-?\d{1,18}$/.test(v))) return 'BIGINT';
  return 'TEXT';
}

/** A version's table: readable from its id, unique by a hash of it, within PostgreSQL's 63 bytes. */
export function versionTableName(id: string): string {
  const slug = id.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 40);
  return `v_${slug}_${createHash('sha256').update(id).digest('hex').slice(0, 12)}`;
}

/** Row count and order-free checksums of a relation: `count:xor:sum`, as verify-data compares them. */
export async function versionFingerprint(query: (sql: string) => Promise<Row[]>, relation: string, columns: readonly ColumnInfo[]): Promise<string> {
  const [xor, sum] = postgresDialect.rowChecksums(columns.map((c) => quoteIdent(c.name)));
  const [r] = await query(`SELECT count(*) AS n, CAST(coalesce(${xor}, 0) AS TEXT) AS x, CAST(coalesce(${sum}, 0) AS TEXT) AS s FROM ${relation}`);
  return `${String(r?.['n'] ?? 0)}:${String(r?.['x'] ?? 0)}:${String(r?.['s'] ?? 0)}`;
}
