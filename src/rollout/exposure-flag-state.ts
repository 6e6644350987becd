import type { FlagState } from '../flags/flag-state.ts';
import type { Strategy } from '../flags/flag.ts';
import type { Exposure, StepRef } from './rollout-plan.ts';

/**
 * The flag state that gives a step the exposure a stage asks for (pure). Rows are sliced by a
 * gradual strategy on the step's slice key, salted with `pipeline.step`, so a key inside 10 % stays
 * inside at 50 %; shadow is a 0 % slice (both versions computed, baseline published); canaries by
 * dataset, source or pipeline are a list or a gradual strategy on that field.
 */
export function exposureFlagState(step: StepRef, baseline: string, candidate: string, exposure: Exposure): FlagState {
  const salt = `${step.pipeline}.${step.step}`;
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

/** How a flag change made by a rollout reads in flag history (`canary 10 % of rows`). */
export function describeExposure(exposure: Exposure): string {
  if (exposure.mode !== 'canary') return exposure.mode;
  const t = exposure.target;
  if (t.kind === 'rows') return `canary ${t.percent} % of rows`;
  if (t.kind === 'list') return `canary ${t.dimension}: ${t.values.join(', ')}`;
  return `canary ${t.percent} % of ${t.dimension}`;
}
