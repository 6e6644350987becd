// The cost of a shadow batch against a plain batch of the demo pipeline (orders: clean_orders ->
// daily_revenue), one partition of N source rows in Parquet, runPipeline in process, side by side:
//   - plain: no flag on, clean_orders v1 computes and publishes;
//   - shadow: the step's version flag on with a 0 % gradual strategy on slice_key, so v1 and v2
//     both compute over the full input and v1 is published (compute only);
//   - shadow + evidence: plus what a rollout gathers for the batch (the full candidate evidence:
//     the dataset's checks on the candidate, the diff against baseline, row counts, null rates, anomalies).
// Ratios are against the plain batch measured in the same repetition; medians over repetitions.
//   npx tsx bench/shadow-cost.bench.ts [--rows N] [--repeats R] [--drift]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadProjectOrThrow } from '../src/app/load-project.ts';
import { flagSet } from '../src/flags/flag.ts';
import { diffTables, runChecks } from '../src/quality/index.ts';
import { runPipeline, type RunResult, type StepOutcome } from '../src/runner/run-pipeline.ts';
import { stepFlag } from '../src/runner/step-exposure.ts';
import { openProjectWorkspace } from '../src/app/open-workspace.ts';
import { systemClock } from '../src/util/clock.ts';
import { arg, flag, markdownTable, median, peakRssMiB } from './bench-util.ts';
import { DEMO_PARTITION, makeDemoProject } from './demo-project.ts';

export interface ShadowBenchOptions {
  /** Source rows in the partition (default 10 million). */
  readonly rows?: number;
  /** Measured repetitions of each side (default 3), after one unmeasured warm-up of each. */
  readonly repeats?: number;
  /** Also compute PSI/KS drift in the evidence (only plans with drift gates do; default false). */
  readonly drift?: boolean;
  readonly log?: (line: string) => void;
}

export interface ShadowBenchResult {
  readonly rows: number;
  readonly repeats: number;
  readonly drift: boolean;
  /** Median seconds of the whole runPipeline call. */
  readonly plainSeconds: number;
  readonly shadowSeconds: number;
  /** Median of (shadow run + gatherEvidence) per repetition. */
  readonly shadowEvidenceSeconds: number;
  readonly evidenceSeconds: number;
  /** Medians of the per-repetition ratios against the plain run of the same repetition. */
  readonly computeRatio: number;
  readonly evidenceRatio: number;
  /** CPU seconds of the process (all threads) per batch, and their per-repetition ratios: less disturbed by other load. */
  readonly cpu: { readonly plain: number; readonly shadow: number; readonly shadowEvidence: number; readonly computeRatio: number; readonly evidenceRatio: number };
  /** Where the time goes (median seconds). */
  readonly breakdown: {
    readonly plainCleanOrders: number;
    readonly shadowBaseline: number;
    readonly shadowCandidate: number;
    readonly plainDailyRevenue: number;
    readonly shadowDailyRevenue: number;
    /** Phases of the run outside the steps (from the runner's onPhase marks). */
    readonly plainPhases: Phases;
    readonly shadowPhases: Phases;
    /** One measurement each, on the last shadow batch's outputs: parts of the evidence. */
    readonly evidenceDiff: number;
    readonly evidenceChecks: number;
  };
  readonly evidenceSummary: { readonly checks: number; readonly failedChecks: number; readonly rowsChanged: number | null };
}

const PARTITION = DEMO_PARTITION;

/** Seconds of a run's phases outside its steps. */
export interface Phases {
  /** Start to sources bound (flag exposures, source binding and counts). */
  readonly bind: number;
  /** Last step done to before publish: checks and contract on each dataset's output. */
  readonly validate: number;
  /** The publish: one catalog transaction moving the pointers, the views rebuilt. */
  readonly publish: number;
  /** After publish: profile of the output, audit, run record. */
  readonly after: number;
}

interface Timed<T> {
  readonly s: number;
  /** CPU seconds of this process (all threads, DuckDB's included) during the run. */
  readonly cpu: number;
  readonly v: T;
  readonly phases: Phases;
}

/** The demo project with one partition of `rows` orders in Parquet (bench/demo-project.ts, as the overhead bench uses). */
async function makeProject(dir: string, rows: number): Promise<string> {
  return makeDemoProject(join(dir, 'shop'), { rows });
}

const stepOf = (r: RunResult, name: string): StepOutcome | undefined => r.steps.find((s) => s.step === name);

export async function runShadowBench(opts: ShadowBenchOptions = {}): Promise<ShadowBenchResult> {
  const rows = opts.rows ?? 10_000_000;
  const repeats = opts.repeats ?? 3;
  const drift = opts.drift ?? false;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-shadow-'));
  try {
    log(`shadow: generating ${rows.toLocaleString('en-US')} orders`);
    const root = await makeProject(dir, rows);
    const project = await loadProjectOrThrow(root);
    const ws = await openProjectWorkspace(project, 'dev', { clock: systemClock });
    const { warehouse } = ws;
    try {
      const clock = systemClock;
      const env = 'dev';
      const pipeline = project.pipelines.get('orders');
      if (!pipeline) throw new Error('the demo project has no pipeline orders');
      const versionFlag = stepFlag(flagSet(project.flags), 'orders', 'clean_orders');
      if (!versionFlag) throw new Error('the demo project declares no version flag for orders.clean_orders');
      const flags = ws.flags;
      // Plain: the flag as declared (off). Shadow: on, 0 % of slice_key to the candidate.
      await flags.set(env, versionFlag.name, { enabled: false, defaultVariant: 'v1', strategies: [] }, 'bench', 'plain batch');
      const plainFlags = await flags.snapshot(env);
      await flags.set(env, versionFlag.name, { enabled: true, defaultVariant: 'v1', variants: [{ name: 'v2', weight: 100 }], strategies: [{ kind: 'gradual', percentage: 0, stickiness: 'slice_key', groupId: 'orders.clean_orders', constraints: [], segments: [] }] }, 'bench', 'shadow batch');
      const shadowFlags = await flags.snapshot(env);
      const deps = ws;
      const evidenceFor = (full: boolean) => () => ({ full, drift });
      const run = (snapshot: typeof plainFlags, full = false): Promise<RunResult> => runPipeline(deps, { pipeline: 'orders', partition: PARTITION, environment: env, actor: 'bench', flags: snapshot, evidenceFor: evidenceFor(full) });
      /** One run, timed, with the runner's phase marks. */
      const timedRun = async (snapshot: typeof plainFlags, full = false): Promise<Timed<RunResult>> => {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const marks = new Map<string, number>();
        const v = await runPipeline(deps, { pipeline: 'orders', partition: PARTITION, environment: env, actor: 'bench', flags: snapshot, evidenceFor: evidenceFor(full), onPhase: (phase) => void marks.set(phase, performance.now()) });
        const end = performance.now();
        const c = process.cpuUsage(c0);
        const at = (k: string): number => marks.get(k) ?? Number.NaN;
        return { s: (end - t0) / 1000, cpu: (c.user + c.system) / 1e6, v, phases: { bind: (at('sources-bound') - t0) / 1000, validate: (at('before-publish') - at('step-done')) / 1000, publish: (at('published') - at('before-publish')) / 1000, after: (end - at('published')) / 1000 } };
      };
      const timed = async <T>(fn: () => Promise<T>): Promise<{ s: number; v: T }> => {
        const t = performance.now();
        const v = await fn();
        return { s: (performance.now() - t) / 1000, v };
      };
      // Warm-up: one of each, unmeasured (first reads of the Parquet files, catalog growth).
      log('shadow: warm-up');
      const warm = await run(shadowFlags);
      if (stepOf(warm, 'clean_orders')?.exposure.kind !== 'sliced') throw new Error(`the shadow run did not slice clean_orders: ${JSON.stringify(stepOf(warm, 'clean_orders')?.exposure)}`);
      await run(shadowFlags, true);
      const warmPlain = await run(plainFlags);
      if (stepOf(warmPlain, 'clean_orders')?.exposure.kind !== 'single') throw new Error('the plain run computed more than one version');

      const s = { plain: [] as number[], shadow: [] as number[], both: [] as number[], ev: [] as number[], cr: [] as number[], er: [] as number[] };
      const cpu = { plain: [] as number[], shadow: [] as number[], both: [] as number[], cr: [] as number[], er: [] as number[] };
      const b = { pc: [] as number[], sb: [] as number[], sc: [] as number[], pd: [] as number[], sd: [] as number[] };
      const ph = { plain: [] as Phases[], shadow: [] as Phases[] };
      let last: { run: RunResult; ev: RunResult } | undefined;
      for (let i = 0; i < repeats; i++) {
        log(`shadow: repetition ${i + 1}/${repeats}`);
        let plain!: Timed<RunResult>;
        let shadow!: Timed<RunResult>;
        let ev!: Timed<RunResult>;
        // Alternate which side goes first.
        for (const side of i % 2 === 0 ? (['plain', 'shadow'] as const) : (['shadow', 'plain'] as const)) {
          if (side === 'plain') plain = await timedRun(plainFlags);
          else {
            shadow = await timedRun(shadowFlags);
            ev = await timedRun(shadowFlags, true);
          }
        }
        s.plain.push(plain.s);
        s.shadow.push(shadow.s);
        s.ev.push(ev.s - shadow.s);
        s.both.push(ev.s);
        s.cr.push(shadow.s / plain.s);
        s.er.push(ev.s / plain.s);
        cpu.plain.push(plain.cpu);
        cpu.shadow.push(shadow.cpu);
        cpu.both.push(ev.cpu);
        cpu.cr.push(shadow.cpu / plain.cpu);
        cpu.er.push(ev.cpu / plain.cpu);
        const pc = stepOf(plain.v, 'clean_orders');
        const sc = stepOf(shadow.v, 'clean_orders');
        const pd = stepOf(plain.v, 'daily_revenue')?.durationMs ?? 0;
        const sd = stepOf(shadow.v, 'daily_revenue')?.durationMs ?? 0;
        b.pc.push((pc?.durationMs ?? 0) / 1000);
        b.sb.push((sc?.baselineMs ?? 0) / 1000);
        b.sc.push((sc?.candidateMs ?? 0) / 1000);
        b.pd.push(pd / 1000);
        b.sd.push(sd / 1000);
        ph.plain.push(plain.phases);
        ph.shadow.push(shadow.phases);
        last = { run: shadow.v, ev: ev.v };
      }
      if (!last) throw new Error('no repetitions');

      // The parts of the evidence, once each on the last shadow batch's outputs.
      const o = stepOf(last.run, 'clean_orders');
      const dataset = pipeline.datasets.get('cleaned_orders');
      let evidenceDiff = Number.NaN;
      let evidenceChecks = Number.NaN;
      if (o?.baselineOutput && o.candidateOutput && dataset) {
        const base = o.baselineOutput.table;
        const cand = o.candidateOutput.table;
        evidenceDiff = (await timed(() => diffTables(warehouse, base, cand, { key: dataset.primaryKey, sampleSize: 5 }))).s;
        evidenceChecks = (await timed(() => runChecks(warehouse, cand, dataset.checks, { now: clock.now(), indexColumns: dataset.primaryKey, sampleSize: 5 }))).s;
      }
      const e = stepOf(last.ev, 'clean_orders')?.evidence ?? {};
      return {
        rows,
        repeats,
        drift,
        plainSeconds: median(s.plain),
        shadowSeconds: median(s.shadow),
        shadowEvidenceSeconds: median(s.both),
        evidenceSeconds: median(s.ev),
        computeRatio: median(s.cr),
        evidenceRatio: median(s.er),
        cpu: { plain: median(cpu.plain), shadow: median(cpu.shadow), shadowEvidence: median(cpu.both), computeRatio: median(cpu.cr), evidenceRatio: median(cpu.er) },
        breakdown: {
          plainCleanOrders: median(b.pc),
          shadowBaseline: median(b.sb),
          shadowCandidate: median(b.sc),
          plainDailyRevenue: median(b.pd),
          shadowDailyRevenue: median(b.sd),
          plainPhases: medianPhases(ph.plain),
          shadowPhases: medianPhases(ph.shadow),
          evidenceDiff,
          evidenceChecks,
        },
        evidenceSummary: { checks: e.checks?.length ?? 0, failedChecks: (e.checks ?? []).filter((c) => !c.success).length, rowsChanged: e.diff?.rowsChanged ?? null },
      };
    } finally {
      await ws[Symbol.asyncDispose]();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function medianPhases(xs: readonly Phases[]): Phases {
  return { bind: median(xs.map((x) => x.bind)), validate: median(xs.map((x) => x.validate)), publish: median(xs.map((x) => x.publish)), after: median(xs.map((x) => x.after)) };
}

/** The result as Markdown. */
export function formatShadowBench(r: ShadowBenchResult): string {
  const f = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '-');
  const x = (v: number): string => `${v.toFixed(2)}x`;
  const met = (v: number, aim: number): string => (v <= aim ? 'met' : '**missed**');
  const b = r.breakdown;
  return [
    `Shadow batch vs plain batch, demo pipeline, one partition of ${r.rows.toLocaleString('en-US')} source rows (Parquet), runPipeline in process, median of ${r.repeats}; ratios are medians of per-repetition ratios. Aims: compute only ≤ 2.0x, with evidence ≤ 2.3x.\n`,
    markdownTable([
      { batch: 'plain (v1 only)', seconds: f(r.plainSeconds), 'vs plain': x(1), 'CPU s': f(r.cpu.plain), 'CPU vs plain': x(1), aim: '' },
      { batch: 'shadow, compute only (v1 + v2, v1 published)', seconds: f(r.shadowSeconds), 'vs plain': x(r.computeRatio), 'CPU s': f(r.cpu.shadow), 'CPU vs plain': x(r.cpu.computeRatio), aim: `≤ 2.0: wall ${met(r.computeRatio, 2)}, CPU ${met(r.cpu.computeRatio, 2)}` },
      { batch: `shadow + evidence (checks on v2, diff, metrics${r.drift ? ', drift' : ''})`, seconds: f(r.shadowEvidenceSeconds), 'vs plain': x(r.evidenceRatio), 'CPU s': f(r.cpu.shadowEvidence), 'CPU vs plain': x(r.cpu.evidenceRatio), aim: `≤ 2.3: wall ${met(r.evidenceRatio, 2.3)}, CPU ${met(r.cpu.evidenceRatio, 2.3)}` },
    ]),
    '\nWhere the time goes (median seconds):\n',
    markdownTable([
      { part: 'clean_orders (compute into its version file)', plain: f(b.plainCleanOrders), shadow: `${f(b.shadowBaseline)} (v1) + ${f(b.shadowCandidate)} (v2)` },
      { part: 'daily_revenue', plain: f(b.plainDailyRevenue), shadow: f(b.shadowDailyRevenue) },
      { part: 'bind sources (flags, source views, row counts)', plain: f(b.plainPhases.bind), shadow: f(b.shadowPhases.bind) },
      { part: 'checks + contract on the outputs, before publish', plain: f(b.plainPhases.validate), shadow: f(b.shadowPhases.validate) },
      { part: 'publish (catalog pointer move, views rebuilt)', plain: f(b.plainPhases.publish), shadow: f(b.shadowPhases.publish) },
      { part: 'after publish (profile, audit, run record)', plain: f(b.plainPhases.after), shadow: f(b.shadowPhases.after) },
      { part: 'evidence (gatherEvidence)', plain: '', shadow: f(r.evidenceSeconds) },
      { part: '  of which diff (diffTables, one measurement)', plain: '', shadow: f(b.evidenceDiff) },
      { part: '  of which checks on v2 (runChecks, one measurement)', plain: '', shadow: f(b.evidenceChecks) },
    ]),
    `\nEvidence of the last batch: ${r.evidenceSummary.checks} checks (${r.evidenceSummary.failedChecks} failed), ${r.evidenceSummary.rowsChanged ?? '-'} rows changed between v1 and v2.\n`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runShadowBench({ rows: arg('rows', 10_000_000), repeats: arg('repeats', 3), drift: flag('drift') });
  process.stdout.write(`\n${formatShadowBench(r)}\npeak RSS ${peakRssMiB()} MiB\n`);
}
