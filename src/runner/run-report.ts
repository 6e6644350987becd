import type { Project } from '../config/project-model.ts';
import type { OutputVersion, Publication, Warehouse } from '../engine/warehouse.ts';
import type { RunRecord, StepRunRecord } from '../store/metadata-store.ts';
import type { RunResult, StepOutcome } from './run-pipeline.ts';
import type { DispatchOutcome } from './rollouts/rollout-service.ts';

/** What the rollouts a run reported to did because of it: roll back, pause. */
export interface RolloutReaction {
  readonly rolledBack: readonly string[];
  readonly paused: readonly string[];
}

export function rolloutReaction(outcomes: readonly DispatchOutcome[]): RolloutReaction {
  const into = (kind: string): string[] => outcomes.filter((o) => o.result.transitions.some((t) => t.to.state === kind && t.from.state !== kind)).map((o) => o.id);
  return { rolledBack: into('rolled_back'), paused: into('paused') };
}

/** One output a run computed, with the part it played. */
export interface ComputedVersion {
  readonly step: string;
  /** `read`: not computed; the published output the run read (a selected run, a rollback's re-run). */
  readonly role: 'output' | 'baseline' | 'candidate' | 'blend' | 'read';
  readonly id: string;
  readonly stepVersion: string;
  readonly rows: number;
}

/** Every output a run computed: the single version of a plain step; baseline, candidate and blend of a sliced one. */
export function computedVersions(steps: readonly StepOutcome[]): ComputedVersion[] {
  const out: ComputedVersion[] = [];
  const add = (step: string, role: ComputedVersion['role'], v: OutputVersion | null | undefined): void => {
    if (v && !out.some((x) => x.id === v.id)) out.push({ step, role, id: v.id, stepVersion: v.stepVersion, rows: v.rowCount });
  };
  for (const s of steps) {
    if (s.reused) {
      add(s.step, 'read', s.output);
      continue;
    }
    if (s.exposure.kind === 'single' || !s.baselineOutput) {
      add(s.step, 'output', s.output);
      continue;
    }
    add(s.step, 'baseline', s.baselineOutput);
    add(s.step, 'candidate', s.candidateOutput);
    add(s.step, 'blend', s.exposedOutput);
  }
  return out;
}

/** The same, from what the warehouse keeps of a finished run (ids end in `.v1`, `.v2` for the versions of a sliced step). */
export function computedFromStore(run: RunRecord, steps: readonly StepRunRecord[], versions: readonly OutputVersion[]): ComputedVersion[] {
  return versions.map((v) => {
    const artifact = run.artifacts[v.step];
    const sliced = artifact?.candidate !== undefined;
    const role: ComputedVersion['role'] = !sliced ? 'output' : v.stepVersion === artifact.version ? 'baseline' : v.stepVersion === artifact.candidate?.version ? 'candidate' : 'blend';
    return { step: v.step, role, id: v.id, stepVersion: v.stepVersion, rows: v.rowCount };
  }).sort((a, b) => steps.findIndex((s) => s.step === a.step) - steps.findIndex((s) => s.step === b.step));
}

/** Lines naming what each dataset of a run published, and why a candidate was left out. */
export function publishedLines(result: RunResult): string[] {
  const lines: string[] = [];
  for (const p of result.publications) {
    const step = result.steps.find((s) => s.output?.id === p.versionId);
    const what = step?.exposure.kind === 'sliced' ? (step.candidateRejected ? `baseline ${step.exposure.baseline} alone` : step.output?.id === step.baselineOutput?.id ? `baseline ${step.exposure.baseline} (shadow)` : step.output?.id === step.candidateOutput?.id ? `candidate ${step.exposure.candidate}` : `blend ${step.output?.stepVersion ?? ''}`) : (step?.version ?? '');
    lines.push(`published ${p.dataset} ${p.partition} <- ${p.versionId} (${what})`);
  }
  for (const s of result.steps) if (s.candidateRejected) lines.push(`  candidate of ${s.step} not published: ${s.candidateRejected}`);
  return lines;
}

/** Which output each partition a run published shows now (a later publication, a rollback's republish). */
export async function publishedNow(project: Pick<Project, 'pipelines'>, warehouse: Pick<Warehouse, 'currentPublications'>, run: RunRecord): Promise<{ dataset: string; partition: string; shows: string; byThisRun: boolean; since: Publication | undefined }[]> {
  const pipeline = project.pipelines.get(run.pipeline);
  const out: { dataset: string; partition: string; shows: string; byThisRun: boolean; since: Publication | undefined }[] = [];
  for (const d of pipeline?.datasets.values() ?? []) {
    const current = (await warehouse.currentPublications(d.name)).find((p) => p.partition === run.partition);
    if (!current) continue;
    out.push({ dataset: d.name, partition: run.partition, shows: current.versionId, byThisRun: current.runId === run.id, since: current });
  }
  return out;
}
