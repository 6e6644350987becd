import { ACTIVE_STATES } from '../../rollout/rollout-state.ts';
import { messageOf } from '../../util/errors.ts';
import { gatherEvidence } from '../batch-evidence.ts';
import { runPipeline, type RunnerDeps, type RunRequest, type RunResult } from '../run-pipeline.ts';
import type { DispatchOutcome, RolloutService } from './rollout-service.ts';

/**
 * Runs a pipeline and tells every rollout that moves one of its steps: run_started when the run is
 * recorded, then batch_completed with the evidence (or run_finished when it failed).
 */
export async function runWithRollouts(deps: RunnerDeps & { readonly log?: (line: string) => void }, rollouts: RolloutService, req: RunRequest): Promise<{ result: RunResult; rollouts: DispatchOutcome[] }> {
  const plans = await rollouts.concerning(req.pipeline, req.environment);
  const stages = new Map<string, string | undefined>();
  let runId: string | undefined;
  let result: RunResult;
  try {
    result = await runPipeline(deps, {
      ...req,
      onStarted: async (run) => {
        runId = String(run.id);
        for (const p of plans) {
          const st = await rollouts.state(p.name);
          const stage = st.position?.environment === req.environment ? st.position.stageId : undefined;
          stages.set(p.name, stage);
          if (ACTIVE_STATES.includes(st.kind)) await rollouts.dispatchWithPlan(p, { kind: 'run_started', runId, environment: req.environment, partition: req.partition, ...(stage ? { stage } : {}) });
        }
        await req.onStarted?.(run);
      },
    });
  } catch (e) {
    if (runId !== undefined) {
      for (const p of plans) {
        const id = runId;
        if ((await rollouts.state(p.name)).inFlight.some((f) => f.runId === id)) await rollouts.dispatchWithPlan(p, { kind: 'run_finished', runId: id, success: false, error: messageOf(e) });
      }
    }
    throw e;
  }
  const outcomes: DispatchOutcome[] = [];
  const pipeline = deps.project.pipelines.get(req.pipeline);
  for (const p of plans) {
    if (!pipeline) continue;
    const needsDrift = p.environments.some((e) => e.stages.some((s) => s.gates.some((g) => g.kind === 'diff' && (g.maxPsi !== undefined || g.maxKs !== undefined))));
    const gathered = await gatherEvidence({ project: deps.project, warehouse: deps.warehouse, clock: deps.clock }, pipeline, p.steps, result.steps, { drift: needsDrift });
    const { evidence, success } = gathered;
    let publications = gathered.publications;
    const stage = stages.get(p.name);
    const current = await rollouts.state(p.name);
    const active = ACTIVE_STATES.includes(current.kind);
    // After an abort or rollback only a late candidate publication still matters (it gets reverted),
    // and a baseline run that republished a partition the candidate touched: the reducer must know,
    // or a later rollback would publish the older baseline output over this newer one.
    if (!active && !publications.some((x) => x.candidateRows)) {
      publications = result.publications
        .filter((x) => current.published.some((q) => q.candidateRows && q.environment === req.environment && q.dataset === x.dataset && q.partition === x.partition))
        .map((x) => ({ dataset: x.dataset, partition: x.partition, outputVersion: x.versionId, baselineOutputVersion: x.versionId, candidateRows: false }));
      if (publications.length === 0) continue;
    }
    try {
      outcomes.push(await rollouts.dispatchWithPlan(p, { kind: 'batch_completed', runId: String(result.run.id), environment: req.environment, partition: req.partition, ...(stage ? { stage } : {}), success, evidence, publications }));
    } catch (e) {
      if (active) throw e;
      deps.log?.(`rollout ${p.name}: ${messageOf(e)}`);
    }
  }
  return { result, rollouts: outcomes };
}
