import { datasetContract } from '../config/load-contracts.ts';
import type { Project } from '../config/project-model.ts';
import type { FlagDefinition } from '../flags/flag.ts';
import { stateOf } from '../flags/flag-state.ts';
import { describeChanges } from '../flags/flag-summary.ts';
import { ACTIVE_STATES } from '../rollout/rollout-state.ts';
import { SYSTEM_ACTOR } from '../rollout/rollout-action.ts';
import type { Stores } from '../store/metadata-store.ts';
import { stableJson } from '../util/stable-json.ts';
import type { FlagStates } from './flag-states.ts';
import type { RolloutService } from './rollouts/rollout-service.ts';
import { stepFlag } from './step-exposure.ts';
import { flagSet } from '../flags/flag.ts';

/**
 * `sluice plan`: how the deployed state of each environment differs from the project files. The
 * files are the source of truth; a rollout changes the deployed state through Sluice, and its
 * result is committed to git afterwards (`sluice plan --write`).
 */
export interface PlanItem {
  readonly environment: string;
  /**
   * `baseline`: a step's version flag is off in both, but deploys another baseline (a promotion);
   * `flag`: any other difference of a flag's state; `rollout`: a rollout in progress;
   * `contract`: runs enforced an older contract version than the files hold (the next run enforces the new one).
   */
  readonly kind: 'baseline' | 'flag' | 'rollout' | 'contract';
  readonly subject: string;
  readonly files: string;
  readonly deployed: string;
  readonly why: string;
  /** True when the difference counts for the exit code: not a rollout in progress, not resolved by the next run. */
  readonly counts: boolean;
  /** For a step's baseline: the step (pipeline.step) whose version flag this is. */
  readonly step?: string;
  /** The deployed state was set by the rollout controller (a promotion), not by a person: `plan --write` commits it. */
  readonly byRollout?: boolean;
}

export interface DeploymentPlan {
  readonly environments: readonly string[];
  readonly items: readonly PlanItem[];
  readonly differs: boolean;
}

export interface PlanDeps {
  readonly project: Project;
  readonly store: Pick<Stores, 'flagRevisions' | 'checkResults'>;
  readonly flags: FlagStates;
  readonly rollouts: Pick<RolloutService, 'attempts'>;
}

/** A step's version flag: which step it picks versions of (pipeline.step), when it is one. */
export function versionFlagStep(project: Project, flag: FlagDefinition): string | undefined {
  for (const p of project.pipelines.values()) {
    for (const s of p.steps) if (stepFlag(flagSet(project.flags), p.name, s.name)?.name === flag.name) return `${p.name}.${s.name}`;
  }
  return undefined;
}

export async function deploymentPlan(deps: PlanDeps, environments: readonly string[]): Promise<DeploymentPlan> {
  const { project } = deps;
  const items: PlanItem[] = [];
  const attempts = await deps.rollouts.attempts();
  const active = new Map(attempts.filter((a) => ACTIVE_STATES.includes(a.state.kind)).map((a) => [a.id, a]));
  for (const env of environments) {
    for (const declared of project.flags) {
      const revisions = await deps.store.flagRevisions.list(env, declared.name);
      const last = revisions[revisions.length - 1];
      if (!last) continue;
      const file = stateOf(declared);
      const { rollout, ...deployed } = stateOf(last.state);
      // A flag that is off runs its default variant whatever its strategies say: only that can differ.
      const same = !file.enabled && !deployed.enabled ? (file.defaultVariant ?? '') === (deployed.defaultVariant ?? '') : stableJson(deployed) === stableJson(file);
      if (same) continue;
      const inProgress = rollout !== undefined && active.has(rollout);
      const step = versionFlagStep(project, declared);
      const why = inProgress ? `rollout ${rollout} in progress` : `revision ${last.revision} by ${last.actor}${last.reason ? `: ${last.reason}` : ''}`;
      if (step && !deployed.enabled && !file.enabled && (deployed.defaultVariant ?? '') !== (file.defaultVariant ?? '')) {
        items.push({ environment: env, kind: 'baseline', subject: declared.name, step, files: `${file.defaultVariant ?? '-'}`, deployed: `${deployed.defaultVariant ?? '-'}`, why, counts: !inProgress, byRollout: last.actor === SYSTEM_ACTOR });
      } else {
        items.push({ environment: env, kind: 'flag', subject: declared.name, files: summary(file), deployed: describeChanges(file, deployed).join('; ') || summary(deployed), why, counts: !inProgress, ...(step ? { step } : {}) });
      }
    }
    for (const a of active.values()) {
      if (!a.plan.environments.some((e) => e.name === env)) continue;
      const here = a.state.position?.environment === env ? `${a.state.kind} at ${env}/${a.state.position.stageId}` : a.state.kind;
      items.push({ environment: env, kind: 'rollout', subject: a.id, files: `${a.plan.baseline} (baseline)`, deployed: `${here}, moving to ${a.plan.candidate}`, why: `started by ${a.state.startedBy ?? '?'}`, counts: false });
    }
    for (const p of project.pipelines.values()) {
      for (const d of p.datasets.values()) {
        const contract = datasetContract(project, d);
        if (!contract) continue;
        const last = await deps.store.checkResults.latest(env, d.name);
        const enforced = last?.results.find((r) => r.id === 'contract');
        const version = enforced && 'contract' in enforced ? enforced.contract.version : undefined;
        if (version !== undefined && version !== contract.current.version) {
          items.push({ environment: env, kind: 'contract', subject: d.name, files: `v${contract.current.version}`, deployed: `v${version} (run ${last?.runId})`, why: 'the next run enforces the contract in the files', counts: false });
        }
      }
    }
  }
  return { environments, items, differs: items.some((i) => i.counts) };
}

function summary(s: { enabled: boolean; defaultVariant?: string; strategies: readonly unknown[] }): string {
  return `${s.enabled ? 'on' : 'off'}${s.defaultVariant ? `, baseline ${s.defaultVariant}` : ''}${s.strategies.length ? `, ${s.strategies.length} strategy(ies)` : ''}`;
}
