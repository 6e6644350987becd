import type { YamlSource } from '../util/yaml-source.ts';
import type { Problem } from '../util/errors.ts';
import { parseDuration } from './parse-duration.ts';

export type Path = readonly (string | number)[];
export type Obj = Readonly<Record<string, unknown>>;

/**
 * Reads typed fields out of a parsed YAML value and collects every problem (with file, line and
 * field path) instead of stopping at the first. Getters return undefined on a problem.
 */
export class PlanReader {
  readonly problems: Problem[] = [];
  constructor(private readonly source: YamlSource) {}

  report(path: Path, message: string): void {
    this.problems.push(this.source.problem(path, message));
  }

  isObj(v: unknown): v is Obj {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  }

  obj(v: unknown, path: Path): Obj | undefined {
    if (this.isObj(v)) return v;
    this.report(path, `expected a mapping, got ${describe(v)}`);
    return undefined;
  }

  /** Reports keys outside `allowed`, so typos do not pass silently. */
  onlyKeys(o: Obj, path: Path, allowed: readonly string[]): void {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.report([...path, k], `unknown field "${k}" (expected one of: ${allowed.join(', ')})`);
    }
  }

  str(o: Obj, key: string, path: Path, required: true): string | undefined;
  str(o: Obj, key: string, path: Path, required?: false): string | undefined;
  str(o: Obj, key: string, path: Path, required = false): string | undefined {
    const v = o[key];
    if (v === undefined || v === null) {
      if (required) this.report([...path, key], 'is required');
      return undefined;
    }
    if (typeof v === 'string' && v.trim() !== '') return v;
    if (typeof v === 'number') return String(v);
    this.report([...path, key], `expected a non-empty string, got ${describe(v)}`);
    return undefined;
  }

  num(o: Obj, key: string, path: Path, opts: { min?: number; max?: number; integer?: boolean; required?: boolean } = {}): number | undefined {
    const v = o[key];
    if (v === undefined || v === null) {
      if (opts.required) this.report([...path, key], 'is required');
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.report([...path, key], `expected a number, got ${describe(v)}`);
      return undefined;
    }
    if (opts.integer && !Number.isInteger(v)) return this.bad([...path, key], `expected a whole number, got ${v}`);
    if (opts.min !== undefined && v < opts.min) return this.bad([...path, key], `must be at least ${opts.min}, got ${v}`);
    if (opts.max !== undefined && v > opts.max) return this.bad([...path, key], `must be at most ${opts.max}, got ${v}`);
    return v;
  }

  bool(o: Obj, key: string, path: Path): boolean | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    this.report([...path, key], `expected true or false, got ${describe(v)}`);
    return undefined;
  }

  duration(o: Obj, key: string, path: Path, required = false): number | undefined {
    const v = o[key];
    if (v === undefined || v === null) {
      if (required) this.report([...path, key], 'is required');
      return undefined;
    }
    const ms = typeof v === 'string' ? parseDuration(v) : undefined;
    if (ms === undefined) this.report([...path, key], `expected a duration like 30m, 2h or 1d, got ${describe(v)}`);
    return ms;
  }

  oneOf<T extends string>(o: Obj, key: string, path: Path, options: readonly T[]): T | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string' && (options as readonly string[]).includes(v)) return v as T;
    this.report([...path, key], `expected one of ${options.join(' | ')}, got ${describe(v)}`);
    return undefined;
  }

  list(o: Obj, key: string, path: Path, required = false): readonly unknown[] | undefined {
    const v = o[key];
    if (v === undefined || v === null) {
      if (required) this.report([...path, key], 'is required');
      return undefined;
    }
    if (Array.isArray(v)) return v;
    this.report([...path, key], `expected a list, got ${describe(v)}`);
    return undefined;
  }

  strList(o: Obj, key: string, path: Path): readonly string[] | undefined {
    const items = this.list(o, key, path);
    if (!items) return undefined;
    const out: string[] = [];
    items.forEach((item, i) => {
      if (typeof item === 'string' && item !== '') out.push(item);
      else this.report([...path, key, i], `expected a string, got ${describe(item)}`);
    });
    return out;
  }

  private bad(path: Path, message: string): undefined {
    this.report(path, message);
    return undefined;
  }
}

export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}
