import { findRolloutPlan, readPlanFiles } from '../../../config/load-rollout-plans.ts';
import type { Project } from '../../../config/project-model.ts';
import { renderReportMarkdown } from '../../../rollout/render-report-markdown.ts';
import type { RolloutPlan } from '../../../rollout/rollout-plan.ts';
import { initialRolloutState } from '../../../rollout/rollout-state.ts';
import { reportFromLog } from '../../../runner/rollouts/rollout-read-model.ts';
import { SluiceError } from '../../../util/errors.ts';
import type { CliContext } from '../cli-context.ts';
import { readRollouts } from './rollout-reads.ts';

/** `rollout report NAME [--format md|json]`: the review after a rollout, from what the controller stored. */
export async function rolloutReport(cli: CliContext, name: string, o: { format: string }): Promise<void> {
  if (o.format !== 'md' && o.format !== 'json') throw new SluiceError('USAGE', `--format takes md or json (got "${o.format}")`, { field: '--format' });
  const report = await readRollouts(cli, {
    recorded: async (ws) => {
      const plan = await ws.rollouts.plan(name); // NOT_FOUND for an unknown name
      return reportFromLog(await ws.rollouts.log(name), await ws.rollouts.state(name), plan);
    },
    // A project that never ran: the plan's report before its start.
    planned: (project: Project) => reportFromLog([], initialRolloutState(name), planNamed(project, name)),
  });
  cli.out({ json: report, text: o.format === 'json' ? JSON.stringify(report, null, 2) : renderReportMarkdown(report).trimEnd() });
}

function planNamed(project: Project, name: string): RolloutPlan {
  const plan = findRolloutPlan(project, name);
  if (!plan) throw new SluiceError('NOT_FOUND', `no rollout plan "${name}" in rollouts/ (plans: ${readPlanFiles(project).map((f) => f.name).join(', ') || 'none'})`, { field: 'rollout' });
  return plan;
}
