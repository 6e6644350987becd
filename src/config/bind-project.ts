import type { BindScope, SqlAnalyzer } from '../engine/sql-analysis.ts';
import { PARTITION_COLUMNS, PARTITION_RELATION } from '../engine/partition-binding.ts';
import type { ColumnInfo } from '../engine/warehouse.ts';
import { tableName } from '../engine/source.ts';
import type { Check } from '../quality/check-types.ts';
import { bindTable } from '../quality/check-sql.ts';
import type { TableColumn } from '../quality/table-columns.ts';
import { validateChecks } from '../quality/validate-checks.ts';
import type { Problem } from '../util/errors.ts';
import type { Dataset, Pipeline, Step, StepVersion } from './project-model.ts';
import { stepCheckTarget } from './step-check-target.ts';

/** Where a problem about a pipeline file's field is (file and line), from the loader. */
export type PipelineProblemAt = (pipeline: Pipeline, field: string, message: string) => Problem;

export interface BindReport {
  readonly problems: readonly Problem[];
  /** What could not be checked, and why (a source with no declared columns and no files yet). */
  readonly notes: readonly string[];
}

/** The name `{table}` stands for while a custom SQL check is analysed and bound. */
const CHECK_TABLE = 'sluice_checked_output';

/**
 * Binds a whole project without running it, pipeline by pipeline in step order: sources are
 * declared with their columns (the declared ones, else one file's header or schema), every version
 * of every step is bound against its inputs (a misspelt column, a type error or `SELEC` is found
 * here, with the file and line), and each step's output columns (its default version's) are what
 * later steps bind against. Datasets are then checked against every version's output: partition
 * column, primary key, event time, slice key, and each check's columns, types and regular
 * expressions; custom SQL checks must be one SELECT over `{table}` and the project's datasets.
 */
export async function bindProject(pipelines: ReadonlyMap<string, Pipeline>, root: string, analyzer: SqlAnalyzer, problemAt: PipelineProblemAt, refused: ReadonlySet<string> = new Set(), checkFiles = false): Promise<BindReport> {
  const problems: Problem[] = [];
  const notes: string[] = [];
  const datasetNames = new Set([...pipelines.values()].flatMap((p) => [...p.datasets.keys()]).map((n) => n.toLowerCase()));
  // A `table:` source that names a dataset of another pipeline binds with that dataset's columns,
  // so pipelines are bound producers first.
  const published = new Map<string, readonly ColumnInfo[]>();
  for (const pipeline of producersFirst(pipelines)) {
    await using scope = await analyzer.openBindScope();
    const outputs = await bindSteps(pipeline, root, scope, problemAt, problems, notes, refused, checkFiles, published);
    // Datasets are readable by custom SQL checks under their own names, with their step's columns.
    for (const d of pipeline.datasets.values()) {
      const cols = outputs.declared.get(d.step);
      if (cols) published.set(d.name.toLowerCase(), cols);
      if (cols) await scope.declare(d.name, cols).catch(() => undefined);
    }
    // A custom SQL check may read the run's other steps by name, as well as the project's datasets.
    const readable = new Set([...datasetNames, ...pipeline.steps.map((s) => s.name.toLowerCase())]);
    const targets = [...pipeline.datasets.values(), ...pipeline.steps.filter((s) => s.checks.length > 0 && ![...pipeline.datasets.values()].some((d) => d.step === s.name)).map((s) => stepCheckTarget(s, pipeline.partitioning))];
    for (const d of targets) {
      const versions = outputs.versions.get(d.step);
      if (!versions) continue;
      for (const [version, columns] of versions) await checkDataset(pipeline, d, version, columns, scope, analyzer, readable, problemAt, problems);
    }
  }
  return { problems, notes };
}

interface BoundSteps {
  /** step -> version -> output columns, for the versions that bound. */
  readonly versions: Map<string, Map<string, readonly ColumnInfo[]>>;
  /** step -> the columns later steps bind against (its default version's), for steps declared. */
  readonly declared: Map<string, readonly ColumnInfo[]>;
}

/** Binds every version of every step in order; each step's output is declared for the steps after it. */
/** Pipelines ordered so that one publishing a dataset comes before those reading it as a `table:` source (file order otherwise). */
function producersFirst(pipelines: ReadonlyMap<string, Pipeline>): Pipeline[] {
  const owner = new Map<string, string>();
  for (const p of pipelines.values()) for (const d of p.datasets.keys()) owner.set(d.toLowerCase(), p.name);
  const out: Pipeline[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (p: Pipeline): void => {
    if (state.has(p.name)) return;
    state.set(p.name, 'visiting');
    for (const s of p.sources.values()) {
      const producer = s.kind === 'table' ? pipelines.get(owner.get(tableName(s.table).toLowerCase()) ?? '') : undefined;
      if (producer && producer.name !== p.name) visit(producer);
    }
    state.set(p.name, 'done');
    out.push(p);
  };
  for (const p of pipelines.values()) visit(p);
  return out;
}

async function bindSteps(pipeline: Pipeline, root: string, scope: BindScope, problemAt: PipelineProblemAt, problems: Problem[], notes: string[], refused: ReadonlySet<string>, checkFiles: boolean, published: ReadonlyMap<string, readonly ColumnInfo[]>): Promise<BoundSteps> {
  const unbound = new Set<string>();
  await scope.declare(PARTITION_RELATION, PARTITION_COLUMNS);
  for (const source of pipeline.sources.values()) {
    let columns: readonly ColumnInfo[] | undefined = source.columns ? Object.entries(source.columns).map(([name, type]) => ({ name, type })) : source.kind === 'table' ? published.get(tableName(source.table).toLowerCase()) : undefined;
    if (checkFiles && source.kind === 'files') {
      const badFiles = await scope.checkSourceFiles(source, root).catch((e: unknown) => `cannot read ${source.path}: ${firstLine(e)}`);
      if (badFiles) problems.push(problemAt(pipeline, `sources.${source.name}.columns`, badFiles));
    }
    // Hive folders add the partition column, typed by the engine: read it from a file with the declared columns.
    if (source.kind === 'files' && (!columns || source.hive)) {
      try {
        columns = await scope.sourceColumns(source, root);
      } catch (e) {
        problems.push(problemAt(pipeline, `sources.${source.name}`, `source ${source.name}: cannot read the columns of ${source.path}: ${firstLine(e)}`));
        unbound.add(source.name);
        continue;
      }
      if (!columns) notes.push(`${pipeline.file}: no file matches ${source.path} yet, so source ${source.name}'s ${source.hive ? 'hive partition column has no type' : 'columns are unknown'}: the steps that read it are not bound${source.hive ? '' : ' (declare columns: to check them now)'}`);
    } else if (!columns) {
      notes.push(`${pipeline.file}: source ${source.name} (table ${source.kind === 'table' ? source.table : ''}) declares no columns: the steps that read it are not bound (declare columns: to check them)`);
    }
    if (columns) {
      if (source.partitionColumn && !columns.some((c) => c.name === source.partitionColumn)) {
        problems.push(problemAt(pipeline, `sources.${source.name}.partition_column`, `source ${source.name} has no column "${source.partitionColumn}" (columns: ${columns.map((c) => c.name).join(', ')})`));
      }
      try {
        await scope.declare(source.name, columns);
      } catch (e) {
        problems.push(problemAt(pipeline, `sources.${source.name}.columns`, `source ${source.name}: its columns cannot be declared: ${firstLine(e)}`));
        unbound.add(source.name);
      }
    } else unbound.add(source.name);
  }
  const outputs = new Map<string, Map<string, readonly ColumnInfo[]>>();
  const declared = new Map<string, readonly ColumnInfo[]>();
  for (const step of pipeline.steps) {
    if (step.inputs.some((i) => unbound.has(i))) {
      unbound.add(step.name);
      continue;
    }
    const versions = new Map<string, readonly ColumnInfo[]>();
    for (const v of step.versions.values()) {
      if (refused.has(v.sqlFile)) continue;
      const r = await scope.bind(v.sql);
      if (r.ok) versions.set(v.name, r.columns);
      else problems.push(sqlProblem(step, v, r.message, r.line));
    }
    outputs.set(step.name, versions);
    const columns = versions.get(step.defaultVersion) ?? versions.values().next().value;
    if (!columns) {
      unbound.add(step.name);
      continue;
    }
    const names = columns.map((c) => c.name.toLowerCase());
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) {
      problems.push(sqlProblem(step, step.versions.get(step.defaultVersion) ?? [...step.versions.values()][0]!, `returns the column "${dup}" twice; name every output column once`));
      unbound.add(step.name);
      continue;
    }
    try {
      await scope.declare(step.name, columns);
      declared.set(step.name, columns);
    } catch (e) {
      // A column type the engine reports but cannot declare (the type of a bare NULL): name it.
      problems.push(sqlProblem(step, step.versions.get(step.defaultVersion) ?? [...step.versions.values()][0]!, `returns columns that cannot be typed (${columns.map((c) => `${c.name} ${c.type}`).join(', ')}): ${firstLine(e)}; cast them`));
      unbound.add(step.name);
    }
  }
  return { versions: outputs, declared };
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

function sqlProblem(step: Step, v: StepVersion, message: string, line?: number): Problem {
  return { file: v.sqlFile, ...(line !== undefined ? { line } : {}), step: step.name, version: v.name, message: `step ${step.name} ${v.name}: ${message}` };
}

async function checkDataset(pipeline: Pipeline, d: Dataset, version: string, columns: readonly ColumnInfo[], scope: BindScope, analyzer: SqlAnalyzer, datasets: ReadonlySet<string>, problemAt: PipelineProblemAt, problems: Problem[]): Promise<void> {
  const names = columns.map((c) => c.name);
  const what = `dataset ${d.name} (step ${d.step} ${version})`;
  const needs = (field: string, column: string | undefined, role: string): void => {
    if (column !== undefined && !names.includes(column)) problems.push(problemAt(pipeline, `datasets.${d.name}.${field}`, `${what} has no column "${column}" for its ${role} (columns: ${names.join(', ')})`));
  };
  needs('partition_column', d.partitionColumn, 'partition column');
  d.primaryKey.forEach((k, i) => needs(`primary_key.${i}`, k, 'primary key'));
  needs('event_time', d.eventTime, 'event time');
  const step = pipeline.steps.find((s) => s.name === d.step);
  if (step?.sliceKey && !names.includes(step.sliceKey)) {
    problems.push(problemAt(pipeline, `steps.${step.name}.slice_key`, `step ${step.name} ${version} has no column "${step.sliceKey}" for its slice key (columns: ${names.join(', ')})`));
  }
  const typed: TableColumn[] = columns.map((c) => ({ name: c.name, type: c.type, family: analyzer.dialect.typeFamily(c.type) }));
  const label = `the output of step ${d.step} ${version}`;
  // One problem per check and place: the same check bound against several versions is reported once.
  const seen = new Set(problems.map((p) => `${p.file}\0${p.line}\0${p.message}`));
  const report = (p: Problem): void => {
    const key = `${p.file}\0${p.line}\0${p.message}`;
    if (!seen.has(key)) problems.push(p);
    seen.add(key);
  };
  for (const p of validateChecks(d.checks, typed, label)) report(p);
  for (const c of d.checks) {
    if (c.kind === 'regex' && names.includes(c.column)) {
      const r = await scope.bind(analyzer.dialect.regexProbeSql(c.pattern));
      if (!r.ok) report(checkProblem(c, 'pattern', `invalid regular expression ${JSON.stringify(c.pattern)}: ${r.message.replace(/^.*Error: /, '')}`));
    }
    if (c.kind === 'custom_sql') await checkCustomSql(c, d, scope, analyzer, datasets, report);
  }
}

function checkProblem(c: Check, field: string, message: string): Problem {
  return { ...(c.place.file ? { file: c.place.file } : {}), ...(c.place.line ? { line: c.place.line } : {}), field: [c.place.field, field].filter(Boolean).join('.'), message: `${c.id}: ${message}` };
}

/** A custom SQL check is one SELECT over `{table}` (the output checked) and the project's datasets, bound like a step. */
async function checkCustomSql(c: Extract<Check, { kind: 'custom_sql' }>, d: Dataset, scope: BindScope, analyzer: SqlAnalyzer, datasets: ReadonlySet<string>, report: (p: Problem) => void): Promise<void> {
  const sql = bindTable(c.sql, CHECK_TABLE);
  const [a] = await analyzer.analyze([sql]);
  if (!a) return;
  if (!a.ok) return report(checkProblem(c, 'sql', `the SQL ${a.message}`));
  for (const rel of a.analysis.relations) {
    const name = rel.name.toLowerCase();
    if (!rel.schema && !rel.catalog && (name === CHECK_TABLE || datasets.has(name))) continue;
    report(checkProblem(c, 'sql', `reads ${[rel.catalog, rel.schema, rel.name].filter(Boolean).join('.')}, which is neither {table}, a step of the pipeline nor a dataset of the project`));
  }
  for (const f of [...a.analysis.tableFunctions, ...a.analysis.functions]) if (f.outside) report(checkProblem(c, 'sql', `calls ${f.name}(), which ${f.outside}`));
  const bound = await scope.bind(bindTable(c.sql, d.step));
  if (!bound.ok) report(checkProblem(c, 'sql', bound.message));
}
