import type { GlobalOptions } from './main.ts';
import type { CommandResult } from './output.ts';

/** How a command hands its result to the entry point, which prints it as text or JSON. */
export type Emit = (r: CommandResult, opts: GlobalOptions) => void;
