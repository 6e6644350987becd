// The other-process reader of bench/reads: a fresh node process with its own in-memory DuckDB
// that reads the warehouse the way any consumer does, by running `<folder>/catalog.sql` (ATTACH
// ... READ_ONLY + temp views), and attaches the plain reference table's file READ_ONLY too.
// Line protocol on stdin/stdout, one JSON object a line:
//   started          -> {"ready": true, "loadSeconds": s}   (running catalog.sql + the plain ATTACH)
//   {"sql": "..."}   -> {"seconds": s, "rows": [...]}
//   npx tsx bench/reads-reader.ts CATALOG_SQL PLAIN_DUCKDB_FILE MEMORY_LIMIT
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { DuckDBEngine } from '../src/engine/duckdb/duckdb-engine.ts';

const [catalog, plain, memoryLimit] = process.argv.slice(2);
if (!catalog || !plain) throw new Error('usage: reads-reader CATALOG_SQL PLAIN_DUCKDB_FILE [MEMORY_LIMIT]');
const db = await DuckDBEngine.open(':memory:', memoryLimit ? { memoryLimit } : {});
const t = performance.now();
await db.exec(readFileSync(catalog, 'utf8'));
await db.exec(`ATTACH '${plain.replaceAll("'", "''")}' AS plain_db (READ_ONLY)`);
process.stdout.write(`${JSON.stringify({ ready: true, loadSeconds: (performance.now() - t) / 1000 })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { sql } = JSON.parse(line) as { sql: string };
  try {
    const s = performance.now();
    const rows = await db.query(sql);
    process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - s) / 1000, rows })}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n`);
  }
}
await db.close();
