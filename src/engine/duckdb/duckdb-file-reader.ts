import { closeSync, openSync, readSync } from 'node:fs';
import { SluiceError } from '../../util/errors.ts';
import type { FileSource } from '../source.ts';
import { quoteLiteral } from '../sql.ts';

/** How DuckDB reads a file source: the reader expression over a list of its files, and header checks. */

type FileSourceT = FileSource;

export function fileReader(source: FileSourceT, files: readonly string[]): string {
  const list = `[${files.map(quoteLiteral).join(', ')}]`;
  const hive = source.hive ? ', hive_partitioning = true' : '';
  switch (source.format) {
    case 'csv': {
      if (!source.columns) return `read_csv(${list}, header = true${hive})`;
      // Declared columns: no sniffing (it costs ~90 ms a file); headers were checked against them already.
      const cols = Object.entries(source.columns).map(([n, t]) => `${quoteLiteral(n)}: ${quoteLiteral(t)}`).join(', ');
      return `read_csv(${list}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = {${cols}}${hive})`;
    }
    case 'parquet':
      return `read_parquet(${list}${hive})`;
    case 'json':
      return `read_json_auto(${list}${hive})`;
  }
}

/** Every CSV file must have the declared columns, in the declared order; the first file that does not is named. */
export function checkCsvHeaders(source: FileSourceT, files: readonly string[]): void {
  const declared = Object.keys(source.columns ?? {});
  for (const file of files) {
    const header = firstLine(file).split(',').map((h) => h.trim().replace(/^"(.*)"$/, '$1'));
    const missing = declared.filter((c) => !header.includes(c));
    const extra = header.filter((c) => !declared.includes(c));
    if (missing.length || extra.length || header.join(',') !== declared.join(',')) {
      // A partition column that lives in folder names (day=2026-10-01/) is read from there with `hive: true`.
      const inFolders = !source.hive && missing.length === 1 && missing[0] === source.partitionColumn && file.includes(`/${source.partitionColumn}=`);
      const parts = [missing.length ? `missing ${missing.join(', ')}${inFolders ? ` (it is in the folder names: set hive: true on the source, and leave ${source.partitionColumn} out of its columns)` : ''}` : '', extra.length ? `unexpected ${extra.join(', ')}` : '', !missing.length && !extra.length ? `order is ${header.join(', ')}` : ''].filter(Boolean);
      throw new SluiceError('DATA_INVALID', `source ${source.name}: ${file}: columns do not match the declared ones (${declared.join(', ')}): ${parts.join('; ')}`, { file, line: 1, field: `sources.${source.name}.columns` });
    }
  }
}

function firstLine(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(65536);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('utf8').replace(/^\uFEFF/, '');
    const end = text.search(/\r?\n/);
    return end === -1 ? text : text.slice(0, end);
  } finally {
    closeSync(fd);
  }
}

