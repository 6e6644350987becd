import { readFile, rename, writeFile } from 'node:fs/promises';
import { SluiceError, messageOf } from '../util/errors.ts';
import type { Clock } from '../util/clock.ts';
import { deepFreeze, flagSet, type FlagDefinition, type FlagSet } from './flag.ts';

/**
 * A flag snapshot: the definitions of every flag as they stand in one environment (its enabled
 * state, strategies and variants applied), pinned at one instant. Runs record one; the OpenFeature
 * provider and code outside Sluice evaluate from one. The file is JSON:
 *
 *   {
 *     "format": "sluice-flag-snapshot",   // fixed marker
 *     "version": 1,                       // format version
 *     "environment": "prod",
 *     "createdAt": "2026-03-02T08:30:00.000Z",
 *     "flags": [ FlagDefinition, ... ]    // exactly the model in flag.ts, as plain JSON
 *   }
 *
 * Flags are listed in name order so a snapshot's bytes depend only on its content.
 */
export interface FlagSnapshot {
  readonly format: 'sluice-flag-snapshot';
  readonly version: 1;
  readonly environment: string;
  readonly createdAt: string;
  readonly flags: readonly FlagDefinition[];
}

export function createSnapshot(environment: string, flags: Iterable<FlagDefinition>, clock: Clock): FlagSnapshot {
  const list = [...flags].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return deepFreeze({ format: 'sluice-flag-snapshot', version: 1, environment, createdAt: clock.now().toISOString(), flags: list });
}

export function snapshotFlags(s: FlagSnapshot): FlagSet {
  return flagSet(s.flags);
}

/** Parses snapshot JSON text; throws SluiceError CONFIG_INVALID naming the file when it is not one. */
export function parseSnapshot(text: string, file = '(snapshot)'): FlagSnapshot {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new SluiceError('CONFIG_INVALID', `${file}: not JSON: ${messageOf(e)}`, { file });
  }
  const o = v as Partial<FlagSnapshot> | null;
  if (!o || typeof o !== 'object' || o.format !== 'sluice-flag-snapshot') throw new SluiceError('CONFIG_INVALID', `${file}: not a Sluice flag snapshot (format marker missing)`, { file, field: 'format' });
  if (o.version !== 1) throw new SluiceError('CONFIG_INVALID', `${file}: unsupported snapshot version ${String(o.version)}`, { file, field: 'version' });
  if (!Array.isArray(o.flags)) throw new SluiceError('CONFIG_INVALID', `${file}: flags must be a list`, { file, field: 'flags' });
  o.flags.forEach((f, i) => {
    if (!f || typeof f.name !== 'string' || !Array.isArray(f.strategies) || !Array.isArray(f.variants) || !Array.isArray(f.dependencies)) {
      throw new SluiceError('CONFIG_INVALID', `${file}: flags.${i} is not a flag definition`, { file, field: `flags.${i}` });
    }
  });
  return deepFreeze(o as FlagSnapshot);
}

export async function readSnapshot(file: string): Promise<FlagSnapshot> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SluiceError('NOT_FOUND', `cannot read flag snapshot ${file}: ${messageOf(e)}`, { file }, [], { cause: e });
  }
  return parseSnapshot(text, file);
}

/** Writes the snapshot atomically (temp file, then rename), so a reader never sees half a file. */
export async function writeSnapshot(file: string, snapshot: FlagSnapshot): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, JSON.stringify(snapshot, null, 2) + '\n', 'utf8');
  await rename(tmp, file);
}
