import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { crashPoint } from '../../util/crash-point.ts';
import type { GcItem, GcPlan, GcReport } from '../warehouse.ts';
import type { DuckDBWarehouse } from './duckdb-warehouse.ts';

/**
 * Retention. An output version is held while any of these holds it: a publication points at it;
 * it is among the newest `keepVersions` of its step and partition; it is younger than `keepFor`;
 * the caller holds it (a rollout's baseline or candidate); a reader catalog written within the
 * grace period names its file; another process has its file open (a read-write open of it fails).
 * Everything else is deleted: first marked in one catalog transaction (so nothing can publish it
 * again), then its file removed. A crash between the two leaves files that the next gc removes; a
 * crash never deletes a held version. Retired segments and stray files (older than the grace
 * period: writes cut short, versions of runs that never recorded them) go the same way.
 */
export async function collectGarbage(w: DuckDBWarehouse, plan: GcPlan): Promise<GcReport> {
  const { policy, now } = plan;
  const held = new Map<string, string>();
  const hold = (id: string, reason: string): void => void (held.has(id) ? undefined : held.set(id, reason));
  const versions = w.catalog.versions();
  for (const m of w.catalog.pointers().values()) for (const id of m.values()) hold(id, 'published');
  for (const [id, reason] of plan.hold) hold(id, reason);
  const byPartition = new Map<string, typeof versions>();
  for (const v of versions) {
    const k = `${v.step}\0${v.partition}`;
    const list = byPartition.get(k) ?? [];
    list.push(v);
    byPartition.set(k, list);
  }
  for (const list of byPartition.values()) {
    for (const v of [...list].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1)).slice(0, policy.keepVersions)) hold(v.id, `among the newest ${policy.keepVersions} of ${v.step} ${v.partition}`);
  }
  const horizon = new Date(now.getTime() - policy.keepForMs).toISOString();
  for (const v of versions) if (v.createdAt >= horizon) hold(v.id, `younger than the retention horizon`);
  const graceSince = new Date(now.getTime() - policy.graceMs).toISOString();
  const named = w.catalog.filesNamedSince(graceSince);
  for (const v of versions) if (named.has(v.file)) hold(v.id, 'named by a recent reader catalog');

  const candidates: GcItem[] = [];
  const heldOut: { id: string; reason: string }[] = [...held].map(([id, reason]) => ({ id, reason }));
  for (const v of versions) {
    if (held.has(v.id)) continue;
    const file = join(w.folder, v.file);
    if (existsSync(file) && (await openElsewhere(w, v.alias, file))) {
      heldOut.push({ id: v.id, reason: 'another process has its file open' });
      continue;
    }
    candidates.push({ kind: 'version', id: v.id, rows: v.rowCount, bytes: existsSync(file) ? statSync(file).size : 0 });
  }
  const allSegments = w.catalog.segments(undefined, { includeRetired: true });
  const segments = allSegments.filter((s) => s.retiredAt !== null && !named.has(s.file));
  const segmentItems: GcItem[] = [];
  for (const s of segments) {
    const file = join(w.folder, s.file);
    if (existsSync(file) && (await openElsewhere(w, s.alias, file))) continue;
    segmentItems.push({ kind: 'segment', id: s.id, rows: s.rowCount, bytes: existsSync(file) ? statSync(file).size : 0 });
  }
  // Stray files: not a live version or segment, and old enough that no write is still making them.
  const live = new Set([...versions.map((v) => v.file), ...allSegments.map((s) => s.file)]);
  const deletedFiles = new Set(w.catalog.versions({ includeDeleted: true }).filter((v) => v.deletedAt !== null).map((v) => v.file));
  const strays: GcItem[] = [];
  for (const sub of ['versions', 'segments']) {
    const dir = join(w.folder, sub);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const rel = join(sub, name);
      const base = rel.replace(/\.(tmp|wal)$/, '').replace(/\.tmp$/, '');
      if (live.has(base) && !deletedFiles.has(base)) continue;
      const st = statSync(join(dir, name));
      if (st.mtimeMs > now.getTime() - policy.graceMs && !deletedFiles.has(base)) continue;
      strays.push({ kind: 'file', id: rel, rows: 0, bytes: st.size });
    }
  }
  const deleted = [...candidates, ...segmentItems, ...strays];
  const report = (d: readonly GcItem[]): GcReport => ({ dryRun: plan.dryRun, deleted: d, held: heldOut, rows: d.reduce((n, i) => n + i.rows, 0), bytes: d.reduce((n, i) => n + i.bytes, 0) });
  if (plan.dryRun) return report(deleted);

  const at = now.toISOString();
  w.catalog.transaction(() => {
    w.catalog.markDeleted(candidates.map((c) => c.id), at);
    for (const s of segmentItems) w.catalog.forgetSegment(s.id);
  });
  crashPoint('gc.marked');
  const byId = new Map(versions.map((v) => [v.id, v]));
  const segmentFiles = new Map(segments.map((s) => [s.id, s]));
  let n = 0;
  for (const item of deleted) {
    const file = item.kind === 'version' ? byId.get(item.id)?.file : item.kind === 'segment' ? segmentFiles.get(item.id)?.file : item.id;
    const alias = item.kind === 'version' ? byId.get(item.id)?.alias : item.kind === 'segment' ? segmentFiles.get(item.id)?.alias : undefined;
    if (!file) continue;
    if (alias) await w.attachments.release(alias);
    for (const f of [join(w.folder, file), `${join(w.folder, file)}.wal`]) rmSync(f, { force: true });
    if (++n === 1) crashPoint('gc.deleted-one');
  }
  w.catalog.pruneGenerations(graceSince);
  return report(deleted);
}

/** True when another process holds the file: it cannot be opened for writing while a reader has it attached. */
async function openElsewhere(w: DuckDBWarehouse, alias: string, file: string): Promise<boolean> {
  // This process's own attachment does not count (locks are per process): let it go first.
  if (!(await w.attachments.release(alias))) return true;
  try {
    const probe = await DuckDBInstance.create(file);
    probe.closeSync();
    return false;
  } catch (e) {
    return /lock/i.test(e instanceof Error ? e.message : String(e));
  }
}
