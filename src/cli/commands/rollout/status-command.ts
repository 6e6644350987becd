import type { Command } from 'commander';
import type { RolloutPlan } from '../../../rollout/rollout-plan.ts';
import { initialRolloutState, type RolloutState } from '../../../rollout/rollout-state.ts';
import { SluiceError, formatProblem } from '../../../util/errors.ts';
import { formatTable } from '../../format.ts';
import { openWorkspace, type Workspace } from '../../workspace.ts';
import { readPlanFiles } from './plan-files.ts';
import type { RolloutCli } from './rollout-cli.ts';
import { observe, summarize, type RolloutSummary } from './rollout-summary.ts';

/** `rollout status [NAME]`: every rollout (started or only planned) with its state, stage and what it waits for. */
export function registerStatusCommand(rollout: Command, cli: RolloutCli): void {
  rollout
    .command('status')
    .argument('[name]', 'one rollout (default: all)')
    .description('state, stage, batches in the stage, last gate verdicts and what each rollout waits for')
    .action(async (name: string | undefined) => {
      await using ws = await openWorkspace(cli.globals().project, cli.globals().env);
      const { rollouts, warnings } = allRollouts(ws);
      const observed = observe(ws, rollouts, (n) => ws.rollouts.log(n));
      const summaries = rollouts.map((r) => summarize(ws, r.plan, r.state, ws.rollouts.log(r.name), observed));
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      if (name === undefined) {
        cli.out({ json: summaries, text: listText(summaries) });
        return;
      }
      const one = summaries.find((s) => s.name === name);
      if (!one) {
        ws.rollouts.plan(name); // NOT_FOUND naming the plans there are
        throw new SluiceError('NOT_FOUND', `no rollout "${name}"`, { field: 'rollout' });
      }
      cli.out({ json: one, text: detailText(one) });
    });
}

/** Started rollouts from the store, plus plans in rollouts/ that were never started (pending). */
function allRollouts(ws: Workspace): { rollouts: { name: string; plan: RolloutPlan; state: RolloutState }[]; warnings: string[] } {
  const stored = ws.rollouts.list();
  const names = new Set(stored.map((r) => r.name));
  const warnings: string[] = [];
  const planned: { name: string; plan: RolloutPlan; state: RolloutState }[] = [];
  for (const f of readPlanFiles(ws.project)) {
    if (names.has(f.name)) continue;
    if (!f.plan) {
      warnings.push(`${f.file} is invalid and left out: ${f.problems.map(formatProblem).join('; ')}`);
      continue;
    }
    names.add(f.name);
    planned.push({ name: f.name, plan: f.plan, state: initialRolloutState(f.name) });
  }
  return { rollouts: [...stored, ...planned].sort((a, b) => a.name.localeCompare(b.name)), warnings };
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
    `rollout ${s.name}: ${s.state}${s.stage ? ` at ${s.stage} (${s.mode})` : ''}`,
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
