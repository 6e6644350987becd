/**
 * What a flag is evaluated for. ETL-shaped: where in the project (environment, pipeline, dataset,
 * source, step), which batch (partition) and which row (slice_key); plus any custom string property
 * and the time. Constraints and stickiness name a field: one of the known fields, else a property.
 */
export interface EvaluationContext {
  readonly environment?: string;
  readonly pipeline?: string;
  readonly dataset?: string;
  readonly source?: string;
  readonly step?: string;
  readonly partition?: string;
  readonly slice_key?: string | number;
  /** The instant to evaluate at; when absent the evaluator asks its Clock. */
  readonly currentTime?: Date | string;
  readonly properties?: Readonly<Record<string, string | number | boolean | null | undefined>>;
}

export const KNOWN_CONTEXT_FIELDS = ['environment', 'pipeline', 'dataset', 'source', 'step', 'partition', 'slice_key', 'currentTime'] as const;

const known: ReadonlySet<string> = new Set(KNOWN_CONTEXT_FIELDS);

export function isKnownContextField(field: string): boolean {
  return known.has(field);
}

/** The string value of a context field, or undefined when it is absent, null or empty. */
export function contextValue(ctx: EvaluationContext, field: string): string | undefined {
  let v: unknown;
  switch (field) {
    case 'slice_key':
      v = ctx.slice_key;
      break;
    case 'environment':
      v = ctx.environment;
      break;
    case 'pipeline':
      v = ctx.pipeline;
      break;
    case 'dataset':
      v = ctx.dataset;
      break;
    case 'source':
      v = ctx.source;
      break;
    case 'step':
      v = ctx.step;
      break;
    case 'partition':
      v = ctx.partition;
      break;
    case 'currentTime':
      v = ctx.currentTime instanceof Date ? ctx.currentTime.toISOString() : ctx.currentTime;
      break;
    default:
      v = ctx.properties?.[field];
  }
  if (v === undefined || v === null || v === '') return undefined;
  return typeof v === 'string' ? v : String(v);
}

/**
 * Parses `k=v` pairs (as given to `sluice flags evaluate --context`) into a context: known fields
 * land on the context, anything else in properties.
 */
export function contextFromPairs(pairs: readonly string[]): { ok: true; context: EvaluationContext } | { ok: false; message: string } {
  const out: Record<string, unknown> = {};
  const props: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i <= 0) return { ok: false, message: `context entry "${pair}" is not of the form key=value` };
    const k = pair.slice(0, i);
    const v = pair.slice(i + 1);
    if (known.has(k)) out[k] = v;
    else props[k] = v;
  }
  if (Object.keys(props).length > 0) out['properties'] = props;
  return { ok: true, context: out as EvaluationContext };
}
