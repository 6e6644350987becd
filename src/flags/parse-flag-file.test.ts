import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatProblem } from '../util/errors.ts';
import { parseFlagFile } from './parse-flag-file.ts';

const GOOD = `segments:
  eu:
    - { field: source, operator: IN, values: [eu_orders, eu_refunds] }
flags:
  - name: clean_orders_v2
    description: new cleaning logic
    type: variant
    scope: { pipeline: orders, step: clean }
    enabled: true
    default_variant: v1
    strategies:
      - kind: gradual
        percentage: 10
        stickiness: slice_key
        segments: [eu]
        variants: [{ name: v2 }]
      - kind: list
        datasets: [orders_replay]
        variants: [{ name: v2 }]
  - name: stop_orders
    kill_switch: true
    enabled: false
    window:
      recurring: { days: [mon, tue, wed, thu, fri], start: "09:00", end: "16:00", zone: Europe/Oslo }
`;

describe('flag files', () => {
  test('a valid file gives typed, frozen definitions with defaults filled in', () => {
    const r = parseFlagFile('flags/orders.yaml', GOOD);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    const [v2, stop] = r.flags;
    assert.equal(v2!.type, 'variant');
    assert.equal(v2!.hash, 'md5');
    assert.deepEqual(v2!.scope, { pipeline: 'orders', step: 'clean' });
    const g = v2!.strategies[0]!;
    assert.equal(g.kind, 'gradual');
    assert.ok(g.kind === 'gradual' && g.groupId === 'clean_orders_v2' && g.percentage === 10);
    assert.deepEqual(g.segments[0]!.constraints[0]!.values, ['eu_orders', 'eu_refunds']);
    const l = v2!.strategies[1]!;
    assert.ok(l.kind === 'list' && l.field === 'dataset');
    assert.equal(stop!.killSwitch, true);
    assert.deepEqual(stop!.window?.recurring?.days, [1, 2, 3, 4, 5]);
    assert.ok(Object.isFrozen(v2!.strategies[0]));
  });

  test('a single-flag file is accepted', () => {
    const r = parseFlagFile('flags/one.yaml', 'name: one\nenabled: true\n');
    assert.ok(r.ok);
    assert.equal(r.flags[0]!.type, 'boolean');
  });

  test('every problem is reported at once with file, line and field path', () => {
    const text = `flags:
  - name: bad
    enabled: yes please
    strategies:
      - kind: gradual
        percentage: 150
      - kind: list
        datasets: [a]
        constraints:
          - { field: n, operator: NUM_GT, value: many }
          - { field: v, operator: SEMVER_GT, value: v1 }
          - { field: r, operator: REGEX, value: "(a" }
          - { field: x, operator: LIKE, values: [a] }
      - kind: gradual
        percentage: 5
        segments: [nope]
    window: { recurring: { start: "9am", end: "16:00", zone: Mars/Olympus } }
    colour: red
`;
    const r = parseFlagFile('flags/bad.yaml', text);
    assert.ok(!r.ok);
    const lines = r.problems.map(formatProblem);
    const expect = [
      /^flags\/bad\.yaml:3 flags\.0\.enabled: expected true or false/,
      /^flags\/bad\.yaml:6 flags\.0\.strategies\.0\.percentage: must be between 0 and 100/,
      /^flags\/bad\.yaml:10 flags\.0\.strategies\.1\.constraints\.0\.value: NUM_GT needs a number/,
      /^flags\/bad\.yaml:11 flags\.0\.strategies\.1\.constraints\.1\.value: SEMVER_GT needs a semantic version/,
      /^flags\/bad\.yaml:12 flags\.0\.strategies\.1\.constraints\.2\.value: invalid regular expression/,
      /^flags\/bad\.yaml:13 flags\.0\.strategies\.1\.constraints\.3\.operator: unknown operator LIKE/,
      /^flags\/bad\.yaml:16 flags\.0\.strategies\.2\.segments\.0: unknown segment nope/,
      /^flags\/bad\.yaml:17 flags\.0\.window\.recurring\.zone: unknown IANA time zone/,
      /^flags\/bad\.yaml:17 flags\.0\.window\.recurring\.start: expected HH:MM/,
      /^flags\/bad\.yaml:18 flags\.0\.colour: unknown field/,
    ];
    for (const re of expect) assert.ok(lines.some((l) => re.test(l)), `missing ${re}\n${lines.join('\n')}`);
  });

  test('kill switches must be boolean and names unique', () => {
    const r = parseFlagFile('f.yaml', `flags:
  - name: a
    kill_switch: true
    variants: [{ name: x }]
  - name: b
  - name: b
`);
    assert.ok(!r.ok);
    const lines = r.problems.map(formatProblem);
    assert.ok(lines.some((l) => l.startsWith('f.yaml:3 flags.0.kill_switch: a kill switch must be a boolean flag')), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('f.yaml:6 flags.2.name: flag b is already defined at f.yaml:5')), lines.join('\n'));
  });

  test('invalid YAML is reported with its line', () => {
    const r = parseFlagFile('f.yaml', 'flags:\n  - name: a\n   enabled: [\n');
    assert.ok(!r.ok);
    assert.equal(r.problems[0]!.file, 'f.yaml');
    assert.ok(r.problems[0]!.line);
  });
});
