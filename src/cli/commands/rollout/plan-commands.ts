import { loadProjectOrThrow } from '../../../app/load-project.ts';
import { SluiceError, configError, formatProblem } from '../../../util/errors.ts';
import { formatTable } from '../../../util/format-table.ts';
import type { CliContext } from '../cli-context.ts';
import { describeStages, planSteps, readPlanFiles, type PlanFile } from '../../../config/load-rollout-plans.ts';

/** `rollout plans`: the plans in rollouts/ with their problems (exit 3 when any plan is invalid). */
export async function listPlans(cli: CliContext): Promise<void> {
  const files = readPlanFiles(await loadProjectOrThrow(cli.globals().project));
  const rows = files.map((f) => ({
    name: f.name,
    file: f.file,
    steps: f.plan ? planSteps(f.plan) : '',
    change: f.plan ? `${f.plan.baseline} -> ${f.plan.candidate}` : '',
    stages: f.plan ? f.plan.environments.map((e) => `${e.name}: ${e.stages.map((s) => s.id).join(', ')}`).join('; ') : '',
    status: f.problems.length ? `INVALID (${f.problems.length} problem${f.problems.length > 1 ? 's' : ''})` : 'ok',
  }));
  const problems = files.flatMap((f) => f.problems.map((p) => `  ${formatProblem(p)}`));
  cli.out({
    json: files.map(planJson),
    text: [formatTable(rows), ...(problems.length ? ['', 'problems:', ...problems] : [])].join('\n'),
    exitCode: problems.length ? 3 : 0,
  });
}

/** `rollout validate NAME`: one plan checked; every problem reported as file:line field: message. */
export async function validatePlan(cli: CliContext, name: string): Promise<void> {
  const files = readPlanFiles(await loadProjectOrThrow(cli.globals().project));
  const f = files.find((x) => x.name === name) ?? files.find((x) => x.file.replace(/^rollouts\//, '').replace(/\.ya?ml$/, '') === name);
  if (!f) throw new SluiceError('NOT_FOUND', `no rollout plan "${name}" in rollouts/ (plans: ${files.map((x) => x.name).join(', ') || 'none'})`, { field: 'rollout' });
  if (!f.plan) throw configError(f.problems);
  const p = f.plan;
  cli.out({
    json: planJson(f),
    text: [
      `${f.file}: ${p.name} ok`,
      `  moves ${planSteps(p)} from ${p.baseline} to ${p.candidate}`,
      ...describeStages(p).map((s) => `  ${s}`),
      ...p.risks.map((r) => `  risk: ${r.exposure} — mitigation: ${r.mitigation} (gate ${r.gate})`),
    ].join('\n'),
  });
}

function planJson(f: PlanFile): Record<string, unknown> {
  return { name: f.name, file: f.file, ok: f.problems.length === 0, ...(f.plan ? { plan: f.plan } : {}), problems: f.problems };
}
