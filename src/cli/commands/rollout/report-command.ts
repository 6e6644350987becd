import type { Command } from 'commander';
import { buildRolloutReport, type RolloutReport } from '../../../rollout/build-rollout-report.ts';
import type { BatchRecord } from '../../../rollout/gate-evidence.ts';
import type { GateVerdict } from '../../../rollout/gate-verdict.ts';
import { renderReportMarkdown } from '../../../rollout/render-report-markdown.ts';
import type { Transition } from '../../../rollout/transition.ts';
import type { RolloutLogEntry } from '../../../runner/rollout-controller.ts';
import { SluiceError } from '../../../util/errors.ts';
import { openWorkspace } from '../../workspace.ts';
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
      await using ws = await openWorkspace(cli.globals().project, cli.globals().env);
      ws.rollouts.plan(name); // NOT_FOUND for an unknown name
      const report = reportFromLog(ws.rollouts.log(name), ws.rollouts.state(name));
      cli.out({ json: report, text: o.format === 'json' ? JSON.stringify(report, null, 2) : renderReportMarkdown(report).trimEnd() });
    });
}

export function reportFromLog(log: readonly RolloutLogEntry[], state: Parameters<typeof buildRolloutReport>[3]): RolloutReport {
  const transitions: Transition[] = [];
  const batches: BatchRecord[] = [];
  const verdicts: GateVerdict[] = [];
  for (const e of log) {
    if (e.type === 'transition') transitions.push(e.transition);
    else if (e.type === 'batch') batches.push(e.batch);
    else verdicts.push(...e.verdicts);
  }
  return buildRolloutReport(transitions, batches, verdicts, state);
}
