import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, runBin, BIN, type BinOutput } from './helpers.ts';

type Out = BinOutput;
const sluice = (root: string, args: string[], actor = 'alice'): Out => runBin(args, { root, actor });

function ok(r: Out, what: string): Out {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r;
}

function json<T>(r: Out, what: string): T {
  return JSON.parse(ok(r, what).stdout) as T;
}

type Status = {
  name: string;
  state: string;
  stage: string | null;
  batchesInStage: number;
  batchesJudged: number;
  waitingFor: string[];
  lastVerdicts: { gate: string; verdict: string }[];
  reason: string | null;
  reached: string[];
};
type Pub = { partition: string; versionId: string; seq: number };

/** shadow -> canary 50 % -> full; full waits for 5 batches, so the test decides when it ends. */
const SHIP = `name: ship
step: orders.clean_orders
baseline: v1
candidate: v2
approvals: { before: [] }
gates:
  checks: { kind: checks, on_fail: rollback }
  soak: { kind: soak, min_batches: 1 }
  long_soak: { kind: soak, min_batches: 5 }
environments:
  - name: dev
    stages:
      - { mode: shadow, gates: [checks, soak] }
      - { mode: canary, percent: 50, gates: [checks, soak] }
      - { mode: full, gates: [checks, long_soak] }
`;

/** dev shadow, then prod, which needs one approval from someone other than the starter (the default). */
const GATED = `name: gated
step: orders.clean_orders
baseline: v1
candidate: v2
gates:
  soak: { kind: soak, min_batches: 1 }
  soak2: { kind: soak, min_batches: 2 }
environments:
  - name: dev
    stages:
      - { mode: shadow, gates: [soak] }
  - name: prod
    stages:
      - { mode: full, gates: [soak2] }
`;

const BROKEN = `name: broken
step: orders.clean_orders
baseline: v1
candidate: v7
environments:
  - name: dev
    stages:
      - { mode: canary, percent: 150, gates: [nope] }
`;

/** A fresh project from `sluice init` with only the plans the test writes. */
function project(dir: string, plans: Record<string, string>): string {
  const root = join(dir, 'shop');
  assert.equal(spawnSync(process.execPath, [BIN, 'init', root], { encoding: 'utf8' }).status, 0);
  rmSync(join(root, 'rollouts'), { recursive: true, force: true });
  mkdirSync(join(root, 'rollouts'));
  for (const [name, text] of Object.entries(plans)) writeFileSync(join(root, 'rollouts', `${name}.yaml`), text);
  return root;
}

function status(root: string, name: string): Status {
  return json<Status>(sluice(root, ['rollout', 'status', name, '--json']), `status ${name}`);
}

function run(root: string, partition: string, env = 'dev'): Out {
  return ok(sluice(root, ['--env', env, 'run', 'orders', '--partition', partition], 'scheduler'), `run ${env} ${partition}`);
}

function publications(root: string, dataset: string): Pub[] {
  return json<Pub[]>(sluice(root, ['--json', 'publications', dataset]), `publications ${dataset}`);
}

describe('sluice rollout: the CLI end to end through the real bin', () => {
  test('start, batches move it through its stages, status --json shows progression, pause/resume, promote, report', () => {
    using tmp = tempDir();
    const root = project(tmp.dir, { ship: SHIP });

    const all = json<Status[]>(sluice(root, ['--json', 'rollout', 'status']), 'status before start');
    assert.deepEqual(all.map((s) => [s.name, s.state]), [['ship', 'pending']], 'plans never started are listed as pending');

    const start = ok(sluice(root, ['rollout', 'start', 'ship', '--reason', 'ship v2']), 'start');
    assert.match(start.stdout, /rollout ship: progressing at dev\/shadow/);
    assert.equal(sluice(root, ['rollout', 'start', 'ship']).code, 7, 'a second start is a conflict');
    let s = status(root, 'ship');
    assert.deepEqual([s.state, s.stage, s.batchesInStage], ['progressing', 'dev/shadow', 0]);
    assert.ok(s.waitingFor.some((w) => /gate soak: .*0 of 1/.test(w)), s.waitingFor.join('; '));
    const tick = json<{ name: string; state: string; waiting: string[] }[]>(sluice(root, ['--json', 'rollout', 'tick']), 'tick');
    assert.deepEqual(tick.map((t) => [t.name, t.state]), [['ship', 'progressing']]);
    assert.ok(tick[0]?.waiting.some((w) => /gate soak/.test(w)), 'the timer re-judges the gates; soak still waits for a batch');

    run(root, '2026-11-01');
    s = status(root, 'ship');
    assert.deepEqual([s.state, s.stage, s.reached], ['progressing', 'dev/canary-50', ['dev/shadow', 'dev/canary-50']]);

    const paused = ok(sluice(root, ['rollout', 'pause', 'ship', '--reason', 'look at the diff']), 'pause');
    assert.match(paused.stdout, /progressing dev\/canary-50 -> paused dev\/canary-50 by alice \(pause\): look at the diff/);
    const again = sluice(root, ['rollout', 'pause', 'ship', '--reason', 'twice']);
    assert.equal(again.code, 7);
    assert.match(again.stderr, /cannot pause: the rollout is paused/);
    assert.equal(sluice(root, ['rollout', 'pause', 'ship']).code, 2, '--reason is required');

    run(root, '2026-11-02');
    s = status(root, 'ship');
    assert.deepEqual([s.state, s.stage, s.batchesInStage], ['paused', 'dev/canary-50', 1], 'a batch while paused is recorded but moves nothing');
    assert.match(s.reason ?? '', /paused by alice: look at the diff/);
    assert.ok(s.waitingFor.some((w) => /resume/.test(w)));

    ok(sluice(root, ['rollout', 'resume', 'ship', '--reason', 'diff is fine']), 'resume');
    s = status(root, 'ship');
    assert.deepEqual([s.state, s.batchesInStage, s.batchesJudged], ['progressing', 1, 0], 'resume opens a fresh evidence window');

    run(root, '2026-11-03');
    s = status(root, 'ship');
    assert.deepEqual([s.state, s.stage], ['progressing', 'dev/full']);

    const back = sluice(root, ['rollout', 'promote', 'ship', '--to-stage', 'shadow', '--reason', 'back']);
    assert.equal(back.code, 7);
    assert.match(back.stderr, /not after dev\/full; use rollback/);
    ok(sluice(root, ['rollout', 'promote', 'ship', '--to-stage', 'promoted', '--reason', 'enough evidence']), 'promote');
    assert.equal(status(root, 'ship').state, 'promoted');
    assert.equal(sluice(root, ['rollout', 'pause', 'ship', '--reason', 'late']).code, 7, 'promoted is final');

    const md = ok(sluice(root, ['rollout', 'report', 'ship']), 'report').stdout;
    assert.match(md, /^# Rollout ship: promoted/);
    for (const stage of ['shadow', 'canary-50', 'full']) assert.match(md, new RegExp(`\\| dev \\| ${stage} \\|`), `stage ${stage} in the report`);
    assert.match(md, /pass `soak` \(soak, after publish\): soaked 1 successful batches/, 'gate verdicts with their numbers');
    assert.match(md, /pass `checks` \(checks, before publish\): \d+ check result\(s\) clean/);
    assert.match(md, /\*\*alice\*\* pause at .*: look at the diff/);
    assert.match(md, /\*\*alice\*\* promote at .*: promoted by alice: enough evidence/);
    const report = json<{ outcome: string; stages: { stage: string; batches: number }[] }>(sluice(root, ['rollout', 'report', 'ship', '--format', 'json']), 'report json');
    assert.equal(report.outcome, 'promoted');
    assert.deepEqual(report.stages.map((x) => [x.stage, x.batches]), [['shadow', 1], ['canary-50', 2], ['full', 0]]);
    assert.equal(sluice(root, ['rollout', 'report', 'ship', '--format', 'pdf']).code, 2);
    ok(sluice(root, ['audit', 'verify']), 'audit verify');
  });

  test('approvals before prod: the starter is refused with exit 8, another SLUICE_ACTOR is accepted', () => {
    using tmp = tempDir();
    const root = project(tmp.dir, { gated: GATED });
    ok(sluice(root, ['rollout', 'start', 'gated'], 'alice'), 'start');
    run(root, '2026-11-01');
    let s = status(root, 'gated');
    assert.equal(s.state, 'awaiting_approval');
    assert.ok(s.waitingFor.some((w) => /approval: 0 of 1.*other than alice/.test(w)), s.waitingFor.join('; '));

    const self = sluice(root, ['rollout', 'approve', 'gated', '--reason', 'looks good to me'], 'alice');
    assert.equal(self.code, 8);
    assert.match(self.stderr, /approval refused: alice started this rollout, and approvals must come from someone else/);
    const selfJson = sluice(root, ['--json', 'rollout', 'approve', 'gated'], 'alice');
    assert.equal(selfJson.code, 8);
    assert.equal((JSON.parse(selfJson.stdout) as { error: { code: string } }).error.code, 'FORBIDDEN');
    assert.equal(status(root, 'gated').state, 'awaiting_approval', 'a refused approval changes nothing');

    const bob = ok(sluice(root, ['rollout', 'approve', 'gated', '--reason', 'checked the shadow diff'], 'bob'), 'approve by bob');
    assert.match(bob.stdout, /awaiting_approval dev\/shadow -> progressing prod\/full/);
    s = status(root, 'gated');
    assert.deepEqual([s.state, s.stage], ['progressing', 'prod/full']);

    run(root, '2026-11-01', 'prod');
    assert.deepEqual([status(root, 'gated').state, status(root, 'gated').batchesInStage], ['progressing', 1]);
    // A rehearsal across environments: dev only shadowed (nothing to restore), prod published the candidate.
    const r = json<{ ok: boolean; environments: string[]; restored: { environment: string; partition: string; equal: boolean }[] }>(sluice(root, ['--json', 'rollout', 'rehearse', 'gated']), 'rehearse');
    assert.equal(r.ok, true);
    assert.deepEqual(r.environments, ['dev', 'prod']);
    assert.deepEqual(r.restored.map((x) => [x.environment, x.partition, x.equal]), [['prod', '2026-11-01', true]]);
    run(root, '2026-11-02', 'prod');
    assert.equal(status(root, 'gated').state, 'promoted');
    const md = ok(sluice(root, ['rollout', 'report', 'gated']), 'report').stdout;
    assert.match(md, /\*\*bob\*\* approved prod\/full/);
    assert.match(md, /\| prod \| full \|/);
    const log = json<{ actor: string; action: string }[]>(sluice(root, ['--json', 'audit', 'log', '--all']), 'audit log');
    assert.ok(log.some((e) => e.actor === 'alice' && e.action === 'rollout.refused'), 'the refused approval is audited');
  });

  test('rehearse rolls back on a copy and leaves the real environment unchanged; then abort, a baseline run, and the real rollback', () => {
    using tmp = tempDir();
    const root = project(tmp.dir, { ship: SHIP });
    ok(sluice(root, ['rollout', 'start', 'ship']), 'start');
    run(root, '2026-11-01'); // shadow -> canary-50
    run(root, '2026-11-02'); // canary-50 (candidate rows published) -> full
    run(root, '2026-11-03'); // full (candidate rows published)
    assert.deepEqual([status(root, 'ship').state, status(root, 'ship').stage], ['progressing', 'dev/full']);

    const real = (): unknown => ({
      cleaned: publications(root, 'cleaned_orders'),
      revenue: publications(root, 'daily_revenue'),
      history: json(sluice(root, ['--json', 'publications', 'cleaned_orders', '--partition', '2026-11-02']), 'history'),
      flags: json(sluice(root, ['--json', 'flags', 'history', 'clean_orders_version']), 'flags'),
      audit: json(sluice(root, ['--json', 'audit', 'log', '--all']), 'audit'),
      status: status(root, 'ship'),
      runs: json(sluice(root, ['--json', 'runs']), 'runs'),
    });
    const before = real();
    const copies = join(tmp.dir, 'copies');
    mkdirSync(copies);
    type Rehearsal = {
      ok: boolean;
      stateAfter: string;
      rollbackMs: number;
      rowsRestored: number;
      realUnchanged: boolean;
      restored: { partition: string; dataset: string; baselineVersion: string; publishedVersion: string; equal: boolean; baseline: { rows: number }; published: { rows: number } }[];
      downstream: { dataset: string; partition: string; runStatus: string; equal: boolean }[];
      plan: { republish: unknown[]; rerun: { dataset: string; partitions: string[] }[] };
    };
    const r = json<Rehearsal>(sluice(root, ['--json', 'rollout', 'rehearse', 'ship', '--temp-dir', copies]), 'rehearse');
    assert.equal(r.ok, true);
    assert.equal(r.stateAfter, 'rolled_back');
    assert.deepEqual(r.restored.map((x) => [x.dataset, x.partition, x.equal]).sort(), [['cleaned_orders', '2026-11-02', true], ['cleaned_orders', '2026-11-03', true]]);
    for (const x of r.restored) {
      assert.equal(x.publishedVersion, x.baselineVersion);
      assert.match(x.baselineVersion, /^clean_orders\.r\d+\.v1$/, 'restored from the baseline output of the same run');
      assert.equal(x.published.rows, x.baseline.rows);
    }
    assert.equal(r.rowsRestored, r.restored.reduce((n, x) => n + x.baseline.rows, 0));
    assert.deepEqual(r.downstream.map((d) => [d.dataset, d.partition, d.runStatus, d.equal]).sort(), [['daily_revenue', '2026-11-02', 'succeeded', true], ['daily_revenue', '2026-11-03', 'succeeded', true]]);
    assert.ok(r.rollbackMs > 0);
    assert.equal(r.realUnchanged, true);
    assert.deepEqual(readdirSync(copies), [], 'the temp copy is deleted');
    assert.deepEqual(real(), before, 'publications, flag states, audit log, runs and the rollout are unchanged');
    const text = ok(sluice(root, ['rollout', 'rehearse', 'ship']), 'rehearse text').stdout;
    assert.match(text, /republished 2 partition\(s\) \(\d+ rows\), re-ran 2 downstream partition\(s\)/);
    assert.match(text, /result: OK/);

    const abort = ok(sluice(root, ['rollout', 'abort', 'ship', '--reason', 'stop here']), 'abort');
    assert.match(abort.stdout, /progressing dev\/full -> aborted dev\/full/);
    assert.deepEqual(publications(root, 'cleaned_orders'), (before as { cleaned: Pub[] }).cleaned, 'abort leaves published data alone');
    assert.equal(status(root, 'ship').state, 'aborted');

    // A baseline run after the abort republishes 2026-11-03; the rollback must not put the older baseline back over it.
    run(root, '2026-11-03');
    const rerun = publications(root, 'cleaned_orders').find((p) => p.partition === '2026-11-03');

    const rb = ok(sluice(root, ['rollout', 'rollback', 'ship', '--reason', 'revert the data']), 'rollback');
    assert.match(rb.stdout, /aborted dev\/full -> rolled_back dev\/full/);
    assert.equal(status(root, 'ship').state, 'rolled_back');
    const after = publications(root, 'cleaned_orders');
    const restored02 = r.restored.find((x) => x.partition === '2026-11-02');
    assert.equal(after.find((p) => p.partition === '2026-11-02')?.versionId, restored02?.baselineVersion, 'the real rollback restores what the rehearsal restored');
    assert.equal(after.find((p) => p.partition === '2026-11-03')?.versionId, rerun?.versionId, 'the newer baseline run stays published');
    assert.match(ok(sluice(root, ['rollout', 'report', 'ship']), 'report').stdout, /## Reverted\n\n- dev cleaned_orders 2026-11-02: republished `clean_orders\.r\d+\.v1`/);

    const late = sluice(root, ['rollout', 'rehearse', 'ship']);
    assert.equal(late.code, 7, 'nothing to rehearse after a rollback');
    assert.match(late.stderr, /nothing to rehearse: rollout ship is rolled_back/);
    assert.equal(sluice(root, ['rollout', 'rehearse', 'nope']).code, 4);
    ok(sluice(root, ['audit', 'verify']), 'audit verify');
  });

  test('flag history says in words what each rollout step did; the declared group_id stays; a new salt is refused while the rollout runs', () => {
    using tmp = tempDir();
    const root = project(tmp.dir, { ship: SHIP });
    ok(sluice(root, ['rollout', 'start', 'ship', '--reason', 'ship v2']), 'start');
    run(root, '2026-11-01'); // shadow -> canary-50
    type History = { revisions: { reason: string; state: { strategies: { kind: string; groupId?: string }[] } }[] };
    const history = (): History => json<History>(sluice(root, ['--json', 'flags', 'history', 'clean_orders_version']), 'flags history');
    assert.deepEqual(history().revisions.map((r) => r.reason), [
      'declared in flags/',
      'rollout ship: shadow, v2 computed beside v1, v1 published (stage 1 of 3)',
      'rollout ship: canary 50 % of rows (stage 2 of 3)',
    ]);
    assert.deepEqual(history().revisions.flatMap((r) => r.state.strategies.map((x) => x.groupId)), ['clean_orders', 'clean_orders', 'clean_orders'], 'the group_id declared in flags/ is kept, never rewritten');
    const text = ok(sluice(root, ['flags', 'history', 'clean_orders_version']), 'history text').stdout;
    assert.match(text, /rollout ship: canary 50 % of rows \(stage 2 of 3\) +strategy 1: gradual 0% on slice_key \(group clean_orders\) -> gradual 50% on slice_key \(group clean_orders\)/);
    assert.doesNotMatch(text, /[{}]/, 'no JSON in flag history');

    // A new salt (or a new stickiness) would move keys between the slices: refused, nothing written.
    const salt = sluice(root, ['flags', 'set', 'clean_orders_version', '--rollout', '50', '--group-id', 'orders.clean_orders', '--reason', 'rename']);
    assert.equal(salt.code, 7, salt.stderr);
    assert.match(salt.stderr, /flag clean_orders_version in dev: group_id clean_orders -> orders\.clean_orders refused while rollout ship \(progressing\) slices by it/);
    const fragment = join(tmp.dir, 'sticky.yaml');
    writeFileSync(fragment, 'strategies:\n  - { kind: gradual, percentage: 50, stickiness: partition, group_id: clean_orders }\n');
    const sticky = sluice(root, ['flags', 'set', 'clean_orders_version', '--file', fragment, '--reason', 'by day']);
    assert.equal(sticky.code, 7, sticky.stderr);
    assert.match(sticky.stderr, /stickiness slice_key -> partition refused while rollout ship/);
    assert.equal(history().revisions.length, 3, 'a refused change writes no revision');
    assert.equal(status(root, 'ship').stage, 'dev/canary-50');
    // prod is not in the plan: its salt is its own business.
    ok(sluice(root, ['--env', 'prod', 'flags', 'set', 'clean_orders_version', '--rollout', '0', '--group-id', 'other', '--reason', 'prod salt']), 'salt change in prod');

    ok(sluice(root, ['rollout', 'abort', 'ship', '--reason', 'stop']), 'abort');
    assert.equal(history().revisions.at(-1)?.reason, 'rollout ship: aborted, v1 for every row again');
    ok(sluice(root, ['flags', 'set', 'clean_orders_version', '--rollout', '0', '--group-id', 'orders.clean_orders', '--reason', 'rename']), 'salt change once the rollout ended');
  });

  test('rollout report shows each gate verdict once per batch, also when an approval judges the stage again', () => {
    using tmp = tempDir();
    const root = project(tmp.dir, { gated: GATED });
    ok(sluice(root, ['rollout', 'start', 'gated'], 'alice'), 'start');
    run(root, '2026-11-01');
    ok(sluice(root, ['rollout', 'approve', 'gated', '--reason', 'shadow diff is fine'], 'bob'), 'approve');
    assert.equal(status(root, 'gated').stage, 'prod/full');
    const md = ok(sluice(root, ['rollout', 'report', 'gated']), 'report').stdout;
    const timeline = md.slice(md.indexOf('## Timeline'));
    assert.equal(timeline.match(/`soak` \(soak, after publish\)/g)?.length, 1, `soak is judged on the batch and again on the approval, shown once:\n${timeline}`);
    assert.match(timeline, /-> progressing prod\/full\*\* by sluice \(approve\): .*\(on the verdicts of batch \d+ above: soak\)\n {2}- pass `approval:/);
    assert.match(md, /\| dev \| shadow \| .* \| 1 \| 0 \| 1 \/ 0 \/ 0 \/ 0 \|/, 'counted once too');
    const report = json<{ timeline: { kind: string; event?: string; evidence?: { gate: string }[]; repeated?: { gates: string[] } }[] }>(sluice(root, ['rollout', 'report', 'gated', '--format', 'json']), 'report json');
    const approved = report.timeline.find((e) => e.kind === 'transition' && e.event === 'approve');
    assert.deepEqual([approved?.evidence?.map((v) => v.gate), approved?.repeated?.gates], [['approval:prod/full'], ['soak']]);
  });

  test('plans and validate report every problem as file:line field, exit 3', () => {
    using tmp = tempDir();
    const root = project(tmp.dir, { ship: SHIP, broken: BROKEN });
    const plans = sluice(root, ['rollout', 'plans']);
    assert.equal(plans.code, 3);
    assert.match(plans.stdout, /ship\s+rollouts\/ship\.yaml\s+orders\.clean_orders\s+v1 -> v2\s+dev: shadow, canary-50, full\s+ok/);
    assert.match(plans.stdout, /broken\s+rollouts\/broken\.yaml.*INVALID/);
    assert.match(plans.stdout, /rollouts\/broken\.yaml:\d+(:\d+)? .*candidate/);
    const v = sluice(root, ['rollout', 'validate', 'broken']);
    assert.equal(v.code, 3);
    assert.match(v.stderr, /rollouts\/broken\.yaml:8(:\d+)? .*percent/);
    assert.match(v.stderr, /rollouts\/broken\.yaml:8(:\d+)? .*nope/);
    const good = ok(sluice(root, ['rollout', 'validate', 'ship']), 'validate ship');
    assert.match(good.stdout, /rollouts\/ship\.yaml: ship ok\n {2}moves orders\.clean_orders from v1 to v2\n {2}dev\/shadow \(shadow\) gates: checks \[checks, rollback\], soak \[soak\]/);
    assert.equal(sluice(root, ['rollout', 'validate', 'nope']).code, 4);
    const st = sluice(root, ['--json', 'rollout', 'status']);
    assert.equal(st.code, 0);
    assert.deepEqual((JSON.parse(st.stdout) as Status[]).map((s) => s.name), ['ship'], 'an invalid plan is left out of status, with a warning');
    assert.match(st.stderr, /warning: rollouts\/broken\.yaml is invalid/);
    ok(sluice(root, ['rollout', 'start', 'ship']), 'a broken plan file does not block starting a valid one');
    const broken = sluice(root, ['rollout', 'start', 'broken']);
    assert.equal(broken.code, 3);
    assert.match(broken.stderr, /rollouts\/broken\.yaml:4 candidate: step orders\.clean_orders has no version v7/);
  });
});
