import type { Command } from 'commander';
import type { RolloutEvent } from '../../../rollout/rollout-event.ts';
import { positionKey } from '../../../rollout/rollout-state.ts';
import type { DispatchOutcome, RolloutService } from '../../../runner/rollouts/rollout-service.ts';
import type { CommandResult } from '../../output.ts';
import { currentActor, openWorkspace } from '../../../app/open-workspace.ts';
import type { RolloutCli } from './rollout-cli.ts';
import { describeMove } from '../../../runner/rollouts/rollout-read-model.ts';

/**
 * start, approve, pause, resume, abort, rollback, promote and tick. Each sends one event to the
 * controller; a refusal comes back as a SluiceError (CONFLICT, or FORBIDDEN for approvals) and
 * reaches the entry point, which maps it to exit 7 or 8.
 */
export function registerControlCommands(rollout: Command, cli: RolloutCli): void {
  const act = async (fn: (rollouts: RolloutService, actor: string) => Promise<DispatchOutcome>, check = false): Promise<void> => {
    await using ws = await openWorkspace(cli.globals().project, cli.globals().env, { recover: true, check, maintain: true });
    cli.out(outcomeResult(await fn(ws.rollouts, currentActor())));
  };
  const send = (name: string, event: (actor: string) => RolloutEvent): Promise<void> => act((rollouts, actor) => rollouts.dispatch(name, event(actor)));

  rollout
    .command('start')
    .argument('<name>', 'a plan in rollouts/')
    .option('--reason <text>', 'why (kept in the audit log)')
    .description('start a rollout: check the whole project as validate does, then enter its first stage and set the flag for it')
    .action(async (name: string, o: { reason?: string }) => act((rollouts, actor) => rollouts.start(name, actor, o.reason), true));

  rollout
    .command('approve')
    .argument('<name>')
    .option('--reason <text>', 'why')
    .description('approve the next stage transition (refused, exit 8, for the person who started the rollout)')
    .action(async (name: string, o: { reason?: string }) => send(name, (actor) => ({ kind: 'approve', actor, ...(o.reason ? { reason: o.reason } : {}) })));

  for (const [verb, help] of [
    ['pause', 'stop moving on (batches still run and are recorded); resume continues'],
    ['resume', 'continue a paused rollout; gates judge batches from now on'],
    ['abort', 'stop and return flags to the baseline; published data stays until rollback'],
    ['rollback', 'return flags to the baseline and republish every touched partition from its baseline output, then re-run downstream'],
  ] as const) {
    rollout
      .command(verb)
      .argument('<name>')
      .requiredOption('--reason <text>', 'why (kept in the audit log)')
      .description(help)
      .action(async (name: string, o: { reason: string }) => send(name, (actor) => ({ kind: verb, actor, reason: o.reason })));
  }

  rollout
    .command('promote')
    .argument('<name>')
    .option('--to-stage <stage>', 'STAGE (in the current environment), ENV/STAGE, ENV or promoted (default: the next stage)')
    .requiredOption('--reason <text>', 'why the current stage\'s gates may be skipped (approvals never are)')
    .description('move on now, at a batch boundary, skipping the current stage\'s gates')
    .action(async (name: string, o: { toStage?: string; reason: string }) => send(name, (actor) => ({ kind: 'promote', actor, reason: o.reason, ...(o.toStage ? { toStage: o.toStage } : {}) })));

  rollout
    .command('tick')
    .description('the timer: re-judge the gates of every active rollout (soak time, windows, approvals)')
    .action(async () => {
      await using ws = await openWorkspace(cli.globals().project, cli.globals().env, { recover: true });
      const outcomes = await ws.rollouts.tick();
      const results = outcomes.map(outcomeResult);
      cli.out({ json: results.map((r) => r.json), text: results.length ? results.map((r) => r.text).join('\n') : 'no active rollouts' });
    });
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
    for (const d of rollback.rerun) lines.push(`  re-ran ${d.environment} ${d.dataset} ${d.partitions.join(', ')}`);
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
