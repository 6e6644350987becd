import type { Source } from '../config/project-model.ts';
import type { SqlEngine } from './sql-engine.ts';

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
  /** The warehouse table that holds the rows, e.g. sluice_versions."clean_orders.r12". */
  readonly table: string;
}

export interface PublishItem {
  readonly dataset: string;
  readonly partitionColumn: string;
  readonly partition: string;
  readonly versionId: string;
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
}

export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
}

/**
 * Where the data lives: sources are bound per partition, step outputs are kept as immutable output
 * versions, and datasets are plain tables whose partitions are swapped in one transaction.
 */
export interface Warehouse extends SqlEngine {
  init(): Promise<void>;
  /** Makes `source.name` readable by step SQL, holding only the rows of `partition`. */
  bindSource(source: Source, partition: string, projectRoot: string): Promise<{ rows: number }>;
  /** Makes `name` readable by later steps as the rows of an output version. */
  bindOutput(name: string, versionId: string): Promise<void>;
  createOutputVersion(v: Omit<OutputVersion, 'table' | 'rowCount' | 'createdAt'>, sql: string, createdAt: Date): Promise<OutputVersion>;
  outputVersion(id: string): Promise<OutputVersion | undefined>;
  outputVersions(filter: { step?: string; partition?: string; runId?: number }): Promise<OutputVersion[]>;
  columns(table: string): Promise<ColumnInfo[]>;
  /** The fully qualified name of a dataset's published table. */
  datasetTable(dataset: string): Promise<string>;
  /** Publishes every item in one transaction; consumers see all old or all new partitions. */
  publish(items: readonly PublishItem[], meta: { runId: number | null; actor: string; reason: string; at: Date }): Promise<Publication[]>;
  currentPublications(dataset?: string): Promise<Publication[]>;
  publicationHistory(dataset: string, partition?: string): Promise<Publication[]>;
  close(): Promise<void>;
}
