import * as v from 'valibot';
import type { StepExposure } from '../../flags/exposure.ts';
import type { PinnedFlags, StepArtifact } from '../metadata-store.ts';
import { flagSnapshotSchema } from './flag-schemas.ts';
import { jsonNumber } from './json-number.ts';

const str = v.string();

const exposure: v.GenericSchema<unknown, StepExposure> = v.variant('kind', [
  v.object({ kind: v.literal('single'), step: str, version: str, flag: v.optional(str), rollout: v.optional(str), reason: str }),
  v.object({ kind: v.literal('sliced'), step: str, baseline: str, candidate: str, percent: jsonNumber, salt: str, sliceKey: v.optional(str), flag: str, rollout: v.optional(str), reason: str }),
]);

export const pinnedFlagsSchema: v.GenericSchema<unknown, PinnedFlags> = v.object({ snapshot: flagSnapshotSchema, exposures: v.record(v.string(), exposure) });

export const artifactsSchema: v.GenericSchema<unknown, Record<string, StepArtifact>> = v.record(
  v.string(),
  v.object({ version: str, hash: str, candidate: v.optional(v.object({ version: str, hash: str, percent: jsonNumber, flag: str })) }),
);

export const stringListSchema: v.GenericSchema<unknown, string[]> = v.array(str);

export const detailsSchema: v.GenericSchema<unknown, Record<string, unknown>> = v.record(v.string(), v.unknown());
