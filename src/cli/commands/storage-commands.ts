import type { Command } from 'commander';
import type { Emit } from '../emit.ts';
import { EXIT_CODES } from '../output.ts';
import { cliContext } from './cli-context.ts';

/**
 * The warehouse's own upkeep: `verify-data` (every published partition against its output
 * version), `gc` (retention), `compact` (segments), `export` (Parquet for other engines).
 * Definitions only; storage/storage-actions.ts runs them.
 */
export function registerStorageCommands(program: Command, emit: Emit): void {
  const cli = cliContext(program, emit);
  const storage = (): Promise<typeof import('./storage/storage-actions.ts')> => import('./storage/storage-actions.ts');

  program
    .command('verify-data')
    .option('--dataset <name...>', 'only these datasets')
    .option('--repair', 'serve a partition that does not match from its output version again')
    .description(`check every published partition against its output version (row count and order-free fingerprint); exit ${EXIT_CODES.CORRUPT} naming each one that does not match`)
    .action(async (o: { dataset?: string[]; repair?: boolean }) => (await storage()).verifyData(cli, o));

  program
    .command('gc')
    .option('--dry-run', 'report what would be deleted, delete nothing')
    .description('delete output versions that no publication, rollout, retention rule (sluice.yaml storage.retention) or reader holds; reports rows and bytes freed')
    .action(async (o: { dryRun?: boolean }) => (await storage()).gc(cli, o));

  program
    .command('compact')
    .option('--dataset <name...>', 'only these datasets')
    .option('--force', 'merge every dataset into one segment, whatever the policy (storage.compact_after)')
    .description('merge published partitions into fewer, larger segment files (commands also do this when storage.compact_after asks)')
    .action(async (o: { dataset?: string[]; force?: boolean }) => (await storage()).compact(cli, o));

  program
    .command('export')
    .argument('<dataset>')
    .requiredOption('--to <dir>', 'folder of the export; readers use <dir>/current')
    .description('write the published partitions of a dataset as Parquet (one file per partition, unchanged partitions reused), switched to in one step')
    .action(async (dataset: string, o: { to: string }) => (await storage()).exportDataset(cli, dataset, o));
}
