import { parseDecimal } from '../../../util/decimal.ts';
import { loadProjectForMetadata } from '../../../app/load-project.ts';
import type { Project } from '../../../config/project-model.ts';
import { type CompatibilityMode, compareContracts } from '../../../quality/compare-contracts.ts';
import { SluiceError } from '../../../util/errors.ts';
import { formatTable } from '../../../util/format-table.ts';
import type { CliContext } from '../cli-context.ts';
import { contractOf, findDataset, resolveContractSide } from '../../../runner/resolve-output.ts';

// Contracts are files of the project: these commands read them without the engine (step SQL is not analysed).
const loadOnce = (cli: CliContext): (() => Promise<Project>) => {
  let project: Promise<Project> | undefined;
  return () => (project ??= loadProjectForMetadata(cli.globals().project));
};

/**
 * `sluice contract diff OLD NEW [--mode M]`: classifies a contract change as compatible or breaking
 * (exit 6) under a compatibility mode.
 */
export async function contractDiff(cli: CliContext, oldArg: string, newArg: string, o: { mode: CompatibilityMode }): Promise<void> {
  const project = loadOnce(cli);
  const older = await resolveContractSide(oldArg, 'old', project);
  const newer = await resolveContractSide(newArg, 'new', project);
  const next = newer.versions[0];
  if (!next) throw new SluiceError('NOT_FOUND', `${newArg} holds no contract`);
  const earlier = older.versions.filter((v) => v !== next);
  // A version against itself (D@v1 D@v1, or D@v1 D while v1 is current), or a dataset with one
  // version: nothing changed, which is compatible under every mode, so CI goes on (exit 0).
  const same = older.named !== undefined && older.named.dataset === newer.named?.dataset && older.named.version === newer.named.version;
  if (same || earlier.length === 0) {
    const why = same ? 'the same version' : `${oldArg} holds no version before it`;
    const text = `contract ${older.label} -> ${newer.label} (v${next.version}), mode ${o.mode}: no change (${why})`;
    cli.out({ json: { old: older.label, new: newer.label, mode: o.mode, compatible: true, changes: [], noChange: true, reason: why }, text, exitCode: 0 });
    return;
  }
  const r = compareContracts(earlier, next, o.mode);
  const against = o.mode.endsWith('_transitive') ? earlier.map((v) => `v${v.version}`).join(', ') : `v${earlier[earlier.length - 1]?.version}`;
  const rows = r.changes.map((c) => ({ change: c.kind, column: c.column ?? c.check ?? '', against: `v${c.against}`, breaking: c.breaking ? 'BREAKING' : 'ok', why: c.why }));
  const text = [
    `contract ${older.label} -> ${newer.label} (v${next.version}), mode ${o.mode}, against ${against}: ${r.compatible ? 'compatible' : 'BREAKING'}`,
    '',
    rows.length > 0 ? formatTable(rows) : '(no changes)',
    ...(r.compatible ? [] : ['', `${r.changes.filter((c) => c.breaking).length} breaking change(s) under ${o.mode}`]),
  ];
  cli.out({ json: { old: older.label, new: newer.label, ...r }, text: text.join('\n'), exitCode: r.compatible ? 0 : 6 });
}

/** `sluice contract show DATASET`: a dataset's contract versions and the columns, key and checks of one. */
export async function contractShow(cli: CliContext, name: string, o: { version?: string }): Promise<void> {
  const p = await loadProjectForMetadata(cli.globals().project);
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
  cli.out({ json: { dataset: name, ref: set.ref, versions: set.versions.map((v) => v.version), current: set.current.version, files: Object.fromEntries(set.files), contract: c }, text: text.join('\n') });
}
