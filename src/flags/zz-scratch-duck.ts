import { DuckDBEngine } from '../engine/duckdb/duckdb-engine.ts';
const e = await DuckDBEngine.open(':memory:');
await e.exec(`create table k as select 'key-' || i::VARCHAR as k from range(5000000) t(i)`);
const exprs: Record<string, string> = {
  ubigint: `(('0x' || substr(md5('salt:' || k),1,8))::UBIGINT % 10000)`,
  uinteger: `(('0x' || substr(md5('salt:' || k),1,8))::UINTEGER % 10000)`,
  md5only: `length(md5('salt:' || k))`,
};
const times: Record<string, number[]> = {};
for (let r = 0; r < 4; r++) for (const [n, x] of Object.entries(exprs)) {
  const t = performance.now(); await e.query(`select sum(${x}) from k`); (times[n] ??= []).push(Math.round(performance.now() - t));
}
console.log(times);
await e.close();
