import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { crashPoint } from '../../util/crash-point.ts';
import { SluiceError, messageOf } from '../../util/errors.ts';
import type { Row } from '../sql-engine.ts';
import { quoteIdent, quoteLiteral } from '../sql.ts';
import type { ColumnInfo, CompactionReport, DataVerdict, EngineInfo, ExportReport, GcPlan, GcReport, OutputVersion, Publication, PublishItem, PublishMeta, Warehouse, WarehouseSession } from '../warehouse.ts';
import { Attachments } from './attachments.ts';
import { fsyncPath } from './data-files.ts';
import { datasetRelation, type DatasetRelation } from './dataset-relation.ts';
import { duckdbDialect } from './duckdb-dialect.ts';
import { DuckDBEngine, type DuckDBOptions } from './duckdb-engine.ts';
import { compactDatasets, type CompactionPolicy } from './duckdb-compaction.ts';
import { exportDataset } from './duckdb-export.ts';
import { collectGarbage } from './duckdb-gc.ts';
import { migrateLegacyLayout } from './duckdb-legacy-layout.ts';
import { verifyData } from './duckdb-verify-data.ts';
import { DuckDBWarehouseSession } from './duckdb-warehouse-session.ts';
import { dataFolderOf, toOutputVersion, WarehouseCatalog, type StoredVersion } from './warehouse-catalog.ts';

/** The in-memory catalog that holds the dataset views of this process. */
export const LIVE = 'sluice_live';

export interface DuckDBWarehouseOptions extends DuckDBOptions {
  /** Compact a dataset once this many of its partitions are served from their own version files. */
  readonly compactAfter?: number;
  /** Data files attached at once in this process (each holds a file descriptor). */
  readonly maxAttached?: number;
}

/**
 * The embedded warehouse. Layout (measured in MEASURED.md, decided in docs/decisions/0007):
 * - every output version is one immutable DuckDB file `<folder>/versions/<alias>.duckdb` (one
 *   table `data`), written, flushed and renamed into place before anything names it;
 * - the catalog (`<folder>/catalog.db`, SQLite) holds which file is which version, the publication
 *   pointer of every dataset partition and its log; a publish is one small catalog transaction, so
 *   its cost does not depend on rows and a crash shows every partition of it old or new;
 * - a dataset is a view over its live compacted segments (files sorted by partition, written in
 *   the background) and the version files of partitions published since (overlays);
 * - other processes read datasets through `<folder>/catalog.sql`, which attaches the files
 *   READ_ONLY and defines the views; it is replaced atomically after every change;
 * - the DuckDB file at `path` itself is only this process's working database (temp views,
 *   spilling, and tables a user keeps there for `table:` sources).
 */
export class DuckDBWarehouse implements Warehouse {
  readonly dialect = duckdbDialect;
  readonly attachments: Attachments;
  /** Views of this process, by dataset, and the aliases they pin. */
  private readonly views = new Map<string, DatasetRelation>();
  private publishing: Promise<void> = Promise.resolve();
  /** Opened on ':memory:': the data folder is temporary and removed on close. */
  private ephemeral = false;

  private constructor(
    private readonly db: DuckDBEngine,
    readonly catalog: WarehouseCatalog,
    readonly folder: string,
    readonly engine: EngineInfo,
    private readonly options: DuckDBWarehouseOptions,
  ) {
    this.attachments = new Attachments(db, (alias) => this.fileOfAlias(alias), options.maxAttached ?? 256);
  }

  static async open(path: string, options: DuckDBWarehouseOptions = {}): Promise<DuckDBWarehouse> {
    // An in-memory warehouse still needs somewhere for its data files; it lives as long as it does.
    const ephemeral = path === ':memory:';
    const folder = ephemeral ? mkdtempSync(join(tmpdir(), 'sluice-memory-')) : dataFolderOf(path);
    mkdirSync(join(folder, 'versions'), { recursive: true });
    mkdirSync(join(folder, 'segments'), { recursive: true });
    const db = await DuckDBEngine.open(path, options);
    let catalog: WarehouseCatalog | undefined;
    try {
      catalog = WarehouseCatalog.open(join(folder, 'catalog.db'));
      const w = new DuckDBWarehouse(db, catalog, folder, { kind: 'duckdb', version: (await db.version()).replace(/^v/, '') }, options);
      w.ephemeral = ephemeral;
      await db.exec(`ATTACH IF NOT EXISTS ':memory:' AS ${LIVE}; CREATE SCHEMA IF NOT EXISTS ${LIVE}.datasets`);
      await migrateLegacyLayout(w, db);
      await w.refreshViews();
      return w;
    } catch (e) {
      catalog?.close();
      await db.close();
      if (ephemeral) rmSync(folder, { recursive: true, force: true });
      throw e;
    }
  }

  get path(): string {
    return this.db.path;
  }

  get location(): string {
    return this.db.path;
  }

  /** The consumer catalog other processes read: `duckdb -init <this file>`, or `.read` it. */
  get readerCatalog(): string {
    return join(this.folder, 'catalog.sql');
  }

  async openSession(): Promise<WarehouseSession> {
    return new DuckDBWarehouseSession(await this.db.connect(), this);
  }

  /** SQL of this process: files it names are attached first; dataset views are current. */
  async query(sql: string): Promise<Row[]> {
    await this.attachments.ensureFor(sql);
    return this.db.query(sql);
  }

  async exec(sql: string): Promise<void> {
    await this.attachments.ensureFor(sql);
    return this.db.exec(sql);
  }

  fileOfAlias(alias: string): string | undefined {
    const v = alias.startsWith('sluice_v_') ? this.catalog.versionByAlias(alias) : undefined;
    if (v) return join(this.folder, v.file);
    const s = alias.startsWith('sluice_s_') ? this.catalog.segmentByAlias(alias) : undefined;
    return s ? join(this.folder, s.file) : undefined;
  }

  async outputVersion(id: string): Promise<OutputVersion | undefined> {
    const v = this.catalog.version(id);
    return v ? toOutputVersion(v) : undefined;
  }

  async outputVersions(filter: { step?: string; partition?: string; runId?: number }): Promise<OutputVersion[]> {
    return this.catalog.versions(filter).map(toOutputVersion);
  }

  async columns(table: string): Promise<ColumnInfo[]> {
    const rows = await this.query(`DESCRIBE SELECT * FROM ${table}`);
    return rows.map((r) => ({ name: String(r['column_name']), type: String(r['column_type']) }));
  }

  async datasetTable(dataset: string): Promise<string> {
    return `${LIVE}.datasets.${quoteIdent(dataset)}`;
  }

  /** How a dataset is served now (segments and overlays), for maintenance and tests. */
  relation(dataset: string): DatasetRelation | undefined {
    return this.views.get(dataset);
  }

  /**
   * One catalog transaction moves every pointer of the call (compare-and-set checked inside it);
   * no row is copied. Publishes of this process take turns.
   */
  async publish(items: readonly PublishItem[], meta: PublishMeta): Promise<Publication[]> {
    if (items.length === 0) return [];
    const previous = this.publishing;
    let release: () => void = () => undefined;
    this.publishing = new Promise<void>((r) => (release = r));
    await previous;
    try {
      const versions = this.catalog.versionsByIds(items.map((i) => i.versionId));
      for (const item of items) {
        const v = versions.get(item.versionId);
        if (!v) throw new SluiceError('NOT_FOUND', `no output version ${item.versionId}`, { field: 'version' });
        if (v.partition !== item.partition) throw new SluiceError('USAGE', `output version ${item.versionId} holds partition ${v.partition}, not ${item.partition}`, { field: 'partition' });
        if (!existsSync(join(this.folder, v.file))) throw new SluiceError('CORRUPT', `the data file of output version ${v.id} (${v.file}) is missing`, { file: join(this.folder, v.file) });
      }
      const at = meta.at.toISOString();
      crashPoint('publish.before-commit');
      const out = this.catalog.transaction(() => {
        for (const item of items) {
          const v = versions.get(item.versionId) as StoredVersion;
          const known = this.catalog.dataset(item.dataset);
          if (!known) this.catalog.addDataset({ name: item.dataset, partitionColumn: item.partitionColumn, columns: v.columns });
          else if (signature(known.columns) !== signature(v.columns)) {
            throw new SluiceError('DATA_INVALID', `output ${v.id} of step ${v.step} (${v.stepVersion}) has columns (${signature(v.columns)}) but dataset ${item.dataset} has (${signature(known.columns)})`, { step: v.step, version: v.stepVersion });
          }
        }
        // Compare-and-set inside the transaction that writes: a publication made after the caller decided is never overwritten.
        const pointers = this.catalog.pointers([...new Set(items.map((i) => i.dataset))]);
        const shown = (i: PublishItem): string | null => pointers.get(i.dataset)?.get(i.partition) ?? null;
        const stale = items.filter((i) => i.expected !== undefined && shown(i) !== i.expected);
        if (stale.length > 0) {
          throw new SluiceError('CONFLICT', `publish refused: ${stale.map((i) => `${i.dataset} ${i.partition} shows ${shown(i) ?? 'nothing'}, not ${i.expected ?? 'nothing'}`).join('; ')}`, { field: 'expected' });
        }
        if (meta.fence) this.catalog.fence(meta.fence.item, meta.fence.token);
        return this.catalog.publish(items.map((i) => ({ dataset: i.dataset, partition: i.partition, versionId: i.versionId, runId: meta.runId, actor: meta.actor, reason: meta.reason, at, rollout: i.rollout ?? null, intent: meta.intent ?? null })));
      });
      crashPoint('publish.committed');
      await this.refreshViews([...new Set(items.map((i) => i.dataset))]);
      return out;
    } finally {
      release();
    }
  }

  async currentPublications(dataset?: string): Promise<Publication[]> {
    return this.catalog.currentPublications(dataset);
  }

  async publicationHistory(dataset: string, partition?: string): Promise<Publication[]> {
    return this.catalog.publicationHistory(dataset, partition);
  }

  /**
   * Rebuilds the views of these datasets (all when omitted) from the catalog, attaching and
   * pinning the files they read, then rewrites the consumer catalog when it changed.
   */
  async refreshViews(datasets?: readonly string[]): Promise<void> {
    const infos = this.catalog.datasets().filter((d) => !datasets || datasets.includes(d.name));
    const pointers = this.catalog.pointers(infos.map((d) => d.name));
    for (const d of infos) {
      const p = pointers.get(d.name) ?? new Map<string, string>();
      const r = datasetRelation(d, p, this.catalog.segments(d.name), this.catalog.versionsByIds([...p.values()]));
      const before = this.views.get(d.name);
      if (!r) continue;
      this.attachments.pin(r.files.keys());
      await this.attachments.ensure(r.files.keys());
      await this.db.exec(`CREATE OR REPLACE VIEW ${LIVE}.datasets.${quoteIdent(d.name)} AS ${r.sql}`);
      this.views.set(d.name, r);
      if (before) this.attachments.unpin(before.files.keys());
    }
    this.writeReaderCatalog();
  }

  /** `catalog.sql`: attaches every file the datasets read and defines a view per dataset. Written only when it changes. */
  private writeReaderCatalog(): void {
    const all = this.catalog.datasets();
    const pointers = this.catalog.pointers();
    const relations = all.flatMap((d) => {
      const p = pointers.get(d.name) ?? new Map<string, string>();
      const r = datasetRelation(d, p, this.catalog.segments(d.name), this.catalog.versionsByIds([...p.values()]));
      return r ? [{ name: d.name, r }] : [];
    });
    const files = new Map<string, string>();
    for (const { r } of relations) for (const [a, f] of r.files) files.set(a, f);
    const body = [
      ...[...files].map(([alias, file]) => `ATTACH IF NOT EXISTS ${quoteLiteral(join(this.folder, file))} AS ${quoteIdent(alias)} (READ_ONLY);`),
      ...relations.map(({ name, r }) => `CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS\n${r.sql};`),
    ].join('\n');
    const path = this.readerCatalog;
    const digest = createHash('sha256').update(body).digest('hex').slice(0, 16);
    if (existsSync(path) && readFileSync(path, 'utf8').includes(`-- content ${digest}`)) return;
    const generation = this.catalog.nextGeneration([...files.values()], new Date().toISOString());
    const text = `-- Sluice reader catalog of ${basename(this.db.path)}, generation ${generation}\n-- content ${digest}\n-- Read every published dataset from another process: duckdb -init ${path}  (or .read it)\n-- It is replaced atomically after every publish; the files it names are immutable.\n${body}\n`;
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    fsyncPath(tmp);
    renameSync(tmp, path);
    fsyncPath(dirname(path));
  }

  /** Compacts datasets whose overlays passed the policy (or those named, when forced). */
  async compact(o: { datasets?: readonly string[]; force?: boolean } = {}): Promise<CompactionReport[]> {
    const policy: CompactionPolicy = { compactAfter: this.options.compactAfter ?? 10 };
    return compactDatasets(this, this.db, policy, o);
  }

  /** Runs the compaction the policy asks for; commands call it once their own work is done. */
  async maintain(): Promise<CompactionReport[]> {
    return this.compact();
  }

  async verifyData(o: { datasets?: readonly string[]; partitions?: ReadonlyMap<string, readonly string[]>; repair?: boolean } = {}): Promise<DataVerdict[]> {
    return verifyData(this, o);
  }

  async collectGarbage(plan: GcPlan): Promise<GcReport> {
    return collectGarbage(this, plan);
  }

  async exportDataset(dataset: string, dir: string): Promise<ExportReport> {
    return exportDataset(this, this.db, dataset, dir);
  }

  /**
   * A consistent copy of this warehouse at `path` (a rehearsal): the working database copied after
   * a checkpoint, the catalog through SQLite's backup, and the immutable data files hard-linked
   * (copied where links are not possible). Returns the bytes copied.
   */
  async copyTo(path: string): Promise<number> {
    await this.db.exec('CHECKPOINT');
    const folder = dataFolderOf(path);
    let bytes = 0;
    copyFileSync(this.db.path, path);
    bytes += statSync(path).size;
    for (const sub of ['versions', 'segments']) {
      mkdirSync(join(folder, sub), { recursive: true });
      for (const name of readdirSync(join(this.folder, sub))) {
        if (!name.endsWith('.duckdb')) continue;
        try {
          linkSync(join(this.folder, sub, name), join(folder, sub, name));
        } catch {
          copyFileSync(join(this.folder, sub, name), join(folder, sub, name));
          bytes += statSync(join(folder, sub, name)).size;
        }
      }
    }
    await this.catalog.backup(join(folder, 'catalog.db'));
    return bytes + statSync(join(folder, 'catalog.db')).size;
  }

  /** Detaches nothing in use; closes the catalog and the working database. */
  async close(): Promise<void> {
    try {
      this.catalog.close();
    } catch (e) {
      throw new SluiceError('INTERNAL', `closing the warehouse catalog failed: ${messageOf(e)}`);
    } finally {
      await this.db.close();
      if (this.ephemeral) rmSync(this.folder, { recursive: true, force: true });
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** `.sluice/warehouse-dev.duckdb` keeps its data files in `.sluice/warehouse-dev/`. */

/** An alias derived from an id: stable, SQL-safe, and recognisable in SQL text (ALIAS_PATTERN). */
export function aliasOf(kind: 'v' | 's', id: string): string {
  return `sluice_${kind}_${createHash('sha256').update(id).digest('hex').slice(0, 16)}`;
}


function signature(columns: readonly ColumnInfo[]): string {
  return columns.map((c) => `${c.name.toLowerCase()} ${c.type}`).sort().join(', ');
}
