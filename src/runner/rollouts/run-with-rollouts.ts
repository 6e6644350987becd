import type { BatchEvidence } from '../../rollout/gate-evidence.ts';
import { judgeBeforePublish } from '../../rollout/judge-before-publish.ts';
import type { RolloutPlan } from '../../rollout/rollout-plan.ts';
import { ACTIVE_STATES, type Publication } from '../../rollout/rollout-state.ts';
import type { PinnedFlags } from '../../store/metadata-store.ts';
import { messageOf } from '../../util/errors.ts';
import { mergeEvidence } from '../candidate-evidence.ts';
import { runPipeline, type RunnerDeps, type RunRequest, type RunResult, type SlicedExposure } from '../run-pipeline.ts';
import type { DispatchOutcome, RolloutService } from './rollout-service.ts';

/** The rollout attempts whose flag states a run pinned. */
export function pinnedRollouts(flags: PinnedFlags): string[] {
  return [...new Set(Object.values(flags.exposures).flatMap((e) => (e.rollout ? [e.rollout] : [])))].sort();
}

function needsDrift(plan: RolloutPlan): boolean {
  return plan.environments.some((e) => e.stages.some((s) => s.gates.some((g) => g.kind === 'diff' && (g.maxPsi !== undefined || g.maxKs !== undefined))));
}

/**
 * Runs a pipeline and tells the rollout attempts whose exposure it pinned (and only those):
 * run_started when the run is recorded; for each sliced step, the candidate is judged by the
 * attempt's before-publish gates right after it computes (a rejected candidate leaves the batch on
 * its baseline output); then batch_completed with the evidence and what was published, or
 * run_finished when the run failed. An attempt that ended meanwhile still hears of its own late
 * runs (to revert a candidate publication) and of nothing else.
 */
export async function runWithRollouts(deps: RunnerDeps & { readonly log?: (line: string) => void }, rollouts: RolloutService, req: RunRequest): Promise<{ result: RunResult; rollouts: DispatchOutcome[] }> {
  const pinned = new Map<string, { plan: RolloutPlan; stage?: string }>();
  const evidence = new Map<string, BatchEvidence[]>();
  let runId: string | undefined;
  let result: RunResult;
  try {
    result = await runPipeline(deps, {
      ...req,
      onStarted: async (run) => {
        runId = String(run.id);
        for (const id of pinnedRollouts(run.flags)) {
          const a = await rollouts.attempt(id);
          if (!a) continue;
          const stage = a.state.position?.environment === req.environment ? a.state.position.stageId : undefined;
          pinned.set(id, { plan: a.plan, ...(stage ? { stage } : {}) });
          if (ACTIVE_STATES.includes(a.state.kind)) await rollouts.dispatchToId(id, { kind: 'run_started', runId, environment: req.environment, partition: req.partition, ...(stage ? { stage } : {}) });
        }
        await req.onStarted?.(run);
      },
      evidenceFor: (exposure: SlicedExposure) => {
        const p = exposure.rollout ? pinned.get(exposure.rollout) : undefined;
        return p ? { full: true, drift: needsDrift(p.plan) } : { full: false, drift: false };
      },
      judgeCandidate: async ({ exposure, evidence: e }) => {
        const id = exposure.rollout;
        const p = id ? pinned.get(id) : undefined;
        if (!id || !p) return { accept: true };
        evidence.set(id, [...(evidence.get(id) ?? []), e]);
        const a = await rollouts.attempt(id);
        if (!a) return { accept: true };
        const j = judgeBeforePublish(p.plan, a.state, { environment: req.environment, ...(p.stage ? { stage: p.stage } : {}), ...(runId ? { runId } : {}) }, e, deps.clock);
        if (j.worst !== 'rollback' && j.worst !== 'fail') return { accept: true };
        const bad = j.verdicts.filter((v) => v.verdict === j.worst).map((v) => `gate ${v.gate}: ${v.reason}`);
        return { accept: false, reason: `rollout ${a.name} rejected the candidate before publish (${j.worst}): ${bad.join('; ')}` };
      },
    });
  } catch (e) {
    if (runId !== undefined) {
      const id = runId;
      for (const rollout of pinned.keys()) {
        if ((await rollouts.attempt(rollout))?.state.inFlight.some((f) => f.runId === id)) await rollouts.dispatchToId(rollout, { kind: 'run_finished', runId: id, success: false, error: messageOf(e) });
      }
    }
    throw e;
  }
  const outcomes: DispatchOutcome[] = [];
  const pipeline = deps.project.pipelines.get(req.pipeline);
  for (const [id, p] of pinned) {
    if (!pipeline) continue;
    const mine = result.steps.filter((o) => o.exposure.rollout === id && o.exposure.kind === 'sliced' && o.baselineOutput && o.output);
    const publications: Publication[] = [];
    for (const o of mine) {
      for (const d of pipeline.datasets.values()) {
        if (d.step !== o.step || !o.output || !o.baselineOutput) continue;
        if (!result.publications.some((x) => x.dataset === d.name)) continue;
        publications.push({ dataset: d.name, partition: o.output.partition, outputVersion: o.output.id, baselineOutputVersion: o.baselineOutput.id, candidateRows: o.output.id !== o.baselineOutput.id });
      }
    }
    const parts = evidence.get(id) ?? mine.flatMap((o) => (o.evidence ? [o.evidence] : []));
    const success = mine.every((o) => o.candidateOutput !== undefined && !o.candidateError);
    try {
      const out = await rollouts.dispatchToId(id, { kind: 'batch_completed', runId: String(result.run.id), environment: req.environment, partition: req.partition, ...(p.stage ? { stage: p.stage } : {}), success, evidence: mergeEvidence(parts), publications });
      if (out) outcomes.push(out);
    } catch (e) {
      deps.log?.(`rollout ${id}: ${messageOf(e)}`);
      if (ACTIVE_STATES.includes((await rollouts.attempt(id))?.state.kind ?? 'pending')) throw e;
    }
  }
  return { result, rollouts: outcomes };
}
