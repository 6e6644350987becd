import { DuckDBInstance, type DuckDBConnection, type DuckDBResultReader } from '@duckdb/node-api';
import { SluiceError, messageOf } from '../../util/errors.ts';
import type { Row, SqlEngine, SqlValue } from '../sql-engine.ts';

export interface DuckDBOptions {
  /** DuckDB's memory_limit, e.g. '2GB'; beyond it DuckDB spills to temp_directory. */
  readonly memoryLimit?: string;
  readonly threads?: number;
  readonly tempDirectory?: string;
}

/**
 * SqlEngine over one DuckDB database file (or ':memory:'). One connection: DuckDB runs a statement
 * on all threads anyway, and one connection keeps transactions simple.
 */
export class DuckDBEngine implements SqlEngine, AsyncDisposable {
  readonly dialect = 'duckdb' as const;
  private closed = false;
  private inTransaction = false;
  /** Statements still running: close() waits for them, so none is left unsettled. */
  private readonly running = new Set<Promise<unknown>>();

  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  static async open(path: string, options: DuckDBOptions = {}): Promise<DuckDBEngine> {
    const config: Record<string, string> = {};
    if (options.memoryLimit) config['memory_limit'] = options.memoryLimit;
    if (options.threads) config['threads'] = String(options.threads);
    if (options.tempDirectory) config['temp_directory'] = options.tempDirectory;
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, config);
    } catch (e) {
      throw new SluiceError('SQL_FAILED', `cannot open DuckDB database ${path}: ${messageOf(e)}`, { file: path }, [], { cause: e });
    }
    const conn = await instance.connect();
    return new DuckDBEngine(path, instance, conn);
  }

  async query(sql: string): Promise<Row[]> {
    const result = await this.run(sql);
    return toRows(result);
  }

  async exec(sql: string): Promise<void> {
    await this.run(sql);
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inTransaction) throw new SluiceError('INTERNAL', 'nested transaction on one DuckDB connection');
    this.inTransaction = true;
    try {
      await this.run('BEGIN TRANSACTION');
      try {
        const out = await fn();
        await this.run('COMMIT');
        return out;
      } catch (e) {
        await this.run('ROLLBACK').catch(() => undefined);
        throw e;
      }
    } finally {
      this.inTransaction = false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.running]);
    this.conn.closeSync();
    this.instance.closeSync();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async run(sql: string): Promise<DuckDBResultReader> {
    if (this.closed) throw new SluiceError('INTERNAL', `DuckDB database ${this.path} is closed`);
    const p = this.conn.runAndReadAll(sql);
    this.running.add(p);
    try {
      return await p;
    } catch (e) {
      throw new SluiceError('SQL_FAILED', messageOf(e), {}, [], { cause: e });
    } finally {
      this.running.delete(p);
    }
  }
}

function toRows(result: DuckDBResultReader): Row[] {
  const types = result.columnTypes().map((t) => t.toString());
  const names = result.columnNames();
  const rows = result.getRowObjectsJS();
  return rows.map((r) => {
    const out: Row = {};
    names.forEach((name, i) => {
      out[name] = toSqlValue(r[name], types[i] === 'DATE');
    });
    return out;
  });
}

function toSqlValue(v: unknown, isDate = false): SqlValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof Date) return isDate ? v.toISOString().slice(0, 10) : v.toISOString();
  if (Array.isArray(v)) return v.map((x) => toSqlValue(x));
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (typeof v === 'object') {
    const o: Record<string, SqlValue> = {};
    for (const [k, x] of Object.entries(v)) o[k] = toSqlValue(x);
    return o;
  }
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return String(v);
}
