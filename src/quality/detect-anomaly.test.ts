import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { detectAnomaly, type MetricPoint } from './detect-anomaly.ts';

const day = (i: number): string => new Date(Date.UTC(2026, 0, 5 + i)).toISOString(); // 2026-01-05 is a Monday
const series = (values: number[]): MetricPoint[] => values.map((value, i) => ({ at: day(i), value }));

describe('detectAnomaly (robust z on median and MAD)', () => {
  const noisy = series([1000, 1012, 990, 1005, 998, 1020, 985, 1003, 1010, 995, 1001, 1008, 992, 1015]);

  test('a spike and a drop are anomalies; an ordinary value is not', () => {
    const spike = detectAnomaly(noisy, { at: day(14), value: 1500 });
    assert.equal(spike.verdict, 'anomaly');
    assert.equal(spike.direction, 'high');
    assert.equal(spike.median, 1002);
    assert.ok((spike.score ?? 0) > 30);
    assert.equal(detectAnomaly(noisy, { at: day(14), value: 400 }).direction, 'low');
    assert.equal(detectAnomaly(noisy, { at: day(14), value: 400 }).verdict, 'anomaly');
    const ok = detectAnomaly(noisy, { at: day(14), value: 1011 });
    assert.equal(ok.verdict, 'normal');
    assert.equal(ok.scaleMethod, 'mad');
  });

  test('an old anomaly in the history does not hide a new one (median/MAD are robust)', () => {
    const withOutlier = series([1000, 1012, 990, 1005, 50000, 998, 1020, 985, 1003]);
    assert.equal(detectAnomaly(withOutlier, { at: day(9), value: 1400 }).verdict, 'anomaly');
  });

  test('too little history gives no verdict', () => {
    const r = detectAnomaly(series([1, 2, 3]), { at: day(3), value: 100 }, { minHistory: 5 });
    assert.equal(r.verdict, 'insufficient_history');
    assert.equal(r.score, null);
  });

  test('MAD of 0: falls back to the mean absolute deviation, then to an exact flat level', () => {
    const mostlyFlat = series([100, 100, 100, 100, 100, 100, 130]);
    const r = detectAnomaly(mostlyFlat, { at: day(7), value: 104 });
    assert.equal(r.scaleMethod, 'mean_absolute_deviation');
    assert.equal(r.verdict, 'normal');
    const flat = series([7, 7, 7, 7, 7, 7, 7, 7]);
    assert.equal(detectAnomaly(flat, { at: day(8), value: 7 }).verdict, 'normal');
    const moved = detectAnomaly(flat, { at: day(8), value: 8 });
    assert.equal(moved.verdict, 'anomaly');
    assert.equal(moved.score, Infinity);
    assert.equal(detectAnomaly(flat, { at: day(8), value: 8 }, { flatTolerance: 1 }).verdict, 'normal');
  });

  test('minChange: a move of a few units is normal whatever its score', () => {
    const flat = series([1, 1, 1, 1, 1, 1, 1]);
    const r = detectAnomaly(flat, { at: day(7), value: 2 }, { minChange: 5 });
    assert.equal(r.verdict, 'normal');
    assert.equal(r.score, Infinity, 'the score is still reported');
    assert.equal(detectAnomaly(flat, { at: day(7), value: 7 }, { minChange: 5 }).verdict, 'anomaly');
  });

  test('weekly seasonality: a normal Sunday dip is only normal when compared with other Sundays', () => {
    const values = Array.from({ length: 42 }, (_, i) => (new Date(day(i)).getUTCDay() === 0 ? 200 + (i % 3) : 1000 + ((i * 7) % 11)));
    const history = series(values);
    const sunday = { at: day(48), value: 201 };
    assert.equal(new Date(sunday.at).getUTCDay(), 0);
    assert.equal(detectAnomaly(history, sunday, { minHistory: 5 }).verdict, 'anomaly');
    const seasonal = detectAnomaly(history, sunday, { seasonality: 'day_of_week', minHistory: 5 });
    assert.equal(seasonal.verdict, 'normal');
    assert.equal(seasonal.historyUsed, 6);
    assert.equal(detectAnomaly(history, { at: day(48), value: 1000 }, { seasonality: 'day_of_week', minHistory: 5 }).verdict, 'anomaly', 'a weekday level on a Sunday is odd');
  });
});
