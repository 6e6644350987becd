import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node } from 'yaml';
import type { Problem } from './errors.ts';

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

export function parseYaml(file: string, text: string): YamlParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        file,
        line: e.linePos?.[0]?.line,
        column: e.linePos?.[0]?.col,
        message: `invalid YAML: ${e.message.split('\n')[0]}`,
      })),
    };
  }
  const lineAt = (offset: number | undefined): number | undefined => (offset === undefined ? undefined : lineCounter.linePos(offset).line);
  const source: YamlSource = {
    file,
    value: doc.toJS({ maxAliasCount: 100 }) ?? {},
    lineOf(path) {
      const parts = typeof path === 'string' ? path.split('.').filter((p) => p !== '') : path;
      let node: Node | null | undefined = doc.contents;
      let line = lineAt(node?.range?.[0]);
      for (const part of parts) {
        if (isMap(node)) {
          const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(part));
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
