import type { BatchEvidence, BatchRecord } from '../gate-evidence.ts';

/** The latest `n` batches (oldest first) that carry the given kind of evidence. */
export function latestBatches<K extends keyof BatchEvidence>(batches: readonly BatchRecord[], key: K, n: number): (BatchRecord & { readonly evidence: Required<Pick<BatchEvidence, K>> })[] {
  const withIt = batches.filter((b): b is BatchRecord & { readonly evidence: Required<Pick<BatchEvidence, K>> } => b.evidence[key] !== undefined);
  return withIt.slice(Math.max(0, withIt.length - n));
}

export function pct(share: number): string {
  return `${(share * 100).toFixed(share < 0.01 ? 3 : 2).replace(/\.?0+$/, '')}%`;
}
