import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYaml } from '../util/yaml-source.ts';
import { DuckDBEngine } from '../engine/duckdb/duckdb-engine.ts';
import { compareContracts, typeChange } from './compare-contracts.ts';
import { type Contract, parseContract } from './contract.ts';
import { validateAgainstContract } from './validate-against-contract.ts';

function contract(raw: Record<string, unknown>): Contract {
  const r = parseContract({ dataset: 'orders', consumers: [], ...raw });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.contract;
}

const v1 = contract({
  version: 1,
  primary_key: ['id'],
  columns: [
    { name: 'id', type: 'INTEGER', nullable: false },
    { name: 'status', type: 'VARCHAR' },
  ],
  checks: [{ check: 'in_set', column: 'status', values: ['open', 'paid'] }],
});

describe('contracts', () => {
  test('a malformed contract reports each field with file and line', () => {
    const y = parseYaml('contracts/orders.yaml', 'dataset: orders\nversion: zero\ncolumns:\n  - name: id\n    type: BIGINT\n    nullable: maybe\nprimary_key: [order_id]\nchecks:\n  - check: nope\n');
    assert.ok(y.ok);
    const r = parseContract(y.source.value, { source: y.source });
    assert.ok(!r.ok);
    assert.deepEqual(
      r.problems.map((p) => `${p.line} ${p.field}`),
      ['2 version', '6 columns.0.nullable', '7 primary_key.0', '9 checks.0.check'],
    );
  });

  test('adding a nullable column is fully compatible; a not-null one breaks forward only', () => {
    const v2 = contract({ ...rawOf(v1), version: 2, columns: [...rawCols(v1), { name: 'note', type: 'VARCHAR' }] });
    assert.equal(compareContracts(v1, v2, 'full').compatible, true);
    const v2b = contract({ ...rawOf(v1), version: 2, columns: [...rawCols(v1), { name: 'amount', type: 'DOUBLE', nullable: false }] });
    assert.equal(compareContracts(v1, v2b, 'backward').compatible, true);
    const fwd = compareContracts(v1, v2b, 'forward');
    assert.equal(fwd.compatible, false);
    assert.deepEqual(fwd.changes.map((c) => [c.kind, c.column, c.breaking]), [['column_added', 'amount', true]]);
  });

  test('removing a column, widening a type or dropping a check breaks backward, not forward', () => {
    const v2 = contract({ version: 2, primary_key: ['id'], columns: [{ name: 'id', type: 'BIGINT', nullable: false }] });
    const back = compareContracts(v1, v2, 'backward');
    assert.equal(back.compatible, false);
    assert.deepEqual(back.changes.map((c) => c.kind).sort(), ['check_removed', 'column_removed', 'type_widened']);
    assert.equal(compareContracts(v1, v2, 'forward').compatible, true);
    assert.equal(typeChange('int4', 'INTEGER'), 'same');
    assert.equal(typeChange('VARCHAR(10)', 'VARCHAR(20)'), 'type_widened');
    assert.equal(typeChange('VARCHAR', 'DATE'), 'type_changed');
  });

  test('transitive modes compare against every earlier version', () => {
    const v2 = contract({ ...rawOf(v1), version: 2, columns: [...rawCols(v1), { name: 'note', type: 'VARCHAR' }] });
    const v3 = contract({ ...rawOf(v1), version: 3, columns: [...rawCols(v1), { name: 'note', type: 'VARCHAR', nullable: false }] });
    // v2 -> v3 makes note not-null: forward-breaking against v2, and against v1 (where note was absent).
    const latest = compareContracts([v1, v2], v3, 'backward');
    assert.equal(latest.compatible, true);
    const all = compareContracts([v1, v2], v3, 'forward_transitive');
    assert.equal(all.compatible, false);
    assert.deepEqual(all.changes.filter((c) => c.breaking).map((c) => [c.against, c.kind]), [[1, 'column_added'], [2, 'made_not_null']]);
  });

  test('validateAgainstContract finds missing columns, wrong types, nulls in non-null columns, duplicate keys and failed checks', async () => {
    await using db = await DuckDBEngine.open(':memory:');
    await db.exec(`CREATE TABLE orders AS SELECT * FROM (VALUES (1, 'open', 1.0), (2, 'paid', 2.0), (2, 'lost', 3.0), (NULL, 'open', 4.0)) v(id, status, extra)`);
    const c = contract({ ...rawOf(v1), version: 4, columns: [...rawCols(v1), { name: 'created_at', type: 'TIMESTAMP' }] });
    const r = await validateAgainstContract(db, 'orders', c);
    assert.equal(r.valid, false);
    assert.deepEqual(
      r.violations.map((v) => [v.kind, v.check ?? v.column, v.breaking]),
      [
        ['missing_column', 'created_at', true],
        ['extra_column', 'extra', false],
        ['nulls_in_not_null_column', 'id', true],
        ['duplicate_key', 'id', true],
        ['check_failed', 'in_set(status)', true],
      ],
    );
    assert.deepEqual(r.violations[4]?.sample, ['lost']);
  });
});

function rawOf(c: Contract): Record<string, unknown> {
  return { primary_key: c.primaryKey, columns: rawCols(c), checks: c.rawChecks };
}
function rawCols(c: Contract): Record<string, unknown>[] {
  return c.columns.map((x) => ({ name: x.name, type: x.type, nullable: x.nullable }));
}
