/**
 * The crash matrix (issue 11, items 2 and 6): every multi-step storage operation — a first run, a
 * re-run with changed step SQL, a republish of an older version, a rollout rollback, gc and
 * compaction — run through the real bin and SIGKILLed at each named crash point
 * (`SLUICE_CRASH_AT`) and at file-size triggers (a supervisor polling the temporary data file being
 * written, and its `.wal`, every millisecond, and killing the child once it passes a share of the
 * final size measured in a calibration run). After every kill the next command (`verify-data`,
 * which recovers first) must succeed and the warehouse must hold:
 * - every published partition equals exactly one output version: verify-data's verdicts, plus an
 *   independent checksum (catalog-reader.ts) of the partition read through catalog.sql compared with
 *   the same checksum of the version's own file;
 * - the operation is all old or all new (per dataset for compaction, whose datasets are separate
 *   transactions), and where the kill point decides which, the expected one;
 * - nothing is left half done: no run still `running`, no open intent, no pending rollout action,
 *   no version whose file is missing, no version marked deleted whose file is still there;
 * - a dataset computed from another agrees with it where the operation re-ran it.
 * Meanwhile a second real process (catalog-reader.ts) reads every published dataset through
 * catalog.sql in a loop; at the end every (partition, rows, checksum) it saw must be exactly one
 * output version of that partition, and no partition it once saw may vanish.
 *
 * Shared by `scripts/crash-matrix.ts` (the full matrix) and `test/crash-matrix.e2e.test.ts` (a
 * small subset for CI).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBEngine } from '../../src/engine/duckdb/duckdb-engine.ts';
import { dataFolderOf } from '../../src/engine/duckdb/warehouse-catalog.ts';
import { datasetRelation } from '../../src/engine/duckdb/dataset-relation.ts';
import { WarehouseCatalog, type StoredVersion } from '../../src/engine/duckdb/warehouse-catalog.ts';
import { quoteLiteral } from '../../src/engine/sql.ts';
import type { SqlEngine } from '../../src/engine/sql-engine.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { sameRows } from '../helpers.ts';
import { checksumsOf, readCatalog, ReaderProcess, sameChecksum, type Checksum, type ReadRecord } from './catalog-reader.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'sluice.js');

// ---- the project ----------------------------------------------------------------------------

export const PIPELINE = 'events';
/** dataset -> the step it publishes. */
export const DATASET_STEPS: Readonly<Record<string, string>> = { events_clean: 'clean_events', daily_totals: 'daily_totals' };
export const PARTITION_COLUMNS: Readonly<Record<string, string>> = { events_clean: 'day', daily_totals: 'day' };
export const ROLLOUT = 'ship';
/** gc's grace period in the matrix project: what a replaced catalog.sql named is kept this long. */
const GRACE_MS = 1000;

export interface MatrixProject {
  readonly root: string;
  /** SLUICE_HOME of every command on it (audit key, checkpoints). */
  readonly home: string;
  readonly partitions: readonly string[];
  readonly rows: number;
  /** Fresh environments, each used for one first run. */
  readonly freshEnvs: readonly string[];
}

/**
 * A project whose source (Parquet, hive folders `day=...`) has `rows` rows in each of `partitions`
 * daily partitions, generated with DuckDB's range(); one pipeline `events`: raw_events ->
 * clean_events (v1, candidate v2; slice key event_id) -> daily_totals, publishing events_clean and
 * daily_totals; a rollout `ship` (v1 -> v2, canary 50 %, never promoted on its own); retention that
 * lets gc delete every version nothing holds (but what a reader catalog named within `grace`,
 * default 1 s); `freshEnvs` extra environments.
 */
export async function createMatrixProject(dir: string, o: { rows: number; partitions?: number; freshEnvs?: number; grace?: string }): Promise<MatrixProject> {
  const root = join(dir, 'project');
  const home = join(dir, 'home');
  const nParts = o.partitions ?? 2;
  const partitions = Array.from({ length: nParts }, (_, i) => `2026-01-${String(i + 1).padStart(2, '0')}`);
  const freshEnvs = Array.from({ length: o.freshEnvs ?? 0 }, (_, i) => `f${i + 1}`);
  const files: Record<string, string> = {
    'sluice.yaml': `name: crash-matrix
environments: [${['dev', ...freshEnvs].join(', ')}]
default_environment: dev
engine:
  kind: duckdb
  path: .sluice/warehouse-{env}.duckdb
  memory_limit: 1GB
  threads: 2
store:
  kind: sqlite
  path: .sluice/sluice.db
storage:
  compact_after: 1000          # compaction only when asked (compact --force)
  retention: { keep_versions: 1, keep_for: 1ms, grace: ${o.grace ?? `${GRACE_MS}ms`} }
`,
    'pipelines/events.yaml': `name: ${PIPELINE}
sources:
  raw_events:
    format: parquet
    path: data/events/*/*.parquet
    hive: true
    partition_column: day
steps:
  clean_events:
    slice_key: event_id
    default_version: v1
    versions:
      v1: { sql: steps/clean_events/v1.sql }
      v2: { sql: steps/clean_events/v2.sql }
  daily_totals:
    versions:
      v1: { sql: steps/daily_totals/v1.sql }
datasets:
  events_clean:
    step: clean_events
    partition_column: day
    primary_key: [event_id]
  daily_totals:
    step: daily_totals
    partition_column: day
    primary_key: [day, kind]
`,
    'steps/clean_events/v2.sql': `SELECT event_id, day, kind, user_id, amount_cents, amount_cents * 13 // 10 AS net_cents, upper(label) AS label
FROM raw_events
`,
    'steps/daily_totals/v1.sql': `SELECT day, kind, count(*) AS events, CAST(sum(net_cents) AS BIGINT) AS net_cents
FROM clean_events
GROUP BY day, kind
`,
    'flags/clean_events_version.yaml': `name: clean_events_version
type: variant
scope: { pipeline: ${PIPELINE}, step: clean_events }
enabled: false
default_variant: v1
variants:
  - { name: v2, weight: 100 }
strategies:
  - kind: gradual
    percentage: 0
    stickiness: slice_key
    group_id: clean_events
`,
    [`rollouts/${ROLLOUT}.yaml`]: `name: ${ROLLOUT}
step: ${PIPELINE}.clean_events
baseline: v1
candidate: v2
gates:
  soak: { kind: soak, min_batches: 100000 }
environments:
  - name: dev
    stages:
      - { mode: canary, percent: 50, gates: [soak] }
      - { mode: full, gates: [soak] }
`,
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  mkdirSync(home, { recursive: true });
  mkdirSync(join(root, 'data'), { recursive: true });
  writeCleanSql(root, 110);
  await using db = await DuckDBEngine.open(':memory:');
  await db.exec(`COPY (
      SELECT i AS event_id, DATE '2026-01-01' + CAST(i // ${o.rows} AS INTEGER) AS day,
             ['click', 'view', 'buy', 'refund'][1 + CAST(hash(i, 1) % 4 AS INTEGER)] AS kind,
             CAST(hash(i, 2) % 100000 AS BIGINT) AS user_id,
             CAST(hash(i, 3) % 100000 AS BIGINT) AS amount_cents,
             'label-' || CAST(hash(i, 4) % 1000 AS VARCHAR) AS label
      FROM range(${o.rows * nParts}) t(i)
    ) TO ${quoteLiteral(join(root, 'data', 'events'))} (FORMAT parquet, PARTITION_BY (day), OVERWRITE_OR_IGNORE true)`);
  return { root, home, partitions, rows: o.rows, freshEnvs };
}

/** Rewrites clean_events v1 with another factor: a new step version hash, and different rows. */
export function writeCleanSql(root: string, factor: number): void {
  mkdirSync(join(root, 'steps/clean_events'), { recursive: true });
  writeFileSync(join(root, 'steps/clean_events/v1.sql'), `SELECT event_id, day, kind, user_id, amount_cents, amount_cents * ${factor} // 100 AS net_cents, label
FROM raw_events
`);
}

export function warehouseFolder(p: MatrixProject, env: string): string {
  return dataFolderOf(join(p.root, '.sluice', `warehouse-${env}.duckdb`));
}

export function readerCatalogOf(p: MatrixProject, env: string): string {
  return join(warehouseFolder(p, env), 'catalog.sql');
}

// ---- commands -------------------------------------------------------------------------------

export interface CliResult {
  readonly args: readonly string[];
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly started: number;
  readonly ended: number;
  /** What the size supervisor killed it at. */
  readonly sizeKill?: { readonly file: string; readonly bytes: number };
}

/** Kill the child once a new `*.tmp` data file in `dir` (with its `.wal`) holds `bytes`. */
export interface SizeTrigger {
  readonly dir: string;
  readonly bytes: number;
}

/**
 * Runs the real bin on the project (`--env env`), optionally killed at a crash point or by a size
 * trigger. Never throws for a failed command: the caller judges the result.
 */
export async function sluice(p: MatrixProject, env: string, args: readonly string[], o: { crashAt?: string; size?: SizeTrigger; timeoutMs?: number } = {}): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, SLUICE_HOME: p.home, SLUICE_ACTOR: 'crash-matrix' };
  for (const k of ['SLUICE_CRASH_AT', 'SLUICE_STORE_URL', 'SLUICE_WAREHOUSE_URL']) delete childEnv[k];
  if (o.crashAt) childEnv['SLUICE_CRASH_AT'] = o.crashAt;
  const existing = o.size && existsSync(o.size.dir) ? new Set(readdirSync(o.size.dir)) : new Set<string>();
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, '--project', p.root, '--env', env, ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => ((exited = true), resolve({ code, signal }))));
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 600_000);
  let sizeKill: { file: string; bytes: number } | undefined;
  if (o.size) {
    const { dir, bytes } = o.size;
    const sizeOf = (f: string): number => {
      try {
        return statSync(f).size;
      } catch {
        return 0;
      }
    };
    while (!exited && !sizeKill) {
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        // not created yet
      }
      for (const name of names) {
        if (!name.endsWith('.tmp') || existing.has(name)) continue;
        const size = sizeOf(join(dir, name)) + sizeOf(join(dir, `${name}.wal`));
        if (size >= bytes) {
          child.kill('SIGKILL');
          sizeKill = { file: name, bytes: size };
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  const { code, signal } = await exit;
  clearTimeout(timer);
  return { args, code, signal, stdout, stderr, started, ended: Date.now(), ...(sizeKill ? { sizeKill } : {}) };
}

/**
 * `sluice republish DATASET --partition P --version=ID`: the version as one argument, so a global
 * `--version` flag of the program (printing sluice's version) can never take it.
 */
export function republishArgs(dataset: string, partition: string, versionId: string, reason: string): string[] {
  return ['republish', dataset, '--partition', partition, `--version=${versionId}`, '--reason', reason];
}

const describe = (r: CliResult): string => `sluice ${r.args.join(' ')}: exit ${r.code ?? '-'} ${r.signal ?? ''}\n${r.stdout.slice(-1500)}\n${r.stderr.slice(-1500)}`;

// ---- state of a warehouse -------------------------------------------------------------------

export interface EnvState {
  /** `dataset\0partition` -> version id. */
  readonly pointers: ReadonlyMap<string, string>;
  /** Every version, deleted ones included. */
  readonly versions: ReadonlyMap<string, StoredVersion>;
  /** dataset -> partition -> `segment <id>` or `version`. */
  readonly served: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly liveSegments: ReadonlySet<string>;
  readonly maxRunId: number;
}

const key = (dataset: string, partition: string): string => `${dataset}\0${partition}`;

/** The warehouse catalog of an environment, read (not written) between commands. */
export function readState(p: MatrixProject, env: string): EnvState {
  const file = join(warehouseFolder(p, env), 'catalog.db');
  if (!existsSync(file)) return { pointers: new Map(), versions: new Map(), served: new Map(), liveSegments: new Set(), maxRunId: 0 };
  const c = WarehouseCatalog.open(file);
  try {
    const pointers = new Map<string, string>();
    const all = c.pointers();
    for (const [d, m] of all) for (const [part, v] of m) pointers.set(key(d, part), v);
    const versions = new Map(c.versions({ includeDeleted: true }).map((v) => [v.id, v]));
    const served = new Map<string, Map<string, string>>();
    const live = new Set<string>();
    for (const d of c.datasets()) {
      const ptr = all.get(d.name) ?? new Map<string, string>();
      const segs = c.segments(d.name);
      const r = datasetRelation(d, ptr, segs, c.versionsByIds([...ptr.values()]));
      const m = new Map<string, string>();
      for (const [part, s] of r?.servedBy ?? []) {
        m.set(part, s.segment ? `segment ${s.segment}` : 'version');
        if (s.segment) live.add(s.segment);
      }
      served.set(d.name, m);
    }
    const maxRunId = Math.max(0, ...[...versions.values()].map((v) => v.runId));
    return { pointers, versions, served, liveSegments: live, maxRunId };
  } finally {
    c.close();
  }
}

/** What is left half done in the store: runs still running, open intents, pending rollout actions. */
async function unfinished(p: MatrixProject): Promise<string[]> {
  const store = await SqliteStore.open(join(p.root, '.sluice', 'sluice.db'));
  try {
    const out: string[] = [];
    for (const r of await store.runs.list({ status: 'running', limit: 10_000 })) out.push(`run ${r.id} (${r.environment} ${r.partition}) is still running`);
    for (const i of await store.intents.list()) out.push(`intent ${i.id} (${i.kind}) is still open`);
    for (const a of await store.rollouts.list()) if (a.pending.length > 0) out.push(`rollout ${a.id} has pending ${a.pending.map((x) => x.kind).join(', ')}`);
    return out;
  } finally {
    await store.close();
  }
}

async function latestRollout(p: MatrixProject): Promise<{ id: string; state: string; pending: number } | undefined> {
  const store = await SqliteStore.open(join(p.root, '.sluice', 'sluice.db'));
  try {
    const a = await store.rollouts.latest(ROLLOUT);
    return a ? { id: a.id, state: a.state.kind, pending: a.pending.length } : undefined;
  } finally {
    await store.close();
  }
}

// ---- checksums of versions ------------------------------------------------------------------

/**
 * The independent checksum of every output version's own file, taken as soon as the file exists
 * (gc may delete it later; what a reader saw must still be matched), per environment.
 */
export class VersionChecksums {
  private readonly byEnv = new Map<string, Map<string, Checksum>>();
  readonly problems: string[] = [];

  constructor(private readonly db: SqlEngine) {}

  get(env: string, id: string): Checksum | undefined {
    return this.byEnv.get(env)?.get(id);
  }

  async refresh(p: MatrixProject, env: string, state: EnvState = readState(p, env)): Promise<void> {
    const known = this.byEnv.get(env) ?? new Map<string, Checksum>();
    this.byEnv.set(env, known);
    for (const v of state.versions.values()) {
      if (known.has(v.id)) continue;
      const file = join(warehouseFolder(p, env), v.file);
      if (!existsSync(file)) continue;
      await this.db.exec(`ATTACH ${quoteLiteral(file)} AS cm_version (READ_ONLY)`);
      try {
        const parts = await checksumsOf(this.db, 'cm_version.data', PARTITION_COLUMNS[datasetOfStep(v.step)] ?? 'day');
        const others = [...parts.keys()].filter((x) => x !== v.partition);
        if (others.length > 0) this.problems.push(`${env} version ${v.id} (partition ${v.partition}) holds rows of partition(s) ${others.join(', ')}`);
        known.set(v.id, parts.get(v.partition) ?? { n: 0, x: '0', s: '0' });
      } finally {
        await this.db.exec('DETACH cm_version');
      }
    }
  }

  /** Versions of `dataset`'s step for one partition whose checksum is `c`. */
  matches(env: string, state: EnvState | undefined, dataset: string, partition: string, c: Checksum): string[] {
    const step = DATASET_STEPS[dataset];
    const out: string[] = [];
    for (const [id, sum] of this.byEnv.get(env) ?? []) {
      const v = state?.versions.get(id);
      if (!v || v.step !== step || v.partition !== partition) continue;
      if (sameChecksum(sum, c)) out.push(id);
    }
    return out;
  }
}

function datasetOfStep(step: string): string {
  return Object.entries(DATASET_STEPS).find(([, s]) => s === step)?.[0] ?? step;
}

// ---- the matrix -----------------------------------------------------------------------------

export type Operation = 'run:first' | 'run:rerun' | 'republish' | 'rollback' | 'gc' | 'compaction';

export interface Cell {
  readonly op: Operation;
  /** A crash point name, or `size:NN` (the temp data file at NN % of its final size). */
  readonly point: string;
  /** What recovery must leave: the state before the operation, after it, or either. */
  readonly expect: 'old' | 'new' | 'either';
}

export const SIZE_POINTS = [10, 25, 50, 75, 90].map((n) => `size:${n}`);

const RUN_POINTS: readonly [string, Cell['expect']][] = [
  ['run.recorded', 'old'], ['version.written', 'old'], ['version.renamed', 'old'], ['publish.before-commit', 'old'],
  ['publish.committed', 'new'], ['run.published', 'new'], ['run.finished', 'new'], ...SIZE_POINTS.map((s) => [s, 'old'] as [string, Cell['expect']]),
];

/** Every cell of the matrix, in the order it runs. */
export function allCells(): Cell[] {
  return [
    ...RUN_POINTS.map(([point, expect]) => ({ op: 'run:first' as const, point, expect })),
    ...RUN_POINTS.map(([point, expect]) => ({ op: 'run:rerun' as const, point, expect })),
    ...(
      [['republish.intent', 'old'], ['publish.before-commit', 'old'], ['publish.committed', 'new'], ['republish.published', 'new']] as const
    ).map(([point, expect]) => ({ op: 'republish' as const, point, expect })),
    ...['compaction.written', 'compaction.renamed', 'compaction.before-commit', 'compaction.committed', ...SIZE_POINTS].map((point) => ({ op: 'compaction' as const, point, expect: 'either' as const })),
    ...['gc.intent', 'gc.marked', 'gc.deleted-one'].map((point) => ({ op: 'gc' as const, point, expect: 'new' as const })),
    // A rollback's decision is saved with its effects before any of these points: recovery finishes it.
    ...['rollout.decided', 'effects.flags', 'publish.before-commit', 'publish.committed', 'effects.published', 'effects.republished', 'run.recorded', 'version.written', 'version.renamed', 'run.published', 'run.finished', 'effects.rerun'].map((point) => ({ op: 'rollback' as const, point, expect: 'new' as const })),
  ];
}

export const cellId = (c: Pick<Cell, 'op' | 'point'>): string => `${c.op}@${c.point}`;

export interface MatrixOptions {
  /** Rows of every source partition. */
  readonly rows: number;
  readonly killsPerCell: number;
  /** Which cells run (ids `op@point`); all by default. */
  readonly cells?: readonly string[];
  /** A folder to work in (a project is created in it). */
  readonly dir: string;
  /** Tries per kill: a size trigger the write outran, or a point not reached, is tried again. */
  readonly attempts?: number;
  readonly log?: (line: string) => void;
  /** Pause of the reader between its iterations (ms). */
  readonly readerPauseMs?: number;
}

export interface CellResult {
  readonly cell: Cell;
  kills: number;
  missed: number;
  recoveredOk: number;
  old: number;
  new: number;
  /** Kills after which a published partition did not equal exactly one output version. */
  corrupt: number;
  readerReads: number;
  readerMixes: number;
  ms: number;
  start: number;
  end: number;
  readonly violations: string[];
}

export interface MatrixResult {
  readonly rows: number;
  readonly killsPerCell: number;
  readonly cells: readonly CellResult[];
  readonly calibration: { readonly versionBytes: number; readonly segmentBytes: number };
  readonly reader: { readonly reads: number; readonly observations: number; readonly duringKills: number; readonly mixes: number; readonly vanished: number; readonly errors: number; readonly errorKinds: Readonly<Record<string, number>> };
  /** Every problem found, cell-level and global. */
  readonly violations: readonly string[];
  readonly wallMs: number;
  readonly dir: string;
}

interface Prepared {
  readonly env: string;
  readonly args: readonly string[];
  readonly size?: SizeTrigger;
  readonly before: EnvState;
  /** Classifies the recovered state as old or new, or says what is wrong. */
  readonly judge: (after: EnvState) => Promise<{ outcome?: 'old' | 'new'; problems: string[] }>;
}

export async function runCrashMatrix(o: MatrixOptions): Promise<MatrixResult> {
  const wallStart = Date.now();
  const log = o.log ?? (() => undefined);
  const attempts = o.attempts ?? 3;
  const wanted = o.cells ? new Set(o.cells) : undefined;
  const cells = allCells().filter((c) => !wanted || wanted.has(cellId(c)));
  if (wanted) for (const id of wanted) if (!cells.some((c) => cellId(c) === id)) throw new Error(`no cell ${id}; cells are: ${allCells().map(cellId).join(', ')}`);
  const firstRuns = cells.filter((c) => c.op === 'run:first').length * o.killsPerCell * attempts;
  const globalViolations: string[] = [];

  log(`creating a project with ${o.rows} rows per partition in ${o.dir}`);
  const p = await createMatrixProject(o.dir, { rows: o.rows, partitions: 2, freshEnvs: firstRuns + 1 });
  const [D1, D2] = p.partitions as [string, string];
  await using db = await DuckDBEngine.open(':memory:', { threads: 2 });
  const sums = new VersionChecksums(db);
  const must = async (env: string, args: readonly string[], what: string): Promise<CliResult> => {
    const r = await sluice(p, env, args);
    await sums.refresh(p, env);
    if (r.code !== 0) throw new MatrixError(`${what} failed: ${describe(r)}`);
    return r;
  };

  // Setup and calibration: both partitions run, then compacted; the sizes of the files written are the 100 % of the size triggers.
  let factor = 110;
  await must('dev', ['backfill', PIPELINE, '--from', D1, '--to', D2], 'the first backfill');
  const first = readState(p, 'dev');
  const versionBytes = Math.max(...[...first.versions.values()].filter((v) => v.step === 'clean_events').map((v) => statSync(join(warehouseFolder(p, 'dev'), v.file)).size));
  await must('dev', ['compact', '--force'], 'the first compaction');
  const segmentBytes = await (async () => {
    const c = WarehouseCatalog.open(join(warehouseFolder(p, 'dev'), 'catalog.db'));
    try {
      return Math.max(...c.segments('events_clean').map((s) => s.bytes));
    } finally {
      c.close();
    }
  })();
  log(`calibration: a version file of clean_events is ${versionBytes} bytes, a compacted segment of events_clean ${segmentBytes} bytes`);
  // A second version of D1 with other rows, for republishing.
  writeCleanSql(p.root, ++factor);
  await must('dev', ['run', PIPELINE, '--partition', D1], 'a second run of D1');

  const reader = ReaderProcess.start(o.dir, { targets: [{ env: 'dev', catalog: readerCatalogOf(p, 'dev') }], partitionColumns: PARTITION_COLUMNS, pauseMs: o.readerPauseMs ?? 100 }, 3 * 3600_000);
  const killWindows: [number, number][] = [];
  let freshIndex = 0;
  const results: CellResult[] = [];
  const envsUsed = new Set<string>(['dev']);

  /** A republish of events_clean D1 that must succeed and show the version after it. */
  const mustRepublish = async (versionId: string, why: string): Promise<void> => {
    const r = await must('dev', republishArgs('events_clean', D1, versionId, why), why);
    const shown = readState(p, 'dev').pointers.get(key('events_clean', D1));
    if (shown !== versionId) throw new MatrixError(`${why}: the republish exited 0 but events_clean ${D1} shows ${shown ?? 'nothing'}, not ${versionId}: ${describe(r)}`);
  };

  /** A version of events_clean D1 other than the one shown, with other rows, whose file is there. */
  const otherVersion = async (): Promise<string> => {
    for (let i = 0; i < 2; i++) {
      const s = readState(p, 'dev');
      await sums.refresh(p, 'dev', s);
      const shown = s.pointers.get(key('events_clean', D1));
      const shownSum = shown ? sums.get('dev', shown) : undefined;
      const candidates = [...s.versions.values()].filter((v) => v.step === 'clean_events' && v.partition === D1 && v.deletedAt === null && v.id !== shown && !sameChecksum(sums.get('dev', v.id), shownSum) && existsSync(join(warehouseFolder(p, 'dev'), v.file)));
      const pick = candidates.at(-1);
      if (pick) return pick.id;
      writeCleanSql(p.root, ++factor);
      await must('dev', ['run', PIPELINE, '--partition', D1], 'a run making a version to republish');
    }
    throw new MatrixError('no version of events_clean to republish');
  };

  const sizeOf = (point: string, dir: string, full: number): SizeTrigger | undefined => (point.startsWith('size:') ? { dir, bytes: Math.round((Number(point.slice(5)) / 100) * full) } : undefined);

  const prepare = async (cell: Cell): Promise<Prepared> => {
    if (cell.op !== 'run:first') reader.setTargets([{ env: 'dev', catalog: readerCatalogOf(p, 'dev') }]);
    const crashVersions = join(warehouseFolder(p, 'dev'), 'versions');
    switch (cell.op) {
      case 'run:first':
      case 'run:rerun': {
        let env = 'dev';
        if (cell.op === 'run:first') {
          env = p.freshEnvs[freshIndex++] ?? '';
          if (!env) throw new MatrixError('out of fresh environments');
          envsUsed.add(env);
          reader.setTargets([{ env: 'dev', catalog: readerCatalogOf(p, 'dev') }, { env, catalog: readerCatalogOf(p, env) }]);
        } else {
          writeCleanSql(p.root, ++factor);
        }
        const before = readState(p, env);
        const size = sizeOf(cell.point, env === 'dev' ? crashVersions : join(warehouseFolder(p, env), 'versions'), versionBytes);
        return {
          env, before, args: ['run', PIPELINE, '--partition', D1], ...(size ? { size } : {}),
          judge: async (after) => {
            const e0 = before.pointers.get(key('events_clean', D1));
            const d0 = before.pointers.get(key('daily_totals', D1));
            const e1 = after.pointers.get(key('events_clean', D1));
            const d1 = after.pointers.get(key('daily_totals', D1));
            if (e1 === e0 && d1 === d0) return { outcome: 'old', problems: [] };
            const ve = e1 ? after.versions.get(e1) : undefined;
            const vd = d1 ? after.versions.get(d1) : undefined;
            if (ve && vd && ve.runId > before.maxRunId && vd.runId === ve.runId) {
              const consistent = await downstreamAgrees(p, env, [D1]);
              return { outcome: 'new', problems: consistent };
            }
            return { problems: [`${env} ${D1} is neither the old publication (${e0 ?? '-'}, ${d0 ?? '-'}) nor both outputs of the killed run: events_clean ${e1 ?? '-'}, daily_totals ${d1 ?? '-'}`] };
          },
        };
      }
      case 'republish': {
        const target = await otherVersion();
        const before = readState(p, 'dev');
        const old = before.pointers.get(key('events_clean', D1));
        return {
          env: 'dev', before, args: republishArgs('events_clean', D1, target, 'crash matrix'),
          judge: async (after) => {
            const now = after.pointers.get(key('events_clean', D1));
            const others = [...after.pointers].filter(([k, v]) => k !== key('events_clean', D1) && before.pointers.get(k) !== v);
            const problems = others.map(([k, v]) => `the republish changed ${k.replace('\0', ' ')} too (to ${v})`);
            if (now === old) return { outcome: 'old', problems };
            if (now === target) return { outcome: 'new', problems };
            return { problems: [...problems, `events_clean ${D1} shows ${now ?? '-'}, neither ${old ?? '-'} nor ${target}`] };
          },
        };
      }
      case 'compaction': {
        const s = readState(p, 'dev');
        const hasOverlay = [...s.served.values()].some((m) => [...m.values()].includes('version'));
        if (!hasOverlay) await mustRepublish(await otherVersion(), 'an overlay to compact');
        const before = readState(p, 'dev');
        const size = sizeOf(cell.point, join(warehouseFolder(p, 'dev'), 'segments'), segmentBytes);
        return {
          env: 'dev', before, args: ['compact', '--force'], ...(size ? { size } : {}),
          judge: async (after) => {
            const problems: string[] = [];
            if (!samePointers(before, after)) problems.push('compaction changed a publication');
            // Each dataset is its own compaction (one catalog transaction): each is all old or all new.
            const outcomes = new Map<string, 'old' | 'new'>();
            for (const [d, was] of before.served) {
              const now = after.served.get(d) ?? new Map<string, string>();
              if (sameMap(was, now)) {
                outcomes.set(d, 'old');
                continue;
              }
              const segs = new Set(now.values());
              const [only] = [...segs];
              if (segs.size === 1 && only?.startsWith('segment ') && !before.liveSegments.has(only.slice('segment '.length)) && now.size === was.size) outcomes.set(d, 'new');
              else problems.push(`dataset ${d} is served half old, half new: before ${JSON.stringify([...was])}, after ${JSON.stringify([...now])}`);
            }
            // Datasets compact in name order, events_clean (the one given an overlay) last: a kill before a commit leaves it old; one right after a commit leaves that dataset new.
            if (cell.point === 'compaction.committed' && ![...outcomes.values()].includes('new')) problems.push('killed right after a compaction committed, yet no dataset is compacted');
            if (cell.point !== 'compaction.committed' && outcomes.get('events_clean') !== 'old') problems.push(`killed at ${cell.point}, before events_clean's compaction committed, yet it is ${outcomes.get('events_clean') ?? 'gone'}`);
            const kinds = new Set(outcomes.values());
            return { outcome: kinds.has('new') ? 'new' : 'old', problems };
          },
        };
      }
      case 'gc': {
        writeCleanSql(p.root, ++factor);
        const made = await must('dev', ['run', PIPELINE, '--partition', D1], 'the run that leaves garbage for gc');
        // What the catalog.sql it replaced named is held for the grace period (a reader may be about to attach it): wait it out.
        await new Promise((r) => setTimeout(r, Math.max(0, made.ended + GRACE_MS + 200 - Date.now())));
        const before = readState(p, 'dev');
        const deletedBefore = [...before.versions.values()].filter((v) => v.deletedAt !== null).length;
        return {
          env: 'dev', before, args: ['gc'],
          judge: async (after) => {
            const problems: string[] = [];
            if (!samePointers(before, after)) problems.push('gc changed a publication');
            for (const v of before.pointers.values()) if (after.versions.get(v)?.deletedAt) problems.push(`gc deleted published version ${v}`);
            const deleted = [...after.versions.values()].filter((v) => v.deletedAt !== null).length;
            return { outcome: deleted > deletedBefore ? 'new' : 'old', problems };
          },
        };
      }
      case 'rollback': {
        await must('dev', ['rollout', 'start', ROLLOUT, '--reason', 'crash matrix'], 'rollout start');
        const canary = await must('dev', ['backfill', PIPELINE, '--from', D1, '--to', D2], 'the canary runs');
        const before = readState(p, 'dev');
        for (const d of [D1, D2]) {
          const v = before.versions.get(before.pointers.get(key('events_clean', d)) ?? '');
          if (!v || v.stepVersion === 'v1') throw new MatrixError(`the canary did not publish a blend of ${d}: ${v?.id ?? '-'} (${v?.stepVersion ?? '-'})\n${canary.stdout}`);
        }
        const rollout = await latestRollout(p);
        return {
          env: 'dev', before, args: ['rollout', 'rollback', ROLLOUT, '--reason', 'crash matrix'],
          judge: async (after) => {
            const problems: string[] = [];
            const r = await latestRollout(p);
            const parts = [D1, D2].map((d) => {
              const e0 = before.pointers.get(key('events_clean', d));
              const d0 = before.pointers.get(key('daily_totals', d));
              const e1 = after.pointers.get(key('events_clean', d));
              const d1 = after.pointers.get(key('daily_totals', d));
              if (e0 === e1 && d0 === d1) return 'old';
              const blend = e0 ? after.versions.get(e0) : undefined;
              const ve = e1 ? after.versions.get(e1) : undefined;
              const vd = d1 ? after.versions.get(d1) : undefined;
              if (blend && ve && vd && ve.runId === blend.runId && ve.stepVersion === 'v1' && vd.runId > before.maxRunId) return 'new';
              problems.push(`${d}: events_clean ${e1 ?? '-'} (was ${e0 ?? '-'}), daily_totals ${d1 ?? '-'} (was ${d0 ?? '-'}) is neither the canary's nor the restored baseline with daily_totals re-run from it`);
              return 'bad';
            });
            if (parts.every((x) => x === 'old') && r?.id === rollout?.id && r?.state !== 'rolled_back') return { outcome: 'old', problems };
            if (parts.every((x) => x === 'new')) {
              if (r?.state !== 'rolled_back' || r.pending > 0) problems.push(`rollout ${r?.id ?? '-'} is ${r?.state ?? '-'} with ${r?.pending ?? 0} pending action(s), not rolled back`);
              problems.push(...(await downstreamAgrees(p, 'dev', [D1, D2])));
              return { outcome: 'new', problems };
            }
            return { problems: [...problems, `the rollback is half done: ${parts.join(', ')}; rollout ${r?.id ?? '-'} ${r?.state ?? '-'}`] };
          },
        };
      }
    }
  };

  /** The common checks after recovery in `env`; returns problems (corrupt: a partition not equal to one version). */
  const check = async (env: string, verify: CliResult | undefined, state: EnvState): Promise<{ problems: string[]; corrupt: boolean }> => {
    const problems: string[] = [];
    let corrupt = false;
    if (!verify) {
      // judged by the checks below alone
    } else if (verify.code !== 0) {
      problems.push(`the command after the kill failed: ${describe(verify)}`);
      corrupt = verify.code === 10;
    } else {
      let verdicts: { dataset: string; partition: string; versionId: string; ok: boolean; problem?: string }[] = [];
      try {
        verdicts = (JSON.parse(verify.stdout) as { verdicts: typeof verdicts }).verdicts;
      } catch {
        problems.push(`verify-data printed no verdicts: ${describe(verify)}`);
      }
      for (const v of verdicts.filter((x) => !x.ok)) {
        corrupt = true;
        problems.push(`verify-data: ${v.dataset} ${v.partition} (${v.versionId}): ${v.problem ?? 'mismatch'}`);
      }
      const judged = new Set(verdicts.map((v) => key(v.dataset, v.partition)));
      for (const k of state.pointers.keys()) if (!judged.has(k)) problems.push(`verify-data did not judge ${k.replace('\0', ' ')}`);
    }
    // Independently: each published partition read through catalog.sql is its version's file, row for row.
    const catalog = readerCatalogOf(p, env);
    if (state.pointers.size > 0) {
      if (!existsSync(catalog)) problems.push(`${env} publishes ${state.pointers.size} partition(s) but has no catalog.sql`);
      else {
        const { obs } = await readCatalog(catalog, PARTITION_COLUMNS, { threads: 2 });
        const seen = new Map(obs.map((x) => [key(x.dataset, x.partition), x]));
        for (const [k, id] of state.pointers) {
          const want = sums.get(env, id);
          const got = seen.get(k);
          if (!sameChecksum(want, got)) {
            corrupt = true;
            problems.push(`${env} ${k.replace('\0', ' ')} read through catalog.sql is ${got ? `${got.n} rows ${got.x}` : 'missing'}, not version ${id} (${want ? `${want.n} rows ${want.x}` : 'no checksum'})`);
          }
        }
        for (const k of seen.keys()) if (!state.pointers.has(k)) problems.push(`${env} catalog.sql shows ${k.replace('\0', ' ')}, which is not published`);
      }
    }
    for (const v of state.versions.values()) {
      const there = existsSync(join(warehouseFolder(p, env), v.file));
      if (v.deletedAt === null && !there) problems.push(`${env} version ${v.id} is in the catalog but its file ${v.file} is gone`);
      if (v.deletedAt !== null && there) problems.push(`${env} version ${v.id} was deleted by gc but its file ${v.file} is still there`);
    }
    problems.push(...(await unfinished(p)));
    return { problems, corrupt };
  };

  try {
    for (const cell of cells) {
      const res: CellResult = { cell, kills: 0, missed: 0, recoveredOk: 0, old: 0, new: 0, corrupt: 0, readerReads: 0, readerMixes: 0, ms: 0, start: Date.now(), end: 0, violations: [] };
      results.push(res);
      for (let k = 0; k < o.killsPerCell; k++) {
        let killed = false;
        for (let a = 0; a < attempts && !killed; a++) {
          const prep = await prepare(cell);
          const crashAt = cell.point.startsWith('size:') ? undefined : cell.point;
          const r = await sluice(p, prep.env, prep.args, { ...(crashAt ? { crashAt } : {}), ...(prep.size ? { size: prep.size } : {}) });
          await sums.refresh(p, prep.env);
          if (r.signal !== 'SIGKILL') {
            res.missed++;
            if (r.code !== 0) res.violations.push(`${cellId(cell)}: ${prep.args.join(' ')} failed instead of being killed: ${describe(r)}`);
            log(`${cellId(cell)}: not killed (the ${cell.point.startsWith('size:') ? 'write finished before the trigger' : 'point was not reached'}); exit ${r.code}`);
            continue;
          }
          killed = true;
          res.kills++;
          killWindows.push([r.started, r.ended]);
          const verify = await sluice(p, prep.env, ['--json', 'verify-data']);
          const after = readState(p, prep.env);
          await sums.refresh(p, prep.env, after);
          const common = await check(prep.env, verify, after);
          const judged = await prep.judge(after);
          const problems = [...common.problems, ...judged.problems];
          if (judged.outcome === 'old') res.old++;
          if (judged.outcome === 'new') res.new++;
          if (judged.outcome && cell.expect !== 'either' && judged.outcome !== cell.expect) problems.push(`recovered ${judged.outcome}, but a kill at ${cell.point} must leave it ${cell.expect}`);
          if (common.corrupt) res.corrupt++;
          if (problems.length === 0) res.recoveredOk++;
          else res.violations.push(...problems.map((x) => `${cellId(cell)} kill ${k + 1}: ${x}`));
          const recovered = verify.stderr.split('\n').filter((l) => l.startsWith('recovered ')).map((l) => l.slice('recovered '.length));
          log(`${cellId(cell)} kill ${k + 1}: killed after ${r.ended - r.started} ms${r.sizeKill ? ` (${r.sizeKill.file} at ${r.sizeKill.bytes} bytes)` : ''}; ${judged.outcome ?? 'BROKEN'}${problems.length ? `; ${problems.length} problem(s): ${problems[0]}` : ''}${recovered.length ? `; ${recovered.join('; ')}` : ''}`);
        }
        if (!killed) res.violations.push(`${cellId(cell)}: no kill in ${attempts} attempts`);
      }
      res.end = Date.now();
      res.ms = res.end - res.start;
    }

    // The operations still work after all that, with the reader still reading.
    log('final round: every operation once more, unkilled');
    await mustRepublish(await otherVersion(), 'the final republish');
    writeCleanSql(p.root, ++factor);
    await must('dev', ['backfill', PIPELINE, '--from', D1, '--to', D2], 'the final backfill');
    await must('dev', ['compact', '--force'], 'the final compaction');
    await must('dev', ['gc'], 'the final gc');
    for (const env of envsUsed) {
      // dev through the bin once more; the fresh environments (each verified after its kill) by the independent checks.
      const verify = env === 'dev' ? await must(env, ['--json', 'verify-data'], `the final verify-data in ${env}`) : undefined;
      const state = readState(p, env);
      await sums.refresh(p, env, state);
      globalViolations.push(...(await check(env, verify, state)).problems.map((x) => `final: ${x}`));
    }
    globalViolations.push(...(await downstreamAgrees(p, 'dev', [D1, D2])).map((x) => `final: ${x}`));
    const audit = await sluice(p, 'dev', ['audit', 'verify']);
    if (audit.code !== 0) globalViolations.push(`final: the audit trail does not verify: ${describe(audit)}`);
  } catch (e) {
    globalViolations.push(e instanceof MatrixError ? e.message : `the matrix stopped: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  } finally {
    await reader.stop();
  }
  if (!reader.running && reader.stderr.trim()) log(`reader stderr: ${reader.stderr.trim().slice(-2000)}`);

  // What the reader saw: every (partition, rows, checksum) must be exactly one output version of that partition.
  const records = reader.records();
  const states = new Map([...envsUsed].map((env) => [env, readState(p, env)]));
  const readerSummary = judgeReads(records, (env, dataset, partition, c) => sums.matches(env, states.get(env), dataset, partition, c));
  for (const m of readerSummary.mixes) globalViolations.push(`the reader saw ${m}`);
  for (const v of readerSummary.vanishedList) globalViolations.push(`the reader saw ${v}`);
  globalViolations.push(...sums.problems);
  let duringKills = 0;
  for (const rec of records) if (killWindows.some(([a, b]) => rec.start <= b && rec.end >= a)) duringKills++;
  for (const res of results) {
    const inCell = records.filter((r) => r.start >= res.start && r.start <= res.end);
    res.readerReads = inCell.filter((r) => !r.error).length;
    res.readerMixes = readerSummary.mixRecords.filter((r) => r.start >= res.start && r.start <= res.end).length;
  }
  const violations = [...results.flatMap((r) => r.violations), ...globalViolations];
  return {
    rows: o.rows,
    killsPerCell: o.killsPerCell,
    cells: results,
    calibration: { versionBytes, segmentBytes },
    reader: { reads: records.filter((r) => !r.error).length, observations: readerSummary.observations, duringKills, mixes: readerSummary.mixes.length, vanished: readerSummary.vanishedList.length, errors: readerSummary.errors, errorKinds: readerSummary.errorKinds },
    violations,
    wallMs: Date.now() - wallStart,
    dir: o.dir,
  };
}

class MatrixError extends Error {}

/** daily_totals of each partition equals what its SQL computes from the events_clean shown (read through catalog.sql). */
async function downstreamAgrees(p: MatrixProject, env: string, partitions: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  const catalog = readerCatalogOf(p, env);
  if (!existsSync(catalog)) return [`${env} has no catalog.sql`];
  await readCatalog(catalog, PARTITION_COLUMNS, {
    threads: 2,
    extra: async (db) => {
      for (const d of partitions) {
        const shown = `SELECT day, kind, events, net_cents FROM daily_totals WHERE day = DATE '${d}'`;
        const recomputed = `SELECT day, kind, count(*) AS events, CAST(sum(net_cents) AS BIGINT) AS net_cents FROM events_clean WHERE day = DATE '${d}' GROUP BY day, kind`;
        if (!(await sameRows(db, shown, recomputed))) problems.push(`${env} daily_totals ${d} is not computed from the events_clean it shows`);
      }
    },
  });
  return problems;
}

/** Judges a reader's records: observations that are no version (mixes), partitions that vanished, errors. */
export function judgeReads(records: readonly ReadRecord[], versionsWith: (env: string, dataset: string, partition: string, c: Checksum) => readonly string[]): { observations: number; mixes: string[]; mixRecords: ReadRecord[]; vanishedList: string[]; errors: number; errorKinds: Record<string, number> } {
  const mixes: string[] = [];
  const mixRecords: ReadRecord[] = [];
  const vanishedList: string[] = [];
  const errorKinds: Record<string, number> = {};
  let errors = 0;
  let observations = 0;
  const seen = new Map<string, Set<string>>();
  const vanished = new Set<string>();
  for (const r of records) {
    if (r.error) {
      errors++;
      const kind = r.error.replace(/\/\S+/g, 'FILE').replace(/\d+/g, 'N').slice(0, 120);
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      continue;
    }
    const here = new Map<string, Set<string>>();
    let mixed = false;
    for (const x of r.obs ?? []) {
      observations++;
      const parts = here.get(x.dataset) ?? new Set<string>();
      parts.add(x.partition);
      here.set(x.dataset, parts);
      if (versionsWith(r.env, x.dataset, x.partition, x).length === 0) {
        mixed = true;
        mixes.push(`${r.env} ${x.dataset} ${x.partition} with ${x.n} rows (checksum ${x.x}) at ${new Date(r.start).toISOString()} (generation ${r.generation ?? '?'}), which is no output version of that partition`);
      }
    }
    if (mixed) mixRecords.push(r);
    for (const [dataset, parts] of seen) {
      if (!dataset.startsWith(`${r.env}\0`)) continue;
      const now = here.get(dataset.slice(r.env.length + 1)) ?? new Set<string>();
      for (const part of parts) {
        if (now.has(part) || vanished.has(`${dataset}\0${part}`)) continue;
        vanished.add(`${dataset}\0${part}`);
        vanishedList.push(`${r.env} ${dataset.slice(r.env.length + 1)} ${part} vanish at ${new Date(r.start).toISOString()} (generation ${r.generation ?? '?'}) after it had been published`);
      }
    }
    for (const [dataset, parts] of here) {
      const k = `${r.env}\0${dataset}`;
      seen.set(k, new Set([...(seen.get(k) ?? []), ...parts]));
    }
  }
  return { observations, mixes, mixRecords, vanishedList, errors, errorKinds };
}

function samePointers(a: EnvState, b: EnvState): boolean {
  return sameMap(a.pointers, b.pointers);
}

function sameMap(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

// ---- the table ------------------------------------------------------------------------------

export function formatMatrix(r: MatrixResult): string {
  const header = ['operation', 'kill point', 'kills', 'missed', 'recovered ok', 'old/new', 'corrupt seen', 'reader reads', 'reader mixes', 'seconds'];
  const rows = r.cells.map((c) => [c.cell.op, c.cell.point, String(c.kills), String(c.missed), String(c.recoveredOk), `${c.old}/${c.new}`, String(c.corrupt), String(c.readerReads), String(c.readerMixes), (c.ms / 1000).toFixed(1)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((x) => (x[i] ?? '').length)));
  const line = (cols: readonly string[]): string => cols.map((x, i) => (i < 2 ? x.padEnd(widths[i] ?? 0) : x.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  const kills = r.cells.reduce((n, c) => n + c.kills, 0);
  const ok = r.cells.reduce((n, c) => n + c.recoveredOk, 0);
  const corrupt = r.cells.reduce((n, c) => n + c.corrupt, 0);
  const missed = r.cells.reduce((n, c) => n + c.missed, 0);
  const errors = Object.entries(r.reader.errorKinds).map(([k, n]) => `    ${n} x ${k}`);
  return [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
    '',
    'old/new: recovered to the state before / after the operation (compaction: new once a dataset\'s compaction stood); corrupt seen: a published partition that was not exactly its output version',
    `calibration: clean_events version file ${r.calibration.versionBytes} bytes, events_clean segment ${r.calibration.segmentBytes} bytes; ${r.rows} rows per partition`,
    `reader: ${r.reader.reads} reads (${r.reader.observations} partition observations), ${r.reader.duringKills} overlapping a killed command; ${r.reader.mixes} mixes, ${r.reader.vanished} vanished partitions, ${r.reader.errors} failed reads${errors.length ? ':' : ''}`,
    ...errors,
    `${r.violations.length === 0 ? 'OK' : 'FAILED'}: ${kills} kills in ${r.cells.length} cells (${missed} missed triggers retried), ${ok} recovered ok, ${corrupt} corrupt, reader mixes ${r.reader.mixes}, violations ${r.violations.length}; wall ${(r.wallMs / 1000).toFixed(0)} s`,
    ...r.violations.slice(0, 50).map((v) => `  VIOLATION ${v}`),
    ...(r.violations.length > 50 ? [`  ... and ${r.violations.length - 50} more`] : []),
  ].join('\n');
}
