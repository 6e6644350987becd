import { existsSync } from 'node:fs';
import { SluiceError } from '../../util/errors.ts';
import { quoteIdent, quoteLiteral } from '../sql.ts';
import type { DuckDBEngine } from './duckdb-engine.ts';

/** Aliases of data files as SQL names them: `sluice_v_…` (versions) and `sluice_s_…` (segments). */
export const ALIAS_PATTERN = /\bsluice_[vs]_[0-9a-f]{16}\b/g;

/**
 * The data files this process has attached READ_ONLY, by alias. SQL that names an alias gets it
 * attached first (`ensureFor`), so callers use `"<alias>".data` like any table; at most `max` stay
 * attached (each holds a file descriptor), the least recently used going first, except those
 * pinned (by an open session's bindings, or by the dataset views).
 */
export class Attachments {
  private readonly attached = new Map<string, number>();
  private readonly pins = new Map<string, number>();
  private clock = 0;
  private turn: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: DuckDBEngine,
    /** The file of an alias (absolute path), or undefined when the alias is unknown. */
    private readonly fileOf: (alias: string) => string | undefined,
    private readonly max = 256,
  ) {}

  /** Attaches every alias `sql` names that is not attached yet. */
  async ensureFor(sql: string): Promise<void> {
    const aliases = sql.match(ALIAS_PATTERN);
    if (aliases) await this.ensure(aliases);
  }

  async ensure(aliases: Iterable<string>): Promise<void> {
    const wanted = [...new Set(aliases)];
    const now = ++this.clock;
    const missing = wanted.filter((a) => {
      if (!this.attached.has(a)) return true;
      this.attached.set(a, now);
      return false;
    });
    if (missing.length === 0) return;
    await this.serialized(async () => {
      const statements: string[] = [];
      for (const a of missing) {
        if (this.attached.has(a)) continue;
        const file = this.fileOf(a);
        if (!file) throw new SluiceError('NOT_FOUND', `no data file is known as ${a} (deleted by gc?)`);
        if (!existsSync(file)) throw new SluiceError('CORRUPT', `data file ${file} (${a}) is missing`, { file });
        statements.push(`ATTACH IF NOT EXISTS ${quoteLiteral(file)} AS ${quoteIdent(a)} (READ_ONLY)`);
      }
      if (statements.length > 0) await this.db.exec(statements.join(';\n'));
      for (const a of missing) this.attached.set(a, now);
      await this.evict(new Set(wanted));
    });
  }

  pin(aliases: Iterable<string>): void {
    for (const a of aliases) this.pins.set(a, (this.pins.get(a) ?? 0) + 1);
  }

  unpin(aliases: Iterable<string>): void {
    for (const a of aliases) {
      const n = (this.pins.get(a) ?? 0) - 1;
      if (n <= 0) this.pins.delete(a);
      else this.pins.set(a, n);
    }
  }

  /** Detaches an alias now (its file is about to be deleted); false when it is pinned. */
  async release(alias: string): Promise<boolean> {
    if (this.pins.has(alias)) return false;
    if (!this.attached.has(alias)) return true;
    await this.serialized(async () => {
      await this.db.exec(`DETACH DATABASE IF EXISTS ${quoteIdent(alias)}`);
      this.attached.delete(alias);
    });
    return true;
  }

  private async evict(keep: ReadonlySet<string>): Promise<void> {
    if (this.attached.size <= this.max) return;
    const victims = [...this.attached.entries()]
      .filter(([a]) => !keep.has(a) && !this.pins.has(a))
      .sort((x, y) => x[1] - y[1])
      .slice(0, this.attached.size - this.max)
      .map(([a]) => a);
    for (const a of victims) {
      // A file still read by a statement elsewhere refuses to detach: it stays, and goes next time.
      await this.db.exec(`DETACH DATABASE IF EXISTS ${quoteIdent(a)}`).then(
        () => void this.attached.delete(a),
        () => undefined,
      );
    }
  }

  private async serialized<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.turn;
    let release: () => void = () => undefined;
    this.turn = new Promise<void>((r) => (release = r));
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
