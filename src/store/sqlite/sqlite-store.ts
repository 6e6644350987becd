import type { MetadataStore, Stores } from '../metadata-store.ts';
import { SqliteDatabase } from './sqlite-database.ts';
import { sqliteStores } from './sqlite-stores.ts';

/**
 * The embedded metadata store: one SQLite file in WAL mode, shared by the CLI, the server and
 * workers on one machine. Every feature store runs on the one connection of `SqliteDatabase`,
 * whose transactions the stores join when called inside one.
 */
export class SqliteStore implements MetadataStore {
  readonly runs: Stores['runs'];
  readonly audit: Stores['audit'];
  readonly flagRevisions: Stores['flagRevisions'];
  readonly checkResults: Stores['checkResults'];
  readonly profiles: Stores['profiles'];
  readonly rollouts: Stores['rollouts'];
  readonly intents: Stores['intents'];
  readonly queue: Stores['queue'];
  private readonly stores: Stores;

  private constructor(private readonly db: SqliteDatabase) {
    this.stores = sqliteStores(db);
    ({ runs: this.runs, audit: this.audit, flagRevisions: this.flagRevisions, checkResults: this.checkResults, profiles: this.profiles, rollouts: this.rollouts, intents: this.intents, queue: this.queue } = this.stores);
  }

  /** Opens (creating and migrating) the store at `path`. */
  static async open(path: string): Promise<SqliteStore> {
    return new SqliteStore(SqliteDatabase.open(path));
  }

  get path(): string {
    return this.db.path;
  }

  get description(): string {
    return `sqlite ${this.db.path}`;
  }

  transaction<T>(fn: (tx: Stores) => Promise<T>): Promise<T> {
    return this.db.transaction(() => fn(this.stores));
  }

  afterCommit(fn: () => void | Promise<void>): Promise<void> {
    return this.db.afterCommit(fn);
  }

  /** A consistent copy of the store file (SQLite's online backup), for rehearsals. */
  backup(to: string): Promise<void> {
    return this.db.backup(to);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
