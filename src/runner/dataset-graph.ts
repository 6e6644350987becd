import type { Pipeline, Project } from '../config/project-model.ts';
import { tableName } from '../engine/source.ts';

/**
 * dataset -> datasets that read it: inside a pipeline, the datasets whose step depends (directly
 * or through other steps) on the dataset's step; across pipelines, those that read the dataset's
 * published table as a source.
 */
export function buildDatasetGraph(project: Project): Record<string, string[]> {
  const graph: Record<string, string[]> = {};
  for (const p of project.pipelines.values()) {
    for (const d of p.datasets.values()) {
      const readers = new Set<string>();
      for (const other of p.datasets.values()) {
        if (other.name !== d.name && other.step !== d.step && dependsOn(p, other.step, d.step)) readers.add(other.name);
      }
      for (const q of project.pipelines.values()) {
        if (q.name === p.name) continue;
        const readsIt = [...q.sources.values()].some((s) => s.kind === 'table' && tableName(s.table) === d.name);
        if (readsIt) for (const qd of q.datasets.values()) readers.add(qd.name);
      }
      graph[d.name] = [...readers].sort();
    }
  }
  return graph;
}

/** True when `step` reads `upstream`, directly or through other steps. */
export function dependsOn(p: Pipeline, step: string, upstream: string, seen = new Set<string>()): boolean {
  const s = p.steps.find((x) => x.name === step);
  if (!s || seen.has(step)) return false;
  seen.add(step);
  return s.inputs.some((i) => i === upstream || dependsOn(p, i, upstream, seen));
}

export function pipelineOfDataset(project: Project, dataset: string): Pipeline | undefined {
  return [...project.pipelines.values()].find((p) => p.datasets.has(dataset));
}
