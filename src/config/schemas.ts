/**
 * JSON Schemas of the project files. They are the single source of the file formats: the loader
 * validates with them (every problem reported with file:line), and `docs/` and the README describe
 * the same fields.
 */
const name = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } as const;

const POSTGRES_URL = '^postgres(ql)?://';

/** A mapping, or a PostgreSQL URL as shorthand for `{ kind: postgres, url: URL }`. */
const warehouseSchema = {
  type: ['string', 'object'],
  pattern: POSTGRES_URL,
  additionalProperties: false,
  properties: {
    kind: { enum: ['duckdb', 'postgres'] },
    path: { type: 'string', minLength: 1, description: 'DuckDB file per environment; {env} is replaced (kind duckdb)' },
    memory_limit: { type: 'string' },
    threads: { type: 'integer', minimum: 1 },
    url: { type: 'string', pattern: POSTGRES_URL, description: 'the PostgreSQL URL (kind postgres)' },
  },
} as const;

export const projectSchema = {
  $id: 'sluice.yaml',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    environments: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: '^[a-z][a-z0-9_-]*$' },
    },
    default_environment: { type: 'string' },
    warehouse: warehouseSchema,
    /** The older name of `warehouse`. */
    engine: warehouseSchema,
    store: {
      type: ['string', 'object'],
      pattern: POSTGRES_URL,
      additionalProperties: false,
      properties: {
        kind: { enum: ['sqlite', 'postgres'] },
        path: { type: 'string', minLength: 1, description: 'the SQLite file (kind sqlite)' },
        url: { type: 'string', pattern: POSTGRES_URL, description: 'the PostgreSQL URL (kind postgres)' },
      },
    },
    pipelines: { type: 'string', description: 'folder of pipeline files, default pipelines/' },
    storage: {
      type: 'object',
      additionalProperties: false,
      properties: {
        compact_after: { type: 'integer', minimum: 1, description: 'compact a dataset once this many of its partitions are served from their own version files (default 10)' },
        retention: {
          type: 'object',
          additionalProperties: false,
          properties: {
            keep_versions: { type: 'integer', minimum: 1, description: 'newest output versions kept per step and partition (default 5)' },
            keep_for: { type: 'string', description: 'keep every output version younger than this, e.g. 7d (default 7d)' },
            grace: { type: 'string', description: 'keep files a reader catalog named within this time, e.g. 10m (default 10m)' },
          },
        },
      },
    },
  },
} as const;

const sourceSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    format: { enum: ['csv', 'parquet', 'json'] },
    path: { type: 'string', minLength: 1 },
    table: { type: 'string', minLength: 1 },
    partition_column: name,
    hive: { type: 'boolean' },
    partitioned: { type: 'boolean' },
    columns: { type: 'object', additionalProperties: { type: 'string' } },
    description: { type: 'string' },
  },
} as const;

const versionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['sql'],
  properties: {
    sql: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    settings: { type: 'object' },
  },
} as const;

const stepSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['versions'],
  properties: {
    description: { type: 'string' },
    default_version: { type: 'string' },
    slice_key: name,
    key_local: { type: 'boolean' },
    checks: { type: 'array', description: 'checks on every output of the step (a staging step, say); a failing error check fails the run before anything is published' },
    versions: { type: 'object', minProperties: 1, additionalProperties: versionSchema },
  },
} as const;

const partitionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['column'],
  properties: {
    column: name,
    by: { enum: ['hour', 'day', 'month', 'value'], description: 'time grain, or value for a declared list (default: day, or value when values are given)' },
    time_zone: { type: 'string', minLength: 1, description: 'IANA zone of time partitions, e.g. Europe/Berlin (default UTC)' },
    values: { type: 'array', minItems: 1, maxItems: 10000, items: { type: ['string', 'integer'] }, description: 'the partitions of a categorical dataset' },
  },
} as const;

const datasetSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['step'],
  properties: {
    step: name,
    description: { type: 'string' },
    partition_column: { ...name, description: 'shorthand for partition: { column: NAME, by: day }; leave both out for an unpartitioned dataset' },
    partition: partitionSchema,
    allow_empty: { type: 'boolean', description: 'a partitioned source may have no rows for the partition: the datasets that read it publish it empty instead of failing the run (default false)' },
    primary_key: { type: 'array', items: name, minItems: 1 },
    event_time: name,
    checks: { type: 'array' },
    contract: { type: 'string' },
    profile: { type: 'boolean', description: 'profile every published output and judge it against the history (anomalies); default true' },
  },
} as const;

export const pipelineSchema = {
  $id: 'pipeline',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'steps'],
  properties: {
    name,
    description: { type: 'string' },
    sources: { type: 'object', additionalProperties: sourceSchema, propertyNames: name },
    steps: { type: 'object', minProperties: 1, additionalProperties: stepSchema, propertyNames: name },
    datasets: { type: 'object', additionalProperties: datasetSchema, propertyNames: name },
  },
} as const;
