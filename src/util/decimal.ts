/**
 * Numbers as people type them on a command line: decimal digits only. `Number()` alone would take
 * `0x10` as 16, `1e2` as 100 and `" "` as 0; option values that reach a flag or a limit must mean
 * what they look like.
 */
export function parseDecimal(text: string, o: { integer?: boolean } = {}): number | undefined {
  const t = text.trim();
  if (!(o.integer ? /^[+]?\d+$/ : /^[+-]?(\d+(\.\d*)?|\.\d+)$/).test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}
