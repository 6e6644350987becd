import * as v from 'valibot';
import { CONSTRAINT_OPERATORS, type FlagDefinition, type Strategy } from '../../flags/flag.ts';
import type { FlagState } from '../../flags/flag-state.ts';
import type { FlagSnapshot } from '../../flags/flag-snapshot.ts';

/** Flag states and snapshots as the store keeps them (JSON), checked on the way out. */
const constraint = v.object({
  field: v.string(),
  operator: v.picklist(CONSTRAINT_OPERATORS),
  values: v.array(v.string()),
  caseInsensitive: v.optional(v.boolean()),
  inverted: v.optional(v.boolean()),
  invalid: v.optional(v.string()),
});

const variant = v.object({
  name: v.string(),
  weight: v.number(),
  payload: v.optional(v.object({ type: v.picklist(['string', 'json', 'csv', 'number']), value: v.string() })),
  overrides: v.optional(v.array(v.object({ field: v.string(), values: v.array(v.string()) }))),
});

const timeWindow = v.object({
  from: v.optional(v.string()),
  until: v.optional(v.string()),
  recurring: v.optional(v.object({ days: v.array(v.number()), start: v.string(), end: v.string(), zone: v.string() })),
});

const strategyBase = {
  label: v.optional(v.string()),
  constraints: v.array(constraint),
  segments: v.array(v.object({ name: v.string(), constraints: v.array(constraint) })),
  missingSegments: v.optional(v.array(v.string())),
  variants: v.optional(v.array(variant)),
  window: v.optional(timeWindow),
};

const strategy: v.GenericSchema<unknown, Strategy> = v.variant('kind', [
  v.object({ kind: v.literal('default'), ...strategyBase }),
  v.object({ kind: v.literal('gradual'), percentage: v.number(), stickiness: v.string(), groupId: v.string(), ...strategyBase }),
  v.object({ kind: v.literal('list'), field: v.string(), values: v.array(v.string()), ...strategyBase }),
  v.object({ kind: v.literal('unknown'), name: v.string(), ...strategyBase }),
]);

export const flagStateSchema: v.GenericSchema<unknown, FlagState> = v.object({
  enabled: v.boolean(),
  strategies: v.array(strategy),
  variants: v.array(variant),
  defaultVariant: v.optional(v.string()),
  /** The rollout whose exposure this state is, when a rollout set it. */
  rollout: v.optional(v.string()),
});

export const flagDefinitionSchema: v.GenericSchema<unknown, FlagDefinition> = v.object({
  name: v.string(),
  description: v.optional(v.string()),
  type: v.picklist(['boolean', 'variant']),
  killSwitch: v.boolean(),
  scope: v.optional(v.object({ pipeline: v.optional(v.string()), dataset: v.optional(v.string()), source: v.optional(v.string()), step: v.optional(v.string()) })),
  enabled: v.boolean(),
  hash: v.picklist(['md5', 'murmur3']),
  strategies: v.array(strategy),
  variants: v.array(variant),
  variantStickiness: v.optional(v.string()),
  defaultVariant: v.optional(v.string()),
  dependencies: v.array(v.object({ flag: v.string(), enabled: v.optional(v.boolean()), variants: v.optional(v.array(v.string())) })),
  window: v.optional(timeWindow),
  rollout: v.optional(v.string()),
});

export const flagSnapshotSchema: v.GenericSchema<unknown, FlagSnapshot> = v.object({
  format: v.literal('sluice-flag-snapshot'),
  version: v.literal(1),
  environment: v.string(),
  createdAt: v.string(),
  flags: v.array(flagDefinitionSchema),
});
