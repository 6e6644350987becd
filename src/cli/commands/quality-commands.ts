import type { Command } from 'commander';
import type { Emit } from '../emit.ts';

/** `sluice check|diff|contract|synth|profile` — filled in by the quality CLI work. */
export function registerQualityCommands(_program: Command, _emit: Emit): void {}
