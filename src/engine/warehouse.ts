import type { Source } from './source.ts';
import type { SqlEngine } from './sql-engine.ts';
import type { PartitionBinding } from './partition-binding.ts';

/** An immutable stored result of one step for one partition in one run. */
export interface OutputVersion {
  readonly id: string;
  readonly pipeline: string;
  readonly step: string;
  readonly stepVersion: string;
  readonly versionHash: string;
  readonly partition: string;
  readonly runId: number;
  readonly rowCount: number;
  readonly createdAt: string;
  /** The relation that holds the rows, as SQL of this warehouse can name it. */
  readonly table: string;
}

export type NewOutputVersion = Omit<OutputVersion, 'table' | 'rowCount' | 'createdAt'>;

export interface PublishItem {
  readonly dataset: string;
  /** The column that names the partition; null for an unpartitioned dataset (one partition, `*`). */
  readonly partitionColumn: string | null;
  readonly partition: string;
  readonly versionId: string;
  /**
   * Compare-and-set: the version the caller saw published when it decided (null: none). When the
   * partition shows anything else by the time of the publish, the whole call is refused with a
   * CONFLICT naming the partitions, and nothing is published. Absent: publish unconditionally.
   */
  readonly expected?: string | null;
  /** The rollout attempt whose exposure produced this output (recorded with the publication). */
  readonly rollout?: string | null;
}

export interface PublishMeta {
  readonly runId: number | null;
  readonly actor: string;
  readonly reason: string;
  readonly at: Date;
  /** The store intent this publish carries out (recorded with it, so recovery can tell it happened). */
  readonly intent?: string;
  /**
   * The queue item this publish is the work of, with the fencing token of the claim that ran it.
   * Checked in the publish's own transaction: a token older than one the warehouse has seen for
   * the item is refused (a worker that lost its lease publishing late), and an item is published
   * once — a second claim's publish is refused naming the first (see QueueItem).
   */
  readonly fence?: { readonly item: string; readonly token: number };
}

export interface Publication {
  readonly dataset: string;
  readonly partition: string;
  readonly versionId: string;
  readonly previousVersionId: string | null;
  readonly publishedAt: string;
  readonly runId: number | null;
  readonly actor: string;
  readonly reason: string;
  readonly seq: number;
  /** The rollout attempt whose exposure produced the published output, if any. */
  readonly rollout: string | null;
  /** The store intent the publish carried out, if any. */
  readonly intent: string | null;
}

export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
}

/** What the engine is, recorded with every run that computes on it. */
export interface EngineInfo {
  readonly kind: string;
  readonly version: string;
}

/**
 * One run's session: its own input bindings (temp names), its own transaction. Two sessions of one
 * warehouse may compute at the same time without seeing each other's bindings.
 */
export interface WarehouseSession extends SqlEngine, AsyncDisposable {
  /**
   * Makes `source.name` readable by step SQL of this session, holding only the rows of the
   * partition (all rows for a source read whole, or for the whole-table partition `*`). A
   * partitioned source without rows for the partition is refused unless `allowEmpty`.
   */
  bindSource(source: Source, partition: PartitionBinding, projectRoot: string, options?: { readonly allowEmpty?: boolean }): Promise<{ rows: number }>;
  /** Makes the run's partition readable by step SQL as the one-row relation `sluice_partition`. */
  bindPartition(partition: PartitionBinding): Promise<void>;
  /** Makes `name` readable by later steps of this session as the rows of an output version. */
  bindOutput(name: string, versionId: string): Promise<void>;
  /** Runs a step's SQL over this session's bindings into a new immutable output version. */
  createOutputVersion(v: NewOutputVersion, sql: string, createdAt: Date): Promise<OutputVersion>;
  close(): Promise<void>;
}

/**
 * Where the data lives. Step outputs are kept as immutable output versions; a dataset's partition
 * shows exactly one of them (its publication), and moving that pointer is the only way data
 * consumers read changes.
 *
 * The contract every adapter honours (engine/warehouse.contract.ts tests each one):
 * - `publish` is atomic over all its items: a reader, or a process killed at any moment, sees
 *   every partition of the call at its old or at its new version, never a mix and never a
 *   half-written partition;
 * - an item with `expected` is a compare-and-set: when any such item's partition shows another
 *   version than expected, the call changes nothing and throws CONFLICT;
 * - output versions are never rewritten, and publishing an older one again is the same operation;
 * - sessions are independent: bindings of one are invisible to another.
 */
export interface Warehouse extends SqlEngine, AsyncDisposable {
  readonly engine: EngineInfo;
  /** Where another process finds the published datasets (a file to read, a database to connect to). */
  readonly readerCatalog: string;
  /** Where the data is, for people (a file path, a database URL without its password). */
  readonly location: string;
  /** A new session for one run; close it when the run ends. */
  openSession(): Promise<WarehouseSession>;
  outputVersion(id: string): Promise<OutputVersion | undefined>;
  outputVersions(filter: { step?: string; partition?: string; runId?: number }): Promise<OutputVersion[]>;
  columns(table: string): Promise<ColumnInfo[]>;
  /** The fully qualified name of a dataset's published relation. */
  datasetTable(dataset: string): Promise<string>;
  publish(items: readonly PublishItem[], meta: PublishMeta): Promise<Publication[]>;
  currentPublications(dataset?: string): Promise<Publication[]>;
  publicationHistory(dataset: string, partition?: string): Promise<Publication[]>;
  /**
   * Checks that every published partition (of these datasets or partitions) shows exactly its
   * output version (row count and order-free fingerprint); with `repair`, a partition that does
   * not is served from its version again. A version whose own data is damaged cannot be repaired.
   */
  verifyData(o?: { datasets?: readonly string[]; partitions?: ReadonlyMap<string, readonly string[]>; repair?: boolean }): Promise<DataVerdict[]>;
  /** Background work a command runs after its own (compaction when the policy asks for it). */
  maintain(): Promise<CompactionReport[]>;
  compact(o?: { datasets?: readonly string[]; force?: boolean }): Promise<CompactionReport[]>;
  /** Deletes output versions (and data files) that nothing holds; `dryRun` only reports. */
  collectGarbage(plan: GcPlan): Promise<GcReport>;
  /** Writes a dataset's published partitions as Parquet under `dir`, swapped in all at once. */
  exportDataset(dataset: string, dir: string): Promise<ExportReport>;
  close(): Promise<void>;
}

export interface DataVerdict {
  readonly dataset: string;
  readonly partition: string;
  readonly versionId: string;
  readonly ok: boolean;
  readonly expected: { readonly rows: number; readonly fingerprint: string };
  readonly found: { readonly rows: number; readonly fingerprint: string };
  /** Where the partition's rows were read from (a segment, or the version's own data). */
  readonly servedBy: string;
  readonly repaired: boolean;
  readonly problem?: string;
}

export interface CompactionReport {
  readonly dataset: string;
  readonly segment: string;
  readonly partitions: number;
  readonly rows: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly merged: { readonly segments: number; readonly overlays: number };
}

export interface RetentionPolicy {
  /** Keep the newest N output versions of every step and partition. */
  readonly keepVersions: number;
  /** Keep every output version younger than this (ms). */
  readonly keepForMs: number;
  /** Keep files a reader catalog named within this time (ms): a reader may be about to attach them. */
  readonly graceMs: number;
}

export interface GcPlan {
  readonly policy: RetentionPolicy;
  /** Output versions held by something only the caller knows (active and recent rollouts). */
  readonly hold: ReadonlyMap<string, string>;
  readonly now: Date;
  readonly dryRun: boolean;
}

export interface GcItem {
  readonly kind: 'version' | 'segment' | 'file';
  readonly id: string;
  readonly rows: number;
  readonly bytes: number;
}

export interface GcReport {
  readonly dryRun: boolean;
  readonly deleted: readonly GcItem[];
  /** Versions kept, with why (published, newest N, young, a rollout, a reader holds the file). */
  readonly held: readonly { readonly id: string; readonly reason: string }[];
  readonly rows: number;
  readonly bytes: number;
}

export interface ExportReport {
  readonly dataset: string;
  /** The folder readers use: a link swapped to the new snapshot in one step. */
  readonly current: string;
  readonly snapshot: string;
  readonly partitions: number;
  readonly written: number;
  readonly reused: number;
}
