import { Option, type Command } from 'commander';
import { COMPATIBILITY_MODES, type CompatibilityMode } from '../../quality/compare-contracts.ts';
import type { Emit } from '../emit.ts';
import { cliContext } from './cli-context.ts';

/**
 * `sluice check|diff|contract diff|contract show|profile|synth`: the quality commands' definitions;
 * each runs its implementation in quality/, imported when it runs.
 */
export function registerQualityCommands(program: Command, emit: Emit): void {
  const cli = cliContext(program, emit);

  program
    .command('check')
    .argument('<dataset>')
    .option('--partition <p>', 'the partition to check (left out for an unpartitioned dataset)')
    .option('--version <v>', 'an output version id, a step version (its newest output) or "published"', 'published')
    .option('--sample <n>', 'offending values shown per check', '5')
    .description("run a dataset's checks (and contract) on a published partition or an output version")
    .action(async (name: string, o: { partition?: string; version: string; sample: string }) => (await import('./quality/check-command.ts')).checkDataset(cli, name, o));

  program
    .command('diff')
    .argument('<dataset>')
    .option('--partition <p>', 'the partition both versions hold (left out for an unpartitioned dataset)')
    .requiredOption('--versions <ids...>', 'two output versions: ids, step versions (v1, v2) or "published"')
    .option('--sample <n>', 'rows per sample list', '5')
    .option('--no-drift', 'skip the per-column distribution drift')
    .description('diff and drift between two output versions of a dataset for one partition')
    .action(async (name: string, o: { partition?: string; versions: string[]; sample: string; drift: boolean }) => (await import('./quality/diff-command.ts')).diffVersions(cli, name, o));

  const contract = program.command('contract').description('versioned data contracts of datasets');
  contract
    .command('diff')
    .argument('<old>', 'a contract file or folder, DATASET (all its versions) or DATASET@vN')
    .argument('<new>', 'a contract file or folder (its highest version), DATASET (its current version) or DATASET@vN')
    .addOption(new Option('--mode <mode>', 'compatibility mode').choices([...COMPATIBILITY_MODES]).default('backward'))
    .description('classify a contract change as compatible or breaking (exit 6 when breaking)')
    .action(async (oldArg: string, newArg: string, o: { mode: CompatibilityMode }) => (await import('./quality/contract-command.ts')).contractDiff(cli, oldArg, newArg, o));
  contract
    .command('show')
    .argument('<dataset>')
    .option('--version <n>', 'a version other than the current one')
    .description("a dataset's contract: its versions and the columns, key and checks of one")
    .action(async (name: string, o: { version?: string }) => (await import('./quality/contract-command.ts')).contractShow(cli, name, o));

  program
    .command('profile')
    .argument('<dataset>')
    .option('--partition <p>', "one partition's latest profile in full")
    .option('--limit <n>', 'most recent partitions listed', '30')
    .description('stored profiles of a dataset (taken after each publish) and their anomaly verdicts')
    .action(async (name: string, o: { partition?: string; limit: string }) => (await import('./quality/profile-command.ts')).showProfiles(cli, name, o));

  program
    .command('synth')
    .argument('<name>', 'a dataset with a contract, or a source with declared columns')
    .option('--rows <n>', 'rows to write', '1000')
    .option('--seed <n>', 'the same seed writes the same data', '1')
    .option('--partition <p>', 'the partition the rows belong to (and the day events cluster around)', '2026-01-01')
    .option('--out <file>', 'where to write (default: data/synthetic/ in the project)')
    .addOption(new Option('--format <f>', 'file format (default: from --out, else the source format, else parquet)').choices(['parquet', 'csv']))
    .option('--duplicate-key-every <n>', 'every n-th row repeats the previous primary key (0: never)', '50')
    .option('--key <columns>', "a source's key columns to duplicate, comma-separated (default: its datasets' primary key)")
    .description('write synthetic edge-case data from a contract or a source schema')
    .action(async (name: string, o: { rows: string; seed: string; partition: string; out?: string; format?: 'parquet' | 'csv'; duplicateKeyEvery: string; key?: string }) => (await import('./quality/synth-command.ts')).synth(cli, name, o));
}
