import type { FlagDefinition } from './flag.ts';

/** The part of a flag an environment changes at run time; the rest is declared in flags/*.yaml. */
export type FlagState = Pick<FlagDefinition, 'enabled' | 'strategies' | 'variants' | 'defaultVariant' | 'rollout'>;

/**
 * The state fields of a flag. An absent default variant is left out rather than set to undefined:
 * states go into audit details, whose hash must read the same before and after a JSON round trip.
 */
export function stateOf(flag: FlagState): FlagState {
  return {
    enabled: flag.enabled,
    strategies: flag.strategies,
    variants: flag.variants,
    ...(flag.defaultVariant !== undefined ? { defaultVariant: flag.defaultVariant } : {}),
    ...(flag.rollout !== undefined ? { rollout: flag.rollout } : {}),
  };
}
