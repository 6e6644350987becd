import type { Command } from 'commander';
import type { Emit } from '../emit.ts';
import type { GlobalOptions } from '../main.ts';
import { registerControlCommands } from './rollout/control-commands.ts';
import { registerPlanCommands } from './rollout/plan-commands.ts';
import { registerRehearseCommand } from './rollout/rehearse-command.ts';
import { registerReportCommand } from './rollout/report-command.ts';
import type { RolloutCli } from './rollout/rollout-cli.ts';
import { registerStatusCommand } from './rollout/status-command.ts';

/** `sluice rollout ...`: plans, control, status, report and rehearsal of progressive rollouts. */
export function registerRolloutCommands(program: Command, emit: Emit): void {
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const cli: RolloutCli = { globals, out: (r) => emit(r, globals()) };
  const rollout = program.command('rollout').description('progressive rollouts: plans, start/status/pause/resume/promote/approve/abort/rollback, report, rehearse');
  registerPlanCommands(rollout, cli);
  registerControlCommands(rollout, cli);
  registerStatusCommand(rollout, cli);
  registerReportCommand(rollout, cli);
  registerRehearseCommand(rollout, cli);
}
