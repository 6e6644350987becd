import { parseDecimal } from '../../util/decimal.ts';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadProject } from '../../app/load-project.ts';
import { evaluate } from '../../flags/evaluate.ts';
import { contextFromPairs, type EvaluationContext } from '../../flags/evaluation-context.ts';
import { formatExplanation } from '../../flags/explanation.ts';
import { flagSet, type FlagDefinition, type Segment } from '../../flags/flag.ts';
import { FlagStates, type FlagHistoryEntry } from '../../runner/flag-states.ts';
import { stateOf, type FlagState } from '../../flags/flag-state.ts';
import { writeSnapshot } from '../../flags/flag-snapshot.ts';
import { parseFlagFile } from '../../flags/parse-flag-file.ts';
import { SluiceError, configError, messageOf } from '../../util/errors.ts';
import type { Emit } from '../emit.ts';
import { formatTable } from '../../util/format-table.ts';
import type { GlobalOptions } from '../main.ts';
import { currentActor, openWorkspace, type Workspace } from '../../app/open-workspace.ts';
import { flagDoc, segmentsDoc, toYaml } from '../../flags/flag-document.ts';
import { describeChanges, scopeSummary, stateSummary, strategiesSummary, variantsSummary } from '../../flags/flag-summary.ts';
import { buildState, type StateOptions } from '../../flags/flag-state-change.ts';
import { unleashToYaml } from '../../flags/unleash-yaml.ts';

/** The revision a flag stands at in an environment, and who set it (revision 0: the project file). */
async function latest(states: FlagStates, env: string, name: string): Promise<FlagHistoryEntry> {
  const h = await states.history(env, name);
  const last = h[h.length - 1];
  if (!last) throw new SluiceError('INTERNAL', `flag ${name} has no history`);
  return last;
}

interface ChangeResult {
  readonly environment: string;
  readonly flag: string;
  readonly revision: number;
  readonly actor: string;
  readonly reason: string;
  readonly changes: readonly string[];
  readonly before: FlagState;
  readonly after: FlagState;
}

function changeText(r: ChangeResult, verb: string): string {
  return [
    `${r.flag} in ${r.environment}: ${verb} revision ${r.revision} by ${r.actor}${r.reason ? ` (${r.reason})` : ''}`,
    ...(r.changes.length ? r.changes.map((c) => `  ${c}`) : ['  no change (recorded anyway)']),
    `  now: ${stateSummary(r.after)}`,
  ].join('\n');
}

export function registerFlagCommands(program: Command, emit: Emit): void {
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const out = (r: Parameters<Emit>[0]): void => emit(r, globals());
  const flags = program.command('flags').description('feature flags: state per environment, history, evaluation, import and snapshots');

  /** Sets a state through FlagStates (which appends the revision and the audit entry in one transaction). */
  async function change(name: string, reason: string | undefined, action: string, next: (states: FlagStates, current: FlagDefinition, ws: Workspace) => FlagState | Promise<FlagState>, verb = 'set'): Promise<void> {
    await using ws = await openWorkspace(globals().project, globals().env, { recover: true });
    const states = ws.flags;
    const current = await states.flag(ws.environment, name);
    const state = await next(states, current, ws);
    const actor = currentActor();
    const after = await states.set(ws.environment, name, state, actor, reason, action);
    const r: ChangeResult = {
      environment: ws.environment,
      flag: name,
      revision: (await latest(states, ws.environment, name)).revision,
      actor,
      reason: reason ?? '',
      changes: describeChanges(stateOf(current), stateOf(after)),
      before: stateOf(current),
      after: stateOf(after),
    };
    out({ json: r, text: changeText(r, verb) });
  }

  flags
    .command('list')
    .description('every declared flag with its state in the environment')
    .action(async () => {
      await using ws = await openWorkspace(globals().project, globals().env);
      const states = ws.flags;
      const rows = [];
      for (const f of await states.effective(ws.environment)) {
        const last = await latest(states, ws.environment, f.name);
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
      out({ json: { environment: ws.environment, flags: rows }, text: rows.length ? `flags in ${ws.environment}\n${formatTable(table)}` : `no flags declared (add flags/*.yaml to the project)` });
    });

  flags
    .command('show')
    .argument('<flag>')
    .description('the full definition of a flag as it stands in the environment')
    .action(async (name: string) => {
      await using ws = await openWorkspace(globals().project, globals().env);
      const f = await ws.flags.flag(ws.environment, name);
      const last = await latest(ws.flags, ws.environment, name);
      const segments = new Map<string, Segment>();
      const doc = flagDoc(f, segments);
      const yaml = toYaml(segments.size ? { segments: segmentsDoc(segments), flags: [doc] } : doc);
      const head = `# ${name} in ${ws.environment}: revision ${last.revision}, set by ${last.actor}${last.at ? ` at ${last.at}` : ''}${last.reason ? ` (${last.reason})` : ''}`;
      out({ json: { environment: ws.environment, revision: last.revision, actor: last.actor, at: last.at, reason: last.reason, flag: f }, text: `${head}\n${yaml.trimEnd()}` });
    });

  flags
    .command('set')
    .argument('<flag>')
    .option('--file <yaml>', 'a YAML fragment with state fields: enabled, strategies, variants, default_variant')
    .option('--enable', 'turn the flag on')
    .option('--disable', 'turn the flag off')
    .option('--rollout <pct>', 'percentage of the gradual strategy (created when the flag has no strategies)')
    .option('--stickiness <field>', 'with --rollout: the context field keys are bucketed on (default slice_key)')
    .option('--group-id <id>', 'with --rollout: the bucketing salt (default the flag name)')
    .option('--variant <name...>', 'the flag\'s variants, NAME or NAME=WEIGHT (equal weights when none given)')
    .option('--reason <text>', 'why (required in prod)')
    .description('change a flag\'s state in the environment')
    .action(async (name: string, o: StateOptions & { reason?: string }) => {
      await change(name, o.reason, 'flag.set', (states, current, ws) => buildState(states.declared(name), current, ws.project, o));
    });

  for (const [cmd, enabled] of [['enable', true], ['disable', false]] as const) {
    flags
      .command(cmd)
      .argument('<flag>')
      .option('--reason <text>', 'why (required in prod)')
      .description(`${cmd} a flag in the environment`)
      .action(async (name: string, o: { reason?: string }) => {
        await change(name, o.reason, `flag.${cmd}`, (_s, current) => ({ ...stateOf(current), enabled }), cmd === 'enable' ? 'enabled,' : 'disabled,');
      });
  }

  flags
    .command('history')
    .argument('<flag>')
    .description('every revision of a flag in the environment (0 = the project file): who, when, why, what changed')
    .action(async (name: string) => {
      await using ws = await openWorkspace(globals().project, globals().env);
      const h = await ws.flags.history(ws.environment, name);
      const revisions = h.map((e, i) => ({ ...e, changes: i === 0 ? ['declared in flags/'] : describeChanges((h[i - 1] ?? e).state, e.state) }));
      const rows = revisions.map((r) => ({ rev: r.revision, at: r.at ?? '(project file)', actor: r.actor, reason: r.reason, changes: r.changes.join('; ') || 'no change' }));
      out({ json: { environment: ws.environment, flag: name, revisions }, text: `${name} in ${ws.environment}\n${formatTable(rows)}` });
    });

  flags
    .command('revert')
    .argument('<flag>')
    .requiredOption('--to <revision>', 'the revision to restore (0 = as declared in the project file)')
    .option('--reason <text>', 'why (required in prod)')
    .description('restore an earlier revision of a flag as a new revision')
    .action(async (name: string, o: { to: string; reason?: string }) => {
      const to = parseDecimal(o.to, { integer: true });
      if (to === undefined) throw new SluiceError('USAGE', `--to takes a revision number (got "${o.to}")`, { field: '--to' });
      await change(name, o.reason, 'flag.revert', async (states, _current, ws) => {
        const entry = (await states.history(ws.environment, name)).find((h) => h.revision === to);
        if (!entry) throw new SluiceError('NOT_FOUND', `flag ${name} has no revision ${to} in ${ws.environment}`, { field: '--to' });
        return entry.state;
      }, `reverted to revision ${to} as`);
    });

  flags
    .command('evaluate')
    .argument('<flag>')
    .option('--context <pair...>', 'context fields as key=value (environment defaults to --env)')
    .description('evaluate a flag for a context and explain the answer')
    .action(async (name: string, o: { context?: string[] }) => {
      await using ws = await openWorkspace(globals().project, globals().env);
      const parsed = contextFromPairs(o.context ?? []);
      if (!parsed.ok) throw new SluiceError('USAGE', parsed.message, { field: '--context' });
      const context: EvaluationContext = { environment: ws.environment, ...parsed.context };
      const def = await ws.flags.flag(ws.environment, name);
      const r = evaluate(def, context, flagSet(await ws.flags.effective(ws.environment)), { clock: ws.clock });
      const json = {
        environment: ws.environment,
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
      out({ json, text: formatExplanation(r) + (r.errorMessage ? `\n  error: ${r.errorMessage}` : ''), exitCode });
    });

  flags
    .command('import-unleash')
    .argument('<file>', 'an Unleash client API export (JSON: {features, segments} or {events})')
    .option('--out <yaml>', 'where to write the flags (default: flags/imported.yaml in the project)')
    .option('--force', 'overwrite the output file', false)
    .description('convert Unleash flag definitions into a flags/*.yaml file the project loads')
    .action(async (file: string, o: { out?: string; force: boolean }) => {
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
        throw new SluiceError(missing ? 'NOT_FOUND' : 'CONFIG_INVALID', `${file}: ${missing ? 'no such file' : `not JSON: ${messageOf(e)}`}`, { file });
      }
      const projectDir = resolve(globals().project);
      const outFile = o.out ? resolve(o.out) : join(projectDir, 'flags', 'imported.yaml');
      if (existsSync(outFile) && !o.force) throw new SluiceError('CONFLICT', `${outFile} exists; pass --force to overwrite it`, { file: outFile, field: '--out' });
      const r = unleashToYaml(json, `Imported from ${file} by \`sluice flags import-unleash\`.\nFlags use hash: murmur3, so they evaluate exactly as Unleash SDKs do.`);
      if (!r.ok) throw configError(r.problems.map((p) => ({ ...p, file })));
      // The project must still load: no imported name may clash with a flag declared in another file.
      const project = await loadProject(projectDir);
      if (project.ok && outFile.startsWith(join(project.project.root, 'flags'))) {
        const mine = new Set(r.result.flags.map((f) => f.name));
        const replaced = existsSync(outFile) ? parseFlagFile(outFile, readFileSync(outFile, 'utf8')) : undefined;
        const own = new Set(replaced?.ok ? replaced.flags.map((f) => f.name) : []);
        const clashes = project.project.flags.filter((f) => mine.has(f.name) && !own.has(f.name)).map((f) => f.name);
        if (clashes.length) throw new SluiceError('CONFLICT', `already declared in the project: ${clashes.join(', ')}`, { field: 'name' });
      }
      mkdirSync(dirname(outFile), { recursive: true });
      writeFileSync(outFile, r.result.text);
      const shown = relative(process.cwd(), outFile) || outFile;
      const summary = { file, out: outFile, flags: r.result.flags.map((f) => f.name), notes: r.result.notes, skipped: r.result.skipped };
      const text = [
        `imported ${r.result.flags.length} flag(s) from ${file} into ${shown}`,
        ...r.result.flags.map((f) => `  ${f.name} (${f.type}, ${f.enabled ? 'enabled' : 'disabled'}, ${strategiesSummary(f.strategies)})`),
        ...r.result.skipped.map((s) => `  skipped ${s.flag}: ${s.reason}`),
        ...r.result.notes.map((n) => `  note: ${n}`),
      ].join('\n');
      out({ json: summary, text });
    });

  flags
    .command('snapshot')
    .option('--out <file>', 'where to write it (default: .sluice/flags-<env>.json in the project)')
    .description('write the environment\'s flags as a snapshot file for the OpenFeature provider')
    .action(async (o: { out?: string }) => {
      await using ws = await openWorkspace(globals().project, globals().env);
      const snapshot = await ws.flags.snapshot(ws.environment);
      const file = o.out ? resolve(o.out) : join(ws.project.root, '.sluice', `flags-${ws.environment}.json`);
      mkdirSync(dirname(file), { recursive: true });
      await writeSnapshot(file, snapshot);
      out({
        json: { file, environment: snapshot.environment, createdAt: snapshot.createdAt, flags: snapshot.flags.map((f) => f.name) },
        text: `wrote ${relative(process.cwd(), file) || file}: ${snapshot.flags.length} flag(s) of ${snapshot.environment} at ${snapshot.createdAt}`,
      });
    });
}
