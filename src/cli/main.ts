import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { renderError, type CommandResult } from './output.ts';
import { registerCoreCommands } from './commands/core-commands.ts';
import { registerFlagCommands } from './commands/flags-commands.ts';
import { registerQualityCommands } from './commands/quality-commands.ts';
import { registerRolloutCommands } from './commands/rollout-commands.ts';
import { registerPlanCommand } from './commands/plan-command.ts';
import { registerStorageCommands } from './commands/storage-commands.ts';

/** The version in package.json, which sits two folders up from both src/cli and dist/cli. */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export interface GlobalOptions {
  readonly project: string;
  readonly env?: string;
  readonly json: boolean;
}

/** Builds the `sluice` program. Commands return results; only `main` decides the exit code. */
export function buildProgram(emit: (r: CommandResult, opts: GlobalOptions) => void): Command {
  const program = new Command('sluice')
    .description(`Run ETL pipelines and roll changes to them out progressively. (sluice --version: ${packageVersion()})`)
    .addOption(new Option('--project <dir>', 'project folder').default('.'))
    .addOption(new Option('--env <name>', 'environment (default: the project\'s default_environment)'))
    .option('--json', 'print machine-readable JSON', false)
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();
  registerCoreCommands(program, emit);
  registerFlagCommands(program, emit);
  registerQualityCommands(program, emit);
  registerRolloutCommands(program, emit);
  registerPlanCommand(program, emit);
  registerStorageCommands(program, emit);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  // `sluice --version` alone: a root --version option would take `republish --version ID` from its command.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  let exitCode = 0;
  let json = argv.includes('--json');
  const program = buildProgram((r, opts) => {
    json = opts.json;
    process.stdout.write(`${opts.json ? JSON.stringify(r.json, null, 2) : r.text}\n`);
    exitCode = r.exitCode ?? 0;
  });
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const { text, code } = renderError(e, json);
    (json ? process.stdout : process.stderr).write(`${text}\n`);
    return code;
  }
}
