import type { Command } from 'commander';
import type { Emit } from '../emit.ts';

/** `sluice rollout ...` — filled in by the rollout CLI work. */
export function registerRolloutCommands(_program: Command, _emit: Emit): void {}
