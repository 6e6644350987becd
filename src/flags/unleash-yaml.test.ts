import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { conformanceDir } from '../util/conformance-dir.ts';
import { evaluate } from './evaluate.ts';
import { flagSet } from './flag.ts';
import { importUnleash, unleashContext } from './import-unleash.ts';
import { parseFlagFile } from './parse-flag-file.ts';
import { flagsDocument, toYaml } from './flag-document.ts';
import { unleashToYaml } from './unleash-yaml.ts';

const dir = conformanceDir('unleash-client-spec');
type Obj = Record<string, unknown>;

describe('Unleash import written as flags/*.yaml', () => {
  test('every case of the Unleash client spec gives the same answer after import -> YAML -> parseFlagFile', { skip: !existsSync(join(dir, 'index.json')) && 'conformance suite not present' }, () => {
    const files = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as string[];
    let checked = 0;
    const skippedCases: string[] = [];
    for (const file of files) {
      const spec = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { state: unknown; tests?: Obj[]; variantTests?: Obj[] };
      const r = unleashToYaml(spec.state, `from ${file}`);
      assert.ok(r.ok, file);
      const back = parseFlagFile(`${file}.yaml`, r.result.text);
      assert.ok(back.ok, `${file}: ${JSON.stringify(!back.ok && back.problems)}`);
      // Only names the file format refuses are left out.
      for (const s of r.result.skipped) assert.match(s.reason, /^name: must be letters/, `${file}: ${s.flag}`);
      const flags = flagSet(back.flags);
      const left = new Set(r.result.skipped.map((s) => s.flag));
      for (const t of spec.tests ?? []) {
        if (left.has(String(t['toggleName']))) {
          skippedCases.push(String(t['description']));
          continue;
        }
        const e = evaluate(String(t['toggleName']), unleashContext(t['context']), flags);
        assert.equal(e.enabled, t['expectedResult'], `${file} / ${String(t['description'])}`);
        checked++;
      }
      for (const t of spec.variantTests ?? []) {
        if (left.has(String(t['toggleName']))) {
          skippedCases.push(String(t['description']));
          continue;
        }
        const e = evaluate(String(t['toggleName']), unleashContext(t['context']), flags);
        const got = e.variant !== undefined ? { name: e.variant, ...(e.payload ? { payload: e.payload } : {}), enabled: true, feature_enabled: e.enabled } : { name: 'disabled', enabled: false, feature_enabled: e.enabled };
        assert.deepEqual(got, t['expectedResult'], `${file} / ${String(t['description'])}`);
        checked++;
      }
    }
    assert.ok(checked >= 270, `checked ${checked} cases`);
    assert.ok(skippedCases.length <= 9, `skipped ${skippedCases.join(', ')}`);
  });

  test('flags the file format holds as they are come back equal', () => {
    const r = importUnleash({
      version: 2,
      segments: [{ id: 7, constraints: [{ contextName: 'region', operator: 'IN', values: ['eu'] }] }],
      features: [
        {
          name: 'checkout.v2',
          description: 'new checkout',
          enabled: true,
          strategies: [
            { name: 'flexibleRollout', parameters: { rollout: '25', stickiness: 'userId', groupId: 'checkout' }, constraints: [{ contextName: 'appVersion', operator: 'SEMVER_GTE', value: '2.0.0' }], segments: [7] },
            { name: 'default', constraints: [{ contextName: 'email', operator: 'STR_ENDS_WITH', values: ['@example.com'], caseInsensitive: true, inverted: true }] },
          ],
          variants: [
            { name: 'blue', weight: 500, stickiness: 'userId', payload: { type: 'json', value: '{"color":"blue"}' } },
            { name: 'red', weight: 500, stickiness: 'userId', overrides: [{ contextName: 'userId', values: ['1', '2'] }] },
          ],
          dependencies: [{ feature: 'base', enabled: true }],
        },
        { name: 'base', enabled: true, strategies: [] },
        { name: 'panic', type: 'kill-switch', enabled: false, strategies: [] },
      ],
    });
    assert.ok(r.ok);
    const { document, notes } = flagsDocument(r.flags);
    assert.deepEqual(notes, []);
    const back = parseFlagFile('flags/imported.yaml', toYaml(document));
    assert.ok(back.ok, JSON.stringify(!back.ok && back.problems));
    assert.deepEqual(back.flags, r.flags);
  });

  test('what the file format cannot hold is written so it evaluates the same, with a note', () => {
    const r = unleashToYaml(
      {
        features: [
          { name: 'odd', enabled: true, strategies: [{ name: 'myCustom', parameters: {} }, { name: 'default', constraints: [{ contextName: 'x', operator: 'NOPE', values: ['1'] }] }, { name: 'default', segments: [404] }, { name: 'userWithId', parameters: { userIds: 'a,b' } }] },
        ],
      },
      'test',
    );
    assert.ok(r.ok);
    assert.equal(r.result.notes.length, 3);
    assert.match(r.result.text, /^# test\n/);
    const [f] = r.result.flags;
    assert.ok(f);
    for (const [ctx, want] of [[{ userId: 'a' }, true], [{ userId: 'c' }, false], [{ x: '1' }, false]] as const) {
      assert.equal(evaluate(f, unleashContext(ctx)).enabled, want, JSON.stringify(ctx));
    }
  });
});
