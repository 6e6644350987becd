/** What a warehouse can read as a step input: files of an open format, or a table it holds. */
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

/** The dataset a `table:` source names, when it names one: `main.orders`, `"orders"` -> orders. */
export function tableName(table: string): string {
  return (table.split('.').pop() ?? table).replaceAll('"', '');
}
