import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { listedPartitions, partitionsBetween, resolvePartition, WHOLE, type Partitioning } from './partitioning.ts';
import { outsidePartitions, partitionPredicate } from '../engine/partition-predicate.ts';
import { hiveEscape } from '../engine/hive-path.ts';
import type { PartitionBinding } from '../engine/partition-binding.ts';
import { SluiceError } from '../util/errors.ts';

const berlinHours: Partitioning = { kind: 'time', grain: 'hour', timeZone: 'Europe/Berlin' };
const usage = (re: RegExp) => (e: unknown) => e instanceof SluiceError && e.code === 'USAGE' && re.test(e.message);

describe('partitions', () => {
  test('hourly in a zone with daylight saving: the skipped hour is refused and walked past, the repeated hour spans two real hours', () => {
    assert.throws(() => resolvePartition(berlinHours, '2026-03-29T02'), usage(/does not exist in Europe\/Berlin/));
    assert.deepEqual(partitionsBetween(berlinHours, '2026-03-29T01', '2026-03-29T03'), ['2026-03-29T01', '2026-03-29T03']);
    const repeated = resolvePartition(berlinHours, '2026-10-25T02');
    assert.deepEqual(repeated, { value: '2026-10-25T02', startsAt: '2026-10-25 02:00:00', endsAt: '2026-10-25 03:00:00', startsAtUtc: '2026-10-25T00:00:00Z', endsAtUtc: '2026-10-25T02:00:00Z' });
    assert.equal(resolvePartition(berlinHours, '2026-10-25T01').endsAtUtc, repeated.startsAtUtc, 'hours tile time: one ends where the next starts');
    assert.equal(resolvePartition(berlinHours, '2026-10-25T03').startsAtUtc, repeated.endsAtUtc);
    assert.equal(partitionsBetween(berlinHours, '2026-10-25T00', '2026-10-25T23').length, 24, 'the long day has 24 hourly partitions, one of them two hours long');
    // Lord Howe shifts by half an hour: its hours still tile time, one 90 and one 30 minutes long.
    const lordHowe: Partitioning = { kind: 'time', grain: 'hour', timeZone: 'Australia/Lord_Howe' };
    for (const day of ['2026-04-05', '2026-10-04']) {
      const hours: PartitionBinding[] = partitionsBetween(lordHowe, `${day}T00`, `${day}T05`).map((h) => resolvePartition(lordHowe, h));
      for (let i = 1; i < hours.length; i++) assert.equal(hours[i]?.startsAtUtc, hours[i - 1]?.endsAtUtc, `${day}: ${hours[i]?.value} starts where ${hours[i - 1]?.value} ends`);
      const minutes: number[] = hours.map((h) => (Date.parse(h.endsAtUtc ?? '') - Date.parse(h.startsAtUtc ?? '')) / 60_000);
      assert.deepEqual(minutes.filter((m) => m !== 60), day === '2026-04-05' ? [90] : [30], `${day}: ${JSON.stringify(minutes)}`);
    }
  });

  test('days and months: half-open bounds, local in the zone, as instants in UTC', () => {
    const ny: Partitioning = { kind: 'time', grain: 'day', timeZone: 'America/New_York' };
    assert.deepEqual(resolvePartition(ny, '2026-03-08'), { value: '2026-03-08', startsAt: '2026-03-08 00:00:00', endsAt: '2026-03-09 00:00:00', startsAtUtc: '2026-03-08T05:00:00Z', endsAtUtc: '2026-03-09T04:00:00Z' });
    const months: Partitioning = { kind: 'time', grain: 'month', timeZone: 'UTC' };
    assert.equal(resolvePartition(months, '2026-12').endsAt, '2027-01-01 00:00:00');
    assert.deepEqual(partitionsBetween(months, '2025-11', '2026-02'), ['2025-11', '2025-12', '2026-01', '2026-02']);
    assert.throws(() => resolvePartition(months, '2026-11-01'), usage(/takes a month as 2026-11/));
    assert.throws(() => resolvePartition({ kind: 'time', grain: 'day', timeZone: 'UTC' }, '2026-02-30'), usage(/is not a day/));
    assert.throws(() => partitionsBetween(months, '2026-03', '2026-01'), usage(/before/));
  });

  test('categorical and unpartitioned', () => {
    const regions: Partitioning = { kind: 'values', values: ['eu', 'us', "o'hare"] };
    assert.deepEqual(listedPartitions(regions, undefined), ['eu', 'us', "o'hare"]);
    assert.deepEqual(listedPartitions(regions, ['us', 'us']), ['us']);
    assert.throws(() => listedPartitions(regions, ['mars']), usage(/not a declared partition/));
    assert.throws(() => partitionsBetween(regions, 'a', 'b'), usage(/--partitions a,b/));
    assert.equal(resolvePartition({ kind: 'whole' }, undefined).value, WHOLE);
    assert.throws(() => resolvePartition({ kind: 'whole' }, '2026-01-01'), usage(/unpartitioned/));
  });

  test('the rows of a partition: equality for values and dates, half-open local ranges for times in timestamp columns', () => {
    assert.equal(partitionPredicate('region', 'VARCHAR', "o'hare"), `"region" = CAST('o''hare' AS VARCHAR)`);
    assert.equal(partitionPredicate('d', 'DATE', '2026-01-02'), `"d" = CAST('2026-01-02' AS DATE)`);
    assert.equal(partitionPredicate('d', 'DATE', '2026-01'), `("d" >= CAST('2026-01-01 00:00:00' AS TIMESTAMP) AND "d" < CAST('2026-02-01 00:00:00' AS TIMESTAMP))`);
    assert.equal(partitionPredicate('t', 'TIMESTAMP', '2026-12-31T23'), `("t" >= CAST('2026-12-31 23:00:00' AS TIMESTAMP) AND "t" < CAST('2027-01-01 00:00:00' AS TIMESTAMP))`);
    assert.equal(partitionPredicate(undefined, undefined, WHOLE), 'TRUE');
    assert.equal(outsidePartitions('d', 'DATE', ['2026-01-02', '2026-02']), `"d" IS NOT NULL AND NOT ("d" IN (CAST('2026-01-02' AS DATE)) OR ("d" >= CAST('2026-02-01 00:00:00' AS TIMESTAMP) AND "d" < CAST('2026-03-01 00:00:00' AS TIMESTAMP)))`);
  });

  test('values in folder names are escaped as hive does, one folder each', () => {
    assert.equal(hiveEscape('eu-west'), 'eu-west');
    assert.equal(hiveEscape('a/b=c:d'), 'a%2Fb%3Dc%3Ad');
    assert.equal(hiveEscape('..'), '%2E%2E');
    assert.equal(hiveEscape('50%'), '50%25');
  });
});
