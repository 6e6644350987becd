import { parseDecimal } from '../../../util/decimal.ts';
import { Option, type Command } from 'commander';
import { loadProjectOrThrow } from '../../../app/load-project.ts';
import type { Project } from '../../../config/project-model.ts';
import { COMPATIBILITY_MODES, type CompatibilityMode, compareContracts } from '../../../quality/compare-contracts.ts';
import { SluiceError } from '../../../util/errors.ts';
import type { Emit } from '../../emit.ts';
import { formatTable } from '../../../util/format-table.ts';
import type { GlobalOptions } from '../../main.ts';
import { contractOf, findDataset, resolveContractSide } from '../../../runner/resolve-output.ts';

/**
 * `sluice contract diff OLD NEW [--mode M]`: classifies a contract change as compatible or breaking
 * (exit 6) under a compatibility mode; `sluice contract show DATASET`: its versions and columns.
 */
export function registerContractCommands(program: Command, emit: Emit): void {
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  let project: Promise<Project> | undefined;
  const loaded = (): Promise<Project> => (project ??= loadProjectOrThrow(globals().project));
  const contract = program.command('contract').description('versioned data contracts of datasets');

  contract
    .command('diff')
    .argument('<old>', 'a contract file or folder, DATASET (all its versions) or DATASET@vN')
    .argument('<new>', 'a contract file or folder (its highest version), DATASET (its current version) or DATASET@vN')
    .addOption(new Option('--mode <mode>', 'compatibility mode').choices([...COMPATIBILITY_MODES]).default('backward'))
    .description('classify a contract change as compatible or breaking (exit 6 when breaking)')
    .action(async (oldArg: string, newArg: string, o: { mode: CompatibilityMode }) => {
      const older = await resolveContractSide(oldArg, 'old', loaded);
      const newer = await resolveContractSide(newArg, 'new', loaded);
      const next = newer.versions[0];
      if (!next) throw new SluiceError('NOT_FOUND', `${newArg} holds no contract`);
      const earlier = older.versions.filter((v) => v !== next);
      if (earlier.length === 0) throw new SluiceError('USAGE', `${oldArg} holds nothing older to compare ${newArg} with`, { field: 'old' });
      const r = compareContracts(earlier, next, o.mode);
      const against = o.mode.endsWith('_transitive') ? earlier.map((v) => `v${v.version}`).join(', ') : `v${earlier[earlier.length - 1]?.version}`;
      const rows = r.changes.map((c) => ({ change: c.kind, column: c.column ?? c.check ?? '', against: `v${c.against}`, breaking: c.breaking ? 'BREAKING' : 'ok', why: c.why }));
      const text = [
        `contract ${older.label} -> ${newer.label} (v${next.version}), mode ${o.mode}, against ${against}: ${r.compatible ? 'compatible' : 'BREAKING'}`,
        '',
        rows.length > 0 ? formatTable(rows) : '(no changes)',
        ...(r.compatible ? [] : ['', `${r.changes.filter((c) => c.breaking).length} breaking change(s) under ${o.mode}`]),
      ];
      emit({ json: { old: older.label, new: newer.label, ...r }, text: text.join('\n'), exitCode: r.compatible ? 0 : 6 }, globals());
    });

  contract
    .command('show')
    .argument('<dataset>')
    .option('--version <n>', 'a version other than the current one')
    .description("a dataset's contract: its versions and the columns, key and checks of one")
    .action(async (name: string, o: { version?: string }) => {
      const p = await loaded();
      const { dataset } = findDataset(p, name);
      const set = contractOf(p, dataset);
      if (!set) throw new SluiceError('NOT_FOUND', `dataset ${name} declares no contract (add contract: contracts/${name} to its pipeline)`, { field: 'contract' });
      const wanted = o.version === undefined ? set.current.version : parseDecimal(o.version.replace(/^v/, ''), { integer: true });
      const c = set.versions.find((v) => v.version === wanted);
      if (!c) throw new SluiceError('NOT_FOUND', `contract of ${name} has no version ${o.version} (versions: ${set.versions.map((v) => `v${v.version}`).join(', ')})`, { field: '--version' });
      const text = [
        `contract of ${name}: ${set.ref}, versions ${set.versions.map((v) => `v${v.version}`).join(', ')} (current v${set.current.version})`,
        `v${c.version} (${set.files.get(c.version) ?? ''}): owner ${c.owner ?? '-'}, consumers ${c.consumers.join(', ') || '-'}, primary key [${c.primaryKey.join(', ')}]`,
        '',
        formatTable(c.columns.map((col) => ({ column: col.name, type: col.type, nullable: col.nullable ? 'yes' : 'no', description: col.description ?? '' }))),
        ...(c.checks.length > 0 ? ['', 'checks:', ...c.checks.map((k) => `  ${k.id} (${k.severity})`)] : []),
      ];
      emit({ json: { dataset: name, ref: set.ref, versions: set.versions.map((v) => v.version), current: set.current.version, files: Object.fromEntries(set.files), contract: c }, text: text.join('\n') }, globals());
    });
}
