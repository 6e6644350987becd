import type { Pipeline, Step } from '../config/project-model.ts';
import { evaluate } from '../flags/evaluate.ts';
import type { EvaluationContext } from '../flags/evaluation-context.ts';
import type { FlagDefinition, FlagSet, Strategy } from '../flags/flag.ts';
import { SluiceError } from '../util/errors.ts';
import type { StepExposure } from '../flags/exposure.ts';

export type { StepExposure } from '../flags/exposure.ts';

export interface ExposureContext {
  readonly environment: string;
  readonly partition: string;
  readonly now: Date;
}

/** The flag that picks a version of this step: a variant flag scoped to it (first by name). */
export function stepFlag(flags: FlagSet, pipeline: string, step: string): FlagDefinition | undefined {
  return [...flags.values()]
    .filter((f) => f.type === 'variant' && f.scope?.step === step && (!f.scope.pipeline || f.scope.pipeline === pipeline))
    .sort((a, b) => (a.name < b.name ? -1 : 1))[0];
}

/** Enabled kill switches that stop a pipeline (scoped to it, or unscoped) or force a step to its baseline. */
function killSwitchOn(flags: FlagSet, ctx: EvaluationContext, step?: string): FlagDefinition | undefined {
  return [...flags.values()].find((f) => {
    if (!f.killSwitch) return false;
    if (f.scope?.pipeline && f.scope.pipeline !== ctx.pipeline) return false;
    if ((f.scope?.step ?? undefined) !== step) return false;
    return evaluate(f, ctx, flags).enabled;
  });
}

/** Refuses a run whose pipeline a kill switch has turned off. */
export function assertNotKilled(flags: FlagSet, pipeline: string, ctx: ExposureContext): void {
  const killer = killSwitchOn(flags, { environment: ctx.environment, pipeline, partition: ctx.partition, currentTime: ctx.now });
  if (killer) throw new SluiceError('CONFLICT', `pipeline ${pipeline} is stopped by kill switch ${killer.name} in ${ctx.environment}`, { field: 'flags' });
}

export function stepExposures(pipeline: Pipeline, flags: FlagSet, ctx: ExposureContext): Map<string, StepExposure> {
  const out = new Map<string, StepExposure>();
  for (const step of pipeline.steps) out.set(step.name, exposureOf(pipeline, step, flags, ctx));
  return out;
}

function exposureOf(pipeline: Pipeline, step: Step, flags: FlagSet, ctx: ExposureContext): StepExposure {
  const flag = stepFlag(flags, pipeline.name, step.name);
  if (!flag) return { kind: 'single', step: step.name, version: step.defaultVersion, reason: 'default version' };
  const baseline = flag.defaultVariant ?? step.defaultVersion;
  // The dataset a step publishes (its first), so a flag can target datasets by list or share.
  const dataset = [...pipeline.datasets.values()].find((d) => d.step === step.name)?.name;
  const evalCtx: EvaluationContext = { environment: ctx.environment, pipeline: pipeline.name, step: step.name, dataset, partition: ctx.partition, currentTime: ctx.now };
  const rollout = flag.rollout !== undefined ? { rollout: flag.rollout } : {};
  const single = (reason: string): StepExposure => ({ kind: 'single', step: step.name, version: baseline, flag: flag.name, ...rollout, reason });
  if (!flag.enabled) return single(`flag ${flag.name} is disabled`);
  const killer = killSwitchOn(flags, evalCtx, step.name);
  if (killer) return single(`kill switch ${killer.name} is on`);

  const sliced = (candidate: string | undefined, percent: number, salt: string, why: string): StepExposure => {
    if (!candidate || candidate === baseline) return single(`flag ${flag.name} names no candidate other than ${baseline}`);
    if (percent > 0 && percent < 100 && !step.sliceKey) {
      throw new SluiceError('CONFIG_INVALID', `flag ${flag.name} slices step ${step.name} by ${percent} %, but the step declares no slice_key`, { step: step.name, field: `steps.${step.name}.slice_key` });
    }
    return { kind: 'sliced', step: step.name, baseline, candidate, percent, salt, sliceKey: step.sliceKey, flag: flag.name, ...rollout, reason: why };
  };

  if (flag.strategies.length === 0) {
    const r = evaluate(flag, evalCtx, flags);
    return r.enabled ? sliced(r.variant, 100, flag.name, `flag ${flag.name} is on for everyone`) : single(`flag ${flag.name}: ${r.reason}`);
  }
  for (const [i, s] of flag.strategies.entries()) {
    const rowSlice = s.kind === 'gradual' && (s.stickiness === 'slice_key' || s.stickiness === 'default');
    // A row slice is decided per row in SQL; here only its constraints, segments and window are judged.
    const probe: Strategy = rowSlice ? { ...s, kind: 'default' } as Strategy : s;
    const r = evaluate({ ...flag, strategies: [probe] }, evalCtx, flags);
    if (!r.enabled) continue;
    const label = s.label ?? `strategy ${i + 1} (${s.kind})`;
    if (rowSlice && s.kind === 'gradual') return sliced(r.variant, s.percentage, s.groupId, `flag ${flag.name}: ${label}, ${s.percentage} % of ${step.sliceKey ?? 'rows'}`);
    return sliced(r.variant, 100, flag.name, `flag ${flag.name}: ${label} matched this run`);
  }
  return single(`flag ${flag.name}: no strategy matched this run`);
}
