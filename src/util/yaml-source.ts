import { CORE_SCHEMA, load, YAMLException } from 'js-yaml';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { messageOf, type Problem } from './errors.ts';
import { PROJECT_LIMITS } from './project-file.ts';

/**
 * A parsed YAML file that remembers where every value came from, so validators can report
 * `file:line field: message` for any field path like `steps.clean.versions.v2.sql`.
 */
export interface YamlSource {
  readonly file: string;
  readonly value: unknown;
  /** The 1-based line of the node at a dot/array path ("a.b.0.c"); the nearest existing ancestor when missing. */
  lineOf(path: string | readonly (string | number)[]): number | undefined;
  /** A problem at a field path, with file and line filled in. */
  problem(path: string | readonly (string | number)[], message: string): Problem;
}

export type YamlParseResult = { ok: true; source: YamlSource } | { ok: false; problems: Problem[] };

/** Most values a document may expand to through its aliases (an alias bomb expands exponentially; 8 MiB of plain values is at most ~2 million). */
const MAX_EXPANDED_VALUES = 4_000_000;

/**
 * Parses one YAML document (YAML 1.2 core schema: no implicit dates). Values come from js-yaml,
 * which reads multi-megabyte files an order of magnitude faster; the positional document that
 * `lineOf` needs (from `yaml`) is built only when a problem is reported. Hostile input is refused
 * with a problem naming the file, never a crash: files beyond PROJECT_LIMITS.yamlBytes, nesting
 * deeper than PROJECT_LIMITS.yamlDepth, aliases that expand beyond a bound, repeated keys.
 */
export function parseYaml(file: string, text: string): YamlParseResult {
  const fail = (message: string, line?: number, column?: number): YamlParseResult => ({ ok: false, problems: [{ file, ...(line !== undefined ? { line } : {}), ...(column !== undefined ? { column } : {}), message }] });
  if (text.length > PROJECT_LIMITS.yamlBytes) return fail(`is ${(text.length / 1024 / 1024).toFixed(1)} MiB; YAML files are limited to ${PROJECT_LIMITS.yamlBytes / 1024 / 1024} MiB`);
  let value: unknown;
  try {
    value = load(text, { schema: CORE_SCHEMA, filename: file, json: false });
  } catch (e) {
    if (e instanceof RangeError) return fail(`nests deeper than ${PROJECT_LIMITS.yamlDepth} levels`);
    if (e instanceof YAMLException) {
      const line = e.mark ? e.mark.line + 1 : undefined;
      const column = e.mark ? e.mark.column + 1 : undefined;
      return /nesting exceeded maxDepth/.test(e.reason) ? fail(`nests deeper than ${PROJECT_LIMITS.yamlDepth} levels`, line) : fail(`invalid YAML: ${e.reason}`, line, column);
    }
    return fail(`invalid YAML: ${messageOf(e).split('\n')[0]}`);
  }
  const shape = checkShape(value, PROJECT_LIMITS.yamlDepth, MAX_EXPANDED_VALUES);
  if (shape) return fail(shape);

  let positions: { doc: Document; lines: LineCounter } | undefined;
  const indexed = new WeakMap<YAMLMap, Map<string, Pair>>();
  const pairOf = (map: YAMLMap, key: string): Pair | undefined => {
    let index = indexed.get(map);
    if (!index) {
      index = new Map();
      for (const p of map.items) {
        const k = isScalar(p.key) ? String(p.key.value) : String(p.key);
        if (!index.has(k)) index.set(k, p);
      }
      indexed.set(map, index);
    }
    return index.get(key);
  };
  const source: YamlSource = {
    file,
    value: value ?? {},
    lineOf(path) {
      // The positional parse, once, on the first problem: a valid file never pays for it.
      if (!positions) {
        const lines = new LineCounter();
        positions = { doc: parseDocument(text, { lineCounter: lines, uniqueKeys: false }), lines };
      }
      const { doc, lines } = positions;
      const lineAt = (offset: number | undefined): number | undefined => (offset === undefined ? undefined : lines.linePos(offset).line);
      const parts = typeof path === 'string' ? path.split('.').filter((p) => p !== '') : path;
      let node: Node | null | undefined = doc.contents;
      let line = lineAt(node?.range?.[0]);
      for (const part of parts) {
        if (isMap(node)) {
          const pair = pairOf(node, String(part));
          if (!pair) break;
          const keyNode = pair.key as Node | null;
          line = lineAt(keyNode?.range?.[0]) ?? line;
          node = pair.value as Node | null;
        } else if (isSeq(node)) {
          const item = node.items[Number(part)] as Node | undefined;
          if (!item) break;
          line = lineAt(item.range?.[0]) ?? line;
          node = item;
        } else break;
      }
      return line;
    },
    problem(path, message) {
      const field = typeof path === 'string' ? path : path.join('.');
      return { file, line: this.lineOf(path), field: field || undefined, message };
    },
  };
  return { ok: true, source };
}

/**
 * Why a loaded value is refused, if it is: nesting deeper than `maxDepth`, or aliases that make it
 * expand to more than `maxValues` values (js-yaml shares an aliased object instead of copying it,
 * so the count is taken over the expanded tree, memoised per shared object). Walked without recursion.
 */
function checkShape(root: unknown, maxDepth: number, maxValues: number): string | undefined {
  const size = new Map<object, number>();
  const depthOf = new Map<object, number>();
  type Frame = { readonly node: object; readonly children: readonly unknown[]; next: number; total: number; deepest: number };
  const childrenOf = (o: object): readonly unknown[] => (Array.isArray(o) ? o : Object.values(o));
  const isContainer = (v: unknown): v is object => typeof v === 'object' && v !== null;
  if (!isContainer(root)) return undefined;
  const stack: Frame[] = [{ node: root, children: childrenOf(root), next: 0, total: 1, deepest: 1 }];
  const onPath = new Set<object>([root]);
  while (stack.length > 0) {
    const f = stack[stack.length - 1] as Frame;
    if (stack.length > maxDepth) return `nests deeper than ${maxDepth} levels`;
    if (f.next < f.children.length) {
      const c = f.children[f.next++];
      if (!isContainer(c)) {
        f.total++;
        continue;
      }
      const known = size.get(c);
      if (known !== undefined) {
        f.total += known;
        f.deepest = Math.max(f.deepest, 1 + (depthOf.get(c) ?? 0));
      } else {
        if (onPath.has(c)) return 'refers to itself through an alias';
        onPath.add(c);
        stack.push({ node: c, children: childrenOf(c), next: 0, total: 1, deepest: 1 });
      }
      if (f.total > maxValues) return `expands to more than ${maxValues.toLocaleString('en-US')} values through its aliases (an alias bomb?); write the values out`;
      continue;
    }
    stack.pop();
    onPath.delete(f.node);
    size.set(f.node, f.total);
    depthOf.set(f.node, f.deepest);
    if (f.deepest + stack.length > maxDepth) return `nests deeper than ${maxDepth} levels`;
    const parent = stack[stack.length - 1];
    if (parent) {
      parent.total += f.total;
      parent.deepest = Math.max(parent.deepest, 1 + f.deepest);
      if (parent.total > maxValues) return `expands to more than ${maxValues.toLocaleString('en-US')} values through its aliases (an alias bomb?); write the values out`;
    }
  }
  return undefined;
}
