import type { Strategy } from '../flags/flag.ts';
import type { FlagState } from '../flags/flag-state.ts';
import type { RolloutAction } from './rollout-action.ts';
import type { Exposure } from './rollout-plan.ts';

/**
 * The flag state that gives a step's flag the exposure a stage asks for (pure). Rows are sliced by
 * a gradual strategy on the step's slice key, salted with `salt` (the flag's own group_id, see
 * `rolloutSalt` in flags/flag-salt.ts), so a key inside 10 % stays inside at 50 %; shadow is a 0 %
 * slice (both versions computed, baseline published); canaries by dataset, source or pipeline are
 * a list or a gradual strategy on that field.
 */
export function exposureFlagState(baseline: string, candidate: string, exposure: Exposure, salt: string): FlagState {
  const gradual = (percentage: number, stickiness = 'slice_key'): Strategy => ({ kind: 'gradual', percentage, stickiness, groupId: salt, constraints: [], segments: [] });
  const on = (strategies: Strategy[]): FlagState => ({ enabled: true, defaultVariant: baseline, variants: [{ name: candidate, weight: 100 }], strategies });
  switch (exposure.mode) {
    case 'baseline':
      // Off, with a 0 % slice kept: enabling it by hand later computes the candidate in shadow, never exposes it to every row.
      return { enabled: false, defaultVariant: baseline, variants: [{ name: candidate, weight: 100 }], strategies: [gradual(0)] };
    case 'shadow':
      return on([gradual(0)]);
    case 'full':
      return on([gradual(100)]);
    case 'canary': {
      const t = exposure.target;
      const field = (d: string): string => (d === 'datasets' ? 'dataset' : d === 'sources' ? 'source' : 'pipeline');
      if (t.kind === 'rows') return on([gradual(t.percent)]);
      if (t.kind === 'list') return on([{ kind: 'list', field: field(t.dimension), values: t.values, constraints: [], segments: [] }]);
      return on([gradual(t.percent, field(t.dimension))]);
    }
  }
}

/** What an exposure sends to the candidate, in words (`canary 10 % of rows`). */
export function describeExposure(exposure: Exposure): string {
  if (exposure.mode !== 'canary') return exposure.mode;
  const t = exposure.target;
  if (t.kind === 'rows') return `canary ${t.percent} % of rows`;
  if (t.kind === 'list') return `canary for ${t.dimension} ${t.values.join(', ')}`;
  return `canary ${t.percent} % of ${t.dimension}`;
}

/**
 * The reason a rollout's flag change carries into flag history and the audit trail, as a sentence:
 * `rollout clean-orders-v2: canary 10 % of rows (stage 2 of 4)`. Stages are numbered within the
 * flag's environment, as `rollout status` lists them.
 */
export function describeFlagChange(a: Extract<RolloutAction, { kind: 'set_flag_exposure' }>): string {
  const e = a.exposure;
  const what = ((): string => {
    switch (e.mode) {
      case 'baseline':
        if (a.occasion === 'rolled_back') return `rolled back, ${a.baseline} for every row again`;
        if (a.occasion === 'aborted') return `aborted, ${a.baseline} for every row again`;
        return `back to the baseline, ${a.baseline} for every row`;
      case 'shadow':
        return `shadow, ${a.candidate} computed beside ${a.baseline}, ${a.baseline} published`;
      case 'full':
        return a.occasion === 'promoted' ? `promoted, ${a.candidate} for every row` : `full, ${a.candidate} for every row`;
      case 'canary':
        return describeExposure(e);
    }
  })();
  const stage = a.stage ? ` (stage ${a.stage.number} of ${a.stage.of})` : '';
  return `rollout ${a.rolloutId}: ${what}${stage}`;
}
