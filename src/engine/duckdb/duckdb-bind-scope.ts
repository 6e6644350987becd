import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { messageOf } from '../../util/errors.ts';
import type { BindScope, SqlBinding } from '../sql-analysis.ts';
import type { FileSource } from '../source.ts';
import { quoteIdent, quoteLiteral } from '../sql.ts';
import type { ColumnInfo } from '../warehouse.ts';
import type { DuckDBEngine, DuckDBSession } from './duckdb-engine.ts';
import { checkCsvHeaders, fileReader } from './duckdb-file-reader.ts';

let scopes = 0;

/** Columns read from a file, by reader expression, size and modification time. */
export type HeaderCache = Map<string, ColumnInfo[]>;

/**
 * Binding with DuckDB: a schema of empty tables in the analyzer's in-memory database, one
 * connection whose search path is that schema, and `DESCRIBE <query>`, which binds the query
 * (names, columns, types, constant regular expressions) and plans nothing on data.
 */
export class DuckDBBindScope implements BindScope {
  private constructor(
    private readonly conn: DuckDBSession,
    private readonly schema: string,
    private readonly headers: HeaderCache,
  ) {}

  /** `headers` is shared by the scopes of one analyzer: a file's columns are sniffed once while it is unchanged. */
  static async open(db: DuckDBEngine, headers: HeaderCache): Promise<DuckDBBindScope> {
    const schema = `bind_${++scopes}`;
    const conn = await db.connect();
    await conn.exec(`CREATE SCHEMA ${schema}; SET search_path = '${schema}'`);
    return new DuckDBBindScope(conn, schema, headers);
  }

  async declare(name: string, columns: readonly ColumnInfo[]): Promise<void> {
    const cols = columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
    await this.conn.exec(`CREATE OR REPLACE TABLE ${this.schema}.${quoteIdent(name)} (${cols})`);
  }

  async sourceColumns(source: FileSource, projectRoot: string): Promise<ColumnInfo[] | undefined> {
    const pattern = isAbsolute(source.path) ? source.path : join(projectRoot, source.path);
    const [first] = await this.conn.query(`SELECT file FROM glob(${quoteLiteral(pattern)}) ORDER BY file LIMIT 1`);
    if (!first) return undefined;
    const file = String(first['file']);
    const reader = fileReader(source, [file]);
    const st = statSync(file);
    const key = `${reader}\0${st.size}\0${st.mtimeMs}`;
    const known = this.headers.get(key);
    if (known) return known;
    const rows = await this.conn.query(`DESCRIBE SELECT * FROM ${reader}`);
    const columns = rows.map((r) => ({ name: String(r['column_name']), type: String(r['column_type']) }));
    this.headers.set(key, columns);
    return columns;
  }

  async checkSourceFiles(source: FileSource, projectRoot: string): Promise<string | undefined> {
    if (source.format !== 'csv' || !source.columns) return undefined;
    const pattern = isAbsolute(source.path) ? source.path : join(projectRoot, source.path);
    const files = (await this.conn.query(`SELECT file FROM glob(${quoteLiteral(pattern)}) ORDER BY file`)).map((r) => String(r['file']));
    try {
      checkCsvHeaders(source, files);
      return undefined;
    } catch (e) {
      return messageOf(e);
    }
  }

  async bind(sql: string): Promise<SqlBinding> {
    try {
      const rows = await this.conn.query(`DESCRIBE ${sql.trim().replace(/;\s*$/, '')}`);
      return { ok: true, columns: rows.map((r) => ({ name: String(r['column_name']), type: String(r['column_type']) })) };
    } catch (e) {
      return bindError(messageOf(e));
    }
  }

  async close(): Promise<void> {
    await this.conn.exec(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`).catch(() => undefined);
    await this.conn.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** DuckDB's message without its caret drawing; the `LINE n:` it names is the line in the step's SQL. */
function bindError(message: string): SqlBinding {
  const line = /\nLINE (\d+):/.exec(message);
  const text = message.split('\n').filter((l) => l.trim() !== '' && !/^LINE \d+:/.test(l) && !/^\s*\^\s*$/.test(l)).join(' ').replace(/^SQL failed: /, '');
  return { ok: false, message: text, ...(line ? { line: Number(line[1]) } : {}) };
}
