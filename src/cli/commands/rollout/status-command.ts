import type { Command } from 'commander';
import { SluiceError } from '../../../util/errors.ts';
import { formatTable } from '../../../util/format-table.ts';
import { openWorkspace } from '../../../app/open-workspace.ts';
import type { RolloutCli } from './rollout-cli.ts';
import { allRollouts, summarize, type RolloutSummary } from '../../../runner/rollouts/rollout-read-model.ts';

/** `rollout status [NAME]`: every rollout (started or only planned) with its state, stage and what it waits for. */
export function registerStatusCommand(rollout: Command, cli: RolloutCli): void {
  rollout
    .command('status')
    .argument('[name]', 'one rollout (default: all)')
    .description('state, stage, batches in the stage, last gate verdicts and what each rollout waits for')
    .action(async (name: string | undefined) => {
      await using ws = await openWorkspace(cli.globals().project, cli.globals().env, { recover: true });
      const { rollouts, warnings } = await allRollouts(ws.rollouts, ws.project);
      const observed = await ws.rollouts.observations();
      const summaries: RolloutSummary[] = [];
      for (const r of rollouts) summaries.push(summarize(ws, r.plan, r.state, await ws.rollouts.log(r.name), observed));
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      if (name === undefined) {
        cli.out({ json: summaries, text: listText(summaries) });
        return;
      }
      const one = summaries.find((s) => s.name === name);
      if (!one) {
        await ws.rollouts.plan(name); // NOT_FOUND naming the plans there are
        throw new SluiceError('NOT_FOUND', `no rollout "${name}"`, { field: 'rollout' });
      }
      cli.out({ json: one, text: detailText(one) });
    });
}

function listText(summaries: readonly RolloutSummary[]): string {
  if (summaries.length === 0) return 'no rollouts: write a plan in rollouts/NAME.yaml';
  return formatTable(
    summaries.map((s) => ({
      rollout: s.name,
      state: s.state,
      stage: s.stage ?? '',
      mode: s.mode ?? '',
      batches: s.stage ? `${s.batchesInStage}${s.failedBatchesInStage ? ` (${s.failedBatchesInStage} failed)` : ''}` : '',
      'waiting for': s.waitingFor.join('; ') || s.next || '',
    })),
  );
}

function detailText(s: RolloutSummary): string {
  const lines = [
    `rollout ${s.name}${s.attempt !== s.name ? ` (attempt ${s.attempt})` : ''}: ${s.state}${s.stage ? ` at ${s.stage} (${s.mode})` : ''}`,
    `  moves ${s.steps} from ${s.baseline} to ${s.candidate}`,
  ];
  if (s.startedBy) lines.push(`  started by ${s.startedBy} at ${s.startedAt}`);
  if (s.reason) lines.push(`  reason: ${s.reason}`);
  if (s.stage) lines.push(`  in stage since ${s.stageEnteredAt}: ${s.batchesInStage} batch(es), ${s.failedBatchesInStage} failed, ${s.batchesJudged} judged now`);
  if (s.inFlight.length) lines.push(`  runs in flight: ${s.inFlight.join(', ')}`);
  if (s.approvals.length) lines.push(`  approvals: ${s.approvals.join(', ')}`);
  if (s.reached.length) lines.push(`  reached: ${s.reached.join(' -> ')}`);
  if (s.lastVerdicts.length) {
    lines.push('  last verdicts:');
    for (const v of s.lastVerdicts) lines.push(`    ${v.gate} (${v.gateKind}): ${v.verdict} — ${v.reason}`);
  }
  for (const w of s.waitingFor) lines.push(`  waiting for: ${w}`);
  if (s.next) lines.push(`  next: ${s.next}`);
  return lines.join('\n');
}
