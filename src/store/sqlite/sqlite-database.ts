import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SluiceError, messageOf } from '../../util/errors.ts';
import { MIGRATIONS } from './sqlite-migrations.ts';

/** A transaction of this process: open until it commits or rolls back. */
interface OpenTransaction {
  open: boolean;
  /** What runs once it commits. */
  readonly afterCommit: (() => void | Promise<void>)[];
}

/**
 * One better-sqlite3 connection shared by every store of a process, made safe for async callers.
 * better-sqlite3 runs each statement synchronously, so the only hazard is an async transaction:
 * while one is open, a statement from another async flow would land inside it. So `transaction`
 * holds a process-wide turn (other transactions and plain statements wait for it), and statements
 * made inside it (found through AsyncLocalStorage) run at once. Other processes are kept apart by
 * SQLite itself: `BEGIN IMMEDIATE` takes the write lock, `busy_timeout` waits for it.
 */
export class SqliteDatabase {
  private readonly db: Database.Database;
  private readonly context = new AsyncLocalStorage<OpenTransaction>();
  /** Settles when the open transaction of this process ends. */
  private turn: Promise<void> | undefined;
  private closed = false;

  private constructor(readonly path: string) {
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('foreign_keys = ON');
    } catch (e) {
      throw new SluiceError('CONFIG_INVALID', `cannot open the SQLite store ${path}: ${messageOf(e)}`, { file: path, field: 'store.path' }, [], { cause: e });
    }
  }

  static open(path: string): SqliteDatabase {
    const d = new SqliteDatabase(path);
    d.migrate();
    return d;
  }

  private migrate(): void {
    const current = Number(this.db.pragma('user_version', { simple: true }));
    if (current > MIGRATIONS.length) {
      this.db.close();
      throw new SluiceError('CONFIG_INVALID', `the store ${this.path} has schema version ${current}, newer than this Sluice knows (${MIGRATIONS.length}); upgrade Sluice`, { file: this.path, field: 'store' });
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v] ?? '');
        this.db.pragma(`user_version = ${v + 1}`);
      }).immediate();
    }
  }

  private inTransaction(): boolean {
    return this.context.getStore()?.open === true;
  }

  /** Runs synchronous statements: at once inside this flow's transaction, else when no transaction is open. */
  async run<T>(fn: (db: Database.Database) => T): Promise<T> {
    if (!this.inTransaction()) while (this.turn) await this.turn;
    if (this.closed) throw new SluiceError('INTERNAL', `the SQLite store ${this.path} is closed`);
    return fn(this.db);
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inTransaction()) return fn();
    while (this.turn) await this.turn;
    if (this.closed) throw new SluiceError('INTERNAL', `the SQLite store ${this.path} is closed`);
    let release: () => void = () => undefined;
    this.turn = new Promise<void>((resolve) => (release = resolve));
    const tx: OpenTransaction = { open: true, afterCommit: [] };
    let out: T;
    try {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        out = await this.context.run(tx, fn);
        this.db.exec('COMMIT');
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    } finally {
      tx.open = false;
      this.turn = undefined;
      release();
    }
    for (const cb of tx.afterCommit) await cb();
    return out;
  }

  /** Runs fn after the commit of this flow's transaction, or at once outside one. */
  async afterCommit(fn: () => void | Promise<void>): Promise<void> {
    const tx = this.context.getStore();
    if (tx?.open) tx.afterCommit.push(fn);
    else await fn();
  }

  /** A consistent copy of the database file, taken with SQLite's online backup (other writers may go on). */
  async backup(to: string): Promise<void> {
    await this.run(() => undefined);
    await this.db.backup(to);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.turn) await this.turn;
    this.closed = true;
    this.db.close();
  }
}
