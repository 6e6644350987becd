import type { FlagDefinition, Strategy } from './flag.ts';
import type { FlagState } from './flag-state.ts';

/**
 * What decides a key's bucket in a flag's gradual strategies: the context field hashed
 * (stickiness) and the salt (group_id). Changing either re-buckets every key, so keys inside a
 * 10 % slice land elsewhere: harmless before a rollout, but during one it moves rows between the
 * baseline and the candidate, so the CLI refuses it then (see `flags set`).
 */
type Bucketing = { readonly stickiness: string; readonly groupId: string };

function bucketings(strategies: readonly Strategy[]): Bucketing[] {
  return strategies.flatMap((s) => (s.kind === 'gradual' ? [{ stickiness: s.stickiness, groupId: s.groupId }] : []));
}

/**
 * The salt (group_id) a rollout buckets its step's keys with, so that it never rewrites a declared
 * one: the group_id the flag's gradual strategy already has in the environment (an earlier stage of
 * the rollout, or a slice set by hand before it, keeps its keys where they were), else the one
 * declared in flags/*.yaml, else the flag's name. The name is what a gradual strategy declared
 * without group_id gets (parse-flag-file) and what `flags set --rollout` uses, so every way of
 * slicing this flag agrees on the buckets.
 */
export function rolloutSalt(current: Pick<FlagState, 'strategies'>, declared: Pick<FlagDefinition, 'name' | 'strategies'>): string {
  return bucketings(current.strategies)[0]?.groupId ?? bucketings(declared.strategies)[0]?.groupId ?? declared.name;
}

/**
 * How `after` buckets keys differently from `before`, one phrase per difference (empty when it
 * buckets them the same): a gradual strategy with another group_id or another stickiness, or a
 * change after which the salt a rollout falls back to is another one.
 */
export function bucketingChanges(before: Pick<FlagState, 'strategies'>, after: Pick<FlagState, 'strategies'>, declared: Pick<FlagDefinition, 'name' | 'strategies'>): string[] {
  const salt = rolloutSalt(before, declared);
  const was = bucketings(before.strategies);
  const sticky = new Set(was.map((b) => b.stickiness));
  const out = new Set<string>();
  for (const b of bucketings(after.strategies)) {
    if (b.groupId !== salt) out.add(`group_id ${salt} -> ${b.groupId}`);
    if (sticky.size > 0 && !sticky.has(b.stickiness)) out.add(`stickiness ${[...sticky].join(', ')} -> ${b.stickiness}`);
  }
  const next = rolloutSalt(after, declared);
  if (out.size === 0 && next !== salt) out.add(`group_id ${salt} -> ${next} (the salt a rollout falls back to without this gradual strategy)`);
  return [...out];
}
