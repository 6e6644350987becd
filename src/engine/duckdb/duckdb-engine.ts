import { DuckDBInstance, type DuckDBConnection, type DuckDBResultReader } from '@duckdb/node-api';
import { SluiceError, messageOf } from '../../util/errors.ts';
import type { Row, SqlEngine, SqlValue } from '../sql-engine.ts';
import { duckdbDialect } from './duckdb-dialect.ts';

export interface DuckDBOptions {
  /** DuckDB's memory_limit, e.g. '2GB'; beyond it DuckDB spills to temp_directory. */
  readonly memoryLimit?: string;
  readonly threads?: number;
  readonly tempDirectory?: string;
}

/**
 * One DuckDB connection as a SqlEngine. A connection is DuckDB's session: its own transaction and
 * its own temp objects, so work on two connections of one database never mixes.
 */
export class DuckDBSession implements SqlEngine, AsyncDisposable {
  readonly dialect = duckdbDialect;
  private closed = false;
  /** Settles when the open transaction of this connection ends. */
  private turn: Promise<void> | undefined;
  /** Statements still running: close() waits for them, so none is left unsettled. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    readonly path: string,
    private readonly conn: DuckDBConnection,
    private readonly onClose?: () => void,
  ) {}

  async query(sql: string): Promise<Row[]> {
    return toRows(await this.run(sql));
  }

  async exec(sql: string): Promise<void> {
    await this.run(sql);
  }

  /**
   * Runs fn inside one transaction of this connection; rolls back when fn throws. Transactions of
   * one connection take turns (a second caller waits); fn must not start another one.
   */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    while (this.turn) await this.turn;
    let release: () => void = () => undefined;
    this.turn = new Promise<void>((resolve) => (release = resolve));
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
      this.turn = undefined;
      release();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.running]);
    this.conn.closeSync();
    this.onClose?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Appends rows of numbers and texts to a table of this connection's database (DuckDB's appender: no SQL text per row). */
  async appendRows(table: string, rows: readonly (readonly (number | string)[])[]): Promise<void> {
    if (this.closed) throw new SluiceError('INTERNAL', `DuckDB database ${this.path} is closed`);
    const appender = await this.conn.createAppender(table);
    try {
      for (const row of rows) {
        for (const v of row) {
          if (typeof v === 'number') appender.appendInteger(v);
          else appender.appendVarchar(v);
        }
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
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

/**
 * SqlEngine over one DuckDB database file (or ':memory:'): the instance plus a default connection.
 * `connect()` opens further sessions on the same database (run-scoped warehouse sessions).
 */
export class DuckDBEngine extends DuckDBSession {
  private readonly sessions = new Set<DuckDBSession>();

  private constructor(
    path: string,
    private readonly instance: DuckDBInstance,
    conn: DuckDBConnection,
  ) {
    super(path, conn);
  }

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
    return new DuckDBEngine(path, instance, await instance.connect());
  }

  /** A new connection to the same database: its own transaction and temp objects. */
  async connect(): Promise<DuckDBSession> {
    const s: DuckDBSession = new DuckDBSession(this.path, await this.instance.connect(), () => this.sessions.delete(s));
    this.sessions.add(s);
    return s;
  }

  /** DuckDB's version string, e.g. `v1.5.6`. */
  async version(): Promise<string> {
    const [r] = await this.query('SELECT version() AS v');
    return String(r?.['v'] ?? 'unknown');
  }

  override async close(): Promise<void> {
    for (const s of [...this.sessions]) await s.close();
    await super.close();
    this.instance.closeSync();
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
