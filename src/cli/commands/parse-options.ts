import { parseDecimal } from '../../util/decimal.ts';
import { SluiceError } from '../../util/errors.ts';

export function positiveInt(v: string, what: string): number {
  const n = parseDecimal(v, { integer: true });
  if (n === undefined || n <= 0) throw new SluiceError('USAGE', `${what} takes a positive whole number in decimal digits (got "${v}")`, { field: what });
  return n;
}
