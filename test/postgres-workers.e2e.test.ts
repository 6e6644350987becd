import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, runBin, tempDir } from './helpers.ts';
import { postgresUnavailable, startPostgres, type TestPostgres } from './support/postgres-server.ts';

/**
 * Three workers as real processes on one PostgreSQL store and warehouse, a 30-partition backfill
 * queued under an active rollout (shadow): one worker is killed in its first run (SLUICE_CRASH_AT),
 * one stops itself right before its first publish (SLUICE_PAUSE_AT, SIGSTOP) and is resumed after
 * its lease ran out. Every partition is published once, the stopped worker's late publish is
 * refused by its stale token, every queue item ends done, the rollout counted each item's batch
 * once, and the audit trail verifies.
 */
const unavailable = postgresUnavailable();
let server: TestPostgres | undefined;
after(async () => {
  await server?.stop();
});

const DAYS = 30;

function project(root: string): void {
  mkdirSync(join(root, 'pipelines'), { recursive: true });
  mkdirSync(join(root, 'steps'), { recursive: true });
  mkdirSync(join(root, 'data'), { recursive: true });
  writeFileSync(join(root, 'sluice.yaml'), 'name: fleet\nenvironments: [dev]\n');
  const rows = ['id,day,amount'];
  for (let d = 1; d <= DAYS; d++) for (let i = 0; i < 20; i++) rows.push(`${d * 100 + i},2026-01-${String(d).padStart(2, '0')},${(d * 7 + i) % 50}`);
  writeFileSync(join(root, 'data', 'payments.csv'), `${rows.join('\n')}\n`);
  writeFileSync(join(root, 'pipelines', 'payments.yaml'), `name: payments
sources:
  raw:
    path: data/payments.csv
    partition_column: day
    columns: { id: BIGINT, day: DATE, amount: DOUBLE PRECISION }
steps:
  daily:
    versions:
      v1: { sql: steps/daily.sql }
      v2: { sql: steps/daily_v2.sql }
datasets:
  daily:
    step: daily
    partition_column: day
    primary_key: [day]
`);
  writeFileSync(join(root, 'steps', 'daily.sql'), 'SELECT day, count(*) AS payments, sum(amount) AS amount FROM raw GROUP BY day\n');
  writeFileSync(join(root, 'steps', 'daily_v2.sql'), 'SELECT day, count(*) AS payments, sum(amount) + 0 AS amount FROM raw GROUP BY day\n');
  mkdirSync(join(root, 'rollouts'), { recursive: true });
  writeFileSync(join(root, 'rollouts', 'daily-v2.yaml'), `name: daily-v2
step: payments.daily
baseline: v1
candidate: v2
gates:
  soak: { kind: soak, min_batches: 1000 }
environments:
  - name: dev
    stages:
      - { mode: shadow, gates: [soak] }
      - { mode: full, gates: [soak] }
`);
}

/** The process state letter of a pid (T: stopped). */
function stateOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] ?? '?';
  } catch {
    return 'gone';
  }
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('workers on PostgreSQL', { skip: unavailable ?? false, timeout: 600_000 }, () => {
  test('three workers, one killed, one stopped past its lease: each partition published once, the late publish refused, the trail verifies', async () => {
    server = await startPostgres();
    using t = tempDir();
    const root = join(t.dir, 'fleet');
    project(root);
    const env = { SLUICE_STORE_URL: server.url, SLUICE_WAREHOUSE_URL: server.url, SLUICE_HOME: join(t.dir, 'home') };
    const sluice = (args: string[]) => runBin(args, { root, env });
    const json = <T>(args: string[]): T => {
      const r = sluice(['--json', ...args]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    };
    json(['rollout', 'start', 'daily-v2', '--reason', 'shadow v2 during the backfill']);
    const queued = json<{ items: { id: number }[] }>(['backfill', 'payments', '--from', '2026-01-01', '--to', `2026-01-${DAYS}`, '--queue']);
    assert.equal(queued.items.length, DAYS);

    const start = (extra: Record<string, string>): ChildProcess & { out: string[] } => {
      const child = spawn(process.execPath, [BIN, '--project', root, '--json', 'worker', '--drain', '--lease', '2s', '--poll', '100ms'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SLUICE_ACTOR: 'worker', ...env, ...extra } }) as ChildProcess & { out: string[] };
      child.out = [];
      child.stdout?.on('data', (b: Buffer) => child.out.push(b.toString()));
      child.stderr?.on('data', (b: Buffer) => child.out.push(b.toString()));
      return child;
    };
    const killed = start({ SLUICE_CRASH_AT: 'run.recorded' });
    const stopped = start({ SLUICE_PAUSE_AT: 'run.before-publish' });
    const steady = start({});
    try {
      const [, signal] = (await once(killed, 'exit')) as [number | null, NodeJS.Signals | null];
      assert.equal(signal, 'SIGKILL', 'the first worker died in its first run');
      await until('the second worker to stop itself before its first publish', () => stateOf(stopped.pid ?? 0) === 'T');
      await once(steady, 'exit');
      assert.equal(steady.exitCode, 0, steady.out.join(''));
      // Everything is done while the stopped worker still holds its old claim's work in hand.
      const items = json<{ state: string }[]>(['queue']);
      assert.deepEqual([...new Set(items.map((i) => i.state))], ['done'], items.map((i) => i.state).join(' '));
      stopped.kill('SIGCONT');
      await once(stopped, 'exit');
      const report = JSON.parse(stopped.out.join('').slice(stopped.out.join('').indexOf('{'))) as { items: { outcome: string; error?: string }[] };
      assert.equal(report.items[0]?.outcome, 'lost', 'its claim was taken over while it was stopped');
      assert.match(report.items[0]?.error ?? '', /fencing token 1 is stale \(claim 2 holds it now\)/);
    } finally {
      for (const c of [killed, stopped, steady]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }

    for (let d = 1; d <= DAYS; d++) {
      const history = json<unknown[]>(['publications', 'daily', '--partition', `2026-01-${String(d).padStart(2, '0')}`]);
      assert.equal(history.length, 1, `day ${d} published once`);
    }
    const items = json<{ state: string; token: number }[]>(['queue']);
    assert.equal(items.length, DAYS);
    assert.ok(items.every((i) => i.state === 'done'));
    assert.equal(items.filter((i) => i.token === 2).length, 2, 'two items were claimed twice: the killed worker\'s and the stopped worker\'s');
    // The rollout saw each queue item's batch once: 30 successful, and the stale claim's refused publish as one failed batch.
    const status = json<{ batchesInStage: number; failedBatchesInStage: number; inFlight: unknown[]; waitingFor: string[] }>(['rollout', 'status', 'daily-v2']);
    assert.deepEqual([status.batchesInStage, status.failedBatchesInStage, status.inFlight.length], [DAYS + 1, 1, 0]);
    assert.match(status.waitingFor.join(' '), new RegExp(`soaking: ${DAYS} of 1000 successful batches`));
    const verify = sluice(['audit', 'verify']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});
