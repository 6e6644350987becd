import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import * as v from 'valibot';
import type { AuditCheckpoint } from '../governance/audit-chain.ts';
import type { AuditAnchor } from '../governance/audit-trail.ts';
import { SluiceError, configError, messageOf } from '../util/errors.ts';
import { loadProjectSettings } from '../config/load-project.ts';
import { describeStore, effectiveSettings } from './adapters.ts';

/** Sluice's per-user folder: `SLUICE_HOME`, else `$XDG_CONFIG_HOME/sluice`, else `~/.config/sluice`. */
export function sluiceHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env['SLUICE_HOME']) return env['SLUICE_HOME'];
  return join(env['XDG_CONFIG_HOME'] || join(homedir(), '.config'), 'sluice');
}

const checkpointSchema = v.object({ seq: v.number(), hash: v.string(), at: v.string(), mac: v.string() });

/**
 * The audit trail's anchors as files outside the store and outside the project: a per-store folder
 * `<home>/audit/<store id>/` (the id is a hash of where the store is, so a store file replaced by a
 * fresh one still meets its old checkpoint) holding `audit.key` (created with mode 600) and
 * `checkpoint.json`. `SLUICE_AUDIT_KEY` (64 hex digits) or `SLUICE_AUDIT_KEY_FILE` name a key
 * kept elsewhere (a secret manager, a mounted file).
 */
export function fileAuditAnchor(storeDescription: string, env: NodeJS.ProcessEnv = process.env, o: { readonly onKeyCreated?: (keyFile: string) => void } = {}): AuditAnchor {
  const id = createHash('sha256').update(storeDescription).digest('hex').slice(0, 16);
  const dir = join(sluiceHome(env), 'audit', id);
  const keyFile = env['SLUICE_AUDIT_KEY_FILE'] || join(dir, 'audit.key');
  const checkpointFile = join(dir, 'checkpoint.json');
  const fromEnv = env['SLUICE_AUDIT_KEY'];
  const parseKey = (hex: string, where: string): Uint8Array => {
    const h = hex.trim();
    if (!/^[0-9a-fA-F]{64,}$/.test(h)) throw new SluiceError('CONFIG_INVALID', `${where} must hold an audit key of at least 64 hex digits`, { field: where });
    return Buffer.from(h, 'hex');
  };
  let cached: Uint8Array | undefined;
  const anchor: AuditAnchor = {
    keyLocation: fromEnv ? 'SLUICE_AUDIT_KEY' : keyFile,
    checkpointLocation: checkpointFile,
    key() {
      if (cached) return cached;
      if (fromEnv) return (cached = parseKey(fromEnv, 'SLUICE_AUDIT_KEY'));
      if (!existsSync(keyFile)) return undefined;
      return (cached = parseKey(readFileSync(keyFile, 'utf8'), keyFile));
    },
    ensureKey() {
      const have = anchor.key();
      if (have) return have;
      const key = randomBytes(32);
      try {
        mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
        writeFileSync(keyFile, `${key.toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
        chmodSync(keyFile, 0o600);
      } catch (e) {
        // Another process created it first: use theirs.
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new SluiceError('CONFIG_INVALID', `cannot create the audit key ${keyFile}: ${messageOf(e)}`, { file: keyFile });
        return anchor.key() ?? key;
      }
      o.onKeyCreated?.(keyFile);
      return (cached = key);
    },
    readCheckpoint() {
      if (!existsSync(checkpointFile)) return undefined;
      try {
        const r = v.safeParse(checkpointSchema, JSON.parse(readFileSync(checkpointFile, 'utf8')));
        return r.success ? r.output : undefined;
      } catch {
        return undefined;
      }
    },
    writeCheckpoint(c: AuditCheckpoint, o: { force?: boolean } = {}) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // Monotonic: a writer that lost a race never moves the checkpoint back (the owner's accept may).
      for (let attempt = 0; attempt < 3; attempt++) {
        const now = anchor.readCheckpoint();
        if (now && now.seq >= c.seq && !o.force) return;
        const tmp = `${checkpointFile}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(c));
        const fd = openSync(tmp, 'r');
        fsyncSync(fd);
        closeSync(fd);
        renameSync(tmp, checkpointFile);
        if ((anchor.readCheckpoint()?.seq ?? 0) >= c.seq || o.force) return;
      }
    },
  };
  return anchor;
}

/**
 * Creates the audit key of a project's store when it has none (`sluice init`, `sluice demo`) and
 * says where it is; the store itself is created by the first command that writes.
 */
export function ensureProjectAuditKey(projectDir: string): { keyLocation: string; created: boolean } {
  const r = loadProjectSettings(projectDir);
  if (!r.ok) throw configError(r.problems);
  const anchor = fileAuditAnchor(describeStore(r.settings, effectiveSettings(r.settings).store));
  const created = anchor.key() === undefined;
  anchor.ensureKey();
  return { keyLocation: anchor.keyLocation, created };
}

/**
 * The anchors of a copy of a store (a rehearsal): the original's key, so the copy's entries chain
 * on, and a checkpoint kept in memory, so nothing the copy appends moves the original's checkpoint.
 */
export function copyAuditAnchor(original: AuditAnchor): AuditAnchor {
  let checkpoint = original.readCheckpoint();
  return {
    keyLocation: original.keyLocation,
    checkpointLocation: '(in memory: a copy of the store)',
    key: () => original.key(),
    ensureKey: () => original.ensureKey(),
    readCheckpoint: () => checkpoint,
    writeCheckpoint: (c, o = {}) => {
      if (!checkpoint || checkpoint.seq < c.seq || o.force) checkpoint = c;
    },
  };
}
