import { Duration } from 'luxon';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * Seconds in a duration written as `90s`, `15m`, `6h`, `1d12h`, `2w` or ISO 8601 (`PT6H`, `P1D`).
 * Returns undefined for anything else.
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^P/i.test(t)) {
    const d = Duration.fromISO(t.toUpperCase());
    return d.isValid ? d.as('seconds') : undefined;
  }
  if (!/^(\d+(\.\d+)?[smhdw])+$/i.test(t)) return undefined;
  let total = 0;
  for (const m of t.toLowerCase().matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)) total += Number(m[1]) * (UNIT_SECONDS[m[2] ?? 's'] ?? 1);
  return total;
}
