import type { Command } from 'commander';
import type { Emit } from '../emit.ts';
import { cliContext } from './cli-context.ts';

/**
 * `sluice rollout ...`: plans, control, status, report and rehearsal of progressive rollouts. The
 * definitions only; each command imports its implementation in rollout/ when it runs.
 */
export function registerRolloutCommands(program: Command, emit: Emit): void {
  const cli = cliContext(program, emit);
  const rollout = program.command('rollout').description('progressive rollouts: plans, start/status/pause/resume/promote/approve/abort/rollback, report, rehearse');
  const plans = (): Promise<typeof import('./rollout/plan-commands.ts')> => import('./rollout/plan-commands.ts');
  const control = (): Promise<typeof import('./rollout/control-commands.ts')> => import('./rollout/control-commands.ts');

  rollout
    .command('plans')
    .description('list the plans in rollouts/ with their problems (exit 3 when any plan is invalid)')
    .action(async () => (await plans()).listPlans(cli));

  rollout
    .command('validate')
    .argument('<name>', 'plan name or file base name in rollouts/')
    .description('check one plan; every problem is reported as file:line field: message')
    .action(async (name: string) => (await plans()).validatePlan(cli, name));

  rollout
    .command('start')
    .argument('<name>', 'a plan in rollouts/')
    .option('--reason <text>', 'why (kept in the audit log)')
    .description('start a rollout: check the whole project as validate does, then enter its first stage and set the flag for it')
    .action(async (name: string, o: { reason?: string }) => (await control()).startRollout(cli, name, o));

  rollout
    .command('approve')
    .argument('<name>')
    .option('--reason <text>', 'why')
    .description('approve the next stage transition (refused, exit 8, for the person who started the rollout)')
    .action(async (name: string, o: { reason?: string }) => (await control()).approveRollout(cli, name, o));

  for (const [verb, help] of [
    ['pause', 'stop moving on (batches still run and are recorded); resume continues'],
    ['resume', 'continue a paused rollout; gates judge batches from now on'],
    ['abort', 'stop and return flags to the baseline; published data stays until rollback'],
    ['rollback', 'return flags to the baseline and republish every touched partition from its baseline output, then re-run downstream'],
  ] as const) {
    rollout
      .command(verb)
      .argument('<name>')
      .requiredOption('--reason <text>', 'why (kept in the audit log)')
      .description(help)
      .action(async (name: string, o: { reason: string }) => (await control()).steerRollout(cli, verb, name, o));
  }

  rollout
    .command('promote')
    .argument('<name>')
    .option('--to-stage <stage>', 'STAGE (in the current environment), ENV/STAGE, ENV or promoted (default: the next stage)')
    .requiredOption('--reason <text>', 'why the current stage\'s gates may be skipped (approvals never are)')
    .description('move on now, at a batch boundary, skipping the current stage\'s gates')
    .action(async (name: string, o: { toStage?: string; reason: string }) => (await control()).promoteRollout(cli, name, o));

  rollout
    .command('tick')
    .description('the timer: re-judge the gates of every active rollout (soak time, windows, approvals)')
    .action(async () => (await control()).tickRollouts(cli));

  rollout
    .command('status')
    .argument('[name]', 'one rollout (default: all)')
    .description('state, stage, batches in the stage, last gate verdicts and what each rollout waits for')
    .action(async (name: string | undefined) => (await import('./rollout/status-command.ts')).rolloutStatus(cli, name));

  rollout
    .command('report')
    .argument('<name>')
    .option('--format <format>', 'md or json', 'md')
    .description('timeline of stages, batches, gate verdicts with their numbers, decisions and who did what')
    .action(async (name: string, o: { format: string }) => (await import('./rollout/report-command.ts')).rolloutReport(cli, name, o));

  rollout
    .command('rehearse')
    .argument('<name>')
    .option('--temp-dir <dir>', 'where to put the temporary copy (deleted at the end)')
    .description('roll back on a copy of the data and metadata, verify restored partitions equal their baseline, time it; the real environment is left untouched')
    .action(async (name: string, o: { tempDir?: string }) => (await import('./rollout/rehearse-command.ts')).rehearseRollout(cli, name, o));
}
