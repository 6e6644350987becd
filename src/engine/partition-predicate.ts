import { SluiceError } from '../util/errors.ts';
import { quoteIdent, quoteLiteral } from './sql.ts';

/**
 * The rows of one partition, as a SQL condition on the partition column. A time partition's value
 * names its grain by its shape (`2026-11` month, `2026-11-01` day, `2026-11-01T05` hour), so a
 * temporal column is matched by the partition's half-open local bounds (a monthly dataset may keep
 * its day column); any other column, and any other value, by equality with the value cast to the
 * column's type. A dataset without a partition column has one partition: every row.
 *
 * The bounds are wall-clock (naive) times: temporal partition columns hold local time of the
 * partitioning's zone, so a repeated (fall-back) hour matches both of its occurrences.
 */
export function partitionPredicate(column: string | null | undefined, columnType: string | undefined, value: string): string {
  if (!column) return 'TRUE';
  const col = quoteIdent(column);
  // Type unknown: a bare literal, which the engine casts to the column's type.
  if (columnType === undefined) return `${col} = ${quoteLiteral(value)}`;
  if (zoned(columnType) && naiveBounds(value)) {
    // Instants have no wall-clock hour or day until a zone is chosen; comparing them with local bounds would depend on the session's zone.
    throw new SluiceError('DATA_INVALID', `partition column "${column}" is ${columnType}: time partitions are local wall-clock times; declare the column TIMESTAMP, or cast it where it is computed (CAST(${column} AT TIME ZONE 'Europe/Berlin' AS TIMESTAMP), in the partitioning's zone)`, { field: 'partition_column' });
  }
  const range = temporal(columnType) ? naiveBounds(value) : undefined;
  if (range && !holdsValue(columnType, value)) {
    return `(${col} >= CAST(${quoteLiteral(range.start)} AS TIMESTAMP) AND ${col} < CAST(${quoteLiteral(range.end)} AS TIMESTAMP))`;
  }
  return `${col} = CAST(${quoteLiteral(range ? range.start.slice(0, 10) : value)} AS ${columnType})`;
}

/** Rows of none of `values`: every partition's condition negated (a NULL partition column is in none). */
export function outsidePartitions(column: string | null | undefined, columnType: string | undefined, values: readonly string[]): string {
  if (values.length === 0) return 'TRUE';
  if (!column) return 'FALSE';
  const col = quoteIdent(column);
  const type = columnType ?? 'VARCHAR';
  // Equality partitions in one IN list: engines prune by it, and it stays short for many partitions.
  const equal = values.filter((v) => holdsValue(type, v) && !(zoned(type) && naiveBounds(v)));
  const ranged = values.filter((v) => !equal.includes(v));
  const parts = [
    ...(equal.length ? [`${col} IN (${equal.map((v) => `CAST(${quoteLiteral(temporal(type) ? (naiveBounds(v)?.start.slice(0, 10) ?? v) : v)} AS ${type})`).join(', ')})`] : []),
    ...ranged.map((v) => partitionPredicate(column, type, v)),
  ];
  return `${col} IS NOT NULL AND NOT (${parts.join(' OR ')})`;
}

function zoned(type: string): boolean {
  return /^(TIMESTAMPTZ|TIMESTAMP(\(\d\))? WITH TIME ZONE)$/i.test(type.trim());
}

function temporal(type: string): boolean {
  return /^(DATE|TIMESTAMP(\(\d\))?|TIMESTAMP WITHOUT TIME ZONE|DATETIME|TIMESTAMP_(S|MS|NS))$/i.test(type.trim());
}

interface NaiveBounds {
  readonly grain: 'hour' | 'day' | 'month';
  readonly start: string;
  readonly end: string;
}

/** Wall-clock bounds from the shape of a time partition value; undefined for any other value. */
export function naiveBounds(value: string): NaiveBounds | undefined {
  let m = /^(\d{4})-(\d{2})$/.exec(value);
  if (m) {
    const y = Number(m[1]);
    const mo = Number(m[2]);
    if (mo < 1 || mo > 12) return undefined;
    const next = mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, '0')}`;
    return { grain: 'month', start: `${value}-01 00:00:00`, end: `${next}-01 00:00:00` };
  }
  m = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}))?$/.exec(value);
  if (!m) return undefined;
  const t = Date.parse(`${m[1]}T${m[2] ?? '00'}:00:00Z`);
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== m[1]) return undefined;
  const text = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  return m[2] === undefined ? { grain: 'day', start: text(t), end: text(t + 86_400_000) } : { grain: 'hour', start: text(t), end: text(t + 3_600_000) };
}

/** True when the partition's rows hold the value itself in the column (equality), not a range of times. */
export function holdsValue(columnType: string | undefined, value: string): boolean {
  const type = columnType ?? 'VARCHAR';
  const range = temporal(type) ? naiveBounds(value) : undefined;
  return !range || (range.grain === 'day' && /^DATE$/i.test(type.trim()));
}
