import type { PoolConfig } from 'pg';
import { SluiceError } from '../../util/errors.ts';

/**
 * Where a PostgreSQL store is, read from its URL (`store.url` in sluice.yaml or `SLUICE_STORE_URL`)
 * without connecting: checked, described without the password, and turned into pool settings.
 * This module loads no client library, so the composition root can describe a store (the key of
 * its audit anchors) without opening it.
 *
 * Besides what the client understands (sslmode, application_name, options, …) the URL takes two
 * settings of Sluice's own: `schema` (the PostgreSQL schema the store's tables live in, default
 * `sluice`, so the store can share a database with a warehouse) and `connect_timeout` (seconds to
 * wait for a connection, as in libpq; default 10).
 */
export interface PostgresLocation {
  /** The setting the URL came from, named in every error about it (`store.url`, `SLUICE_STORE_URL`). */
  readonly setting: string;
  /** `postgres user@host:port/database (schema sluice)`: no password, for messages and the audit anchor. */
  readonly description: string;
  readonly schema: string;
  readonly connectTimeoutMs: number;
  /** What the URL holds apart from its password, for connection errors. */
  readonly host: string;
  readonly port: string;
  readonly user: string;
  readonly database: string;
  /** The password, so error texts can be scrubbed of it (never printed). */
  readonly secret: string;
  readonly poolConfig: PoolConfig;
}

export const DEFAULT_SCHEMA = 'sluice';
const DEFAULT_CONNECT_TIMEOUT_S = 10;
/** An unquoted PostgreSQL identifier: the schema name goes into SQL and into `search_path` as it is. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const FORM = 'postgres://user[:password]@host[:port]/database[?schema=sluice]';

export function parsePostgresLocation(url: string, setting: string): PostgresLocation {
  const invalid = (why: string): SluiceError => new SluiceError('CONFIG_INVALID', `${setting} is not a usable PostgreSQL URL (${FORM}): ${why}`, { field: setting });
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    // The URL parser's own message repeats the input, password included: say what is wrong instead.
    throw invalid('it cannot be parsed (a port that is not a number, or a password with unescaped characters such as @ / # ? that must be percent-encoded)');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw invalid(`it starts with ${u.protocol}// instead of postgres://`);
  const decode = (s: string, what: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw invalid(`its ${what} has a malformed percent-encoding`);
    }
  };
  const params = u.searchParams;
  const schema = params.get('schema') ?? DEFAULT_SCHEMA;
  if (!IDENTIFIER.test(schema)) throw invalid(`schema "${schema}" must be a lower-case identifier (letters, digits, _; at most 63)`);
  const timeoutText = params.get('connect_timeout') ?? String(DEFAULT_CONNECT_TIMEOUT_S);
  const timeoutS = Number(timeoutText);
  if (!Number.isInteger(timeoutS) || timeoutS < 1 || timeoutS > 3600) throw invalid(`connect_timeout "${timeoutText}" must be a whole number of seconds from 1 to 3600`);
  const path = decode(u.pathname.replace(/^\//, ''), 'database');
  if (path.includes('/')) throw invalid(`"${path}" is not a database name (one path segment)`);
  const user = decode(u.username, 'user') || params.get('user') || process.env['PGUSER'] || '';
  const secret = decode(u.password, 'password');
  const host = u.hostname.replace(/^\[(.+)\]$/, '$1') || params.get('host') || 'localhost';
  const port = u.port || params.get('port') || '5432';
  const database = path || params.get('dbname') || user;
  const given = params.get('options');
  // Sluice's own settings are not the client's; `options` is merged so the store's search path rides on the startup packet.
  for (const k of ['schema', 'connect_timeout', 'options']) params.delete(k);
  const connectTimeoutMs = timeoutS * 1000;
  return {
    setting,
    description: `postgres ${user ? `${user}@` : ''}${host}:${port}/${database} (schema ${schema})`,
    schema,
    connectTimeoutMs,
    host,
    port,
    user,
    database,
    secret,
    poolConfig: {
      connectionString: u.toString(),
      connectionTimeoutMillis: connectTimeoutMs,
      // Every connection of the pool sees only the store's schema (pg_catalog is always searched too).
      options: `${given ? `${given} ` : ''}-c search_path=${schema}`,
      application_name: params.get('application_name') ?? 'sluice',
      keepAlive: true,
      max: 5,
      idleTimeoutMillis: 10_000,
      // A command that forgot nothing still should not be kept alive by idle connections.
      allowExitOnIdle: true,
    },
  };
}

/** Replaces the password wherever it appears in a text (a server or driver message) before it is shown. */
export function scrub(text: string, location: Pick<PostgresLocation, 'secret'>): string {
  return location.secret ? text.split(location.secret).join('***') : text;
}
