import type { Command } from 'commander';
import type { Emit } from '../emit.ts';
import type { GlobalOptions } from '../main.ts';
import type { CommandResult } from '../output.ts';

/**
 * What a command's implementation gets: the global options (read when it runs, after parsing) and
 * the printer. Implementations live in modules the command definitions import only when the
 * command runs, so `sluice --help` and every other command load none of them.
 */
export interface CliContext {
  globals(): GlobalOptions;
  out(r: CommandResult): void;
}

export function cliContext(program: Command, emit: Emit): CliContext {
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  return { globals, out: (r) => emit(r, globals()) };
}
