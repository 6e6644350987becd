import { DateTime, IANAZone } from 'luxon';
import type { FreezeWindow, GateKind, GateSpec, JudgeMetric, MetricBound, OnFail, WeeklySlot, Weekday } from './gate-spec.ts';
import { GATE_KINDS } from './gate-spec.ts';
import type { Obj, Path, PlanReader } from './plan-reader.ts';
import { describe } from './plan-reader.ts';

const COMMON = ['id', 'kind', 'on_fail'];
const FIELDS: Readonly<Record<GateKind, readonly string[]>> = {
  checks: ['checks', 'fail_on', 'window'],
  diff: ['max_changed_share', 'max_column_mismatch', 'max_only_baseline_share', 'max_only_candidate_share', 'max_psi', 'max_ks', 'window'],
  metrics: ['bounds', 'window'],
  judge: ['metrics', 'window', 'min_batches', 'alpha', 'pass_score', 'marginal_score'],
  soak: ['min_batches', 'min_duration'],
  window: ['zone', 'allow', 'freeze'],
  approval: ['required'],
  dependency: ['rollout', 'reached', 'dataset', 'max_age'],
  anomaly: ['metrics', 'window'],
};

const DAY_NAMES: readonly string[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DIRECTIONS = ['increase', 'decrease', 'either'] as const;

/** Parses one gate mapping; `id` is the id to use (from the catalog key, the `id` field or generated). */
export function parseGateSpec(r: PlanReader, raw: Obj, path: Path, id: string): GateSpec | undefined {
  const kind = r.oneOf(raw, 'kind', path, GATE_KINDS);
  if (!kind) {
    if (raw['kind'] === undefined) r.report([...path, 'kind'], `is required (one of ${GATE_KINDS.join(' | ')})`);
    return undefined;
  }
  r.onlyKeys(raw, path, [...COMMON, ...FIELDS[kind]]);
  const onFail: OnFail = r.oneOf(raw, 'on_fail', path, ['fail', 'rollback'] as const) ?? 'fail';
  const base = { id, onFail };
  const window = r.num(raw, 'window', path, { min: 1, integer: true }) ?? 1;
  const share = (key: string): number | undefined => r.num(raw, key, path, { min: 0, max: 1 });
  switch (kind) {
    case 'checks':
      return { ...base, kind, checks: r.strList(raw, 'checks', path), failOn: r.oneOf(raw, 'fail_on', path, ['error', 'warn'] as const) ?? 'error', window };
    case 'diff': {
      const mm = raw['max_column_mismatch'];
      let maxColumnMismatch: Record<string, number> | undefined;
      if (typeof mm === 'number') maxColumnMismatch = { '*': mm };
      else if (r.isObj(mm)) {
        maxColumnMismatch = {};
        for (const col of Object.keys(mm)) {
          const v = r.num(mm, col, [...path, 'max_column_mismatch'], { min: 0, max: 1 });
          if (v !== undefined) maxColumnMismatch[col] = v;
        }
      } else if (mm !== undefined) r.report([...path, 'max_column_mismatch'], `expected a share or a mapping column -> share, got ${describe(mm)}`);
      const spec = {
        ...base,
        kind,
        maxChangedShare: share('max_changed_share'),
        maxColumnMismatch,
        maxOnlyBaselineShare: share('max_only_baseline_share'),
        maxOnlyCandidateShare: share('max_only_candidate_share'),
        maxPsi: r.num(raw, 'max_psi', path, { min: 0 }),
        maxKs: r.num(raw, 'max_ks', path, { min: 0, max: 1 }),
        window,
      };
      const thresholds = [spec.maxChangedShare, spec.maxColumnMismatch, spec.maxOnlyBaselineShare, spec.maxOnlyCandidateShare, spec.maxPsi, spec.maxKs];
      if (thresholds.every((t) => t === undefined)) r.report(path, 'a diff gate needs at least one threshold (max_changed_share, max_column_mismatch, max_only_*_share, max_psi, max_ks)');
      return spec;
    }
    case 'metrics': {
      const bounds: MetricBound[] = [];
      (r.list(raw, 'bounds', path, true) ?? []).forEach((b, i) => {
        const p = [...path, 'bounds', i];
        const o = r.obj(b, p);
        if (!o) return;
        r.onlyKeys(o, p, ['metric', 'direction', 'max_relative', 'max_absolute']);
        const metric = r.str(o, 'metric', p, true);
        const maxRelative = r.num(o, 'max_relative', p, { min: 0 });
        const maxAbsolute = r.num(o, 'max_absolute', p, { min: 0 });
        if (maxRelative === undefined && maxAbsolute === undefined && o['max_relative'] === undefined && o['max_absolute'] === undefined) r.report(p, 'needs max_relative or max_absolute');
        if (metric) bounds.push({ metric, direction: r.oneOf(o, 'direction', p, DIRECTIONS) ?? 'either', maxRelative, maxAbsolute });
      });
      return { ...base, kind, window, bounds };
    }
    case 'judge': {
      const metrics: JudgeMetric[] = [];
      (r.list(raw, 'metrics', path, true) ?? []).forEach((m, i) => {
        const p = [...path, 'metrics', i];
        const o = r.obj(m, p);
        if (!o) return;
        r.onlyKeys(o, p, ['metric', 'direction', 'effect_size', 'critical']);
        const metric = r.str(o, 'metric', p, true);
        if (metric) {
          metrics.push({
            metric,
            direction: r.oneOf(o, 'direction', p, DIRECTIONS) ?? 'either',
            effectSize: r.num(o, 'effect_size', p, { min: 0 }) ?? 0,
            critical: r.bool(o, 'critical', p) ?? false,
          });
        }
      });
      const passScore = r.num(raw, 'pass_score', path, { min: 0, max: 100 }) ?? 95;
      const marginalScore = r.num(raw, 'marginal_score', path, { min: 0, max: 100 }) ?? 75;
      if (marginalScore > passScore) r.report([...path, 'marginal_score'], `must not exceed pass_score (${passScore})`);
      const judgeWindow = r.num(raw, 'window', path, { min: 1, integer: true }) ?? 20;
      const minBatches = r.num(raw, 'min_batches', path, { min: 1, integer: true }) ?? 8;
      return { ...base, kind, metrics, window: judgeWindow, minBatches, alpha: r.num(raw, 'alpha', path, { min: 0, max: 1 }) ?? 0.05, passScore, marginalScore };
    }
    case 'soak': {
      const minBatches = r.num(raw, 'min_batches', path, { min: 0, integer: true }) ?? 0;
      const minDurationMs = r.duration(raw, 'min_duration', path) ?? 0;
      if (raw['min_batches'] === undefined && raw['min_duration'] === undefined) r.report(path, 'a soak gate needs min_batches or min_duration');
      return { ...base, kind, minBatches, minDurationMs };
    }
    case 'window': {
      const zone = r.str(raw, 'zone', path, true) ?? 'UTC';
      if (!IANAZone.isValidZone(zone)) r.report([...path, 'zone'], `unknown time zone "${zone}" (use an IANA name like Europe/Berlin)`);
      const allow: WeeklySlot[] = [];
      (r.list(raw, 'allow', path) ?? []).forEach((s, i) => {
        const slot = parseWeeklySlot(r, s, [...path, 'allow', i]);
        if (slot) allow.push(slot);
      });
      const freeze: FreezeWindow[] = [];
      (r.list(raw, 'freeze', path) ?? []).forEach((f, i) => {
        const fw = parseFreeze(r, f, [...path, 'freeze', i], zone);
        if (fw) freeze.push(fw);
      });
      return { ...base, kind, zone, allow, freeze };
    }
    case 'approval':
      return { ...base, kind, required: r.num(raw, 'required', path, { min: 1, integer: true }) ?? 1 };
    case 'dependency': {
      const spec = {
        ...base,
        kind,
        rollout: r.str(raw, 'rollout', path),
        reached: r.str(raw, 'reached', path),
        dataset: r.str(raw, 'dataset', path),
        maxAgeMs: r.duration(raw, 'max_age', path),
      };
      if (!spec.rollout && !spec.dataset) r.report(path, 'a dependency gate needs rollout (with reached) or dataset (with max_age)');
      if (spec.rollout && !spec.reached) r.report([...path, 'reached'], 'is required with rollout (ENV/STAGE or promoted)');
      if (spec.dataset && spec.maxAgeMs === undefined && raw['max_age'] === undefined) r.report([...path, 'max_age'], 'is required with dataset');
      return spec;
    }
    case 'anomaly':
      return { ...base, kind, metrics: r.strList(raw, 'metrics', path), window };
  }
}

function parseClock(r: PlanReader, o: Obj, key: string, path: Path): string | undefined {
  const v = r.str(o, key, path, true);
  if (v === undefined) return undefined;
  const m = /^(\d{2}):(\d{2})$/.exec(v);
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59 || (Number(m[1]) === 24 && Number(m[2]) !== 0)) {
    r.report([...path, key], `expected a time HH:MM (00:00..24:00), got ${describe(v)}`);
    return undefined;
  }
  return v;
}

function parseDays(r: PlanReader, v: unknown, path: Path): Weekday[] | undefined {
  const dayOf = (s: string): Weekday | undefined => {
    const i = DAY_NAMES.indexOf(s.toLowerCase().slice(0, 3));
    return i < 0 ? undefined : ((i + 1) as Weekday);
  };
  const names = typeof v === 'string' ? [v] : Array.isArray(v) ? v : undefined;
  if (!names) {
    r.report(path, `expected days like [mon, tue] or "mon-fri", got ${describe(v)}`);
    return undefined;
  }
  const out: Weekday[] = [];
  for (const n of names) {
    const s = String(n);
    const range = /^(\w+)\s*-\s*(\w+)$/.exec(s);
    const a = dayOf(range?.[1] ?? s);
    const b = range ? dayOf(range[2] ?? '') : a;
    if (a === undefined || b === undefined) {
      r.report(path, `unknown day "${s}" (use mon, tue, wed, thu, fri, sat, sun or a range like mon-fri)`);
      continue;
    }
    for (let d = a; ; d = ((d % 7) + 1) as Weekday) {
      if (!out.includes(d)) out.push(d);
      if (d === b) break;
    }
  }
  return out;
}

function parseWeeklySlot(r: PlanReader, v: unknown, path: Path): WeeklySlot | undefined {
  const o = r.obj(v, path);
  if (!o) return undefined;
  r.onlyKeys(o, path, ['days', 'from', 'to']);
  const days = o['days'] === undefined ? ([1, 2, 3, 4, 5, 6, 7] as Weekday[]) : parseDays(r, o['days'], [...path, 'days']);
  const from = parseClock(r, o, 'from', path);
  const to = parseClock(r, o, 'to', path);
  if (!days || !from || !to) return undefined;
  if (from >= to) r.report([...path, 'to'], `must be after from (${from}); split a slot that crosses midnight in two`);
  return { days, from, to };
}

function parseFreeze(r: PlanReader, v: unknown, path: Path, zone: string): FreezeWindow | undefined {
  const o = r.obj(v, path);
  if (!o) return undefined;
  if (o['days'] !== undefined) {
    const slot = parseWeeklySlot(r, { from: '00:00', to: '24:00', ...o }, path);
    return slot ? { kind: 'weekly', ...slot } : undefined;
  }
  r.onlyKeys(o, path, ['from', 'to']);
  const from = r.str(o, 'from', path, true);
  const to = r.str(o, 'to', path, true);
  if (!from || !to) return undefined;
  const md = /^\d{2}-\d{2}$/;
  if (md.test(from) && md.test(to)) return { kind: 'annual', from, to };
  const a = DateTime.fromISO(from, { zone });
  const b = DateTime.fromISO(to, { zone });
  if (!a.isValid) r.report([...path, 'from'], `expected a date-time like 2026-12-24T00:00 or a month-day like 12-20, got ${describe(from)}`);
  if (!b.isValid) r.report([...path, 'to'], `expected a date-time like 2026-12-27T00:00 or a month-day like 01-05, got ${describe(to)}`);
  if (!a.isValid || !b.isValid) return undefined;
  if (b <= a) r.report([...path, 'to'], 'must be after from');
  return { kind: 'range', from: a.toUTC().toISO() ?? from, to: b.toUTC().toISO() ?? to };
}
