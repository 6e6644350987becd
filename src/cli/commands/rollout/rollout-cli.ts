import type { GlobalOptions } from '../../main.ts';
import type { CommandResult } from '../../output.ts';

/** What every `sluice rollout` command gets: the global options and the printer. */
export interface RolloutCli {
  globals(): GlobalOptions;
  out(r: CommandResult): void;
}
