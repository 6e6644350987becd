import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckDBEngine } from '../src/engine/duckdb/duckdb-engine.ts';
import { tempDir } from './helpers.ts';
import { sameChecksum, ReaderProcess, type ReadRecord } from './support/catalog-reader.ts';
import { createMatrixProject, judgeReads, PARTITION_COLUMNS, PIPELINE, readerCatalogOf, readState, republishArgs, ROLLOUT, sluice, VersionChecksums, writeCleanSql, type CliResult } from './support/crash-matrix.ts';

/**
 * A consumer in another real process reads every published dataset through catalog.sql (re-read
 * on every iteration, attached READ_ONLY) in a loop while runs, a re-run with changed SQL, a
 * republish of an older version, a canary and a rollout rollback happen: it never sees a partition
 * that is not exactly one output version, it never vanishes a partition, it never fails a read,
 * the writer's commands all succeed while it is attached, and it sees the new data after each change.
 */
describe('a reader process beside the writer', () => {
  test('reads through catalog.sql never see a mix, never block the writer, and see every change', { timeout: 300_000 }, async () => {
    using tmp = tempDir('sluice-reader-');
    const p = await createMatrixProject(tmp.dir, { rows: 100_000, partitions: 2 });
    const [D1, D2] = p.partitions as [string, string];
    await using db = await DuckDBEngine.open(':memory:', { threads: 2 });
    const sums = new VersionChecksums(db);
    const reader = ReaderProcess.start(tmp.dir, { targets: [{ env: 'dev', catalog: readerCatalogOf(p, 'dev') }], partitionColumns: PARTITION_COLUMNS }, 240_000);
    const windows: { what: string; r: CliResult }[] = [];
    let records: ReadRecord[] = [];
    try {
      /** A writer command, which must succeed while the reader reads; then the reader must come to show what is published. */
      const change = async (what: string, args: string[]): Promise<void> => {
        const r = await sluice(p, 'dev', args, { timeoutMs: 120_000 });
        assert.equal(r.code, 0, `${what} (sluice ${args.join(' ')}) failed while a reader was attached:\n${r.stdout}\n${r.stderr}`);
        windows.push({ what, r });
        const state = readState(p, 'dev');
        await sums.refresh(p, 'dev', state);
        const want = [...state.pointers].map(([k, id]) => ({ k, id, sum: sums.get('dev', id) }));
        // Bounded: the reader has 30 s to show exactly the published versions in a read started after the command.
        const deadline = Date.now() + 30_000;
        for (;;) {
          const latest = reader.records().filter((x) => x.start > r.ended && !x.error).at(-1);
          const shows = latest && want.every((w) => latest.obs?.some((o) => `${o.dataset}\0${o.partition}` === w.k && sameChecksum(o, w.sum))) && latest.obs?.length === want.length;
          if (shows) break;
          assert.ok(reader.running, `the reader stopped: ${reader.stderr}`);
          assert.ok(Date.now() < deadline, `after ${what} the reader never showed the published versions ${want.map((w) => `${w.k.replace('\0', ' ')}=${w.id}`).join(', ')}; its last read: ${JSON.stringify(latest)}`);
          await sleep(50);
        }
      };

      await change('the first runs', ['backfill', PIPELINE, '--from', D1, '--to', D2]);
      const firstD1 = readState(p, 'dev').pointers.get(`events_clean\0${D1}`) ?? '';
      writeCleanSql(p.root, 125);
      await change('a re-run with changed step SQL', ['run', PIPELINE, '--partition', D1]);
      await change('a republish of the older version', republishArgs('events_clean', D1, firstD1, 'back to the first'));
      await change('a rollout start', ['rollout', 'start', ROLLOUT, '--reason', 'canary']);
      await change('the canary runs', ['backfill', PIPELINE, '--from', D1, '--to', D2]);
      const blended = readState(p, 'dev');
      for (const d of [D1, D2]) assert.notEqual(blended.versions.get(blended.pointers.get(`events_clean\0${d}`) ?? '')?.stepVersion, 'v1', `the canary published a blend of ${d}`);
      await change('the rollback', ['rollout', 'rollback', ROLLOUT, '--reason', 'bad numbers']);
      const restored = readState(p, 'dev');
      for (const d of [D1, D2]) assert.equal(restored.versions.get(restored.pointers.get(`events_clean\0${d}`) ?? '')?.stepVersion, 'v1', `the rollback restored the baseline of ${d}`);
      assert.ok(reader.running, 'the reader was reading until the end');
    } finally {
      records = await reader.stop();
    }

    const state = readState(p, 'dev');
    const judged = judgeReads(records, (env, dataset, partition, c) => sums.matches(env, state, dataset, partition, c));
    assert.deepEqual(judged.mixes, [], 'every partition the reader saw was exactly one output version');
    assert.deepEqual(judged.vanishedList, [], 'no published partition ever vanished from the reader');
    assert.equal(judged.errors, 0, `no read failed: ${JSON.stringify(judged.errorKinds)}`);
    assert.ok(records.length >= 20, `the reader read often enough to matter (${records.length} reads)`);
    for (const { what, r } of windows) {
      const during = records.filter((x) => x.start <= r.ended && x.end >= r.started).length;
      assert.ok(during > 0, `the reader was reading while ${what} ran (${r.ended - r.started} ms)`);
    }
  });

  test('a consumer that read catalog.sql just before a publish can attach every file it names after a gc right after: the grace period counts from when that catalog was replaced', { timeout: 120_000 }, async () => {
    using tmp = tempDir('sluice-reader-grace-');
    const p = await createMatrixProject(tmp.dir, { rows: 10_000, partitions: 1, grace: '8s' });
    const [D1] = p.partitions as [string];
    const ok = async (args: string[]): Promise<CliResult> => {
      const r = await sluice(p, 'dev', args, { timeoutMs: 60_000 });
      assert.equal(r.code, 0, `sluice ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
      return r;
    };
    await ok(['run', PIPELINE, '--partition', D1]);
    const catalog = readerCatalogOf(p, 'dev');
    // The catalog was written longer ago than the grace period; a consumer reads it now and attaches a little later.
    await sleep(Math.max(0, statSync(catalog).mtimeMs + 8_500 - Date.now()));
    const read = readFileSync(catalog, 'utf8');
    writeCleanSql(p.root, 140);
    const replaced = await ok(['run', PIPELINE, '--partition', D1]);
    const gc = await ok(['--json', 'gc']);
    assert.ok(Date.now() - replaced.ended < 8_000, 'gc ran within the grace period of the replacement');
    const deleted = (JSON.parse(gc.stdout) as { deleted: { id: string }[] }).deleted.map((d) => d.id);
    await using db = await DuckDBEngine.open(':memory:');
    await db.exec(read).catch((e: unknown) => assert.fail(`the consumer could not attach what the catalog it read names (gc deleted ${deleted.join(', ') || 'nothing'}): ${String(e)}`));
    assert.equal(await db.query('SELECT count(*) AS n FROM events_clean').then((r) => Number(r[0]?.['n'])), p.rows);
  });
});

