import type { PoolConfig } from 'pg';
import { parsePostgresUrl, type PostgresUrl } from '../../util/postgres-url.ts';

/**
 * Where a PostgreSQL store is, read from its URL (`store.url` in sluice.yaml or `SLUICE_STORE_URL`)
 * without connecting: checked, described without the password, and turned into pool settings.
 * This module loads no client library, so the composition root can describe a store (the key of
 * its audit anchors) without opening it. What every PostgreSQL URL shares is read in
 * util/postgres-url.ts.
 *
 * Besides what the client understands (sslmode, application_name, options, …) the URL takes two
 * settings of Sluice's own: `schema` (the PostgreSQL schema the store's tables live in, default
 * `sluice`, so the store can share a database with a warehouse) and `connect_timeout` (seconds to
 * wait for a connection, as in libpq; default 10).
 */
export interface PostgresLocation extends PostgresUrl {
  /** `postgres user@host:port/database (schema sluice)`: no password, for messages and the audit anchor. */
  readonly description: string;
  readonly schema: string;
  readonly poolConfig: PoolConfig;
}

export const DEFAULT_SCHEMA = 'sluice';
const FORM = 'postgres://user[:password]@host[:port]/database[?schema=sluice]';

export function parsePostgresLocation(url: string, setting: string): PostgresLocation {
  // `options` is merged so the store's search path rides on the startup packet.
  const { own, clientUrl, ...where } = parsePostgresUrl(url, setting, FORM, (p) => ({ schema: p.schema('schema', DEFAULT_SCHEMA), options: p.take('options') }));
  const { schema, options } = own;
  return {
    ...where,
    description: `${where.description} (schema ${schema})`,
    schema,
    poolConfig: {
      connectionString: clientUrl.toString(),
      connectionTimeoutMillis: where.connectTimeoutMs,
      // Every connection of the pool sees only the store's schema (pg_catalog is always searched too).
      options: `${options ? `${options} ` : ''}-c search_path=${schema}`,
      application_name: clientUrl.searchParams.get('application_name') ?? 'sluice',
      keepAlive: true,
      max: 5,
      idleTimeoutMillis: 10_000,
      // A command that forgot nothing still should not be kept alive by idle connections.
      allowExitOnIdle: true,
    },
  };
}
