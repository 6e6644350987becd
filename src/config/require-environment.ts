import { SluiceError } from '../util/errors.ts';

/** An environment the project declares, else a usage error listing those it does. */
export function requireEnvironment(project: { readonly environments: readonly string[] }, env: string): void {
  if (!project.environments.includes(env)) {
    throw new SluiceError('USAGE', `unknown environment "${env}" (environments: ${project.environments.join(', ')})`, { field: 'env' });
  }
}
