import { SluiceError } from '../../../util/errors.ts';
import { formatTable } from '../../../util/format-table.ts';
import type { Project } from '../../../config/project-model.ts';
import type { Workspace } from '../../../app/open-workspace.ts';
import { systemClock } from '../../../util/clock.ts';
import type { CliContext } from '../cli-context.ts';
import { readRollouts } from './rollout-reads.ts';
import { allRollouts, summarize, type RolloutSummary } from '../../../runner/rollouts/rollout-read-model.ts';

/** `rollout status [NAME]`: every rollout (started or only planned) with its state, stage and what it waits for. */
export async function rolloutStatus(cli: CliContext, name: string | undefined): Promise<void> {
  const summaries = await readRollouts(cli, { recorded: (ws) => recordedStatus(ws, name), planned: plannedStatus });
  if (name === undefined) {
    cli.out({ json: summaries, text: listText(summaries) });
    return;
  }
  const one = summaries.find((s) => s.name === name);
  if (!one) throw new SluiceError('NOT_FOUND', `no rollout plan "${name}" in rollouts/ (plans: ${summaries.map((s) => s.name).join(', ') || 'none'})`, { field: 'rollout' });
  cli.out({ json: one, text: detailText(one) });
}

/** Rollouts as the store records them, and the plans not started yet. */
async function recordedStatus(ws: Workspace, name: string | undefined): Promise<RolloutSummary[]> {
  const { rollouts, warnings } = await allRollouts(ws.rollouts, ws.project);
  const observed = await ws.rollouts.observations();
  const summaries: RolloutSummary[] = [];
  for (const r of rollouts) summaries.push(summarize(ws, r.plan, r.state, await ws.rollouts.log(r.name), observed));
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  if (name !== undefined && !summaries.some((s) => s.name === name)) await ws.rollouts.plan(name); // NOT_FOUND naming the plans there are
  return summaries;
}

/** A project that never ran: every plan is pending, and nothing was observed. */
async function plannedStatus(project: Project): Promise<RolloutSummary[]> {
  const { rollouts, warnings } = await allRollouts({ list: async () => [] }, project);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const nothingObserved = { rollouts: {}, datasets: {}, recentTransitions: [] };
  return rollouts.map((r) => summarize({ project, clock: systemClock }, r.plan, r.state, [], nothingObserved));
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
