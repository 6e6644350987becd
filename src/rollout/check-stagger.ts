import type { RecentTransition } from './gate-evidence.ts';

export type StaggerConfig = {
  /** At most this many stage transitions per environment… */
  readonly maxTransitions: number;
  /** …within this many milliseconds (sliding window ending now). */
  readonly windowMs: number;
};

export type StaggerDecision = { readonly allowed: boolean; readonly count: number; readonly reason: string };

/**
 * Staggering: may another stage transition happen in `environment` now, given the recent
 * transitions of every rollout there (read from the store by the adapter)?
 */
export function checkStagger(recent: readonly RecentTransition[], environment: string, now: Date, config: StaggerConfig | undefined): StaggerDecision {
  if (!config) return { allowed: true, count: 0, reason: 'no staggering configured' };
  const since = now.getTime() - config.windowMs;
  const count = recent.filter((t) => t.environment === environment && new Date(t.at).getTime() > since && new Date(t.at).getTime() <= now.getTime()).length;
  const minutes = Math.round(config.windowMs / 60_000);
  if (count >= config.maxTransitions) {
    return { allowed: false, count, reason: `staggered: ${count} stage transition(s) in ${environment} in the last ${minutes} min (max ${config.maxTransitions})` };
  }
  return { allowed: true, count, reason: `${count} of ${config.maxTransitions} stage transition(s) in ${environment} in the last ${minutes} min` };
}
