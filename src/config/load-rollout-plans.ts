import { existsSync, readdirSync } from 'node:fs';
import { PROJECT_LIMITS, readProjectFile } from '../util/project-file.ts';
import { basename, join } from 'node:path';
import type { Project } from './project-model.ts';
import { parseRolloutPlan } from '../rollout/parse-rollout-plan.ts';
import type { KnownStep, RolloutPlan } from '../rollout/rollout-plan.ts';
import { stepKey } from '../rollout/rollout-plan.ts';
import { configError, type Problem } from '../util/errors.ts';

/** One file in rollouts/: the plan it holds, or every problem with it. */
export type PlanFile = {
  /** Relative to the project root, e.g. `rollouts/clean-orders-v2.yaml`. */
  readonly file: string;
  /** The plan's name, or the file's base name when it does not parse. */
  readonly name: string;
  readonly plan?: RolloutPlan;
  readonly problems: readonly Problem[];
};

/** What the project knows of its steps, for the plan parser's cross-checks. */
export function knownSteps(project: Project): KnownStep[] {
  return [...project.pipelines.values()].flatMap((p) =>
    p.steps.map((s) => ({
      pipeline: p.name,
      step: s.name,
      versions: [...s.versions.keys()],
      ...(s.sliceKey ? { sliceKey: s.sliceKey } : {}),
      datasets: [...p.datasets.values()].filter((d) => d.step === s.name).map((d) => d.name),
    })),
  );
}

/** Every plan file in rollouts/, each parsed on its own, so one broken file does not hide the others. */
export function readPlanFiles(project: Project): PlanFile[] {
  const dir = join(project.root, 'rollouts');
  if (!existsSync(dir)) return [];
  const known = knownSteps(project);
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => {
      const file = join('rollouts', f);
      const read = readProjectFile(join(project.root, file), file, PROJECT_LIMITS.yamlBytes);
      if (!read.ok) return { file, name: basename(f).replace(/\.ya?ml$/, ''), problems: [read.problem] };
      const r = parseRolloutPlan(file, read.text, known);
      return r.ok ? { file, name: r.plan.name, plan: r.plan, problems: [] } : { file, name: basename(f).replace(/\.ya?ml$/, ''), problems: r.problems };
    });
}

/** One line per stage: `dev/shadow (shadow) gates: checks, soak`. */
export function describeStages(plan: RolloutPlan): string[] {
  return plan.environments.flatMap((e) =>
    e.stages.map((s) => {
      const what = s.mode === 'canary' && s.target ? (s.target.kind === 'rows' ? `canary ${s.target.percent}% of rows` : s.target.kind === 'list' ? `canary ${s.target.dimension}: ${s.target.values.join(', ')}` : `canary ${s.target.percent}% of ${s.target.dimension}`) : s.mode;
      const approvals = s.approvals > 0 ? `, needs ${s.approvals} approval(s) first` : '';
      return `${e.name}/${s.id} (${what}${approvals})${s.gates.length ? ` gates: ${s.gates.map((g) => `${g.id} [${g.kind}${g.onFail === 'rollback' ? ', rollback' : ''}]`).join(', ')}` : ' no gates'}`;
    }),
  );
}

export function planSteps(plan: RolloutPlan): string {
  return plan.steps.map(stepKey).join(', ');
}

/** Every valid plan in rollouts/; throws CONFIG_INVALID with every problem of the invalid files. */
export function loadRolloutPlans(project: Project): RolloutPlan[] {
  const files = readPlanFiles(project);
  const problems = files.flatMap((f) => f.problems);
  if (problems.length > 0) throw configError(problems);
  return files.flatMap((f) => (f.plan ? [f.plan] : []));
}

/** The plan named `name`; another plan file's problems are reported only when no valid file holds it. */
export function findRolloutPlan(project: Project, name: string): RolloutPlan | undefined {
  const files = readPlanFiles(project);
  const found = files.find((f) => f.plan?.name === name)?.plan;
  if (found) return found;
  const problems = files.flatMap((f) => f.problems);
  if (problems.length > 0) throw configError(problems);
  return undefined;
}
