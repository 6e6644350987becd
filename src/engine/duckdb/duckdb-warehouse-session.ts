import { isAbsolute, join } from 'node:path';
import { SluiceError, messageOf } from '../../util/errors.ts';
import type { FileSource, Source } from '../source.ts';
import type { Row } from '../sql-engine.ts';
import { quoteIdent, quoteLiteral } from '../sql.ts';
import type { NewOutputVersion, OutputVersion, WarehouseSession } from '../warehouse.ts';
import { ALIAS_PATTERN } from './attachments.ts';
import { hiveEscape } from '../hive-path.ts';
import { PARTITION_RELATION, WHOLE, type PartitionBinding } from '../partition-binding.ts';
import { naiveBounds, partitionPredicate } from '../partition-predicate.ts';
import { writeDataFile } from './data-files.ts';
import { duckdbDialect } from './duckdb-dialect.ts';
import type { DuckDBSession } from './duckdb-engine.ts';
import { checkCsvHeaders, fileReader } from './duckdb-file-reader.ts';
import { aliasOf, type DuckDBWarehouse } from './duckdb-warehouse.ts';
import { toOutputVersion } from './warehouse-catalog.ts';

/**
 * One run's session: a DuckDB connection of its own, so temp bindings stay apart. Outputs are
 * written straight into their own immutable files (no copy later: publishing moves a pointer);
 * the files a session reads stay attached until it closes.
 */
export class DuckDBWarehouseSession implements WarehouseSession {
  readonly dialect = duckdbDialect;
  private readonly pinned: string[] = [];

  constructor(
    private readonly conn: DuckDBSession,
    private readonly warehouse: DuckDBWarehouse,
  ) {}

  async query(sql: string): Promise<Row[]> {
    await this.warehouse.attachments.ensureFor(sql);
    return this.conn.query(sql);
  }

  async exec(sql: string): Promise<void> {
    await this.warehouse.attachments.ensureFor(sql);
    return this.conn.exec(sql);
  }

  async bindSource(source: Source, partition: PartitionBinding, projectRoot: string, options: { readonly allowEmpty?: boolean } = {}): Promise<{ rows: number }> {
    const where = source.kind === 'files' ? source.path : `table ${source.table}`;
    const field = `sources.${source.name}`;
    // Read whole: a source declared so, or every source of an unpartitioned run.
    const column = partition.value === WHOLE ? undefined : source.partitionColumn;
    try {
      let reader: string;
      let filtered = column !== undefined;
      if (source.kind === 'files') {
        const { files, exact, all } = await this.sourceFiles(source, projectRoot, column ? partition.value : undefined);
        if (files.length === 0) {
          const what = source.hive && column ? `no folder ${column}=${hiveEscape(partition.value)}` : 'no files';
          if (!(options.allowEmpty && column)) throw new SluiceError('NOT_FOUND', `source ${source.name} (${where}): ${what} for partition ${partition.value}`, { field });
          // An allowed empty partition still has the source's columns: from the declared ones, or any file's.
          reader = all.length > 0 ? fileReader(source, all.slice(0, 1)) : emptyRelation(source, where);
          await this.exec(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(source.name)} AS SELECT * FROM ${reader} WHERE FALSE`);
          return { rows: 0 };
        }
        reader = fileReader(source, files);
        // A hive folder holds exactly one partition; the filter is then implied by the file list.
        if (source.hive && exact) filtered = false;
      } else {
        reader = await this.tableReader(source.table);
      }
      let filter = '';
      if (filtered && column) {
        const [c] = await this.conn.query(`SELECT column_type FROM (DESCRIBE SELECT * FROM ${reader}) WHERE column_name = ${quoteLiteral(column)}`);
        filter = ` WHERE ${partitionPredicate(column, c ? String(c['column_type']) : undefined, partition.value)}`;
      }
      await this.exec(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(source.name)} AS SELECT * FROM ${reader}${filter}`);
      if (source.columns && !(source.kind === 'files' && source.format === 'csv')) await this.checkDeclaredColumns(source, where);
      const [r] = await this.conn.query(`SELECT count(*)::BIGINT AS n FROM ${quoteIdent(source.name)}`);
      const rows = Number(r?.['n'] ?? 0);
      if (column && rows === 0 && !options.allowEmpty) {
        throw new SluiceError('NOT_FOUND', `source ${source.name} (${where}) has no rows for partition ${partition.value} (set allow_empty: true on the datasets that read it to publish empty partitions)`, { field });
      }
      return { rows };
    } catch (e) {
      // A refusal about the partition column (a TIMESTAMPTZ column for time partitions) names the source.
      if (e instanceof SluiceError && e.place.field === 'partition_column') throw new SluiceError(e.code, `source ${source.name} (${where}): ${e.message}`, { field: `${field}.partition_column` }, [], { cause: e });
      if (e instanceof SluiceError && e.code !== 'SQL_FAILED') throw e;
      throw new SluiceError('DATA_INVALID', `source ${source.name} (${where}): ${messageOf(e)}`, { field }, [], { cause: e });
    }
  }

  async bindPartition(p: PartitionBinding): Promise<void> {
    const ts = (v: string | null, type: string): string => (v === null ? `CAST(NULL AS ${type})` : `CAST(${quoteLiteral(v)} AS ${type})`);
    await this.conn.exec(
      `CREATE OR REPLACE TEMP VIEW ${PARTITION_RELATION} AS SELECT CAST(${quoteLiteral(p.value)} AS VARCHAR) AS value, ${ts(p.startsAt, 'TIMESTAMP')} AS starts_at, ${ts(p.endsAt, 'TIMESTAMP')} AS ends_at, ${ts(p.startsAtUtc, 'TIMESTAMPTZ')} AS starts_at_utc, ${ts(p.endsAtUtc, 'TIMESTAMPTZ')} AS ends_at_utc`,
    );
  }

  /** A `table:` source: a dataset published here (by its name, or `main.<name>`), else a table of the working database. */
  private async tableReader(table: string): Promise<string> {
    const name = table.replace(/^main\./i, '').replace(/^"(.*)"$/, '$1');
    if (this.warehouse.relation(name)) {
      const t = await this.warehouse.datasetTable(name);
      this.pin(this.warehouse.relation(name)?.files.keys() ?? []);
      return t;
    }
    return table;
  }

  /**
   * The files of a source for one partition: for hive layouts that partition's folder (`exact`), or
   * for a time partition the folders of finer grain inside it (a month's day folders, a day's hour
   * folders), which the partition's bounds then filter. `all` is every file the glob matches.
   */
  private async sourceFiles(source: FileSource, root: string, partition: string | undefined): Promise<{ files: string[]; exact: boolean; all: string[] }> {
    const pattern = isAbsolute(source.path) ? source.path : join(root, source.path);
    const rows = await this.conn.query(`SELECT file FROM glob(${quoteLiteral(pattern)}) ORDER BY file`);
    const all = rows.map((r) => String(r['file']));
    let files = all;
    let exact = true;
    if (source.hive && source.partitionColumn && partition !== undefined) {
      const key = `/${source.partitionColumn}=`;
      files = all.filter((f) => f.includes(`${key}${hiveEscape(partition)}/`));
      if (files.length === 0 && naiveBounds(partition)) {
        files = all.filter((f) => f.includes(`${key}${partition}-`) || f.includes(`${key}${partition}T`));
        exact = false;
      }
    }
    if (source.format === 'csv' && source.columns) checkCsvHeaders(source, files);
    return { files, exact, all };
  }

  private async checkDeclaredColumns(source: Source, where: string): Promise<void> {
    const actual = (await this.conn.query(`DESCRIBE SELECT * FROM ${quoteIdent(source.name)}`)).map((r) => ({ name: String(r['column_name']), type: String(r['column_type']) }));
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
    const v = this.warehouse.catalog.version(versionId);
    if (!v) throw new SluiceError('NOT_FOUND', `no output version ${versionId}`);
    this.pin([v.alias]);
    await this.warehouse.attachments.ensure([v.alias]);
    await this.conn.exec(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS SELECT * FROM ${quoteIdent(v.alias)}.data`);
  }

  async createOutputVersion(v: NewOutputVersion, sql: string, createdAt: Date): Promise<OutputVersion> {
    const alias = aliasOf('v', v.id);
    const file = join('versions', `${alias}.duckdb`);
    // The SQL may read other versions' files (a blend reads the baseline and the candidate): attached and held for the session.
    const reads = [...new Set(sql.match(ALIAS_PATTERN) ?? [])];
    this.pin(reads);
    await this.warehouse.attachments.ensure(reads);
    let written;
    try {
      written = await writeDataFile(this.conn, join(this.warehouse.folder, file), stripTrailingSemicolon(sql), { crashPrefix: 'version' });
    } catch (e) {
      if (e instanceof SluiceError && e.code !== 'SQL_FAILED') throw e;
      throw new SluiceError('SQL_FAILED', `step ${v.step} version ${v.stepVersion} failed: ${messageOf(e)}`, { step: v.step, version: v.stepVersion }, [], { cause: e });
    }
    // The file is in place and flushed; naming it in the catalog is what makes it a version.
    const stored = { ...v, rowCount: written.rowCount, createdAt: createdAt.toISOString(), fingerprint: written.fingerprint, alias, file, bytes: written.bytes, columns: written.columns, deletedAt: null };
    this.warehouse.catalog.addVersion(stored);
    this.pin([alias]);
    return toOutputVersion(stored);
  }

  private pin(aliases: Iterable<string>): void {
    const list = [...aliases];
    this.warehouse.attachments.pin(list);
    this.pinned.push(...list);
  }

  async close(): Promise<void> {
    this.warehouse.attachments.unpin(this.pinned.splice(0));
    await this.conn.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
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

/** A source with declared columns and no file yet, as an empty relation of those columns. */
function emptyRelation(source: Source, where: string): string {
  if (!source.columns) throw new SluiceError('NOT_FOUND', `source ${source.name} (${where}): no files, and no declared columns to publish an empty partition with`, { field: `sources.${source.name}.columns` });
  return `(SELECT ${Object.entries(source.columns).map(([n, t]) => `CAST(NULL AS ${t}) AS ${quoteIdent(n)}`).join(', ')})`;
}

function stripTrailingSemicolon(sql: string): string {
  return sql.trim().replace(/;\s*$/, '');
}
