import type { YamlSource } from '../util/yaml-source.ts';
import type { Problem } from '../util/errors.ts';
import type { Check } from './check-types.ts';
import { parseChecks } from './parse-checks.ts';

export interface ContractColumn {
  readonly name: string;
  /** Engine type name as the contract states it (`BIGINT`, `VARCHAR`, `TIMESTAMP`). */
  readonly type: string;
  readonly nullable: boolean;
  readonly description?: string;
}

/** A versioned promise about one dataset: its columns, key, semantic checks, owner and consumers. */
export interface Contract {
  readonly dataset: string;
  readonly version: number;
  readonly owner?: string;
  readonly consumers: readonly string[];
  readonly columns: readonly ContractColumn[];
  readonly primaryKey: readonly string[];
  readonly checks: readonly Check[];
  /** The checks as written, for comparing versions. */
  readonly rawChecks: readonly unknown[];
}

export type ParseContractResult = { readonly ok: true; readonly contract: Contract } | { readonly ok: false; readonly problems: readonly Problem[] };

const KEYS = new Set(['dataset', 'version', 'owner', 'consumers', 'columns', 'primary_key', 'checks', 'description']);
const COLUMN_KEYS = new Set(['name', 'type', 'nullable', 'description']);

/**
 * Parses a contract (YAML shape):
 *
 *     dataset: orders
 *     version: 3
 *     owner: data-platform
 *     consumers: [finance-dashboard]
 *     primary_key: [order_id]
 *     columns:
 *       - { name: order_id, type: BIGINT, nullable: false }
 *       - { name: status, type: VARCHAR }
 *     checks:
 *       - { check: in_set, column: status, values: [open, paid] }
 *
 * Every problem comes back with its field path (and file:line with a YamlSource).
 */
export function parseContract(raw: unknown, options: { source?: YamlSource; path?: string } = {}): ParseContractResult {
  const problems: Problem[] = [];
  const at = (rel: string): string => [options.path ?? '', rel].filter(Boolean).join('.');
  const problem = (rel: string, message: string): void => {
    problems.push(options.source ? options.source.problem(at(rel), message) : { field: at(rel) || undefined, message });
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problem('', 'a contract must be a mapping with dataset, version and columns');
    return { ok: false, problems };
  }
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.has(k)) problem(k, `unknown field; allowed: ${[...KEYS].join(', ')}`);
  const dataset = o['dataset'];
  if (typeof dataset !== 'string' || dataset === '') problem('dataset', 'dataset must be a non-empty string');
  const version = o['version'];
  if (!Number.isInteger(version) || (version as number) < 1) problem('version', 'version must be a positive integer');
  const owner = o['owner'];
  if (owner !== undefined && typeof owner !== 'string') problem('owner', 'owner must be a string');
  const consumers = o['consumers'] ?? [];
  if (!Array.isArray(consumers) || consumers.some((c) => typeof c !== 'string')) problem('consumers', 'consumers must be a list of names');
  const columns: ContractColumn[] = [];
  const rawCols = o['columns'];
  if (!Array.isArray(rawCols) || rawCols.length === 0) problem('columns', 'columns must be a non-empty list of { name, type, nullable }');
  else
    rawCols.forEach((c: unknown, i: number) => {
      if (typeof c !== 'object' || c === null || Array.isArray(c)) {
        problem(`columns.${i}`, 'a column must be a mapping { name, type, nullable }');
        return;
      }
      const col = c as Record<string, unknown>;
      for (const k of Object.keys(col)) if (!COLUMN_KEYS.has(k)) problem(`columns.${i}.${k}`, `unknown field; allowed: ${[...COLUMN_KEYS].join(', ')}`);
      const name = col['name'];
      const type = col['type'];
      const nullable = col['nullable'] ?? true;
      if (typeof name !== 'string' || name === '') problem(`columns.${i}.name`, 'name must be a non-empty string');
      else if (columns.some((x) => x.name === name)) problem(`columns.${i}.name`, `duplicate column ${name}`);
      if (typeof type !== 'string' || type === '') problem(`columns.${i}.type`, 'type must be a type name such as BIGINT or VARCHAR');
      if (typeof nullable !== 'boolean') problem(`columns.${i}.nullable`, 'nullable must be true or false');
      if (typeof name === 'string' && typeof type === 'string')
        columns.push({ name, type, nullable: nullable !== false, ...(typeof col['description'] === 'string' ? { description: col['description'] } : {}) });
    });
  const pk = o['primary_key'] ?? [];
  const primaryKey = typeof pk === 'string' ? [pk] : pk;
  if (!Array.isArray(primaryKey) || primaryKey.some((k) => typeof k !== 'string')) problem('primary_key', 'primary_key must be a column name or a list of them');
  else
    primaryKey.forEach((k: string, i: number) => {
      if (Array.isArray(rawCols) && !columns.some((c) => c.name === k)) problem(`primary_key.${typeof pk === 'string' ? '' : i}`.replace(/\.$/, ''), `primary key column ${k} is not among the columns`);
    });
  const parsedChecks = parseChecks(o['checks'] ?? [], { ...(options.source ? { source: options.source } : {}), path: at('checks') });
  if (!parsedChecks.ok) problems.push(...parsedChecks.problems);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    contract: {
      dataset: dataset as string,
      version: version as number,
      ...(typeof owner === 'string' ? { owner } : {}),
      consumers: consumers as string[],
      columns,
      primaryKey: primaryKey as string[],
      checks: parsedChecks.ok ? parsedChecks.checks : [],
      rawChecks: Array.isArray(o['checks']) ? (o['checks'] as unknown[]) : [],
    },
  };
}
