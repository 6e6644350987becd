import { currentActor, openWorkspace, type Workspace } from '../../../app/open-workspace.ts';
import { bucketingChanges } from '../../../flags/flag-salt.ts';
import { buildState, type StateOptions } from '../../../flags/flag-state-change.ts';
import { stateOf, type FlagState } from '../../../flags/flag-state.ts';
import type { FlagDefinition } from '../../../flags/flag.ts';
import { describeChanges, stateSummary } from '../../../flags/flag-summary.ts';
import type { FlagStates } from '../../../runner/flag-states.ts';
import { parseDecimal } from '../../../util/decimal.ts';
import { SluiceError } from '../../../util/errors.ts';
import type { CliContext } from '../cli-context.ts';
import { latest } from './flag-reads.ts';

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

/**
 * Refuses a change of a flag's bucketing (group_id or stickiness of a gradual strategy) while a
 * rollout of its step is active in the environment: the new salt would move keys between the
 * rollout's slices (rows published from v1 would come from v2 and back), so its evidence and a
 * rollback would no longer describe the same rows. Other changes (percentage, enable, disable) stay
 * allowed; nothing is written when this throws.
 */
async function refuseRebucketing(ws: Workspace, name: string, current: FlagDefinition, next: FlagState): Promise<void> {
  const changes = bucketingChanges(current, next, ws.flags.declared(name));
  if (changes.length === 0) return;
  const active = await ws.rollouts.activeOnFlag(ws.environment, name);
  if (active.length === 0) return;
  const which = active.map((r) => `${r.id} (${r.state.kind})`).join(', ');
  throw new SluiceError('CONFLICT', `flag ${name} in ${ws.environment}: ${changes.join('; ')} refused while rollout ${which} slices by it; a new salt would move keys between its baseline and candidate slices. Change it after the rollout ends (or abort it first)`, { field: 'group_id' });
}

/** Sets a state through FlagStates (which appends the revision and the audit entry in one transaction). */
async function change(cli: CliContext, name: string, reason: string | undefined, action: string, next: (states: FlagStates, current: FlagDefinition, ws: Workspace) => FlagState | Promise<FlagState>, verb = 'set'): Promise<void> {
  await using ws = await openWorkspace(cli.globals().project, cli.globals().env, { recover: true });
  const states = ws.flags;
  const current = await states.flag(ws.environment, name);
  const state = await next(states, current, ws);
  await refuseRebucketing(ws, name, current, state);
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
  cli.out({ json: r, text: changeText(r, verb) });
}

export type SetFlagOptions = StateOptions & { readonly reason?: string };

/** `sluice flags set FLAG ...`: a new state in the environment. */
export function setFlag(cli: CliContext, name: string, o: SetFlagOptions): Promise<void> {
  return change(cli, name, o.reason, 'flag.set', (states, current, ws) => buildState(states.declared(name), current, ws.project, o));
}

/** `sluice flags enable|disable FLAG`. */
export function switchFlag(cli: CliContext, name: string, enabled: boolean, reason: string | undefined): Promise<void> {
  const cmd = enabled ? 'enable' : 'disable';
  return change(cli, name, reason, `flag.${cmd}`, (_s, current) => ({ ...stateOf(current), enabled }), enabled ? 'enabled,' : 'disabled,');
}

/** `sluice flags revert FLAG --to N`: an earlier revision restored as a new one. */
export async function revertFlag(cli: CliContext, name: string, o: { readonly to: string; readonly reason?: string }): Promise<void> {
  const to = parseDecimal(o.to, { integer: true });
  if (to === undefined) throw new SluiceError('USAGE', `--to takes a revision number (got "${o.to}")`, { field: '--to' });
  await change(cli, name, o.reason, 'flag.revert', async (states, _current, ws) => {
    const entry = (await states.history(ws.environment, name)).find((h) => h.revision === to);
    if (!entry) throw new SluiceError('NOT_FOUND', `flag ${name} has no revision ${to} in ${ws.environment}`, { field: '--to' });
    return entry.state;
  }, `reverted to revision ${to} as`);
}
