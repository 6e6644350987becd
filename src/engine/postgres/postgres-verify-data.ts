import type pg from 'pg';
import { SluiceError } from '../../util/errors.ts';
import type { Row } from '../sql-engine.ts';
import type { DataVerdict } from '../warehouse.ts';
import { currentPublications, versionRelation, versionsByIds } from './postgres-warehouse-catalog.ts';
import { toRows } from './postgres-values.ts';
import { versionFingerprint } from './postgres-warehouse-session.ts';

/**
 * Every published partition (of the datasets or partitions asked) checked against what its version
 * recorded when it was written: row count and order-free fingerprint of the version's table, which
 * is what the dataset's view shows for that partition. There is no second copy to repair from, so
 * `repair` changes nothing: a damaged version table stays a failed verdict.
 */
export async function verifyPublishedData(pool: pg.Pool, o: { datasets?: readonly string[]; partitions?: ReadonlyMap<string, readonly string[]>; repair?: boolean }): Promise<DataVerdict[]> {
  const pubs = (await currentPublications(pool)).filter((p) => (!o.datasets || o.datasets.includes(p.dataset)) && (!o.partitions || (o.partitions.get(p.dataset) ?? []).includes(p.partition)));
  const versions = await versionsByIds(pool, pubs.map((p) => p.versionId));
  const query = async (sql: string): Promise<Row[]> => toRows(await pool.query(sql));
  const out: DataVerdict[] = [];
  for (const p of pubs) {
    const v = versions.get(p.versionId);
    if (!v) throw new SluiceError('CORRUPT', `dataset ${p.dataset} partition ${p.partition} points to output version ${p.versionId}, which the catalog does not hold`);
    const relation = versionRelation(v.tableName);
    const expected = { rows: v.rowCount, fingerprint: v.fingerprint };
    let found = { rows: -1, fingerprint: '' };
    let problem: string | undefined;
    try {
      const fingerprint = await versionFingerprint(query, relation, v.columns);
      found = { rows: Number(fingerprint.split(':')[0]), fingerprint };
      if (fingerprint !== v.fingerprint) problem = `the rows of ${relation} differ from what version ${v.id} recorded`;
    } catch (e) {
      problem = `${relation} cannot be read: ${e instanceof Error ? e.message : String(e)}`;
    }
    out.push({ dataset: p.dataset, partition: p.partition, versionId: v.id, ok: problem === undefined, expected, found, servedBy: relation, repaired: false, ...(problem ? { problem } : {}) });
  }
  return out;
}
