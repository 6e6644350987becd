import { conformanceDir } from '../../util/conformance-dir.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '../evaluate.ts';
import { flagSet } from '../flag.ts';
import { importUnleash, unleashContext } from '../import-unleash.ts';

/**
 * Runs Unleash's client specification (vendored under shared/conformance/unleash-client-spec)
 * unchanged through importUnleash + evaluate: every `tests` case (isEnabled) and every
 * `variantTests` case (getVariant → {name, enabled, feature_enabled, payload?}).
 */
export interface SuiteReport {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly failures: string[];
  readonly skips: { name: string; reason: string }[];
}

/** Cases Sluice deliberately does not support, by "<file> / <description>", with the reason. None today. */
const SKIPS: ReadonlyMap<string, string> = new Map();


type Obj = Record<string, unknown>;

function sameVariant(got: Obj, want: Obj): boolean {
  const keys = new Set([...Object.keys(got), ...Object.keys(want)]);
  for (const k of keys) if (JSON.stringify(got[k]) !== JSON.stringify(want[k])) return false;
  return true;
}

export function runUnleashSuite(dir: string = conformanceDir('unleash-client-spec')): SuiteReport {
  const report = { passed: 0, failed: 0, skipped: 0, failures: [] as string[], skips: [] as { name: string; reason: string }[] };
  const indexFile = join(dir, 'index.json');
  if (!existsSync(indexFile)) {
    report.failed = 1;
    report.failures.push(`missing ${indexFile}`);
    return report;
  }
  const files = JSON.parse(readFileSync(indexFile, 'utf8')) as string[];
  for (const file of files) {
    const spec = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { state: unknown; tests?: Obj[]; variantTests?: Obj[] };
    const imported = importUnleash(spec.state);
    const cases = [...(spec.tests ?? []).map((t) => ({ t, variant: false })), ...(spec.variantTests ?? []).map((t) => ({ t, variant: true }))];
    if (!imported.ok) {
      for (const { t } of cases) {
        report.failed++;
        report.failures.push(`${file} / ${String(t['description'])}: import failed: ${imported.problems.map((p) => p.message).join('; ')}`);
      }
      continue;
    }
    const flags = flagSet(imported.flags);
    for (const { t, variant } of cases) {
      const name = `${file} / ${String(t['description'])}`;
      const skip = SKIPS.get(name);
      if (skip) {
        report.skipped++;
        report.skips.push({ name, reason: skip });
        continue;
      }
      const r = evaluate(String(t['toggleName']), unleashContext(t['context']), flags);
      let ok: boolean;
      let got: unknown;
      if (variant) {
        const v: Obj = r.variant !== undefined ? { name: r.variant, ...(r.payload ? { payload: r.payload } : {}), enabled: true, feature_enabled: r.enabled } : { name: 'disabled', enabled: false, feature_enabled: r.enabled };
        got = v;
        ok = sameVariant(v, t['expectedResult'] as Obj);
      } else {
        got = r.enabled;
        ok = r.enabled === t['expectedResult'];
      }
      if (ok) report.passed++;
      else {
        report.failed++;
        report.failures.push(`${name}: expected ${JSON.stringify(t['expectedResult'])}, got ${JSON.stringify(got)} (${r.explanation.decidedBy})`);
      }
    }
  }
  return report;
}
