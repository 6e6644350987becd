/**
 * What a run binds as its partition: the value, and for time partitions its half-open bounds as
 * local wall-clock time (naive `YYYY-MM-DD HH:MM:SS`) and as instants (ISO, UTC). Step SQL reads it
 * as the one-row relation `sluice_partition(value, starts_at, ends_at, starts_at_utc, ends_at_utc)`.
 */
export interface PartitionBinding {
  readonly value: string;
  readonly startsAt: string | null;
  readonly endsAt: string | null;
  readonly startsAtUtc: string | null;
  readonly endsAtUtc: string | null;
}

/** The name step SQL reads the partition by; it is no source and no step. */
export const PARTITION_RELATION = 'sluice_partition';

/** The one partition of an unpartitioned dataset (a full refresh each run). */
export const WHOLE = '*';

/** The columns of `sluice_partition`, as validate declares them to bind step SQL. */
export const PARTITION_COLUMNS: readonly { readonly name: string; readonly type: string }[] = [
  { name: 'value', type: 'VARCHAR' },
  { name: 'starts_at', type: 'TIMESTAMP' },
  { name: 'ends_at', type: 'TIMESTAMP' },
  { name: 'starts_at_utc', type: 'TIMESTAMPTZ' },
  { name: 'ends_at_utc', type: 'TIMESTAMPTZ' },
];
