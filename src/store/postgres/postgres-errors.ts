import type { SluiceError } from '../../util/errors.ts';
import { postgresConnectionError } from '../../util/postgres-url.ts';
import type { PostgresLocation } from './postgres-location.ts';

/**
 * A failure to reach or enter the store's server, as a user can act on it (util/postgres-url.ts
 * words what every PostgreSQL connection shares); a missing privilege names what the store needs.
 */
export function connectionError(e: unknown, where: PostgresLocation): SluiceError {
  return postgresConnectionError(e, where, 'store', (code, raw) =>
    code === '42501' ? `user "${where.user}" lacks a privilege the store needs (${raw}): it must be allowed to create the schema "${where.schema}" and its tables, or they must exist` : undefined,
  );
}
