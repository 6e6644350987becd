import * as v from 'valibot';
import { SluiceError, messageOf } from '../../util/errors.ts';

/**
 * The store boundary: JSON read back from a store becomes a domain value only after its schema
 * accepts it. A record that does not fit (a damaged or hand-edited store) is CORRUPT, naming the
 * record and the field.
 */
export function decode<T>(schema: v.GenericSchema<unknown, T>, value: unknown, what: string): T {
  const r = v.safeParse(schema, value);
  if (r.success) return r.output;
  const issue = r.issues[0];
  const path = issue ? v.getDotPath(issue) : null;
  throw new SluiceError('CORRUPT', `${what} in the store is not valid${path ? ` at ${path}` : ''}: ${issue?.message ?? 'rejected'}`);
}

export function decodeJson<T>(schema: v.GenericSchema<unknown, T>, text: unknown, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(String(text));
  } catch (e) {
    throw new SluiceError('CORRUPT', `${what} in the store is not JSON: ${messageOf(e)}`);
  }
  return decode(schema, value, what);
}
