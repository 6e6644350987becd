import {
  ErrorCode,
  type EvaluationContext as OFContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
  type ResolutionReason,
} from '@openfeature/server-sdk';
import type { Clock } from '../util/clock.ts';
import { evaluate, type FlagEvaluation } from './evaluate.ts';
import { isKnownContextField, type EvaluationContext } from './evaluation-context.ts';
import type { FlagSet } from './flag.ts';
import { readSnapshot, snapshotFlags, type FlagSnapshot } from './flag-snapshot.ts';

export interface SluiceProviderOptions {
  /** A snapshot file to load on initialize (see flag-snapshot.ts). */
  readonly file?: string;
  /** Or a snapshot already in memory. */
  readonly snapshot?: FlagSnapshot;
  readonly clock?: Clock;
}

/**
 * An OpenFeature server provider over a Sluice flag snapshot: a thin layer on `evaluate`.
 * The context's targetingKey is the slice key (unless slice_key is given); Sluice's known fields
 * (environment, pipeline, dataset, source, step, partition, slice_key, currentTime) map by name,
 * every other attribute becomes a property. Boolean flags resolve as booleans; variant flags as
 * strings (the variant's string payload, else its name), numbers (number payload) or objects
 * (json payload). Asking a flag for a type it does not hold gives TYPE_MISMATCH; a missing flag
 * FLAG_NOT_FOUND.
 */
export class SluiceProvider implements Provider {
  readonly metadata = { name: 'sluice' } as const;
  readonly runsOn = 'server' as const;
  readonly hooks = [];
  private flags: FlagSet = new Map();
  private environment: string | undefined;

  constructor(private readonly options: SluiceProviderOptions) {
    if (options.snapshot) this.load(options.snapshot);
  }

  async initialize(): Promise<void> {
    if (this.options.file) this.load(await readSnapshot(this.options.file));
  }

  private load(s: FlagSnapshot): void {
    this.flags = snapshotFlags(s);
    this.environment = s.environment;
  }

  private run(flagKey: string, context: OFContext): FlagEvaluation {
    return evaluate(flagKey, toSluiceContext(context, this.environment), this.flags, { clock: this.options.clock });
  }

  async resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: OFContext): Promise<ResolutionDetails<boolean>> {
    const r = this.run(flagKey, context);
    if (r.errorCode) return failed(defaultValue, r);
    if (typeof r.value !== 'boolean') return mismatch(defaultValue, flagKey, 'a variant flag', 'boolean');
    return details(r.value, r);
  }

  async resolveStringEvaluation(flagKey: string, defaultValue: string, context: OFContext): Promise<ResolutionDetails<string>> {
    const r = this.run(flagKey, context);
    if (r.errorCode) return failed(defaultValue, r);
    if (typeof r.value !== 'string') return mismatch(defaultValue, flagKey, 'a boolean flag', 'string');
    if (r.payload && (r.payload.type === 'string' || r.payload.type === 'csv')) return details(r.payload.value, r);
    if (!r.variant && this.flags.get(flagKey)?.defaultVariant === undefined) return details(defaultValue, r);
    return details(r.value, r);
  }

  async resolveNumberEvaluation(flagKey: string, defaultValue: number, context: OFContext): Promise<ResolutionDetails<number>> {
    const r = this.run(flagKey, context);
    if (r.errorCode) return failed(defaultValue, r);
    if (!r.variant) return typeof r.value === 'boolean' ? mismatch(defaultValue, flagKey, 'a boolean flag', 'number') : details(defaultValue, r);
    if (r.payload?.type !== 'number') return mismatch(defaultValue, flagKey, `variant ${r.variant} without a number payload`, 'number');
    return details(Number(r.payload.value), r);
  }

  async resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: OFContext): Promise<ResolutionDetails<T>> {
    const r = this.run(flagKey, context);
    if (r.errorCode) return failed(defaultValue, r);
    if (!r.variant) return typeof r.value === 'boolean' ? mismatch(defaultValue, flagKey, 'a boolean flag', 'object') : details(defaultValue, r);
    if (r.payload?.type !== 'json') return mismatch(defaultValue, flagKey, `variant ${r.variant} without a json payload`, 'object');
    try {
      return details(JSON.parse(r.payload.value) as T, r);
    } catch {
      return { value: defaultValue, reason: 'ERROR', errorCode: ErrorCode.PARSE_ERROR, errorMessage: `variant ${r.variant} payload is not valid JSON` };
    }
  }
}

function details<T>(value: T, r: FlagEvaluation): ResolutionDetails<T> {
  return { value, reason: r.reason as ResolutionReason, ...(r.variant !== undefined ? { variant: r.variant } : {}) };
}

function failed<T>(defaultValue: T, r: FlagEvaluation): ResolutionDetails<T> {
  const code = ErrorCode[r.errorCode as keyof typeof ErrorCode] ?? ErrorCode.GENERAL;
  return { value: defaultValue, reason: 'ERROR', errorCode: code, errorMessage: r.errorMessage };
}

function mismatch<T>(defaultValue: T, flagKey: string, holds: string, asked: string): ResolutionDetails<T> {
  return { value: defaultValue, reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH, errorMessage: `flag ${flagKey} is ${holds}; it cannot resolve as ${asked}` };
}

/** Maps an OpenFeature context onto Sluice's (see SluiceProvider). */
export function toSluiceContext(ctx: OFContext, environment?: string): EvaluationContext {
  const out: Record<string, unknown> = {};
  const props: Record<string, string> = {};
  if (environment) out['environment'] = environment;
  for (const [k, v] of Object.entries(ctx)) {
    if (v === undefined || v === null) continue;
    if (k === 'targetingKey') {
      out['slice_key'] ??= String(v);
      continue;
    }
    const text = v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (isKnownContextField(k)) out[k] = text;
    else props[k] = text;
  }
  if (ctx['slice_key'] !== undefined && ctx['slice_key'] !== null) out['slice_key'] = String(ctx['slice_key']);
  if (Object.keys(props).length > 0) out['properties'] = props;
  return out as EvaluationContext;
}
