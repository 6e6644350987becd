import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { SluiceError, isSluiceError } from '../../util/errors.ts';
import { connectionError } from './postgres-errors.ts';
import type { PostgresLocation } from './postgres-location.ts';
import { MIGRATIONS, migrate, type Migration } from './postgres-migrations.ts';

export type SqlRow = Record<string, unknown>;

/** A transaction of this process: one pooled client, open until it commits or rolls back. */
interface OpenTransaction {
  open: boolean;
  readonly client: pg.PoolClient;
  /** What runs once it commits. */
  readonly afterCommit: (() => void | Promise<void>)[];
}

/** How the feature stores reach the server (see `PostgresDatabase`). */
export interface PostgresHandle {
  /** One statement: on this flow's transaction when it has one, else on a pooled connection once no transaction of this process is open. */
  query(sql: string, params?: readonly unknown[]): Promise<SqlRow[]>;
  /** Statements that must not be split: in this flow's transaction, else in a transaction of their own. */
  atomic<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Takes a transaction-scoped advisory lock (held until this flow's transaction ends, so it
   * serializes with every process that takes the same key); nothing outside a transaction.
   */
  lockInTransaction(purpose: string, key: string): Promise<void>;
}

/**
 * A pool of connections to the store's server, made into the store's unit of work. A transaction
 * is one pooled client between BEGIN and COMMIT; statements made inside it (found through
 * AsyncLocalStorage, so a nested `transaction` or a plain store call deep in the same async flow
 * joins it) run on that client. As the unit of work promises, other callers of this process wait
 * while a transaction is open (one turn per process, as in the SQLite store); processes are kept
 * apart by PostgreSQL itself: row and advisory locks, held to commit.
 */
export class PostgresDatabase implements PostgresHandle {
  private readonly context = new AsyncLocalStorage<OpenTransaction>();
  /** Settles when the open transaction of this process ends. */
  private turn: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    readonly location: PostgresLocation,
  ) {}

  /** Connects (bounded by the connect timeout) and brings the schema to the code's version; nothing is left open on failure. */
  static async open(location: PostgresLocation, migrations: readonly Migration[] = MIGRATIONS): Promise<PostgresDatabase> {
    const pool = new pg.Pool(location.poolConfig);
    // An idle connection the server dropped reports here; the next statement gets a new one.
    pool.on('error', () => undefined);
    const db = new PostgresDatabase(pool, location);
    try {
      const client = await db.connect();
      let broken = false;
      try {
        await migrate(client, location, migrations);
      } catch (e) {
        broken = true;
        throw e;
      } finally {
        client.release(broken);
      }
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw isSluiceError(e) ? e : connectionError(e, location);
    }
    return db;
  }

  /** A pooled client; a failure to get one names the setting and the server, not the password. */
  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (e) {
      throw connectionError(e, this.location);
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw new SluiceError('INTERNAL', `the PostgreSQL store ${this.location.description} is closed`);
  }

  private current(): OpenTransaction | undefined {
    const tx = this.context.getStore();
    return tx?.open ? tx : undefined;
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<SqlRow[]> {
    const tx = this.current();
    if (tx) return (await tx.client.query<SqlRow>(sql, [...params])).rows;
    while (this.turn) await this.turn;
    this.ensureOpen();
    const client = await this.connect();
    let broken = false;
    try {
      return (await client.query<SqlRow>(sql, [...params])).rows;
    } catch (e) {
      broken = connectionLost(e);
      throw e;
    } finally {
      client.release(broken);
    }
  }

  atomic<T>(fn: () => Promise<T>): Promise<T> {
    return this.current() ? fn() : this.transaction(fn);
  }

  async lockInTransaction(purpose: string, key: string): Promise<void> {
    const tx = this.current();
    if (!tx) return;
    // Keyed by the schema too: two stores in one database do not wait for each other.
    await tx.client.query(`SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))`, [`${this.location.schema}.${purpose}`, key]);
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.current()) return fn();
    while (this.turn) await this.turn;
    this.ensureOpen();
    let release: () => void = () => undefined;
    this.turn = new Promise<void>((resolve) => (release = resolve));
    const endTurn = (): void => {
      this.turn = undefined;
      release();
    };
    let client: pg.PoolClient;
    try {
      client = await this.connect();
    } catch (e) {
      endTurn();
      throw e;
    }
    const tx: OpenTransaction = { open: true, client, afterCommit: [] };
    let out: T;
    let broken = false;
    try {
      await client.query('BEGIN');
      out = await this.context.run(tx, fn);
      // A statement that failed inside (and was caught by fn) aborted the whole transaction, unlike
      // SQLite's statement rollback: PostgreSQL then answers COMMIT with ROLLBACK. Said aloud, not lost.
      const commit = await client.query('COMMIT');
      if (commit.command === 'ROLLBACK') throw new SluiceError('CONFLICT', `a statement failed inside a transaction of the PostgreSQL store ${this.location.description}, so none of it was committed`);
    } catch (e) {
      // A client whose ROLLBACK fails is not handed out again: its session may still hold the transaction.
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw e;
    } finally {
      tx.open = false;
      client.release(broken);
      endTurn();
    }
    for (const cb of tx.afterCommit) await cb();
    return out;
  }

  /** Runs fn after the commit of this flow's transaction, or at once outside one. */
  async afterCommit(fn: () => void | Promise<void>): Promise<void> {
    const tx = this.current();
    if (tx) tx.afterCommit.push(fn);
    else await fn();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.turn) await this.turn;
    this.closed = true;
    await this.pool.end();
  }
}

/** Whether a failed statement also lost its connection (so the client must not go back to the pool). */
function connectionLost(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code);
}
