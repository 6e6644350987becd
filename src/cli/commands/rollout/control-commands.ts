import type { RolloutEvent } from '../../../rollout/rollout-event.ts';
import { positionKey } from '../../../rollout/rollout-state.ts';
import type { DispatchOutcome, RolloutService } from '../../../runner/rollouts/rollout-service.ts';
import type { CommandResult } from '../../output.ts';
import { currentActor, openWorkspace } from '../../../app/open-workspace.ts';
import type { CliContext } from '../cli-context.ts';
import { describeMove } from '../../../runner/rollouts/rollout-read-model.ts';

/**
 * start, approve, pause, resume, abort, rollback, promote and tick. Each sends one event to the
 * controller; a refusal comes back as a SluiceError (CONFLICT, or FORBIDDEN for approvals) and
 * reaches the entry point, which maps it to exit 7 or 8.
 */
async function act(cli: CliContext, fn: (rollouts: RolloutService, actor: string) => Promise<DispatchOutcome>, check = false): Promise<void> {
  await using ws = await openWorkspace(cli.globals().project, cli.globals().env, { recover: true, check, maintain: true });
  cli.out(outcomeResult(await fn(ws.rollouts, currentActor())));
}

function send(cli: CliContext, name: string, event: (actor: string) => RolloutEvent): Promise<void> {
  return act(cli, (rollouts, actor) => rollouts.dispatch(name, event(actor)));
}

/** `rollout start NAME`: the whole project checked as validate does, then the first stage entered. */
export function startRollout(cli: CliContext, name: string, o: { reason?: string }): Promise<void> {
  return act(cli, (rollouts, actor) => rollouts.start(name, actor, o.reason), true);
}

export function approveRollout(cli: CliContext, name: string, o: { reason?: string }): Promise<void> {
  return send(cli, name, (actor) => ({ kind: 'approve', actor, ...(o.reason ? { reason: o.reason } : {}) }));
}

/** pause, resume, abort and rollback: an event with an actor and a reason. */
export function steerRollout(cli: CliContext, verb: 'pause' | 'resume' | 'abort' | 'rollback', name: string, o: { reason: string }): Promise<void> {
  return send(cli, name, (actor) => ({ kind: verb, actor, reason: o.reason }));
}

export function promoteRollout(cli: CliContext, name: string, o: { toStage?: string; reason: string }): Promise<void> {
  return send(cli, name, (actor) => ({ kind: 'promote', actor, reason: o.reason, ...(o.toStage ? { toStage: o.toStage } : {}) }));
}

/** `rollout tick`: the timer, re-judging the gates of every active rollout. */
export async function tickRollouts(cli: CliContext): Promise<void> {
  await using ws = await openWorkspace(cli.globals().project, cli.globals().env, { recover: true });
  const outcomes = await ws.rollouts.tick();
  const results = outcomes.map(outcomeResult);
  cli.out({ json: results.map((r) => r.json), text: results.length ? results.map((r) => r.text).join('\n') : 'no active rollouts' });
}

export function outcomeResult(o: DispatchOutcome): CommandResult {
  const s = o.state;
  const r = o.result;
  const rollback = s.kind === 'rolled_back' ? s.rollback : undefined;
  const lines = [`rollout ${o.rollout}: ${s.kind}${s.position ? ` at ${positionKey(s.position)}` : ''}`];
  for (const t of r.transitions) lines.push(`  ${describeMove(t)} by ${t.actor} (${t.event}): ${t.reason}`);
  for (const v of r.verdicts) if (v.verdict !== 'wait') lines.push(`  gate ${v.gate} (${v.gateKind}): ${v.verdict} — ${v.reason}`);
  for (const w of r.waiting ?? []) lines.push(`  waiting: ${w}`);
  for (const n of o.notes ?? []) lines.push(`  ${n}`);
  if (rollback && r.transitions.some((t) => t.to.state === 'rolled_back')) {
    for (const p of rollback.republish) lines.push(`  republished ${p.environment} ${p.dataset} ${p.partition} <- ${p.outputVersion} (was ${p.replaces})`);
    // The planner names the restored partitions a reader read; a reader cut another way (a month, the whole table) re-ran its own.
    for (const d of rollback.rerun) lines.push(`  re-ran ${d.environment} ${d.dataset}, which read ${d.because.join(', ')} ${d.partitions.join(', ')}`);
  }
  if (r.transitions.length === 0 && !r.verdicts.length && !r.waiting?.length && !o.notes?.length) lines.push('  no change');
  return {
    json: {
      name: o.rollout,
      state: s.kind,
      stage: positionKey(s.position) ?? null,
      transitions: r.transitions,
      verdicts: r.verdicts,
      waiting: r.waiting ?? [],
      notes: o.notes ?? [],
      ...(rollback ? { rollback } : {}),
    },
    text: lines.join('\n'),
  };
}
