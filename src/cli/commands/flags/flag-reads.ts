import { loadProjectForMetadata } from '../../../app/load-project.ts';
import { openMetadataReads, type MetadataReads } from '../../../app/open-metadata.ts';
import type { Project } from '../../../config/project-model.ts';
import { evaluate } from '../../../flags/evaluate.ts';
import { contextFromPairs, type EvaluationContext } from '../../../flags/evaluation-context.ts';
import { formatExplanation } from '../../../flags/explanation.ts';
import { flagDoc, segmentsDoc, toYaml } from '../../../flags/flag-document.ts';
import { writeSnapshot } from '../../../flags/flag-snapshot.ts';
import { scopeSummary, strategiesSummary, variantsSummary, describeChanges } from '../../../flags/flag-summary.ts';
import { flagSet, type Segment } from '../../../flags/flag.ts';
import { FlagStates, type FlagHistoryEntry } from '../../../runner/flag-states.ts';
import { systemClock } from '../../../util/clock.ts';
import { SluiceError } from '../../../util/errors.ts';
import { formatTable } from '../../../util/format-table.ts';
import { mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { CliContext } from '../cli-context.ts';

// Reads of flag states: the project's declarations and the store's revisions, no warehouse and no
// engine. An environment whose store does not exist yet shows the flags as declared.

/** The revision a flag stands at in an environment, and who set it (revision 0: the project file). */
export async function latest(states: FlagStates, env: string, name: string): Promise<FlagHistoryEntry> {
  const h = await states.history(env, name);
  const last = h[h.length - 1];
  if (!last) throw new SluiceError('INTERNAL', `flag ${name} has no history`);
  return last;
}

async function openFlagReads(cli: CliContext): Promise<MetadataReads<Project> & { readonly flags: FlagStates }> {
  const md = await openMetadataReads(await loadProjectForMetadata(cli.globals().project), cli.globals().env);
  // Reads append nothing to the audit trail; a change goes through the workspace (flag-changes.ts).
  const audit = { append: (): Promise<never> => Promise.reject(new SluiceError('INTERNAL', 'a flag read tried to change a flag')) };
  return Object.assign(md, { flags: new FlagStates({ declared: md.project.flags, store: md.store, audit, clock: systemClock }) });
}

/** `sluice flags list`: every declared flag with its state in the environment. */
export async function listFlags(cli: CliContext): Promise<void> {
  await using md = await openFlagReads(cli);
  const states = md.flags;
  const rows = [];
  for (const f of await states.effective(md.environment)) {
    const last = await latest(states, md.environment, f.name);
    rows.push({
      flag: f.name,
      type: f.type,
      enabled: f.enabled,
      killSwitch: f.killSwitch,
      scope: f.scope ?? {},
      strategies: strategiesSummary(f.strategies),
      variants: variantsSummary(f.variants),
      defaultVariant: f.defaultVariant ?? null,
      revision: last.revision,
      setBy: last.actor,
      at: last.at,
      reason: last.reason,
    });
  }
  rows.sort((a, b) => (a.flag < b.flag ? -1 : a.flag > b.flag ? 1 : 0));
  const table = rows.map((r) => ({
    flag: r.flag,
    type: r.type,
    enabled: r.enabled ? 'on' : 'off',
    kill: r.killSwitch ? 'kill switch' : '',
    scope: scopeSummary({ scope: r.scope }),
    strategies: r.strategies,
    variants: [r.variants, r.defaultVariant ? `default ${r.defaultVariant}` : ''].filter(Boolean).join(' '),
    rev: r.revision,
    set_by: r.setBy,
    at: r.at ?? '',
  }));
  cli.out({ json: { environment: md.environment, flags: rows }, text: rows.length ? `flags in ${md.environment}\n${formatTable(table)}` : `no flags declared (add flags/*.yaml to the project)` });
}

/** `sluice flags show FLAG`: the full definition of a flag as it stands in the environment. */
export async function showFlag(cli: CliContext, name: string): Promise<void> {
  await using md = await openFlagReads(cli);
  const f = await md.flags.flag(md.environment, name);
  const last = await latest(md.flags, md.environment, name);
  const segments = new Map<string, Segment>();
  const doc = flagDoc(f, segments);
  const yaml = toYaml(segments.size ? { segments: segmentsDoc(segments), flags: [doc] } : doc);
  const head = `# ${name} in ${md.environment}: revision ${last.revision}, set by ${last.actor}${last.at ? ` at ${last.at}` : ''}${last.reason ? ` (${last.reason})` : ''}`;
  cli.out({ json: { environment: md.environment, revision: last.revision, actor: last.actor, at: last.at, reason: last.reason, flag: f }, text: `${head}\n${yaml.trimEnd()}` });
}

/** `sluice flags history FLAG`: every revision (0 = the project file): who, when, why, what changed. */
export async function flagHistory(cli: CliContext, name: string): Promise<void> {
  await using md = await openFlagReads(cli);
  const h = await md.flags.history(md.environment, name);
  const revisions = h.map((e, i) => ({ ...e, changes: i === 0 ? ['declared in flags/'] : describeChanges((h[i - 1] ?? e).state, e.state) }));
  const rows = revisions.map((r) => ({ rev: r.revision, at: r.at ?? '(project file)', actor: r.actor, reason: r.reason, changes: r.changes.join('; ') || 'no change' }));
  cli.out({ json: { environment: md.environment, flag: name, revisions }, text: `${name} in ${md.environment}\n${formatTable(rows)}` });
}

/** `sluice flags evaluate FLAG --context k=v`: the answer for a context, explained. */
export async function evaluateFlag(cli: CliContext, name: string, o: { readonly context?: readonly string[] }): Promise<void> {
  await using md = await openFlagReads(cli);
  const parsed = contextFromPairs(o.context ?? []);
  if (!parsed.ok) throw new SluiceError('USAGE', parsed.message, { field: '--context' });
  const context: EvaluationContext = { environment: md.environment, ...parsed.context };
  const def = await md.flags.flag(md.environment, name);
  const r = evaluate(def, context, flagSet(await md.flags.effective(md.environment)), { clock: systemClock });
  const json = {
    environment: md.environment,
    context,
    flag: r.flag,
    value: r.value,
    enabled: r.enabled,
    ...(r.variant !== undefined ? { variant: r.variant } : {}),
    reason: r.reason,
    ...(r.errorCode ? { errorCode: r.errorCode, errorMessage: r.errorMessage } : {}),
    explanation: r.explanation,
  };
  const exitCode = r.errorCode === 'INVALID_CONTEXT' ? 2 : r.errorCode ? 70 : 0;
  cli.out({ json, text: formatExplanation(r) + (r.errorMessage ? `\n  error: ${r.errorMessage}` : ''), exitCode });
}

/** `sluice flags snapshot`: the environment's flags as a snapshot file for the OpenFeature provider. */
export async function snapshotFlags(cli: CliContext, o: { readonly out?: string }): Promise<void> {
  await using md = await openFlagReads(cli);
  const snapshot = await md.flags.snapshot(md.environment);
  const file = o.out ? resolve(o.out) : join(md.project.root, '.sluice', `flags-${md.environment}.json`);
  mkdirSync(dirname(file), { recursive: true });
  await writeSnapshot(file, snapshot);
  cli.out({
    json: { file, environment: snapshot.environment, createdAt: snapshot.createdAt, flags: snapshot.flags.map((f) => f.name) },
    text: `wrote ${relative(process.cwd(), file) || file}: ${snapshot.flags.length} flag(s) of ${snapshot.environment} at ${snapshot.createdAt}`,
  });
}
