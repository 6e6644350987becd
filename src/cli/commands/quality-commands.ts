import type { Command } from 'commander';
import type { Emit } from '../emit.ts';
import { registerCheckCommand } from './quality/check-command.ts';
import { registerContractCommands } from './quality/contract-command.ts';
import { registerDiffCommand } from './quality/diff-command.ts';
import { registerProfileCommand } from './quality/profile-command.ts';
import { registerSynthCommand } from './quality/synth-command.ts';

/** `sluice check|diff|contract diff|contract show|profile|synth`: the quality commands. */
export function registerQualityCommands(program: Command, emit: Emit): void {
  registerCheckCommand(program, emit);
  registerDiffCommand(program, emit);
  registerContractCommands(program, emit);
  registerProfileCommand(program, emit);
  registerSynthCommand(program, emit);
}
