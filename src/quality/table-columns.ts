import type { SqlEngine } from '../engine/sql-engine.ts';
import { SluiceError, messageOf } from '../util/errors.ts';
import type { SqlDialect, TypeFamily } from '../engine/sql-dialect.ts';

export interface TableColumn {
  readonly name: string;
  readonly type: string;
  readonly family: TypeFamily;
}

/** The columns of a table (or view) in order, with their engine type and type family. */
export async function describeTable(engine: SqlEngine, table: string, dialect: SqlDialect): Promise<TableColumn[]> {
  let rows;
  try {
    rows = await engine.query(dialect.describeSql(table));
  } catch (e) {
    throw new SluiceError('NOT_FOUND', `cannot read the columns of ${table}: ${messageOf(e)}`, {}, [], { cause: e });
  }
  if (rows.length === 0) throw new SluiceError('NOT_FOUND', `table ${table} does not exist or has no columns`);
  return rows.map((r) => {
    const type = String(r['column_type']);
    return { name: String(r['column_name']), type, family: dialect.typeFamily(type) };
  });
}

export const isNumericFamily = (f: TypeFamily): boolean => f === 'integer' || f === 'float' || f === 'decimal';
export const isTemporalFamily = (f: TypeFamily): boolean => f === 'date' || f === 'timestamp' || f === 'time';
