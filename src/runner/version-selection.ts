import type { Pipeline, Step } from '../config/project-model.ts';

/**
 * Which version of each step a run uses. This is the one place that decides; flags and rollouts
 * take it over by passing overrides (their snapshot, pinned at the run's start).
 */
export interface StepSelection {
  readonly step: string;
  /** The version whose output is published (the baseline while a rollout is not exposing the candidate). */
  readonly version: string;
  readonly reason: string;
}

export type VersionOverrides = Readonly<Record<string, { version: string; reason: string }>>;

export function selectVersions(pipeline: Pipeline, overrides: VersionOverrides = {}): Map<string, StepSelection> {
  const out = new Map<string, StepSelection>();
  for (const step of pipeline.steps) {
    const o = overrides[step.name];
    out.set(step.name, o ? { step: step.name, version: o.version, reason: o.reason } : { step: step.name, version: step.defaultVersion, reason: 'default version' });
  }
  return out;
}

export function stepVersion(step: Step, version: string) {
  return step.versions.get(version);
}
