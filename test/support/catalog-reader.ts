/**
 * A second, real process that reads every published dataset the way an outside consumer does:
 * through a warehouse's reader catalog (`<folder>/catalog.sql`: ATTACH ... (READ_ONLY) plus a temp
 * view per dataset), re-read on every iteration into a fresh in-memory DuckDB. For each read it
 * records, per dataset and partition, the row count and an order-free checksum of its own (a salted
 * hash of every row, so it is independent of the fingerprints Sluice records), one JSON line per
 * read, appended as it goes (a killed reader loses nothing it wrote).
 *
 * Run as a child: `node --import tsx catalog-reader.ts CONTROL.json OUT.jsonl MAX_MS`. CONTROL.json
 * (replaced atomically by the parent) names the catalogs to read and says when to stop; the loop is
 * bounded by MAX_MS whatever happens. The parent side is `ReaderProcess`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DuckDBEngine } from '../../src/engine/duckdb/duckdb-engine.ts';
import type { SqlEngine } from '../../src/engine/sql-engine.ts';
import { quoteIdent } from '../../src/engine/sql.ts';

export interface ReaderTarget {
  /** A label for the warehouse (its environment). */
  readonly env: string;
  /** Its catalog.sql. */
  readonly catalog: string;
}

export interface ReaderControl {
  readonly targets: readonly ReaderTarget[];
  /** The partition column of each dataset (datasets not named here are read by `day`). */
  readonly partitionColumns: Readonly<Record<string, string>>;
  /** Pause between iterations (ms). */
  readonly pauseMs?: number;
  readonly stop?: boolean;
}

/** What one partition of a dataset (or of a version file) holds: rows and a salted, order-free checksum. */
export interface Checksum {
  readonly n: number;
  readonly x: string;
  readonly s: string;
}

export interface Observation extends Checksum {
  readonly dataset: string;
  readonly partition: string;
}

export interface ReadRecord {
  readonly env: string;
  readonly start: number;
  readonly end: number;
  /** The generation the catalog said it was. */
  readonly generation?: number;
  readonly obs?: readonly Observation[];
  readonly error?: string;
}

const SALT = 'sluice-crash-matrix';

/**
 * Per partition: count, XOR and sum of a salted hash of every row (columns in name order), so equal
 * multisets of rows agree in any order and a partition holding rows of two versions does not.
 */
export function checksumSql(relation: string, columns: readonly string[], partitionColumn: string): string {
  const cols = [...columns].sort().map(quoteIdent).join(', ');
  const p = quoteIdent(partitionColumn);
  return `SELECT CAST(${p} AS VARCHAR) AS p, count(*) AS n, CAST(bit_xor(h) AS VARCHAR) AS x, CAST(sum(CAST(h AS HUGEINT)) AS VARCHAR) AS s
    FROM (SELECT ${p}, hash('${SALT}', ${cols}) AS h FROM ${relation}) t GROUP BY 1 ORDER BY 1`;
}

export const sameChecksum = (a: Checksum | undefined, b: Checksum | undefined): boolean => a !== undefined && b !== undefined && a.n === b.n && a.x === b.x && a.s === b.s;

/** Checksums of every partition of `relation` on `db`. */
export async function checksumsOf(db: SqlEngine, relation: string, partitionColumn: string): Promise<Map<string, Checksum>> {
  const columns = (await db.query(`DESCRIBE SELECT * FROM ${relation}`)).map((r) => String(r['column_name']));
  const out = new Map<string, Checksum>();
  for (const r of await db.query(checksumSql(relation, columns, partitionColumn))) out.set(String(r['p']), { n: Number(r['n']), x: String(r['x']), s: String(r['s']) });
  return out;
}

/**
 * One read of a catalog.sql as a consumer does it: the file read once, run in a new in-memory
 * DuckDB, every view it defines checksummed per partition. `extra` may run more SQL on the same
 * attachment (tests compare datasets with each other there).
 */
export async function readCatalog(catalogPath: string, partitionColumns: Readonly<Record<string, string>>, o: { threads?: number; extra?: (db: SqlEngine) => Promise<void> } = {}): Promise<{ generation?: number; obs: Observation[] }> {
  const text = readFileSync(catalogPath, 'utf8');
  const g = /generation (\d+)/.exec(text)?.[1];
  const views = [...new Set([...text.matchAll(/CREATE OR REPLACE TEMP VIEW "((?:[^"]|"")+)"/g)].map((m) => (m[1] ?? '').replaceAll('""', '"')))];
  const db = await DuckDBEngine.open(':memory:', { threads: o.threads ?? 1 });
  try {
    await db.exec(text);
    const obs: Observation[] = [];
    for (const v of views) {
      for (const [partition, c] of await checksumsOf(db, quoteIdent(v), partitionColumns[v] ?? 'day')) obs.push({ dataset: v, partition, ...c });
    }
    await o.extra?.(db);
    return { ...(g ? { generation: Number(g) } : {}), obs };
  } finally {
    await db.close();
  }
}

/** Parses the reader's output file (a line cut short by a kill is skipped). */
export function readRecords(outPath: string): ReadRecord[] {
  if (!existsSync(outPath)) return [];
  const out: ReadRecord[] = [];
  for (const line of readFileSync(outPath, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as ReadRecord | { done: true };
      if ('env' in r) out.push(r);
    } catch {
      // the last line of a killed reader
    }
  }
  return out;
}

/** The parent's handle on a reader child. */
export class ReaderProcess {
  private readonly child: ChildProcess;
  private exited = false;
  private readonly exit: Promise<void>;
  stderr = '';

  private constructor(
    readonly controlPath: string,
    readonly outPath: string,
    private control: ReaderControl,
    maxMs: number,
  ) {
    this.write();
    this.child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, controlPath, outPath, String(maxMs)], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-20_000)));
    this.exit = new Promise((r) => this.child.on('exit', () => ((this.exited = true), r())));
  }

  /** Starts a reader writing to `outPath`; it reads until stopped, or for `maxMs` at most. */
  static start(dir: string, control: ReaderControl, maxMs: number): ReaderProcess {
    return new ReaderProcess(resolve(dir, 'reader-control.json'), resolve(dir, 'reader-out.jsonl'), control, maxMs);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exited;
  }

  setTargets(targets: readonly ReaderTarget[]): void {
    this.control = { ...this.control, targets };
    this.write();
  }

  records(): ReadRecord[] {
    return readRecords(this.outPath);
  }

  /** Asks it to stop, waits a little, then kills it (SIGKILL) whatever it is doing. */
  async stop(graceMs = 5000): Promise<ReadRecord[]> {
    this.control = { ...this.control, stop: true };
    this.write();
    await Promise.race([this.exit, new Promise((r) => setTimeout(r, graceMs))]);
    if (!this.exited) {
      this.child.kill('SIGKILL');
      await this.exit;
    }
    return this.records();
  }

  private write(): void {
    const tmp = `${this.controlPath}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.control));
    renameSync(tmp, this.controlPath);
  }
}

async function main(controlPath: string, outPath: string, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  let iterations = 0;
  while (Date.now() < deadline) {
    let control: ReaderControl;
    try {
      control = JSON.parse(readFileSync(controlPath, 'utf8')) as ReaderControl;
    } catch {
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    if (control.stop) break;
    let read = false;
    for (const t of control.targets) {
      if (!existsSync(t.catalog)) continue;
      read = true;
      const start = Date.now();
      let rec: ReadRecord;
      try {
        rec = { env: t.env, start, ...(await readCatalog(t.catalog, control.partitionColumns)), end: Date.now() };
      } catch (e) {
        rec = { env: t.env, start, end: Date.now(), error: (e instanceof Error ? e.message : String(e)).slice(0, 500) };
      }
      appendFileSync(outPath, `${JSON.stringify(rec)}\n`);
    }
    iterations++;
    await new Promise((r) => setTimeout(r, read ? (control.pauseMs ?? 0) : 20));
  }
  appendFileSync(outPath, `${JSON.stringify({ done: true, iterations })}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  const [controlPath, outPath, maxMs] = process.argv.slice(2);
  if (!controlPath || !outPath) throw new Error('usage: catalog-reader CONTROL.json OUT.jsonl [MAX_MS]');
  await main(controlPath, outPath, Number(maxMs ?? 600_000));
}
