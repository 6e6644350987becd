import type { FlagDefinition } from './flag.ts';
import { importUnleash } from './import-unleash.ts';
import { parseFlagFile } from './parse-flag-file.ts';
import { SluiceError, formatProblem, type Problem } from '../util/errors.ts';
import { flagsDocument, toYaml } from './flag-document.ts';

/**
 * An Unleash client API export (`{features, segments}` or delta events) as the text of a
 * flags/*.yaml file. Imported flags keep `hash: murmur3`, so they evaluate as Unleash SDKs do.
 * A feature the file format cannot hold (a name with characters flag names may not have, a payload
 * that is not what its type says) is left out with the reason; the written text always parses.
 */
export interface UnleashYaml {
  readonly text: string;
  readonly flags: readonly FlagDefinition[];
  readonly notes: readonly string[];
  readonly skipped: readonly { readonly flag: string; readonly reason: string }[];
}

export type UnleashYamlResult = { ok: true; result: UnleashYaml } | { ok: false; problems: Problem[] };

export function unleashToYaml(json: unknown, header: string): UnleashYamlResult {
  const imported = importUnleash(json);
  if (!imported.ok) return imported;
  const kept: FlagDefinition[] = [];
  const skipped: { flag: string; reason: string }[] = [];
  for (const f of imported.flags) {
    const one = parseFlagFile(f.name, toYaml(flagsDocument([f]).document));
    if (one.ok) kept.push(f);
    else skipped.push({ flag: f.name, reason: one.problems.map((p) => `${p.field ? `${p.field.replace(/^flags\.0\.?/, '') || 'flag'}: ` : ''}${p.message}`).join('; ') });
  }
  const { document, notes } = flagsDocument(kept);
  const text = `${header.split('\n').map((l) => `# ${l}`.trimEnd()).join('\n')}\n${toYaml(document)}`;
  const back = parseFlagFile('(imported)', text);
  if (!back.ok) throw new SluiceError('INTERNAL', `the imported flags do not parse back: ${back.problems.map(formatProblem).join('; ')}`);
  return { ok: true, result: { text, flags: back.flags, notes, skipped } };
}
