import type { Command } from 'commander';
import { renderReportMarkdown } from '../../../rollout/render-report-markdown.ts';
import { reportFromLog } from '../../../runner/rollouts/rollout-read-model.ts';
import { SluiceError } from '../../../util/errors.ts';
import { openWorkspace } from '../../../app/open-workspace.ts';
import type { RolloutCli } from './rollout-cli.ts';

/** `rollout report NAME [--format md|json]`: the review after a rollout, from what the controller stored. */
export function registerReportCommand(rollout: Command, cli: RolloutCli): void {
  rollout
    .command('report')
    .argument('<name>')
    .option('--format <format>', 'md or json', 'md')
    .description('timeline of stages, batches, gate verdicts with their numbers, decisions and who did what')
    .action(async (name: string, o: { format: string }) => {
      if (o.format !== 'md' && o.format !== 'json') throw new SluiceError('USAGE', `--format takes md or json (got "${o.format}")`, { field: '--format' });
      await using ws = await openWorkspace(cli.globals().project, cli.globals().env, { recover: true });
      const plan = await ws.rollouts.plan(name); // NOT_FOUND for an unknown name
      const report = reportFromLog(await ws.rollouts.log(name), await ws.rollouts.state(name), plan);
      cli.out({ json: report, text: o.format === 'json' ? JSON.stringify(report, null, 2) : renderReportMarkdown(report).trimEnd() });
    });
}
