import type { BindScope, FunctionRef, RelationRef, SqlAnalysisResult, SqlAnalyzer } from '../sql-analysis.ts';
import { DuckDBBindScope, type HeaderCache } from './duckdb-bind-scope.ts';
import { duckdbDialect } from './duckdb-dialect.ts';
import { DuckDBEngine } from './duckdb-engine.ts';

/**
 * SQL analysis with DuckDB's own parser: `json_serialize_sql` turns a SELECT into its syntax tree
 * (anything else, several statements included, is refused by DuckDB itself), and a walk of the tree
 * collects the relations it reads, with CTE scopes, and the functions it calls. Runs on a small
 * in-memory database of its own; nothing is bound or executed.
 */
export class DuckDBSqlAnalyzer implements SqlAnalyzer {
  readonly dialect = duckdbDialect;
  private readonly headers: HeaderCache = new Map();

  private constructor(private readonly db: DuckDBEngine) {}

  static async open(): Promise<DuckDBSqlAnalyzer> {
    return new DuckDBSqlAnalyzer(await DuckDBEngine.open(':memory:', { threads: 1 }));
  }

  async analyze(sqls: readonly string[]): Promise<SqlAnalysisResult[]> {
    if (sqls.length === 0) return [];
    // Many texts in one query over an appended table: a round trip, or a literal, per text would dominate big projects.
    await this.db.exec('CREATE OR REPLACE TABLE sluice_analysis_input (i INTEGER, s VARCHAR)');
    await this.db.appendRows('sluice_analysis_input', sqls.map((s, i) => [i, stripTrailingSemicolon(s)]));
    const rows = await this.db.query('SELECT json_serialize_sql(s, skip_empty := true, skip_null := true) AS j FROM sluice_analysis_input ORDER BY i');
    await this.db.exec('DROP TABLE sluice_analysis_input');
    return rows.map((r) => toResult(JSON.parse(String(r['j'])) as SerializedSql));
  }

  openBindScope(): Promise<BindScope> {
    return DuckDBBindScope.open(this.db, this.headers);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

interface SerializedSql {
  readonly error: boolean;
  readonly error_type?: string;
  readonly error_message?: string;
  readonly position?: string;
  readonly statements?: readonly { readonly node: Json }[];
}

/** Table functions a step may call: they compute rows and reach nothing outside the step's inputs. */
const ALLOWED_TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest']);

/** Scalar functions that reach outside the step's inputs or change state. */
const OUTSIDE_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ['getenv', 'reads the environment'],
  ['current_setting', 'reads engine settings'],
  ['nextval', 'changes a sequence'],
  ['setval', 'changes a sequence'],
  ['currval', 'reads a sequence'],
  ['query', 'runs SQL given as text'],
  ['query_table', 'reads a table named at run time'],
  ['checkpoint', 'changes the database'],
  ['force_checkpoint', 'changes the database'],
]);

function toResult(s: SerializedSql): SqlAnalysisResult {
  if (s.error) {
    const message = s.error_type === 'not implemented' ? 'is not a single SELECT: a step is one query (SELECT, with CTEs); DDL, DML, ATTACH, COPY, SET, PRAGMA and several statements are refused' : `${s.error_type ?? 'parser'} error: ${s.error_message ?? 'does not parse'}`;
    const offset = s.position !== undefined && Number.isFinite(Number(s.position)) ? Number(s.position) : undefined;
    return { ok: false, message, ...(offset !== undefined ? { offset } : {}) };
  }
  const statements = s.statements ?? [];
  if (statements.length !== 1) return { ok: false, message: `holds ${statements.length} statements: a step is one query (SELECT, with CTEs)` };
  const relations: RelationRef[] = [];
  const tableFunctions: FunctionRef[] = [];
  const functions: FunctionRef[] = [];
  walk(statements[0]?.node ?? null, new Set(), { relations, tableFunctions, functions });
  return { ok: true, analysis: { relations, tableFunctions, functions } };
}

const isObject = (j: Json | undefined): j is JsonObject => typeof j === 'object' && j !== null && !Array.isArray(j);
const str = (j: Json | undefined): string => (typeof j === 'string' ? j : '');
const offsetOf = (o: JsonObject): { offset?: number } => (typeof o['query_location'] === 'number' && o['query_location'] < 2 ** 53 ? { offset: o['query_location'] } : {});

/**
 * Walks a syntax tree. `scope` holds the CTE names visible here (lower case): a base table named
 * like one of them, without schema, is that CTE. A CTE's body sees the CTEs defined before it (and
 * itself when recursive); the query sees all of its CTEs.
 */
function walk(j: Json | undefined, scope: ReadonlySet<string>, acc: { relations: RelationRef[]; tableFunctions: FunctionRef[]; functions: FunctionRef[] }): void {
  if (Array.isArray(j)) {
    for (const x of j) walk(x, scope, acc);
    return;
  }
  if (j === undefined || !isObject(j)) return;
  let inner = scope;
  const cteMap = j['cte_map'];
  if (isObject(cteMap) && Array.isArray(cteMap['map'])) {
    const entries = cteMap['map'].filter(isObject);
    const seen = new Set(scope);
    for (const e of entries) {
      const name = str(e['key']).toLowerCase();
      const value = e['value'];
      const query = isObject(value) ? value['query'] : null;
      const recursive = isObject(query) && isObject(query['node']) && query['node']['type'] === 'RECURSIVE_CTE_NODE';
      walk(query, recursive ? new Set([...seen, name]) : new Set(seen), acc);
      seen.add(name);
    }
    inner = seen;
  }
  const type = str(j['type']);
  if (type === 'BASE_TABLE') {
    const name = str(j['table_name']);
    const schema = str(j['schema_name']);
    const catalog = str(j['catalog_name']);
    if (!(schema === '' && catalog === '' && inner.has(name.toLowerCase()))) {
      acc.relations.push({ name, ...(schema ? { schema } : {}), ...(catalog ? { catalog } : {}), ...offsetOf(j) });
    }
  } else if (type === 'TABLE_FUNCTION') {
    const f = j['function'];
    const name = isObject(f) ? str(f['function_name']).toLowerCase() : '';
    acc.tableFunctions.push({ name, ...offsetOf(j), ...(ALLOWED_TABLE_FUNCTIONS.has(name) ? {} : { outside: 'reads or writes outside the step\'s inputs' }) });
    // Its arguments are walked below; the function itself is not a scalar call.
    if (isObject(f)) for (const [k, v] of Object.entries(f)) if (k !== 'function_name') walk(v, inner, acc);
    for (const [k, v] of Object.entries(j)) if (k !== 'function' && k !== 'cte_map') walk(v, inner, acc);
    return;
  } else if (j['class'] === 'FUNCTION') {
    const name = str(j['function_name']).toLowerCase();
    const outside = OUTSIDE_FUNCTIONS.get(name);
    acc.functions.push({ name, ...offsetOf(j), ...(outside ? { outside } : {}) });
  }
  for (const [k, v] of Object.entries(j)) if (k !== 'cte_map') walk(v, inner, acc);
}

function stripTrailingSemicolon(sql: string): string {
  return sql.trim().replace(/;\s*$/, '');
}
