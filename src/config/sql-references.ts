/**
 * Finds the names a SQL text reads from: identifiers that follow FROM or JOIN, and the further
 * comma-separated entries of a FROM list. Comments and string literals are ignored. This is how a
 * step declares its inputs: it selects from sources and earlier steps by name.
 */
const KEYWORDS = new Set([
  'where', 'group', 'order', 'having', 'limit', 'join', 'left', 'right', 'inner', 'outer', 'full', 'cross',
  'on', 'using', 'union', 'except', 'intersect', 'window', 'qualify', 'as', 'select', 'lateral', 'natural',
  'positional', 'asof', 'anti', 'semi', 'offset', 'fetch', 'with', 'from',
]);

export function tableReferences(sql: string): string[] {
  const tokens = tokenize(sql);
  const refs = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]?.toLowerCase();
    if (t !== 'from' && t !== 'join') continue;
    let j = i + 1;
    // FROM a [alias], b [alias], ... : take each entry's first identifier.
    for (;;) {
      const name = tokens[j];
      if (name === undefined || name === '(' || KEYWORDS.has(name.toLowerCase())) break;
      if (/^[A-Za-z_"]/.test(name)) refs.add(unquote(name));
      j++;
      while (tokens[j] !== undefined && tokens[j] !== ',' && !KEYWORDS.has((tokens[j] ?? '').toLowerCase()) && tokens[j] !== ')') j++;
      if (t === 'join' || tokens[j] !== ',') break;
      j++;
    }
  }
  return [...refs];
}

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name;
}

function tokenize(sql: string): string[] {
  const out: string[] = [];
  const re = /--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'|"(?:[^"]|"")*"(?:\.(?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*))*|[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)*|[(),]|\S/g;
  for (const m of sql.matchAll(re)) {
    const tok = m[0];
    if (tok.startsWith('--') || tok.startsWith('/*') || tok.startsWith("'")) continue;
    out.push(tok);
  }
  return out;
}
