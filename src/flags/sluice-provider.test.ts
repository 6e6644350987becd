import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenFeature } from '@openfeature/server-sdk';
import { ManualClock } from '../util/clock.ts';
import { bucket } from './bucket.ts';
import { createSnapshot, readSnapshot, writeSnapshot } from './flag-snapshot.ts';
import { parseFlagFile } from './parse-flag-file.ts';
import { SluiceProvider } from './sluice-provider.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-flags-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const parsed = parseFlagFile('flags/app.yaml', `flags:
  - name: new_reader
    enabled: true
  - name: paused
    enabled: false
  - name: eu_only
    enabled: true
    strategies:
      - kind: default
        constraints: [{ field: region, operator: IN, values: [eu] }]
  - name: clean_version
    enabled: true
    default_variant: v1
    strategies:
      - kind: gradual
        percentage: 50
        variants: [{ name: v2 }]
  - name: batch_size
    type: variant
    enabled: true
    variants: [{ name: big, payload: { type: number, value: "5000" } }]
  - name: limits
    type: variant
    enabled: true
    variants: [{ name: strict, payload: { type: json, value: '{"max": 3}' } }]
`);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const snapshot = createSnapshot('prod', parsed.flags, new ManualClock('2026-03-02T08:30:00Z'));

describe('flag snapshots', () => {
  test('a snapshot written to disk reads back equal, flags in name order', async () => {
    const file = join(dir, 'prod.json');
    await writeSnapshot(file, snapshot);
    const back = await readSnapshot(file);
    assert.deepEqual(back, snapshot);
    assert.deepEqual(back.flags.map((f) => f.name), ['batch_size', 'clean_version', 'eu_only', 'limits', 'new_reader', 'paused']);
  });

  test('a file that is not a snapshot is refused with its name', async () => {
    const file = join(dir, 'junk.json');
    writeFileSync(file, '{"flags": []}');
    await assert.rejects(readSnapshot(file), /junk\.json: not a Sluice flag snapshot/);
  });
});

describe('OpenFeature provider through the real SDK', () => {
  test('resolves values, variants and reasons from a snapshot file', async () => {
    const file = join(dir, 'of.json');
    await writeSnapshot(file, snapshot);
    await OpenFeature.setProviderAndWait(new SluiceProvider({ file }));
    const client = OpenFeature.getClient();

    const on = await client.getBooleanDetails('new_reader', false);
    assert.deepEqual([on.value, on.reason, on.errorCode], [true, 'STATIC', undefined]);

    const off = await client.getBooleanDetails('paused', true);
    assert.deepEqual([off.value, off.reason], [false, 'DISABLED']);

    const eu = await client.getBooleanDetails('eu_only', false, { region: 'eu' });
    assert.deepEqual([eu.value, eu.reason], [true, 'TARGETING_MATCH']);
    const us = await client.getBooleanDetails('eu_only', true, { region: 'us' });
    assert.deepEqual([us.value, us.reason], [false, 'DEFAULT']);

    let inKey = 0;
    while (bucket('clean_version', String(inKey)) >= 5000) inKey++;
    let outKey = 0;
    while (bucket('clean_version', String(outKey)) < 5000) outKey++;
    const split = await client.getStringDetails('clean_version', 'fallback', { targetingKey: String(inKey) });
    assert.deepEqual([split.value, split.variant, split.reason], ['v2', 'v2', 'SPLIT']);
    const base = await client.getStringDetails('clean_version', 'fallback', { targetingKey: String(outKey) });
    assert.deepEqual([base.value, base.reason], ['v1', 'DEFAULT']);

    const num = await client.getNumberDetails('batch_size', 1);
    assert.deepEqual([num.value, num.variant], [5000, 'big']);
    const obj = await client.getObjectDetails('limits', {});
    assert.deepEqual(obj.value, { max: 3 });
  });

  test('a missing flag gives FLAG_NOT_FOUND and a wrong type TYPE_MISMATCH, with the default value', async () => {
    await OpenFeature.setProviderAndWait(new SluiceProvider({ snapshot }));
    const client = OpenFeature.getClient();
    const missing = await client.getBooleanDetails('nope', true);
    assert.deepEqual([missing.value, missing.reason, missing.errorCode], [true, 'ERROR', 'FLAG_NOT_FOUND']);
    const wrong = await client.getNumberDetails('new_reader', 7);
    assert.deepEqual([wrong.value, wrong.reason, wrong.errorCode], [7, 'ERROR', 'TYPE_MISMATCH']);
    const wrong2 = await client.getBooleanDetails('clean_version', false);
    assert.deepEqual([wrong2.value, wrong2.errorCode], [false, 'TYPE_MISMATCH']);
    await OpenFeature.close();
  });
});
