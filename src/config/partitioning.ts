import { DateTime } from 'luxon';
import { WHOLE, type PartitionBinding } from '../engine/partition-binding.ts';
import { SluiceError } from '../util/errors.ts';

/**
 * How a dataset (and so its pipeline) is cut into partitions: not at all (a full refresh each
 * run), by a time grain in a time zone, or by a declared list of values (tenants, regions).
 *
 * Partition values are text: `*` for the whole table, `2026-11-01` (day), `2026-11` (month),
 * `2026-11-01T05` (hour, local wall-clock time in the zone), or one of the declared values.
 *
 * Daylight saving, for hourly partitions: a partition is a local wall-clock hour. An hour that the
 * clocks skip (spring forward) does not exist: `backfill` walks past it and `run` refuses it; an
 * hour the clocks repeat (fall back) is one partition two real hours long, so its UTC bounds are
 * two hours apart while its local bounds are one.
 */
export type Partitioning =
  | { readonly kind: 'whole' }
  | { readonly kind: 'time'; readonly grain: TimeGrain; readonly timeZone: string }
  | { readonly kind: 'values'; readonly values: readonly string[] };

export type TimeGrain = 'hour' | 'day' | 'month';

export { WHOLE };

export const DAILY: Partitioning = { kind: 'time', grain: 'day', timeZone: 'UTC' };

const SHAPES: Record<TimeGrain, { readonly re: RegExp; readonly example: string; readonly format: string }> = {
  day: { re: /^\d{4}-\d{2}-\d{2}$/, example: '2026-11-01', format: 'yyyy-MM-dd' },
  month: { re: /^\d{4}-\d{2}$/, example: '2026-11', format: 'yyyy-MM' },
  hour: { re: /^\d{4}-\d{2}-\d{2}T\d{2}$/, example: '2026-11-01T05', format: "yyyy-MM-dd'T'HH" },
};

export function describePartitioning(p: Partitioning): string {
  if (p.kind === 'whole') return 'unpartitioned (the whole table)';
  if (p.kind === 'values') return `one of ${p.values.join(', ')}`;
  return `${p.grain === 'day' ? 'daily' : p.grain === 'hour' ? 'hourly' : 'monthly'} (${SHAPES[p.grain].example}${p.timeZone !== 'UTC' ? `, ${p.timeZone}` : ''})`;
}

export function samePartitioning(a: Partitioning, b: Partitioning): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'time' && b.kind === 'time') return a.grain === b.grain && a.timeZone === b.timeZone;
  if (a.kind === 'values' && b.kind === 'values') return a.values.join('\0') === b.values.join('\0');
  return true;
}

/** True when `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  return DateTime.now().setZone(zone).isValid;
}

/** The local start of a time partition, or a reason it is not one. */
function localStart(p: Extract<Partitioning, { kind: 'time' }>, value: string): DateTime | string {
  const shape = SHAPES[p.grain];
  if (!shape.re.test(value)) return `takes ${p.grain === 'hour' ? 'an hour' : `a ${p.grain}`} as ${shape.example}`;
  const t = DateTime.fromFormat(value, shape.format, { zone: p.timeZone });
  if (!t.isValid) {
    // Luxon calls a skipped local hour invalid only with some zones; the round trip below catches the rest.
    return `is not a ${p.grain} (${t.invalidExplanation ?? t.invalidReason ?? 'invalid'})`;
  }
  if (t.toFormat(shape.format) !== value) return p.grain === 'hour' ? `does not exist in ${p.timeZone}: the clocks skip that hour` : `is not a ${p.grain}`;
  return t;
}

/**
 * Checks a partition value against the partitioning and returns what a run binds: the value, and
 * for time partitions its half-open bounds as local wall-clock time and as instants.
 */
export function resolvePartition(p: Partitioning, value: string | undefined, field = '--partition'): PartitionBinding {
  if (p.kind === 'whole') {
    if (value !== undefined && value !== WHOLE) throw new SluiceError('USAGE', `${field}: the pipeline's datasets are unpartitioned (a run computes the whole table); leave ${field} out`, { field });
    return { value: WHOLE, startsAt: null, endsAt: null, startsAtUtc: null, endsAtUtc: null };
  }
  if (value === undefined || value === '' || value === WHOLE) throw new SluiceError('USAGE', `${field} is required: the pipeline is partitioned ${describePartitioning(p)}`, { field });
  if (p.kind === 'values') {
    if (!p.values.includes(value)) throw new SluiceError('USAGE', `${field} ${JSON.stringify(value)} is not a declared partition (values: ${p.values.join(', ')})`, { field });
    return { value, startsAt: null, endsAt: null, startsAtUtc: null, endsAtUtc: null };
  }
  const found = localStart(p, value);
  if (typeof found === 'string') throw new SluiceError('USAGE', `${field} ${JSON.stringify(value)} ${found}`, { field });
  let start = found;
  let end: DateTime;
  if (p.grain === 'hour') {
    // An hour's instants are those whose local label is the value: walked in quarter hours (every
    // zone's offsets are multiples of 15 minutes), so a repeated hour (fall back) starts at its
    // first occurrence and ends after its last, and half-hour shifts (Lord Howe) still tile time.
    const label = (t: DateTime): string => t.toFormat(SHAPES.hour.format);
    while (label(start.minus({ minutes: 15 })) === value) start = start.minus({ minutes: 15 });
    end = start.plus({ minutes: 15 });
    for (let i = 0; i < 16 && label(end) <= value; i++) end = end.plus({ minutes: 15 });
  } else {
    end = p.grain === 'day' ? start.plus({ days: 1 }).startOf('day') : start.plus({ months: 1 }).startOf('month');
  }
  return {
    value,
    startsAt: p.grain === 'hour' ? `${value.replace('T', ' ')}:00:00` : start.toFormat('yyyy-MM-dd HH:mm:ss'),
    endsAt: p.grain === 'hour' ? naiveHourAfter(value) : end.toFormat('yyyy-MM-dd HH:mm:ss'),
    startsAtUtc: start.toUTC().toISO({ suppressMilliseconds: true }) ?? '',
    endsAtUtc: end.toUTC().toISO({ suppressMilliseconds: true }) ?? '',
  };
}

/** The wall-clock hour after an hour value, as naive text: 02:00 -> 03:00 even where the clocks skip or repeat. */
function naiveHourAfter(value: string): string {
  return DateTime.fromFormat(value, SHAPES.hour.format, { zone: 'UTC' }).plus({ hours: 1 }).toFormat('yyyy-MM-dd HH:mm:ss');
}

/** Every partition from `from` to `to`, both included; skipped hours (spring forward) are left out. */
export function partitionsBetween(p: Partitioning, from: string, to: string): string[] {
  if (p.kind !== 'time') throw new SluiceError('USAGE', `--from/--to walk time partitions; this pipeline is partitioned ${describePartitioning(p)}${p.kind === 'values' ? ': use --partitions a,b or leave both out for all' : ': leave them out'}`, { field: '--from' });
  const a = localStart(p, from);
  const b = localStart(p, to);
  if (typeof a === 'string') throw new SluiceError('USAGE', `--from ${JSON.stringify(from)} ${a}`, { field: '--from' });
  if (typeof b === 'string') throw new SluiceError('USAGE', `--to ${JSON.stringify(to)} ${b}`, { field: '--to' });
  if (b < a) throw new SluiceError('USAGE', `--to ${to} is before --from ${from}`, { field: '--to' });
  const shape = SHAPES[p.grain];
  const out: string[] = [];
  const limit = 1_000_000;
  // Walk wall-clock values (in UTC, where every hour exists) and keep those that exist in the zone.
  const naive = (v: string): DateTime => DateTime.fromFormat(v, shape.format, { zone: 'UTC' });
  for (let t = naive(from); t <= naive(to) && out.length < limit; t = t.plus(p.grain === 'hour' ? { hours: 1 } : p.grain === 'day' ? { days: 1 } : { months: 1 })) {
    const v = t.toFormat(shape.format);
    if (typeof localStart(p, v) !== 'string') out.push(v);
  }
  return out;
}

/** The partitions `backfill` walks when given a list (`--partitions a,b`) or nothing (every declared value, or the whole table). */
export function listedPartitions(p: Partitioning, listed: readonly string[] | undefined): string[] {
  if (p.kind === 'whole') {
    if (listed && listed.some((v) => v !== WHOLE)) throw new SluiceError('USAGE', `--partitions: the pipeline's datasets are unpartitioned; leave it out`, { field: '--partitions' });
    return [WHOLE];
  }
  if (!listed) {
    if (p.kind === 'values') return [...p.values];
    throw new SluiceError('USAGE', `backfill of a ${describePartitioning(p)} pipeline takes --from and --to, or --partitions a,b`, { field: '--from' });
  }
  for (const v of listed) resolvePartition(p, v, '--partitions');
  return [...new Set(listed)];
}
