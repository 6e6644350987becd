/** The flag system's public surface: model, parsing, evaluation, bucketing, import, snapshots, OpenFeature. */
export { CONSTRAINT_OPERATORS, deepFreeze, flagSet } from './flag.ts';
export type {
  Constraint,
  ConstraintOperator,
  DefaultStrategy,
  Dependency,
  FlagDefinition,
  FlagScope,
  FlagSet,
  FlagType,
  GradualStrategy,
  HashAlgorithm,
  ListStrategy,
  Segment,
  Strategy,
  TimeWindow,
  UnknownStrategy,
  Variant,
  VariantOverride,
  VariantPayload,
} from './flag.ts';
export { contextFromPairs, contextValue, KNOWN_CONTEXT_FIELDS } from './evaluation-context.ts';
export type { EvaluationContext } from './evaluation-context.ts';
export { parseFlagFile } from './parse-flag-file.ts';
export type { ParseFlagsResult } from './parse-flag-file.ts';
export { evaluate } from './evaluate.ts';
export type { EvaluateOptions, EvaluationErrorCode, EvaluationReason, FlagEvaluation } from './evaluate.ts';
export { evaluateBulk } from './evaluate-bulk.ts';
export type { BulkEvaluation } from './evaluate-bulk.ts';
export { formatExplanation } from './explanation.ts';
export type { Explanation, ExplanationStep, StepOutcome } from './explanation.ts';
export { bucket, bucketMany, BUCKETS, inSlice, sliceBound, unleashNormalizedValue, UNLEASH_VARIANT_SEED } from './bucket.ts';
export { bucketSql, sliceSql } from './bucket-sql.ts';
export { md5Hex } from './md5.ts';
export { murmur3 } from './murmur3.ts';
export { importUnleash, unleashContext } from './import-unleash.ts';
export type { ImportResult } from './import-unleash.ts';
export { createSnapshot, parseSnapshot, readSnapshot, snapshotFlags, writeSnapshot } from './flag-snapshot.ts';
export type { FlagSnapshot } from './flag-snapshot.ts';
export { SluiceProvider, toSluiceContext } from './sluice-provider.ts';
export type { SluiceProviderOptions } from './sluice-provider.ts';
export { runUnleashSuite } from './conformance/unleash-suite.ts';
export type { SuiteReport } from './conformance/unleash-suite.ts';
