import type { Command } from 'commander';
import type { Emit } from '../emit.ts';

/** `sluice flags ...` — filled in by the flags CLI work. */
export function registerFlagCommands(_program: Command, _emit: Emit): void {}
