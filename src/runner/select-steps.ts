import type { Pipeline } from '../config/project-model.ts';
import { SluiceError } from '../util/errors.ts';
import { dependsOn } from './dataset-graph.ts';

/**
 * Model selection, as dbt users type it: `STEP` alone, `STEP+` with everything downstream of it,
 * `+STEP` with everything upstream, `+STEP+` both; several selectors separated by commas or spaces
 * are a union. Returns the selected steps in pipeline order.
 */
export function selectSteps(pipeline: Pipeline, expression: string): string[] {
  const selected = new Set<string>();
  const selectors = expression.split(/[\s,]+/).filter((s) => s !== '');
  if (selectors.length === 0) throw new SluiceError('USAGE', '--select names at least one step (STEP, STEP+, +STEP)', { field: '--select' });
  for (const selector of selectors) {
    const m = /^(\+?)([^+]+)(\+?)$/.exec(selector);
    const name = m?.[2];
    const step = name ? pipeline.steps.find((s) => s.name === name || s.name.toLowerCase() === name.toLowerCase()) : undefined;
    if (!m || !step) {
      throw new SluiceError('USAGE', `--select ${JSON.stringify(selector)}: ${m ? `pipeline ${pipeline.name} has no step "${name}"` : 'not a selector'} (steps: ${pipeline.steps.map((s) => s.name).join(', ')}; write STEP, STEP+ or +STEP)`, { field: '--select' });
    }
    selected.add(step.name);
    for (const other of pipeline.steps) {
      if (m[1] && dependsOn(pipeline, step.name, other.name)) selected.add(other.name);
      if (m[3] && dependsOn(pipeline, other.name, step.name)) selected.add(other.name);
    }
  }
  return pipeline.steps.filter((s) => selected.has(s.name)).map((s) => s.name);
}

/** What a selected run does with each step: compute it (selected, or an input nothing published), reuse its published output, or leave it out. */
export interface SelectionPlan {
  readonly compute: ReadonlySet<string>;
  /** step -> the published output version it is read from. */
  readonly reuse: Readonly<Record<string, string>>;
  /** Steps whose datasets this run publishes: the selected ones. */
  readonly publish: ReadonlySet<string>;
}

/**
 * The steps a selected run computes: the selected ones, and the steps they read (directly or
 * through others) that publish no output for the partition yet; a step they read that is
 * published is read from its publication and what it reads is not needed.
 */
export function planSelection(pipeline: Pipeline, selected: readonly string[], publishedOutput: (step: string) => string | undefined): SelectionPlan {
  const compute = new Set(selected);
  const reuse: Record<string, string> = {};
  const visit = (step: string): void => {
    const s = pipeline.steps.find((x) => x.name === step);
    for (const input of s?.inputs ?? []) {
      if (compute.has(input) || reuse[input] !== undefined || !pipeline.steps.some((x) => x.name === input)) continue;
      const published = publishedOutput(input);
      if (published) reuse[input] = published;
      else {
        compute.add(input);
        visit(input);
      }
    }
  };
  for (const step of selected) visit(step);
  return { compute, reuse, publish: new Set(selected) };
}
