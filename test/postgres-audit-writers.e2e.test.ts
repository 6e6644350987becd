import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileAuditAnchor } from '../src/app/audit-anchor.ts';
import { AuditTrail } from '../src/governance/audit-trail.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { postgresUnavailable, startPostgres, type TestPostgres } from './support/postgres-server.ts';

/**
 * The audit chain on one PostgreSQL store with writers in several processes at once: each is a
 * real process (test/fixtures/audit-append-child.ts) appending through the audit trail, released
 * together; afterwards the chain verifies against the key and the checkpoint (the check `sluice
 * audit verify` makes) and holds every entry exactly once.
 */
const ROOT = resolve(import.meta.dirname, '..');
const CHILD = join(ROOT, 'test', 'fixtures', 'audit-append-child.ts');
const WRITERS = 4;
const PER_WRITER = 100;
const unavailable = postgresUnavailable();
let server: TestPostgres | undefined;
after(async () => {
  await server?.stop();
});

interface Writer {
  readonly name: string;
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: AsyncIterator<string>;
  stderr: string;
}

function startWriter(url: string, name: string, home: string): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, name, String(PER_WRITER)], { cwd: ROOT, env: { ...process.env, SLUICE_HOME: home } });
  const w: Writer = { name, child, lines: createInterface({ input: child.stdout })[Symbol.asyncIterator](), stderr: '' };
  child.stderr.on('data', (d: Buffer) => (w.stderr += d.toString()));
  return w;
}

async function nextLine(w: Writer): Promise<string> {
  const r = await w.lines.next();
  if (r.done) throw new Error(`writer ${w.name} ended early (exit ${w.child.exitCode}): ${w.stderr}`);
  return r.value;
}

describe('postgres store: audit writers in several processes', { skip: unavailable ?? false }, () => {
  test(`${WRITERS} processes appending ${PER_WRITER} entries each at once keep one linear chain that verifies`, async (t) => {
    server = await startPostgres();
    const home = mkdtempSync(join(tmpdir(), 'sluice-writers-home-'));
    const url = `${server.url}?schema=writers`;
    const store = await PostgresStore.open(url);
    const writers: Writer[] = [];
    try {
      const trail = new AuditTrail(store, fileAuditAnchor(store.description, { SLUICE_HOME: home }));
      // The first entry creates the audit key every writer then signs with.
      await trail.append({ actor: 'setup', action: 'test.begin', target: 'writers', reason: '' }, new Date());
      for (let k = 1; k <= WRITERS; k++) writers.push(startWriter(url, `w${k}`, home));
      for (const w of writers) assert.equal(await nextLine(w), 'ready');
      const started = performance.now();
      for (const w of writers) w.child.stdin.write('go\n');
      const took: number[] = [];
      for (const w of writers) {
        const done = await nextLine(w);
        assert.match(done, /^done \d+$/);
        took.push(Number(done.slice(5)));
        const [code] = (w.child.exitCode !== null ? [w.child.exitCode] : await once(w.child, 'exit')) as [number | null];
        assert.equal(code, 0, `writer ${w.name}: ${w.stderr}`);
      }
      const seconds = (performance.now() - started) / 1000;
      const total = WRITERS * PER_WRITER;
      t.diagnostic(`${total} appends by ${WRITERS} processes in ${seconds.toFixed(2)} s: ${Math.round(total / seconds)} appends/s (each writer busy ${took.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s)`);

      const verdict = await trail.verify();
      assert.ok(verdict.ok, JSON.stringify(verdict));
      assert.equal(verdict.entries, 1 + total);
      assert.equal(verdict.keyed, 1 + total, 'every entry is keyed');
      const entries = await store.audit.list();
      assert.deepEqual(entries.map((e) => e.seq), Array.from({ length: 1 + total }, (_, i) => i + 1), 'one entry per number, none skipped');
      for (const w of writers) {
        const mine = entries.filter((e) => e.actor === w.name).map((e) => Number(e.details['i']));
        assert.deepEqual(mine, Array.from({ length: PER_WRITER }, (_, i) => i + 1), `${w.name}'s entries are all there once, in its order`);
      }
      const interleaved = entries.slice(1).filter((e, i, all) => i > 0 && all[i - 1]?.actor !== e.actor).length;
      assert.ok(interleaved > WRITERS, `the writers really ran at once (${interleaved} switches between writers)`);
      // The entries written in a transaction with a run committed with it.
      const runs = await store.runs.list({ limit: total });
      assert.equal(runs.length, total / 4);
      const runIds = new Set(runs.map((r) => r.id));
      assert.ok(entries.filter((e) => e.details['run'] !== undefined).every((e) => runIds.has(Number(e.details['run']))));
      assert.deepEqual(await store.audit.head(), { seq: 1 + total, hash: entries[total]?.hash });
    } finally {
      for (const w of writers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
      await store.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
