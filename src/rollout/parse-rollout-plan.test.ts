import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRolloutPlan } from './parse-rollout-plan.ts';
import type { KnownStep } from './rollout-plan.ts';

const PLAN = `name: clean-orders-v2
step: orders.clean_orders
baseline: v1
candidate: v2
gates:
  checks: { kind: checks, on_fail: rollback }
  soak: { kind: soak, min_batches: 3, min_duration: 1h }
  hours:
    kind: window
    zone: Europe/Berlin
    allow: [{ days: mon-fri, from: "09:00", to: "16:00" }]
    freeze:
      - { from: "12-20", to: "01-05" }
      - { days: [fri], from: "14:00" }
environments:
  - name: dev
    data: sample
    stages:
      - { mode: shadow, gates: [checks, { id: diff-shadow, kind: diff, max_changed_share: 0.01, max_psi: 0.2 }] }
      - { mode: canary, percent: 10, gates: [checks, soak] }
      - { mode: full, gates: [soak] }
  - name: prod
    stages:
      - { mode: canary, percent: 10, gates: [checks, soak, hours] }
      - { mode: canary, datasets: [orders_clean] }
      - { mode: canary, pipelines: { share: 25 } }
      - { mode: full }
risks:
  - exposure: refunds dropped by the new filter
    mitigation: refund count check
    gate: checks
`;

const KNOWN: KnownStep[] = [{ pipeline: 'orders', step: 'clean_orders', versions: ['v1', 'v2'], sliceKey: 'order_id', datasets: ['orders_clean'] }];

describe('parseRolloutPlan', () => {
  test('parses a full plan with defaults applied', () => {
    const r = parseRolloutPlan('rollouts/clean-orders-v2.yaml', PLAN, KNOWN);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    const { plan } = r;
    assert.deepEqual(plan.steps, [{ pipeline: 'orders', step: 'clean_orders' }]);
    assert.deepEqual(plan.environments.map((e) => e.name), ['dev', 'prod']);
    assert.deepEqual(plan.environments[0]?.stages.map((s) => s.id), ['shadow', 'canary-10', 'full']);
    assert.deepEqual(plan.environments[1]?.stages.map((s) => s.target), [
      { kind: 'rows', percent: 10 },
      { kind: 'list', dimension: 'datasets', values: ['orders_clean'] },
      { kind: 'share', dimension: 'pipelines', percent: 25 },
      undefined,
    ]);
    // prod's first stage needs one approval by default, nothing else does
    assert.deepEqual(plan.environments.map((e) => e.stages.map((s) => s.approvals)), [[0, 0, 0], [1, 0, 0, 0]]);
    const hours = plan.environments[1]?.stages[0]?.gates[2];
    assert.equal(hours?.kind, 'window');
    if (hours?.kind === 'window') {
      assert.deepEqual(hours.allow, [{ days: [1, 2, 3, 4, 5], from: '09:00', to: '16:00' }]);
      assert.deepEqual(hours.freeze, [{ kind: 'annual', from: '12-20', to: '01-05' }, { kind: 'weekly', days: [5], from: '14:00', to: '24:00' }]);
    }
    assert.equal(plan.environments[0]?.stages[0]?.gates[1]?.id, 'diff-shadow');
    assert.deepEqual(plan.risks, [{ id: 'risk-1', exposure: 'refunds dropped by the new filter', mitigation: 'refund count check', gate: 'checks' }]);
  });

  test('reports every problem at once with file, line and field', () => {
    const text = `step: orders.clean_orders
baseline: v1
candidate: v1
environments:
  - name: prod
    stages:
      - { mode: canary }
      - mode: canary
        percent: 150
      - mode: sideways
      - mode: full
        gates: [nope, { kind: soak }]
        colour: red
risks:
  - { exposure: x, mitigation: y, gate: ghost }
`;
    const r = parseRolloutPlan('rollouts/bad.yaml', text);
    assert.equal(r.ok, false);
    if (r.ok) return;
    const got = r.problems.map((p) => `${p.line} ${p.field}: ${p.message}`);
    const expect = [
      /^3 candidate: must differ from baseline/,
      /^7 environments\.0\.stages\.0: a canary stage needs percent/,
      /^9 environments\.0\.stages\.1\.percent: must be at most 100/,
      /^10 environments\.0\.stages\.2\.mode: expected one of shadow \| canary \| full/,
      /^12 environments\.0\.stages\.3\.gates\.0: no gate "nope"/,
      /^12 environments\.0\.stages\.3\.gates\.1: a soak gate needs min_batches or min_duration/,
      /^13 environments\.0\.stages\.3\.colour: unknown field/,
      /^15 risks\.0\.gate: no gate "ghost"/,
    ];
    for (const re of expect) assert.ok(got.some((g) => re.test(g)), `missing ${re} in\n${got.join('\n')}`);
    assert.ok(r.problems.every((p) => p.file === 'rollouts/bad.yaml'));
  });

  test('cross-checks steps, versions and slice keys against the project', () => {
    const text = `steps: [orders.clean_orders, orders.ghost]
baseline: v1
candidate: v3
environments: [{ name: dev, stages: [{ mode: canary, percent: 5 }, { mode: canary, datasets: [other] }] }]
`;
    const known: KnownStep[] = [{ pipeline: 'orders', step: 'clean_orders', versions: ['v1', 'v2'], datasets: ['orders_clean'] }];
    const r = parseRolloutPlan('x.yaml', text, known);
    assert.equal(r.ok, false);
    if (r.ok) return;
    const msgs = r.problems.map((p) => `${p.field}: ${p.message}`);
    assert.ok(msgs.some((m) => m.startsWith('steps.1: no step orders.ghost')), msgs.join('\n'));
    assert.ok(msgs.some((m) => m.startsWith('candidate: step orders.clean_orders has no version v3')));
    assert.ok(msgs.some((m) => m.includes('declares no slice_key')));
    assert.ok(msgs.some((m) => m.includes('dataset other is not written')));
  });

  test('canary percent may not shrink within an environment; windows need valid zones and times', () => {
    const text = `step: p.s
baseline: v1
candidate: v2
environments:
  - name: dev
    stages:
      - { mode: canary, percent: 50 }
      - { mode: canary, percent: 10, gates: [{ kind: window, zone: Mars/Olympus, allow: [{ days: [funday], from: "9:00", to: "16:00" }] }] }
`;
    const r = parseRolloutPlan('x.yaml', text);
    assert.equal(r.ok, false);
    if (r.ok) return;
    const msgs = r.problems.map((p) => `${p.field}: ${p.message}`).join('\n');
    assert.match(msgs, /stages\.1\.percent: must not shrink/);
    assert.match(msgs, /zone: unknown time zone "Mars\/Olympus"/);
    assert.match(msgs, /unknown day "funday"/);
    assert.match(msgs, /from: expected a time HH:MM/);
  });

  test('explicit approvals: per stage and via approvals.before', () => {
    const text = `step: p.s
baseline: v1
candidate: v2
approvals: { required: 2, before: [stage, prod/full] }
environments:
  - { name: stage, stages: [{ mode: shadow }] }
  - { name: prod, stages: [{ mode: canary, percent: 10, approvals: 1 }, { mode: full }] }
`;
    const r = parseRolloutPlan('x.yaml', text);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    assert.deepEqual(r.plan.environments.map((e) => e.stages.map((s) => s.approvals)), [[2], [1, 2]]);
  });

  test('invalid YAML is a problem with a line', () => {
    const r = parseRolloutPlan('x.yaml', 'a: [1, 2\n');
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.problems[0]?.file, 'x.yaml');
  });
});

test('the example plan in README.md parses', async () => {
  const { readFileSync } = await import('node:fs');
  const md = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
  const yaml = md.slice(md.indexOf('```yaml\n') + 8, md.indexOf('```', md.indexOf('```yaml\n') + 8));
  const r = parseRolloutPlan('rollouts/clean-orders-v2.yaml', yaml);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  assert.equal(r.plan.environments[1]?.stages[0]?.approvals, 1);
  assert.equal(r.plan.risks[0]?.gate, 'checks');
});
