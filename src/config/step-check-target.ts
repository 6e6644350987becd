import type { Partitioning } from './partitioning.ts';
import type { Dataset, Step } from './project-model.ts';

/**
 * A step that publishes no dataset (a staging step), as the target of its own checks: they run
 * like a dataset's, and their results are stored under the step's name.
 */
export function stepCheckTarget(step: Step, partitioning: Partitioning): Dataset {
  return { name: step.name, step: step.name, partitioning, allowEmpty: true, primaryKey: [], checks: step.checks, profile: false };
}
