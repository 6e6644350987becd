import type { DependencyGateSpec } from '../gate-spec.ts';
import type { GateContext } from '../gate-evidence.ts';
import type { GateOutcome } from '../gate-verdict.ts';
import { outcome } from '../gate-verdict.ts';
import { formatDuration } from '../parse-duration.ts';

/**
 * Dependency readiness: an upstream rollout has reached `ENV/STAGE` (or `promoted`), and/or an
 * upstream dataset was published within `maxAge`. An upstream rollout that was rolled back or
 * aborted can never get there, so the gate fails; anything not there yet waits.
 */
export function evaluateDependencyGate(spec: DependencyGateSpec, ctx: GateContext): GateOutcome {
  const waits: string[] = [];
  const inputs: Record<string, unknown> = {};
  if (spec.rollout) {
    const up = ctx.observed?.rollouts?.[spec.rollout];
    inputs['rollout'] = { name: spec.rollout, reached: spec.reached, observed: up ?? null };
    if (!up) waits.push(`upstream rollout ${spec.rollout} is unknown`);
    else if (up.state === 'rolled_back' || up.state === 'aborted') {
      return outcome('failed', `upstream rollout ${spec.rollout} is ${up.state}; it will not reach ${spec.reached}`, inputs);
    } else if (!(up.state === 'promoted' || (spec.reached !== 'promoted' && up.reached.includes(spec.reached ?? '')))) {
      waits.push(`upstream rollout ${spec.rollout} has not reached ${spec.reached} (is ${up.state})`);
    }
  }
  if (spec.dataset) {
    const d = ctx.observed?.datasets?.[spec.dataset];
    const ageMs = d ? ctx.now.getTime() - new Date(d.publishedAt).getTime() : undefined;
    inputs['dataset'] = { name: spec.dataset, publishedAt: d?.publishedAt ?? null, ageMs: ageMs ?? null, maxAgeMs: spec.maxAgeMs };
    if (ageMs === undefined) waits.push(`upstream dataset ${spec.dataset} has never been published`);
    else if (spec.maxAgeMs !== undefined && ageMs > spec.maxAgeMs) waits.push(`upstream dataset ${spec.dataset} is stale (${formatDuration(ageMs)} old, max ${formatDuration(spec.maxAgeMs)})`);
  }
  if (waits.length > 0) return outcome('wait', waits.join('; '), inputs);
  return outcome('pass', 'upstream ready', inputs);
}
