import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { detectProfileAnomalies, type ProfilePoint, watchedMetrics } from './profile-anomalies.ts';

const day = (i: number): string => new Date(Date.UTC(2026, 10, 1 + i)).toISOString().slice(0, 10);
const point = (i: number, rows: number, nullRate = 0, order = i): ProfilePoint => ({ partition: day(i), at: '2026-11-20T10:00:00.000Z', order, metrics: { row_count: rows, 'null_rate.amount': nullRate } });
const ROWS = [301, 296, 305, 299, 310, 293, 302, 298, 304, 300];

describe('detectProfileAnomalies: row counts and null rates against the dataset history', () => {
  test('a collapsed partition is flagged; an ordinary one is not', () => {
    const history = ROWS.map((r, i) => point(i, r));
    const [rows, nulls] = detectProfileAnomalies(history, point(10, 20));
    assert.equal(rows?.metric, 'row_count');
    assert.equal(rows?.flagged, true);
    assert.equal(rows?.direction, 'low');
    assert.equal(rows?.expected, 300.5);
    assert.equal(rows?.actual, 20);
    assert.match(rows?.message ?? '', /^row_count: ANOMALY: value 20 vs median 300.5 of 10 points/);
    assert.equal(nulls?.flagged, false, 'a null rate that stays 0 is normal');
    assert.equal(detectProfileAnomalies(history, point(10, 303))[0]?.flagged, false);
  });

  test('the partition itself never votes: re-runs of it are left out, and each partition counts once (its latest profile)', () => {
    const history = [...ROWS.map((r, i) => point(i, r)), point(10, 20, 0, 50), point(3, 5, 0, 1), point(3, 299, 0, 60)];
    const r = detectProfileAnomalies(history, point(10, 21, 0, 70))[0];
    assert.equal(r?.historyUsed, 10);
    assert.equal(r?.flagged, true, 'an earlier collapsed run of the same partition does not make the collapse normal');
  });

  test('a flat history tolerates small moves (1 % of the row count, 0.001 of a null rate) and flags larger ones', () => {
    const flat = Array.from({ length: 8 }, (_, i) => point(i, 1000, 0));
    const [rows, nulls] = detectProfileAnomalies(flat, point(8, 1005, 0.0005));
    assert.deepEqual([rows?.flagged, nulls?.flagged], [false, false]);
    const [rows2, nulls2] = detectProfileAnomalies(flat, point(8, 1100, 0.2));
    assert.deepEqual([rows2?.flagged, nulls2?.flagged, nulls2?.direction], [true, true, 'high']);
  });

  test('too little history: a verdict of insufficient history, never flagged', () => {
    const r = detectProfileAnomalies(ROWS.slice(0, 3).map((x, i) => point(i, x)), point(3, 1))[0];
    assert.equal(r?.verdict, 'insufficient_history');
    assert.equal(r?.flagged, false);
    assert.equal(r?.expected, null);
  });

  test('a minimum volume: a row count of 2 against a median of 1 is not an anomaly, nor is a null rate of tiny data', () => {
    // Seen on a ported project: one or two orders a day, and every day with two was "an anomaly".
    const tiny = Array.from({ length: 7 }, (_, i) => point(i, 1));
    const [rows, nulls] = detectProfileAnomalies(tiny, point(7, 2, 0.5));
    assert.deepEqual([rows?.verdict, rows?.flagged, nulls?.verdict, nulls?.flagged], ['insufficient_volume', false, 'insufficient_volume', false]);
    assert.equal(rows?.expected, 1, 'the median is still reported');
    assert.match(rows?.message ?? '', /^row_count: insufficient volume: 2 row\(s\) now, median 1 in 7 earlier partition\(s\); need 30 rows in either/);
    // Either side with enough rows is enough data: a collapse to nothing, or a jump from almost nothing.
    const big = Array.from({ length: 7 }, (_, i) => point(i, 1000));
    assert.equal(detectProfileAnomalies(big, point(7, 0))[0]?.flagged, true);
    assert.equal(detectProfileAnomalies(tiny, point(7, 500))[0]?.flagged, true);
    assert.equal(detectProfileAnomalies(tiny, point(7, 2, 0), { minRows: 1, minRowChange: 0 })[0]?.verdict, 'anomaly', 'both minimums are options');
  });

  test('a row count within 5 rows of the median is normal, however flat the history', () => {
    const flat = Array.from({ length: 8 }, (_, i) => point(i, 40));
    const near = detectProfileAnomalies(flat, point(8, 45))[0];
    assert.deepEqual([near?.verdict, near?.flagged], ['normal', false]);
    assert.match(near?.reason ?? '', /but it moved 5, not more than 5/);
    assert.equal(detectProfileAnomalies(flat, point(8, 46))[0]?.flagged, true);
  });

  test('watchedMetrics names metrics as gates do', () => {
    assert.deepEqual(watchedMetrics({ rowCount: 3, columns: [{ name: 'amount', nullRate: 0.5 }] }), { row_count: 3, 'null_rate.amount': 0.5 });
  });
});
