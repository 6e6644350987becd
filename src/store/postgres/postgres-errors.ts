import { SluiceError, messageOf } from '../../util/errors.ts';
import { scrub, type PostgresLocation } from './postgres-location.ts';

/** What the client library or the socket layer puts on an error: a SQLSTATE or an errno name. */
function codeOf(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Node tries every address a name resolves to and reports them together (localhost: ::1 and 127.0.0.1).
  const inner = (e as { errors?: unknown }).errors;
  return Array.isArray(inner) ? codeOf(inner[0]) : undefined;
}

/** The SQLSTATE of a server error, for callers that turn one into a domain error (a taken key: CONFLICT). */
export function sqlState(e: unknown): string | undefined {
  const c = codeOf(e);
  return c && /^[0-9A-Z]{5}$/.test(c) ? c : undefined;
}

const TIMEOUT = /timeout exceeded when trying to connect|connection timeout/i;

/**
 * A failure to reach or enter the store's server, as a user can act on it: which setting, which
 * server, what went wrong, and never the password. CONFIG_INVALID, like every other setting that
 * leads nowhere: the command changed nothing.
 */
export function connectionError(e: unknown, where: PostgresLocation): SluiceError {
  const server = `${where.host}:${where.port}`;
  const head = `cannot open the PostgreSQL store ${where.description} (${where.setting})`;
  const code = codeOf(e);
  const raw = scrub(messageOf(e), where);
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
    case 'ECONNRESET':
      why = `${server} closed the connection (${code}); does it expect TLS (sslmode=require)?`;
      break;
    case '28P01':
      why = `password authentication failed for user "${where.user}": check the user and password in ${where.setting}`;
      break;
    case '28000':
      why = `the server refused user "${where.user}": ${raw}`;
      break;
    case '3D000':
      why = `the database "${where.database}" does not exist on ${server}: create it, or name another one in ${where.setting}`;
      break;
    case '42501':
      why = `user "${where.user}" lacks a privilege the store needs (${raw}): it must be allowed to create the schema "${where.schema}" and its tables, or they must exist`;
      break;
    case '53300':
    case '57P03':
      why = `${server} does not accept connections now: ${raw}`;
      break;
    default:
      why = TIMEOUT.test(raw) ? `${server} did not answer within ${where.connectTimeoutMs / 1000} s (connect_timeout in ${where.setting})` : raw;
  }
  return new SluiceError('CONFIG_INVALID', `${head}: ${why}`, { field: where.setting }, [], { cause: e });
}
