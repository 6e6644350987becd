import { SluiceError, messageOf } from './errors.ts';

/**
 * A PostgreSQL URL as Sluice reads it, shared by the metadata store and the warehouse: checked
 * without connecting, described without its password, and the errors of connecting to it put so a
 * user can act on them (which setting, which server, what went wrong, never the password). This
 * module loads no client library; each side keeps its own query parameters (the store's
 * `schema`, the warehouse's `datasets_schema`) and turns the result into its client's settings.
 *
 * Besides what the client understands, every URL takes `connect_timeout` (seconds to wait for a
 * connection, as in libpq; default 10), which is Sluice's to apply and is removed from the URL the
 * client gets.
 */
export interface PostgresUrl {
  /** The setting the URL came from, named in every error about it (`store.url`, `SLUICE_WAREHOUSE_URL`, …). */
  readonly setting: string;
  /** `postgres user@host:port/database`: no password, for messages. */
  readonly description: string;
  readonly connectTimeoutMs: number;
  /** What the URL holds apart from its password, for connection errors. */
  readonly host: string;
  readonly port: string;
  readonly user: string;
  readonly database: string;
  /** The password, only so error texts can be scrubbed of it (never printed). */
  readonly secret: string;
}

/** How a side reads the query parameters of its own; each one it reads is removed from the URL the client gets. */
export interface OwnParameters {
  /** The value of a parameter, or undefined when the URL has none. */
  take(name: string): string | undefined;
  /** A schema name, `fallback` when absent: an unquoted lower-case identifier, as it goes into SQL as it is. */
  schema(name: string, fallback: string): string;
}

export interface ParsedPostgresUrl<T> extends PostgresUrl {
  /** What the side's own reader returned. */
  readonly own: T;
  /** The URL as the client takes it: `connect_timeout` and the side's own parameters removed. */
  readonly clientUrl: URL;
}

const DEFAULT_CONNECT_TIMEOUT_S = 10;
/** An unquoted PostgreSQL identifier. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Reads a PostgreSQL URL given in `setting`; `form` is the shape shown in every error about it
 * (`postgres://user[:password]@host[:port]/database[?schema=sluice]`), and `own` reads the
 * parameters of the side's own (checked before the ones every URL has).
 */
export function parsePostgresUrl<T>(text: string, setting: string, form: string, own: (p: OwnParameters) => T): ParsedPostgresUrl<T> {
  const invalid = (why: string): SluiceError => new SluiceError('CONFIG_INVALID', `${setting} is not a usable PostgreSQL URL (${form}): ${why}`, { field: setting });
  let u: URL;
  try {
    u = new URL(text.trim());
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
  const taken = new Set<string>(['connect_timeout']);
  const take = (name: string): string | undefined => {
    taken.add(name);
    return params.get(name) ?? undefined;
  };
  const ownValue = own({
    take,
    schema(name, fallback) {
      const schema = take(name) ?? fallback;
      if (!IDENTIFIER.test(schema)) throw invalid(`${name} "${schema}" must be a lower-case identifier (letters, digits, _; at most 63)`);
      return schema;
    },
  });
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
  for (const k of taken) params.delete(k);
  return {
    setting,
    description: `postgres ${user ? `${user}@` : ''}${host}:${port}/${database}`,
    connectTimeoutMs: timeoutS * 1000,
    host,
    port,
    user,
    database,
    secret,
    own: ownValue,
    clientUrl: u,
  };
}

/** Replaces the password wherever it appears in a text (a server or driver message) before it is shown. */
export function scrubSecret(text: string, where: Pick<PostgresUrl, 'secret'>): string {
  return where.secret ? text.split(where.secret).join('***') : text;
}

/** What the client library or the socket layer puts on an error: a SQLSTATE or an errno name. */
function codeOf(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Node tries every address a name resolves to and reports them together (localhost: ::1 and 127.0.0.1).
  const inner = (e as { errors?: unknown }).errors;
  return Array.isArray(inner) ? codeOf(inner[0]) : undefined;
}

/** The SQLSTATE of a server error, for callers that turn one into a domain error (`23505` a taken key, `55P03` a lock not available, ...). */
export function sqlStateOf(e: unknown): string | undefined {
  const c = codeOf(e);
  return c && /^[0-9A-Z]{5}$/.test(c) ? c : undefined;
}

/** The client's words for a connection that did not come within the connect timeout (pool and client). */
const TIMEOUT = /timeout exceeded when trying to connect|connection timeout/i;

/**
 * A failure to reach or enter the server of `what` (`store`, `warehouse`), as a user can act on it:
 * which setting, which server, what went wrong, and never the password. `own` words the failures
 * that only that side knows how to explain (it gets the error's code and its scrubbed message and
 * returns undefined for the rest). CONFIG_INVALID, like every other setting that leads nowhere:
 * the command changed nothing.
 */
export function postgresConnectionError(e: unknown, where: PostgresUrl, what: string, own?: (code: string | undefined, raw: string) => string | undefined): SluiceError {
  const server = `${where.host}:${where.port}`;
  const code = codeOf(e);
  const raw = scrubSecret(messageOf(e), where);
  const why = own?.(code, raw) ?? commonReason(code, raw, server, where);
  return new SluiceError('CONFIG_INVALID', `cannot open the PostgreSQL ${what} ${where.description} (${where.setting}): ${why}`, { field: where.setting }, [], { cause: e });
}

function commonReason(code: string | undefined, raw: string, server: string, where: PostgresUrl): string {
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${server}: is the server running and listening there?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host "${where.host}" is not known`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return `${server} cannot be reached (${code})`;
    case 'ECONNRESET':
      return `${server} closed the connection (${code}); does it expect TLS (sslmode=require)?`;
    case '28P01':
      return `password authentication failed for user "${where.user}": check the user and password in ${where.setting}`;
    case '28000':
      return `the server refused user "${where.user}": ${raw}`;
    case '3D000':
      return `the database "${where.database}" does not exist on ${server}: create it, or name another one in ${where.setting}`;
    case '53300':
    case '57P03':
      return `${server} does not accept connections now: ${raw}`;
    default:
      return TIMEOUT.test(raw) ? `${server} did not answer within ${where.connectTimeoutMs / 1000} s (connect_timeout in ${where.setting})` : raw;
  }
}
