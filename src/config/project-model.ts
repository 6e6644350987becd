import type { Check } from '../quality/check-types.ts';
import type { FlagDefinition } from '../flags/flag.ts';
import type { Partitioning } from './partitioning.ts';

/** The validated, normalized shape of a Sluice project, as the runner and CLI use it. */
/** Where the data lives: a DuckDB file per environment (embedded default), or a PostgreSQL database. */
export type WarehouseSettings =
  | {
      readonly kind: 'duckdb';
      /** Path template of the DuckDB file per environment, relative to the project root; `{env}` is replaced. */
      readonly pathTemplate: string;
      readonly memoryLimit?: string;
      readonly threads?: number;
    }
  | { readonly kind: 'postgres'; readonly url: string };

/** Where metadata lives: a SQLite file (embedded default), or a PostgreSQL database shared by a team. */
export type StoreSettings = { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string };

/** How the warehouse keeps data: compaction and retention (`storage:` in sluice.yaml). */
export interface StorageSettings {
  readonly compactAfter: number;
  readonly retention: { readonly keepVersions: number; readonly keepForMs: number; readonly graceMs: number };
}

export const DEFAULT_STORAGE: StorageSettings = { compactAfter: 10, retention: { keepVersions: 5, keepForMs: 7 * 86_400_000, graceMs: 10 * 60_000 } };

export interface Project {
  readonly root: string;
  readonly storage: StorageSettings;
  readonly name: string;
  readonly environments: readonly string[];
  readonly defaultEnvironment: string;
  readonly warehouse: WarehouseSettings;
  readonly store: StoreSettings;
  readonly pipelines: ReadonlyMap<string, Pipeline>;
  /** Flags declared in flags/*.yaml: their declaration and initial state; each environment's state lives in the store. */
  readonly flags: readonly FlagDefinition[];
}

import type { Source } from '../engine/source.ts';
export type { FileSource, Source, SourceFormat, TableSource } from '../engine/source.ts';

export interface StepVersion {
  readonly name: string;
  /** SQL file relative to the project root. */
  readonly sqlFile: string;
  readonly sql: string;
  readonly settings: Readonly<Record<string, unknown>>;
  /** sha256 of the SQL and settings: the version's identity. */
  readonly hash: string;
}

export interface Step {
  readonly name: string;
  readonly defaultVersion: string;
  readonly sliceKey?: string;
  readonly keyLocal: boolean;
  readonly versions: ReadonlyMap<string, StepVersion>;
  /** Sources and steps this step reads, found in its versions' FROM/JOIN clauses. */
  readonly inputs: readonly string[];
  /** Checks on every output of the step (`steps.NAME.checks`); a dataset of the step runs them with its own. */
  readonly checks: readonly Check[];
}

export interface Dataset {
  readonly name: string;
  readonly step: string;
  /** The column that names a row's partition; undefined for an unpartitioned dataset. */
  readonly partitionColumn?: string;
  readonly partitioning: Partitioning;
  /** A partitioned source it reads may have no rows for the partition: it is published empty instead of failing the run. */
  readonly allowEmpty: boolean;
  readonly primaryKey: readonly string[];
  readonly eventTime?: string;
  /** Checks run on every output before it is published (write, audit, publish). */
  readonly checks: readonly Check[];
  readonly contract?: string;
  /** Profile every published output (and flag anomalies against the history); `profile: false` turns it off. */
  readonly profile: boolean;
}

export interface Pipeline {
  readonly name: string;
  readonly file: string;
  readonly sources: ReadonlyMap<string, Source>;
  /** Steps in dependency order. */
  readonly steps: readonly Step[];
  readonly datasets: ReadonlyMap<string, Dataset>;
  /** How a run's partition is cut: its datasets' partitioning, which they share. */
  readonly partitioning: Partitioning;
}
