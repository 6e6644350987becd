import type { MetadataStore, Stores } from '../metadata-store.ts';
import { PostgresDatabase } from './postgres-database.ts';
import { parsePostgresLocation, type PostgresLocation } from './postgres-location.ts';
import type { Migration } from './postgres-migrations.ts';
import { postgresStores } from './postgres-stores.ts';

export interface PostgresStoreOptions {
  /** The setting the URL came from, named in errors (default `store.url`). */
  readonly setting?: string;
  /** The schema's migrations (default: this Sluice's); tests pass older lists to build older schemas. */
  readonly migrations?: readonly Migration[];
}

/**
 * The shared metadata store: one PostgreSQL database (its own schema in it, `sluice` unless the
 * URL says `?schema=`), used by the CLI, servers and workers on any number of machines. Every
 * feature store runs on the pool of `PostgresDatabase`, whose transactions the stores join when
 * called inside one.
 */
export class PostgresStore implements MetadataStore {
  readonly runs: Stores['runs'];
  readonly audit: Stores['audit'];
  readonly flagRevisions: Stores['flagRevisions'];
  readonly checkResults: Stores['checkResults'];
  readonly profiles: Stores['profiles'];
  readonly rollouts: Stores['rollouts'];
  readonly intents: Stores['intents'];
  readonly queue: Stores['queue'];

  private constructor(private readonly db: PostgresDatabase) {
    ({ runs: this.runs, audit: this.audit, flagRevisions: this.flagRevisions, checkResults: this.checkResults, profiles: this.profiles, rollouts: this.rollouts, intents: this.intents, queue: this.queue } = postgresStores(db));
  }

  /** Connects to the store at `url`, creating or upgrading its schema; refuses a schema newer than this Sluice. */
  static async open(url: string, o: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const location = parsePostgresLocation(url, o.setting ?? 'store.url');
    return new PostgresStore(await PostgresDatabase.open(location, o.migrations));
  }

  get location(): PostgresLocation {
    return this.db.location;
  }

  get description(): string {
    return this.db.location.description;
  }

  transaction<T>(fn: (tx: Stores) => Promise<T>): Promise<T> {
    return this.db.transaction(() => fn(this));
  }

  afterCommit(fn: () => void | Promise<void>): Promise<void> {
    return this.db.afterCommit(fn);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
