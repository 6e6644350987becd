import { SluiceError, messageOf } from '../../util/errors.ts';

/**
 * Where a PostgreSQL warehouse is, read from its URL (`warehouse.url` in sluice.yaml or
 * `SLUICE_WAREHOUSE_URL`) without connecting: checked, described without its password, and turned
 * into client settings. Besides what the client understands the URL takes Sluice's own settings:
 * `datasets_schema` (where the relations readers query live, default `public`) and
 * `connect_timeout` (seconds, as in libpq; default 10). `{env}` anywhere in the URL is replaced by
 * the environment's name, so one setting gives each environment a database of its own.
 */
export interface PostgresWarehouseLocation {
  /** The setting the URL came from, named in every error about it. */
  readonly setting: string;
  /** `postgres user@host:port/database`: no password, for messages and `Warehouse.location`. */
  readonly description: string;
  readonly datasetsSchema: string;
  readonly connectTimeoutMs: number;
  readonly host: string;
  readonly port: string;
  readonly user: string;
  readonly database: string;
  /** The password, only so error texts can be scrubbed of it. */
  readonly secret: string;
  /** The URL as the client takes it (Sluice's own parameters removed). */
  readonly connectionString: string;
}

/** An unquoted identifier: the schema name goes into SQL as it is. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const FORM = 'postgres://user[:password]@host[:port]/database[?datasets_schema=public]';

export function parseWarehouseLocation(url: string, setting: string, environment?: string): PostgresWarehouseLocation {
  const invalid = (why: string): SluiceError => new SluiceError('CONFIG_INVALID', `${setting} is not a usable PostgreSQL URL (${FORM}): ${why}`, { field: setting });
  let u: URL;
  try {
    u = new URL((environment === undefined ? url : url.replaceAll('{env}', environment)).trim());
  } catch {
    // The parser's own message repeats the input, password included.
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
  const datasetsSchema = params.get('datasets_schema') ?? 'public';
  if (!IDENTIFIER.test(datasetsSchema)) throw invalid(`datasets_schema "${datasetsSchema}" must be a lower-case identifier (letters, digits, _; at most 63)`);
  const timeoutText = params.get('connect_timeout') ?? '10';
  const timeoutS = Number(timeoutText);
  if (!Number.isInteger(timeoutS) || timeoutS < 1 || timeoutS > 3600) throw invalid(`connect_timeout "${timeoutText}" must be a whole number of seconds from 1 to 3600`);
  const path = decode(u.pathname.replace(/^\//, ''), 'database');
  if (path.includes('/')) throw invalid(`"${path}" is not a database name (one path segment)`);
  const user = decode(u.username, 'user') || params.get('user') || process.env['PGUSER'] || '';
  const secret = decode(u.password, 'password');
  const host = u.hostname.replace(/^\[(.+)\]$/, '$1') || params.get('host') || 'localhost';
  const port = u.port || params.get('port') || '5432';
  const database = path || params.get('dbname') || user;
  for (const k of ['datasets_schema', 'connect_timeout']) params.delete(k);
  return {
    setting,
    description: `postgres ${user ? `${user}@` : ''}${host}:${port}/${database}`,
    datasetsSchema,
    connectTimeoutMs: timeoutS * 1000,
    host,
    port,
    user,
    database,
    secret,
    connectionString: u.toString(),
  };
}

/** Replaces the password wherever it appears in a text before it is shown. */
export function scrubSecret(text: string, where: Pick<PostgresWarehouseLocation, 'secret'>): string {
  return where.secret ? text.split(where.secret).join('***') : text;
}

function codeOf(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Node tries every address a name resolves to and reports them together (localhost: ::1 and 127.0.0.1).
  const inner = (e as { errors?: unknown }).errors;
  return Array.isArray(inner) ? codeOf(inner[0]) : undefined;
}

/** The SQLSTATE of a server error (`55P03` lock not available, `23505` unique violation, ...). */
export function sqlStateOf(e: unknown): string | undefined {
  const c = codeOf(e);
  return c && /^[0-9A-Z]{5}$/.test(c) ? c : undefined;
}

/** A failure to reach or enter the warehouse's server, naming the setting and the server, never the password. */
export function warehouseConnectionError(e: unknown, where: PostgresWarehouseLocation): SluiceError {
  const server = `${where.host}:${where.port}`;
  const code = codeOf(e);
  const raw = scrubSecret(messageOf(e), where);
  let why: string;
  switch (code) {
    case 'ECONNREFUSED':
      why = `connection refused by ${server}: is the server running and listening there?`;
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      why = `the host "${where.host}" is not known`;
      break;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      why = `${server} cannot be reached (${code})`;
      break;
    case '28P01':
      why = `password authentication failed for user "${where.user}": check the user and password in ${where.setting}`;
      break;
    case '3D000':
      why = `the database "${where.database}" does not exist on ${server}: create it, or name another one in ${where.setting}`;
      break;
    default:
      why = /timeout/i.test(raw) ? `no connection to ${server} within ${where.connectTimeoutMs / 1000} s (connect_timeout in ${where.setting})` : raw;
  }
  return new SluiceError('CONFIG_INVALID', `cannot open the PostgreSQL warehouse ${where.description} (${where.setting}): ${why}`, { field: where.setting }, [], { cause: e });
}
