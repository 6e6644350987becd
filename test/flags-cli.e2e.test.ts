import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OpenFeature } from '@openfeature/server-sdk';
import { bucket } from '../src/flags/bucket.ts';
import { importUnleash } from '../src/flags/import-unleash.ts';
import { parseFlagFile } from '../src/flags/parse-flag-file.ts';
import { SluiceProvider } from '../src/flags/sluice-provider.ts';
import type { FlagDefinition } from '../src/flags/flag.ts';
import { tempDir, runBin, type BinOutput } from './helpers.ts';

const sluice = (args: string[], env: Record<string, string> = {}): BinOutput => runBin(args, { actor: 'carol', env });

/** Runs with --json and parses stdout; fails the test with stderr when the command failed. */
function sluiceJson<T>(root: string, args: string[], env: Record<string, string> = {}): T {
  const r = sluice(['--project', root, '--json', ...args], env);
  assert.equal(r.code, 0, `sluice ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout) as T;
}

const FLAGS = `# the candidate version of clean_orders, by row slice
flags:
  - name: clean_orders_version
    type: variant
    scope: { pipeline: orders, step: clean_orders }
    enabled: false
    default_variant: v1
    variants: [{ name: v2, weight: 100 }]
    strategies:
      - kind: gradual
        percentage: 0
        stickiness: slice_key
        group_id: clean_orders
  - name: stop_orders
    kill_switch: true
    scope: { pipeline: orders }
    enabled: false
`;

interface ListJson { environment: string; flags: { flag: string; type: string; enabled: boolean; killSwitch: boolean; strategies: string; revision: number; setBy: string }[] }
interface ShowJson { environment: string; revision: number; actor: string; flag: FlagDefinition }
interface ChangeJson { environment: string; flag: string; revision: number; actor: string; reason: string; changes: string[]; after: Pick<FlagDefinition, 'enabled' | 'strategies' | 'variants' | 'defaultVariant'> }
interface HistoryJson { revisions: { revision: number; actor: string; reason: string; at: string | null; changes: string[]; state: ChangeJson['after'] }[] }
type AuditJson = { seq: number; actor: string; action: string; target: string; reason: string }[];

/** A scaffolded project whose flags are exactly FLAGS (the template's flag file is replaced). */
let template = '';
const tmpRoot = tempDir('sluice-flags-cli-');
before(() => {
  template = join(tmpRoot.dir, 'template');
  assert.equal(sluice(['init', template]).code, 0);
});
after(() => tmpRoot[Symbol.dispose]());

let n = 0;
function project(): string {
  const root = join(tmpRoot.dir, `p${++n}`);
  cpSync(template, root, { recursive: true });
  for (const f of readdirSync(join(root, 'flags'))) rmSync(join(root, 'flags', f));
  writeFileSync(join(root, 'flags/clean_orders.yaml'), FLAGS);
  return root;
}

describe('cli: sluice flags', () => {
  test('a new project declares clean_orders_version: off, 0 % gradual on slice_key, scoped to the step', () => {
    const list = sluiceJson<ListJson>(template, ['flags', 'list']);
    assert.deepEqual(list.flags.map((f) => [f.flag, f.type, f.enabled, f.revision]), [['clean_orders_version', 'variant', false, 0]]);
    const show = sluiceJson<ShowJson>(template, ['flags', 'show', 'clean_orders_version']);
    assert.deepEqual(show.flag.scope, { pipeline: 'orders', step: 'clean_orders' });
    assert.deepEqual(show.flag.strategies.map((s) => s.kind === 'gradual' && [s.percentage, s.stickiness, s.groupId]), [[0, 'slice_key', 'clean_orders']]);
    assert.equal(show.flag.defaultVariant, 'v1');
  });

  test('list and show: every flag with its state; show prints the definition as a flag file', () => {
    const root = project();
    const text = sluice(['--project', root, 'flags', 'list']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /clean_orders_version\s+variant\s+off\s+pipeline=orders step=clean_orders\s+gradual 0% on slice_key \(group clean_orders\)\s+v2:100 default v1\s+0\s+\(project file\)/);
    assert.match(text.stdout, /stop_orders\s+boolean\s+off\s+kill switch\s+pipeline=orders/);
    const list = sluiceJson<ListJson>(root, ['flags', 'list']);
    assert.deepEqual(list.flags.map((f) => [f.flag, f.killSwitch]), [['clean_orders_version', false], ['stop_orders', true]]);

    const show = sluice(['--project', root, 'flags', 'show', 'clean_orders_version']);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^# clean_orders_version in dev: revision 0/);
    const parsed = parseFlagFile('show.yaml', show.stdout);
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
    assert.deepEqual(parsed.flags[0], sluiceJson<ShowJson>(root, ['flags', 'show', 'clean_orders_version']).flag, 'show prints exactly the definition, in file form');
    const missing = sluice(['--project', root, 'flags', 'show', 'nope']);
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /unknown flag "nope" \(flags: clean_orders_version, stop_orders\)/);
  });

  test('set with --file and with --rollout: each change is a revision and an audit entry; audit verify stays green', () => {
    const root = project();
    const frag = join(root, 'canary.yaml');
    writeFileSync(frag, `enabled: true
strategies:
  - kind: gradual
    percentage: 10
    stickiness: slice_key
    group_id: clean_orders
    constraints: [{ field: channel, operator: IN, values: [web, app] }]
`);
    const a = sluiceJson<ChangeJson>(root, ['flags', 'set', 'clean_orders_version', '--file', frag, '--reason', 'canary on web']);
    assert.equal(a.revision, 1);
    assert.equal(a.actor, 'carol');
    assert.equal(a.after.enabled, true);
    assert.deepEqual(a.after.variants, [{ name: 'v2', weight: 100 }], 'fields the fragment leaves out keep their state');
    assert.deepEqual(a.after.strategies[0], { kind: 'gradual', percentage: 10, stickiness: 'slice_key', groupId: 'clean_orders', constraints: [{ field: 'channel', operator: 'IN', values: ['web', 'app'] }], segments: [] });
    assert.deepEqual(a.changes, ['enabled', 'strategy 1: gradual 0% on slice_key (group clean_orders) -> gradual 10% on slice_key (group clean_orders) [1 constraint]']);

    const b = sluice(['--project', root, 'flags', 'set', 'clean_orders_version', '--rollout', '25', '--reason', 'widen']);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /clean_orders_version in dev: set revision 2 by carol \(widen\)\n {2}strategy 1: gradual 10% .* -> gradual 25% on slice_key \(group clean_orders\) \[1 constraint\]/);
    const show = sluiceJson<ShowJson>(root, ['flags', 'show', 'clean_orders_version']);
    assert.equal(show.revision, 2);
    const s = show.flag.strategies[0];
    assert.ok(s?.kind === 'gradual');
    assert.deepEqual([s.percentage, s.stickiness, s.groupId, s.constraints.length], [25, 'slice_key', 'clean_orders', 1], '--rollout changes the percentage only');

    const v = sluiceJson<ChangeJson>(root, ['flags', 'set', 'clean_orders_version', '--variant', 'v2=3', '--variant', 'v1=1', '--disable']);
    assert.deepEqual([v.after.enabled, v.after.variants], [false, [{ name: 'v2', weight: 3 }, { name: 'v1', weight: 1 }]]);
    const badVersion = sluice(['--project', root, 'flags', 'set', 'clean_orders_version', '--variant', 'v9']);
    assert.equal(badVersion.code, 2);
    assert.match(badVersion.stderr, /variants\.0\.name: step clean_orders has no version "v9" \(versions: v1, v2[^)]*\)/);
    const kill = sluice(['--project', root, 'flags', 'set', 'stop_orders', '--rollout', '5']);
    assert.equal(kill.code, 2);
    assert.match(kill.stderr, /stop_orders is a kill switch/);
    const pct = sluice(['--project', root, 'flags', 'set', 'clean_orders_version', '--rollout', '150']);
    assert.equal(pct.code, 2);
    assert.match(pct.stderr, /--rollout takes a decimal percentage from 0 to 100/);
    for (const odd of ['0x10', '1e1', ' ', '10abc']) {
      const r = sluice(['--project', root, 'flags', 'set', 'clean_orders_version', '--rollout', odd]);
      assert.equal(r.code, 2, `--rollout ${JSON.stringify(odd)} is refused: numbers are decimal only`);
      assert.match(r.stderr, /--rollout takes a decimal percentage/);
    }

    const audit = sluiceJson<AuditJson>(root, ['audit', 'log', '--all']).filter((e) => e.target.startsWith('flag/'));
    assert.deepEqual(audit.map((e) => [e.action, e.target, e.actor, e.reason]), [
      ['flag.set', 'flag/dev/clean_orders_version', 'carol', 'canary on web'],
      ['flag.set', 'flag/dev/clean_orders_version', 'carol', 'widen'],
      ['flag.set', 'flag/dev/clean_orders_version', 'carol', ''],
    ]);
    const verify = sluice(['--project', root, 'audit', 'verify']);
    assert.equal(verify.code, 0, verify.stdout);
  });

  test('prod needs --reason: exit 2 with a clear message, nothing changed, audit unchanged', () => {
    const root = project();
    const prod = ['--env', 'prod'];
    const auditBefore = sluiceJson<AuditJson>(root, ['audit', 'log', '--all']).length;
    for (const args of [['flags', 'enable', 'stop_orders'], ['flags', 'set', 'clean_orders_version', '--rollout', '10', '--enable'], ['flags', 'set', 'clean_orders_version', '--enable', '--reason', '  ']]) {
      const r = sluice(['--project', root, ...prod, ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /^error: .*changing a flag in prod needs a reason \(--reason\)/);
    }
    assert.equal(sluiceJson<HistoryJson>(root, [...prod, 'flags', 'history', 'stop_orders']).revisions.length, 1, 'only the project file');
    assert.equal(sluiceJson<AuditJson>(root, ['audit', 'log', '--all']).length, auditBefore);
    const ok = sluiceJson<ChangeJson>(root, [...prod, 'flags', 'enable', 'stop_orders', '--reason', 'incident 42']);
    assert.deepEqual([ok.environment, ok.revision, ok.after.enabled, ok.reason], ['prod', 1, true, 'incident 42']);
    const dev = sluiceJson<ListJson>(root, ['flags', 'list']).flags.find((f) => f.flag === 'stop_orders');
    assert.equal(dev?.enabled, false, 'each environment has its own state');
    assert.equal(sluice(['--project', root, 'audit', 'verify']).code, 0);
  });

  test('history shows every revision with who, when, why and what changed; revert restores one as a new revision', () => {
    const root = project();
    sluiceJson(root, ['flags', 'set', 'clean_orders_version', '--enable', '--rollout', '10', '--reason', 'canary']);
    sluiceJson(root, ['flags', 'set', 'clean_orders_version', '--rollout', '50', '--reason', 'half'], { SLUICE_ACTOR: 'dave' });
    const r = sluiceJson<ChangeJson>(root, ['flags', 'revert', 'clean_orders_version', '--to', '1', '--reason', 'too fast']);
    assert.equal(r.revision, 3);
    const h = sluiceJson<HistoryJson>(root, ['flags', 'history', 'clean_orders_version']);
    assert.deepEqual(h.revisions.map((x) => [x.revision, x.actor, x.reason]), [[0, '(project file)', 'declared in flags/'], [1, 'carol', 'canary'], [2, 'dave', 'half'], [3, 'carol', 'too fast']]);
    assert.equal(h.revisions[0]?.at, null);
    assert.ok(h.revisions.slice(1).every((x) => typeof x.at === 'string' && !Number.isNaN(Date.parse(x.at))));
    assert.deepEqual(h.revisions[3]?.state, h.revisions[1]?.state, 'revision 3 is revision 1 again');
    assert.deepEqual(h.revisions[2]?.changes, ['strategy 1: gradual 10% on slice_key (group clean_orders) -> gradual 50% on slice_key (group clean_orders)']);
    const text = sluice(['--project', root, 'flags', 'history', 'clean_orders_version']).stdout;
    assert.match(text, /^1 +\S+ +carol +canary +enabled; strategy 1: gradual 0% .* -> gradual 10% /m);

    const zero = sluice(['--project', root, 'flags', 'revert', 'clean_orders_version', '--to', '0']);
    assert.equal(zero.code, 0, zero.stderr);
    assert.match(zero.stdout, /reverted to revision 0 as revision 4 by carol\n {2}disabled\n/);
    assert.deepEqual(sluiceJson<ShowJson>(root, ['flags', 'show', 'clean_orders_version']).flag, sluiceJson<ShowJson>(template, ['flags', 'show', 'clean_orders_version']).flag);
    assert.equal(sluice(['--project', root, 'flags', 'revert', 'clean_orders_version', '--to', '9']).code, 4);
    const audit = sluiceJson<AuditJson>(root, ['audit', 'log', '--all']).filter((e) => e.action === 'flag.revert');
    assert.equal(audit.length, 2);
    assert.equal(sluice(['--project', root, 'audit', 'verify']).code, 0);
  });

  test('evaluate explains the answer: value, variant, what decided and the constraint that failed', () => {
    const root = project();
    const frag = join(root, 'web.yaml');
    writeFileSync(frag, 'enabled: true\nstrategies:\n  - { kind: gradual, percentage: 30, group_id: clean_orders, constraints: [{ field: channel, operator: IN, values: [web] }] }\n');
    sluiceJson(root, ['flags', 'set', 'clean_orders_version', '--file', frag]);
    let inKey = 0;
    while (bucket('clean_orders', String(inKey)) >= 3000) inKey++;
    const base = ['--project', root, 'flags', 'evaluate', 'clean_orders_version', '--context'];

    const store = sluice([...base, 'pipeline=orders', 'step=clean_orders', `slice_key=${inKey}`, 'channel=store']);
    assert.equal(store.code, 0, store.stderr);
    assert.match(store.stdout, /^clean_orders_version = "v1" {2}reason DEFAULT\n {2}decided by: no strategy matched\n/);
    assert.match(store.stdout, /✗ strategy 1 \(gradual 30 % on slice_key\): did not match\n\s+✗ constraint: channel \("store"\) IN "web": did not match/);

    const web = sluiceJson<{ value: string; variant: string; reason: string; context: Record<string, unknown>; explanation: { decidedBy: string } }>(root, ['flags', 'evaluate', 'clean_orders_version', '--context', 'pipeline=orders', 'step=clean_orders', `slice_key=${inKey}`, 'channel=web']);
    assert.deepEqual([web.value, web.variant, web.reason], ['v2', 'v2', 'SPLIT']);
    assert.equal(web.context['environment'], 'dev', 'the environment comes from --env');
    assert.match(web.explanation.decidedBy, /strategy 1 .*; variant v2/);

    const scope = sluice([...base, 'pipeline=orders', 'step=daily_revenue', `slice_key=${inKey}`]);
    assert.match(scope.stdout, /reason DEFAULT\n {2}decided by: out of scope \(step\)\n {2}✗ scope: flag applies to step "clean_orders", context has "daily_revenue"/);
    const bad = sluice([...base, 'channel']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /context entry "channel" is not of the form key=value/);
  });

  test('import-unleash writes a flags file the project loads; it parses back to what importUnleash gives', () => {
    const root = project();
    const exportFile = join(root, 'unleash.json');
    const payload = {
      version: 2,
      segments: [{ id: 1, constraints: [{ contextName: 'region', operator: 'IN', values: ['eu'] }] }],
      features: [
        { name: 'new_checkout', enabled: true, strategies: [{ name: 'flexibleRollout', parameters: { rollout: '30', stickiness: 'userId', groupId: 'new_checkout' }, segments: [1] }], variants: [{ name: 'a', weight: 500, stickiness: 'userId' }, { name: 'b', weight: 500, stickiness: 'userId' }] },
        { name: 'ops.panic', type: 'kill-switch', enabled: false, strategies: [] },
      ],
    };
    writeFileSync(exportFile, JSON.stringify(payload));
    const r = sluice(['--project', root, 'flags', 'import-unleash', exportFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /imported 2 flag\(s\) from .*unleash\.json into .*flags\/imported\.yaml/);
    const text = readFileSync(join(root, 'flags/imported.yaml'), 'utf8');
    const parsed = parseFlagFile('flags/imported.yaml', text);
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
    const direct = importUnleash(payload);
    assert.ok(direct.ok);
    assert.deepEqual(parsed.flags, direct.flags);
    assert.match(text, /hash: murmur3/);

    const list = sluiceJson<ListJson>(root, ['flags', 'list']);
    assert.deepEqual(list.flags.map((f) => f.flag), ['clean_orders_version', 'new_checkout', 'ops.panic', 'stop_orders']);
    const ev = sluiceJson<{ enabled: boolean }>(root, ['flags', 'evaluate', 'new_checkout', '--context', 'userId=1', 'region=us']);
    assert.equal(ev.enabled, false, 'the segment applies after import');

    const again = sluice(['--project', root, 'flags', 'import-unleash', exportFile]);
    assert.equal(again.code, 7, 'an existing file is not overwritten without --force');
    assert.equal(sluice(['--project', root, 'flags', 'import-unleash', exportFile, '--force']).code, 0);
    writeFileSync(exportFile, JSON.stringify({ features: [{ name: 'stop_orders', enabled: true, strategies: [] }] }));
    const clash = sluice(['--project', root, 'flags', 'import-unleash', exportFile, '--out', join(root, 'flags/other.yaml')]);
    assert.equal(clash.code, 7);
    assert.match(clash.stderr, /already declared in the project: stop_orders/);
    writeFileSync(exportFile, '{"features": 3}');
    const bad = sluice(['--project', root, 'flags', 'import-unleash', exportFile, '--out', join(root, 'flags/other.yaml')]);
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /unleash\.json features: expected a list of features/);
  });

  test('snapshot writes the environment\'s flags for the OpenFeature provider', async () => {
    const root = project();
    sluiceJson(root, ['flags', 'set', 'clean_orders_version', '--enable', '--rollout', '40']);
    const file = join(root, 'snap.json');
    const r = sluiceJson<{ file: string; environment: string; flags: string[] }>(root, ['flags', 'snapshot', '--out', file]);
    assert.deepEqual([r.file, r.environment, r.flags], [file, 'dev', ['clean_orders_version', 'stop_orders']]);
    let inKey = 0;
    while (bucket('clean_orders', String(inKey)) >= 4000) inKey++;
    let outKey = 0;
    while (bucket('clean_orders', String(outKey)) < 4000) outKey++;
    await OpenFeature.setProviderAndWait('flags-cli', new SluiceProvider({ file }));
    try {
      const client = OpenFeature.getClient('flags-cli');
      const ctx = { pipeline: 'orders', step: 'clean_orders' };
      const inside = await client.getStringDetails('clean_orders_version', 'x', { ...ctx, targetingKey: String(inKey) });
      assert.deepEqual([inside.value, inside.variant, inside.reason], ['v2', 'v2', 'SPLIT']);
      const outside = await client.getStringDetails('clean_orders_version', 'x', { ...ctx, targetingKey: String(outKey) });
      assert.deepEqual([outside.value, outside.reason], ['v1', 'DEFAULT']);
      const kill = await client.getBooleanDetails('stop_orders', true, ctx);
      assert.deepEqual([kill.value, kill.reason], [false, 'DISABLED']);
    } finally {
      await OpenFeature.close();
    }
    const byDefault = sluice(['--project', root, '--env', 'stage', 'flags', 'snapshot']);
    assert.equal(byDefault.code, 0, byDefault.stderr);
    assert.match(byDefault.stdout, /wrote .*\.sluice\/flags-stage\.json: 2 flag\(s\) of stage/);
  });

  test('a bad flag file exits 3 naming file and line; a bad --file fragment does too and changes nothing', () => {
    const root = project();
    const frag = join(root, 'bad-fragment.yaml');
    writeFileSync(frag, 'enabled: true\nstrategies:\n  - kind: gradual\n    percentage: 150\nscope: { pipeline: other }\n');
    const r = sluice(['--project', root, 'flags', 'set', 'clean_orders_version', '--file', frag]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /bad-fragment\.yaml:5 scope: not a state field/);
    writeFileSync(frag, 'enabled: true\nstrategies:\n  - kind: gradual\n    percentage: 150\n');
    const r2 = sluice(['--project', root, 'flags', 'set', 'clean_orders_version', '--file', frag]);
    assert.equal(r2.code, 3);
    assert.match(r2.stderr, /^error: .*bad-fragment\.yaml:4 strategies\.0\.percentage: must be between 0 and 100, got 150/);
    assert.equal(sluiceJson<HistoryJson>(root, ['flags', 'history', 'clean_orders_version']).revisions.length, 1, 'nothing changed');

    writeFileSync(join(root, 'flags/broken.yaml'), 'name: broken\nenabled: true\nstrategies:\n  - kind: gradual\n    percentage: 10\n    stickness: slice_key\n');
    const list = sluice(['--project', root, 'flags', 'list']);
    assert.equal(list.code, 3);
    assert.match(list.stderr, /^error: flags\/broken\.yaml:6 strategies\.0\.stickness: unknown field/);
  });
});
