import type { Command } from 'commander';
import type { Emit } from '../emit.ts';
import { cliContext } from './cli-context.ts';
import { EXIT_PLAN_DIFFERS } from '../output.ts';

/**
 * `sluice plan [--env E] [--write]`: the difference between the project files and what each
 * environment runs (flag states, promoted baselines, rollouts in progress, contracts), exit 12 when
 * they differ for a reason other than a rollout in progress; `--write` commits promoted baselines
 * to the files that define them.
 */
export function registerPlanCommand(program: Command, emit: Emit): void {
  const cli = cliContext(program, emit);
  program
    .command('plan')
    .option('--all', 'every environment (default: every environment unless --env is given)')
    .option('--write', 'write promoted baselines into the project files (flag default_variant, or the step default_version), keeping comments')
    .description(`what each environment runs that the project files do not say (exit ${EXIT_PLAN_DIFFERS} when they differ); --write commits promoted baselines to the files`)
    .action(async (o: { write?: boolean }) => (await import('./plan/plan-action.ts')).showPlan(cli, o));
}
