import type pg from 'pg';
import { crashPoint } from '../../util/crash-point.ts';
import { SluiceError } from '../../util/errors.ts';
import { sqlStateOf } from '../../util/postgres-url.ts';
import { quoteIdent } from '../sql.ts';
import type { Publication, PublishItem, PublishMeta } from '../warehouse.ts';
import { addDataset, applyFence, datasetInfo, pointedTables, pointersOf, recordPublication, versionRelation, versionsByIds } from './postgres-warehouse-catalog.ts';

export interface PublishSettings {
  /** Schema of the relations readers query. */
  readonly datasetsSchema: string;
  /**
   * How long the view replacement may wait for the view's lock before it lets go and tries again
   * (ms). While it waits in the lock queue, new readers of the dataset queue behind it: this is the
   * longest a new reader is held up by a publish (docs/decisions/0009).
   */
  readonly lockTimeoutMs: number;
  /** How long a publish keeps trying while readers hold the dataset's view (ms); then CONFLICT. */
  readonly waitMs: number;
}

/**
 * A publish in one transaction: the dataset locks of its datasets (an advisory lock each, so
 * publishes of one dataset from any process take turns), the checks, compare-and-set against the
 * pointers, the fencing token of a queued run, the log rows and pointer moves, and per dataset a CREATE OR REPLACE VIEW over the
 * version tables now pointed to. No row is copied. Everything commits together or not at all.
 *
 * Replacing a view takes ACCESS EXCLUSIVE on it; a reader in the middle of a query holds ACCESS
 * SHARE, and every reader that arrives after the replacement started queues behind it. So the
 * replacement waits at most `lockTimeoutMs` (SET LOCAL lock_timeout), rolls back to a savepoint
 * (releasing its place in the queue, so the readers behind it go on) and tries again after a pause.
 */
export async function publishInTransaction(client: pg.PoolClient, items: readonly PublishItem[], meta: PublishMeta, settings: PublishSettings): Promise<Publication[]> {
  const datasets = [...new Set(items.map((i) => i.dataset))].sort();
  await client.query('BEGIN');
  try {
    // Sorted, so two publishes of overlapping datasets cannot deadlock.
    for (const d of datasets) await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sluice publish ${d}`]);
    const versions = await versionsByIds(client, items.map((i) => i.versionId));
    for (const item of items) {
      const v = versions.get(item.versionId);
      if (!v) throw new SluiceError('NOT_FOUND', `no output version ${item.versionId}`, { field: 'version' });
      if (v.partition !== item.partition) throw new SluiceError('USAGE', `output version ${item.versionId} holds partition ${v.partition}, not ${item.partition}`, { field: 'partition' });
    }
    for (const item of items) {
      const v = versions.get(item.versionId);
      if (!v) continue;
      const known = await datasetInfo(client, item.dataset);
      if (!known) await addDataset(client, { name: item.dataset, partitionColumn: item.partitionColumn, columns: v.columns });
      else if (signature(known.columns) !== signature(v.columns)) {
        throw new SluiceError('DATA_INVALID', `output ${v.id} of step ${v.step} (${v.stepVersion}) has columns (${signature(v.columns)}) but dataset ${item.dataset} has (${signature(known.columns)})`, { step: v.step, version: v.stepVersion });
      }
    }
    const pointers = new Map<string, Map<string, string>>();
    for (const d of datasets) pointers.set(d, await pointersOf(client, d));
    const shown = (i: PublishItem): string | null => pointers.get(i.dataset)?.get(i.partition) ?? null;
    const stale = items.filter((i) => i.expected !== undefined && shown(i) !== i.expected);
    if (stale.length > 0) {
      throw new SluiceError('CONFLICT', `publish refused: ${stale.map((i) => `${i.dataset} ${i.partition} shows ${shown(i) ?? 'nothing'}, not ${i.expected ?? 'nothing'}`).join('; ')}`, { field: 'expected' });
    }
    if (meta.fence) await applyFence(client, meta.fence.item, meta.fence.token);
    const at = meta.at.toISOString();
    const out: Publication[] = [];
    for (const i of items) {
      const previous = pointers.get(i.dataset)?.get(i.partition) ?? null;
      out.push(await recordPublication(client, { dataset: i.dataset, partition: i.partition, versionId: i.versionId, runId: meta.runId, actor: meta.actor, reason: meta.reason, at, rollout: i.rollout ?? null, intent: meta.intent ?? null }, previous));
      pointers.get(i.dataset)?.set(i.partition, i.versionId);
    }
    await replaceViews(client, datasets, settings);
    // Killed here, the server rolls the open transaction back: the publish did not happen.
    crashPoint('publish.before-commit');
    await client.query('COMMIT');
    crashPoint('publish.committed');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/**
 * The views of the datasets over their pointed version tables, replaced together with a bounded
 * wait for their locks. A timeout on any of them rolls all of them back to the savepoint, so a
 * view already replaced does not stay locked while another one waits.
 */
async function replaceViews(client: pg.PoolClient, datasets: readonly string[], settings: PublishSettings): Promise<void> {
  const statements: { view: string; sql: string }[] = [];
  for (const dataset of datasets) {
    const info = await datasetInfo(client, dataset);
    const tables = await pointedTables(client, dataset);
    if (!info || tables.length === 0) continue;
    const cols = info.columns.map((c) => quoteIdent(c.name)).join(', ');
    const view = `${quoteIdent(settings.datasetsSchema)}.${quoteIdent(dataset)}`;
    statements.push({ view, sql: `CREATE OR REPLACE VIEW ${view} AS\n${tables.map((t) => `SELECT ${cols} FROM ${versionRelation(t.tableName)}`).join('\nUNION ALL\n')}` });
  }
  const deadline = Date.now() + settings.waitMs;
  for (let attempt = 1; ; attempt++) {
    await client.query('SAVEPOINT sluice_views');
    await client.query(`SET LOCAL lock_timeout = '${Math.max(1, Math.trunc(settings.lockTimeoutMs))}ms'`);
    let current = '';
    try {
      for (const s of statements) {
        current = s.view;
        await client.query(s.sql);
      }
      await client.query('RELEASE SAVEPOINT sluice_views');
      return;
    } catch (e) {
      await client.query('ROLLBACK TO SAVEPOINT sluice_views');
      if (sqlStateOf(e) !== '55P03') throw e;
      if (Date.now() > deadline) {
        throw new SluiceError('CONFLICT', `publish gave up after ${(settings.waitMs / 1000).toFixed(1)} s: readers kept ${current} in use (a long query, or an open transaction that read it); nothing was published`, { field: 'dataset' });
      }
      // The readers queued behind the attempt go first; the pause grows so a long reader is not polled hard.
      await new Promise((r) => setTimeout(r, Math.min(250, 5 * attempt) + Math.random() * 5));
    }
  }
}

function signature(columns: readonly { name: string; type: string }[]): string {
  return columns.map((c) => `${c.name} ${c.type}`).join(', ');
}
