import type { Check } from '../quality/check-types.ts';
import type { FlagDefinition } from '../flags/flag.ts';

/** The validated, normalized shape of a Sluice project, as the runner and CLI use it. */
export interface EngineSettings {
  /** Path template of the DuckDB file per environment, relative to the project root; `{env}` is replaced. */
  readonly pathTemplate: string;
  readonly memoryLimit?: string;
  readonly threads?: number;
}

export interface Project {
  readonly root: string;
  readonly name: string;
  readonly environments: readonly string[];
  readonly defaultEnvironment: string;
  readonly engine: EngineSettings;
  readonly store: { readonly path: string };
  readonly pipelines: ReadonlyMap<string, Pipeline>;
  /** Flags declared in flags/*.yaml: their declaration and initial state; each environment's state lives in the store. */
  readonly flags: readonly FlagDefinition[];
}

export type SourceFormat = 'csv' | 'parquet' | 'json';

export interface FileSource {
  readonly kind: 'files';
  readonly name: string;
  readonly format: SourceFormat;
  /** Glob relative to the project root. */
  readonly path: string;
  /** Rows of partition P are those whose partition column equals P (a column or a hive folder key). */
  readonly partitionColumn?: string;
  readonly hive: boolean;
  /** Declared columns and types; files whose columns differ are refused. */
  readonly columns?: Readonly<Record<string, string>>;
}

export interface TableSource {
  readonly kind: 'table';
  readonly name: string;
  readonly table: string;
  readonly partitionColumn?: string;
  readonly columns?: Readonly<Record<string, string>>;
}

export type Source = FileSource | TableSource;

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
}

export interface Dataset {
  readonly name: string;
  readonly step: string;
  readonly partitionColumn: string;
  readonly primaryKey: readonly string[];
  readonly eventTime?: string;
  /** Checks run on every output before it is published (write, audit, publish). */
  readonly checks: readonly Check[];
  readonly contract?: string;
}

export interface Pipeline {
  readonly name: string;
  readonly file: string;
  readonly sources: ReadonlyMap<string, Source>;
  /** Steps in dependency order. */
  readonly steps: readonly Step[];
  readonly datasets: ReadonlyMap<string, Dataset>;
}
