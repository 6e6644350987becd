import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { crashPoint } from '../../util/crash-point.ts';
import { SluiceError } from '../../util/errors.ts';
import { quoteIdent, quoteLiteral } from '../sql.ts';
import type { ColumnInfo } from '../warehouse.ts';
import type { DuckDBSession } from './duckdb-engine.ts';

/**
 * Immutable data files: one DuckDB database file per output version (and per compacted segment),
 * holding one table `data`. A file is written under a temporary name (ATTACH, CREATE TABLE AS,
 * CHECKPOINT, DETACH: no write-ahead log is left), flushed to disk, renamed into place and its
 * folder flushed, all before any catalog row names it; it is never opened for writing again.
 * Readers (Sluice, or any DuckDB in another process) attach it READ_ONLY.
 */

export interface WrittenFile {
  readonly rowCount: number;
  /** Row count, XOR and sum of row hashes: equal for equal multisets of rows, in any order. */
  readonly fingerprint: string;
  readonly bytes: number;
  readonly columns: readonly ColumnInfo[];
}

let writes = 0;

/** Fsyncs a file or a folder (a rename is durable only once its folder is). */
export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The order-free fingerprint of a relation: `rows:xor:sum` of its row hashes, the columns taken in
 * name order (so two files holding the same rows in another column order agree).
 */
export function fingerprintSql(relation: string, columns: readonly ColumnInfo[], where = ''): string {
  const cols = [...columns].map((c) => c.name).sort().map(quoteIdent).join(', ');
  return `SELECT count(*)::BIGINT AS n, coalesce(bit_xor(h), 0)::UBIGINT AS x, coalesce(sum(h::HUGEINT), 0)::HUGEINT AS s FROM (SELECT hash(${cols}) AS h FROM ${relation}${where ? ` WHERE ${where}` : ''}) t`;
}

export function fingerprintOf(row: Readonly<Record<string, unknown>> | undefined): { rows: number; fingerprint: string } {
  const n = Number(row?.['n'] ?? 0);
  return { rows: n, fingerprint: `${n}:${String(row?.['x'] ?? 0)}:${String(row?.['s'] ?? 0)}` };
}

/**
 * Writes `select` (run on `conn`, so it sees the connection's temp views) into a new data file at
 * `path`. Throws with nothing left behind under the final name when the query fails.
 */
export async function writeDataFile(conn: DuckDBSession, path: string, select: string, o: { crashPrefix?: string } = {}): Promise<WrittenFile> {
  const tmp = `${path}.tmp`;
  for (const f of [tmp, `${tmp}.wal`]) if (existsSync(f)) rmSync(f);
  if (existsSync(path)) throw new SluiceError('CONFLICT', `data file ${path} exists already`);
  const alias = quoteIdent(`sluice_write_${process.pid}_${++writes}`);
  await conn.exec(`ATTACH ${quoteLiteral(tmp)} AS ${alias}`);
  let attached = true;
  try {
    await conn.exec(`CREATE TABLE ${alias}.data AS ${select}`);
    crashPoint(`${o.crashPrefix ?? 'data'}.written`);
    const columns = (await conn.query(`DESCRIBE ${alias}.data`)).map((r) => ({ name: String(r['column_name']), type: String(r['column_type']) }));
    const fp = fingerprintOf((await conn.query(fingerprintSql(`${alias}.data`, columns)))[0]);
    await conn.exec(`CHECKPOINT ${alias}`);
    await conn.exec(`DETACH ${alias}`);
    attached = false;
    if (existsSync(`${tmp}.wal`)) throw new SluiceError('INTERNAL', `a write-ahead log was left beside ${tmp} after it was detached`);
    fsyncPath(tmp);
    renameSync(tmp, path);
    fsyncPath(dirname(path));
    crashPoint(`${o.crashPrefix ?? 'data'}.renamed`);
    return { rowCount: fp.rows, fingerprint: fp.fingerprint, bytes: statSync(path).size, columns };
  } catch (e) {
    if (attached) await conn.exec(`DETACH ${alias}`).catch(() => undefined);
    for (const f of [tmp, `${tmp}.wal`]) if (existsSync(f)) rmSync(f, { force: true });
    throw e;
  }
}
