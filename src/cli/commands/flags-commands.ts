import type { Command } from 'commander';
import type { Emit } from '../emit.ts';
import { cliContext } from './cli-context.ts';
import type { SetFlagOptions } from './flags/flag-changes.ts';

/**
 * `sluice flags ...`: definitions only. Reads (list, show, history, evaluate, snapshot) run in
 * flags/flag-reads.ts on metadata alone; changes in flags/flag-changes.ts through the workspace.
 */
export function registerFlagCommands(program: Command, emit: Emit): void {
  const cli = cliContext(program, emit);
  const flags = program.command('flags').description('feature flags: state per environment, history, evaluation, import and snapshots');
  const reads = (): Promise<typeof import('./flags/flag-reads.ts')> => import('./flags/flag-reads.ts');
  const changes = (): Promise<typeof import('./flags/flag-changes.ts')> => import('./flags/flag-changes.ts');

  flags
    .command('list')
    .description('every declared flag with its state in the environment')
    .action(async () => (await reads()).listFlags(cli));

  flags
    .command('show')
    .argument('<flag>')
    .description('the full definition of a flag as it stands in the environment')
    .action(async (name: string) => (await reads()).showFlag(cli, name));

  flags
    .command('set')
    .argument('<flag>')
    .option('--file <yaml>', 'a YAML fragment with state fields: enabled, strategies, variants, default_variant')
    .option('--enable', 'turn the flag on')
    .option('--disable', 'turn the flag off')
    .option('--rollout <pct>', 'percentage of the gradual strategy (created when the flag has no strategies)')
    .option('--stickiness <field>', 'with --rollout: the context field keys are bucketed on (default slice_key)')
    .option('--group-id <id>', 'with --rollout: the bucketing salt (default the flag name)')
    .option('--variant <name...>', 'the flag\'s variants, NAME or NAME=WEIGHT (equal weights when none given)')
    .option('--reason <text>', 'why (required in prod)')
    .description('change a flag\'s state in the environment')
    .action(async (name: string, o: SetFlagOptions) => (await changes()).setFlag(cli, name, o));

  for (const [cmd, enabled] of [['enable', true], ['disable', false]] as const) {
    flags
      .command(cmd)
      .argument('<flag>')
      .option('--reason <text>', 'why (required in prod)')
      .description(`${cmd} a flag in the environment`)
      .action(async (name: string, o: { reason?: string }) => (await changes()).switchFlag(cli, name, enabled, o.reason));
  }

  flags
    .command('history')
    .argument('<flag>')
    .description('every revision of a flag in the environment (0 = the project file): who, when, why, what changed')
    .action(async (name: string) => (await reads()).flagHistory(cli, name));

  flags
    .command('revert')
    .argument('<flag>')
    .requiredOption('--to <revision>', 'the revision to restore (0 = as declared in the project file)')
    .option('--reason <text>', 'why (required in prod)')
    .description('restore an earlier revision of a flag as a new revision')
    .action(async (name: string, o: { to: string; reason?: string }) => (await changes()).revertFlag(cli, name, o));

  flags
    .command('evaluate')
    .argument('<flag>')
    .option('--context <pair...>', 'context fields as key=value (environment defaults to --env)')
    .description('evaluate a flag for a context and explain the answer')
    .action(async (name: string, o: { context?: string[] }) => (await reads()).evaluateFlag(cli, name, o));

  flags
    .command('import-unleash')
    .argument('<file>', 'an Unleash client API export (JSON: {features, segments} or {events})')
    .option('--out <yaml>', 'where to write the flags (default: flags/imported.yaml in the project)')
    .option('--force', 'overwrite the output file', false)
    .description('convert Unleash flag definitions into a flags/*.yaml file the project loads')
    .action(async (file: string, o: { out?: string; force: boolean }) => (await import('./flags/import-unleash.ts')).importUnleash(cli, file, o));

  flags
    .command('snapshot')
    .option('--out <file>', 'where to write it (default: .sluice/flags-<env>.json in the project)')
    .description('write the environment\'s flags as a snapshot file for the OpenFeature provider')
    .action(async (o: { out?: string }) => (await reads()).snapshotFlags(cli, o));
}
