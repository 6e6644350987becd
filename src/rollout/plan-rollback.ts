/**
 * The rollback planner (pure). A rollback never recomputes and never deletes: every partition
 * the candidate touched is published again from the baseline output of the same run (computed in
 * every shadow and canary run), then datasets that read those partitions are re-run, for the same
 * partition keys, in dependency order. The plan is plain JSON, so `rollout rehearse` and `--json`
 * can print it and the adapter carries it out.
 */

/** A published partition that carries candidate rows, with the baseline output of the same run. */
export type TouchedPartition = {
  readonly environment: string;
  readonly dataset: string;
  readonly partition: string;
  readonly runId: string;
  /** The output version consumers read now (with candidate rows). */
  readonly publishedOutputVersion: string;
  /** The baseline output version computed in the same run. */
  readonly baselineOutputVersion: string;
  /** Every candidate-bearing output the rollout published for this partition, with its run's baseline. */
  readonly candidates?: readonly { readonly outputVersion: string; readonly baselineOutputVersion: string; readonly runId: string }[];
};

/** dataset -> datasets that read it (directly). */
export type DatasetGraph = Readonly<Record<string, readonly string[]>>;

export type RepublishItem = {
  readonly environment: string;
  readonly dataset: string;
  readonly partition: string;
  /** Publish this existing version again (the baseline output of `runId`). */
  readonly outputVersion: string;
  /** The version it replaces; kept, not deleted. */
  readonly replaces: string;
  readonly runId: string;
  /**
   * Other candidate-bearing outputs of the rollout for this partition, each with the baseline that
   * restores it: when one of them is showing (a manual republish brought it back), that one is
   * reverted instead. Anything else showing is not the rollout's data and is left alone.
   */
  readonly alternatives?: readonly { readonly replaces: string; readonly outputVersion: string }[];
};

export type RerunItem = {
  readonly environment: string;
  readonly dataset: string;
  readonly partitions: readonly string[];
  /** Upstream datasets whose restored partitions this dataset reads. */
  readonly because: readonly string[];
};

export type RollbackPlan = {
  /** First step: atomic re-publications, one per touched partition. */
  readonly republish: readonly RepublishItem[];
  /** Second step, in this order (topological): downstream datasets to re-run for those partitions. */
  readonly rerun: readonly RerunItem[];
  /** What is reverted, for the report. */
  readonly reverted: readonly { readonly environment: string; readonly dataset: string; readonly partitions: readonly string[] }[];
  /** Always empty: nothing is ever deleted; superseded versions stay for retention to judge. */
  readonly deletes: readonly never[];
  readonly warnings: readonly string[];
};

export type PlanRollbackInput = {
  readonly touched: readonly TouchedPartition[];
  readonly graph: DatasetGraph;
};

/**
 * Datasets reachable from `roots` (roots included) in topological order, ties broken by name.
 * Members of a cycle come last, by name, with a warning.
 */
export function downstreamOrder(roots: readonly string[], graph: DatasetGraph, warnings: string[] = []): string[] {
  const reach = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const d = stack.pop() as string;
    if (reach.has(d)) continue;
    reach.add(d);
    for (const r of graph[d] ?? []) stack.push(r);
  }
  const indegree = new Map<string, number>([...reach].map((d) => [d, 0]));
  for (const d of reach) for (const r of graph[d] ?? []) if (reach.has(r)) indegree.set(r, (indegree.get(r) ?? 0) + 1);
  const ready = [...reach].filter((d) => indegree.get(d) === 0).sort();
  const order: string[] = [];
  while (ready.length > 0) {
    const d = ready.shift() as string;
    order.push(d);
    for (const r of [...new Set(graph[d] ?? [])]) {
      if (!reach.has(r)) continue;
      const n = (indegree.get(r) ?? 0) - 1;
      indegree.set(r, n);
      if (n === 0) {
        ready.push(r);
        ready.sort();
      }
    }
  }
  const rest = [...reach].filter((d) => !order.includes(d)).sort();
  if (rest.length > 0) warnings.push(`dataset dependency cycle among ${rest.join(', ')}; re-run in name order`);
  return [...order, ...rest];
}

export function planRollback(input: PlanRollbackInput): RollbackPlan {
  const warnings: string[] = [];
  // Latest entry per (environment, dataset, partition) wins.
  const latest = new Map<string, TouchedPartition>();
  for (const t of input.touched) latest.set(JSON.stringify([t.environment, t.dataset, t.partition]), t);
  const touched = [...latest.values()];
  const environments = [...new Set(touched.map((t) => t.environment))].sort();
  const republish: RepublishItem[] = [];
  const rerun: RerunItem[] = [];
  const reverted: { environment: string; dataset: string; partitions: string[] }[] = [];
  for (const environment of environments) {
    const mine = touched.filter((t) => t.environment === environment);
    const roots = [...new Set(mine.map((t) => t.dataset))];
    const order = downstreamOrder(roots, input.graph, warnings);
    // partitions restored (republished) per dataset, and partitions that must be recomputed per dataset
    const restored = new Map<string, Set<string>>();
    for (const t of mine) restored.set(t.dataset, (restored.get(t.dataset) ?? new Set()).add(t.partition));
    const dirty = new Map<string, Map<string, Set<string>>>(); // dataset -> partition -> upstream causes
    for (const d of order) {
      const own = restored.get(d);
      if (own) {
        const parts = [...own].sort();
        for (const p of parts) {
          const t = mine.find((x) => x.dataset === d && x.partition === p) as TouchedPartition;
          const alternatives = (t.candidates ?? []).filter((c) => c.outputVersion !== t.publishedOutputVersion).map((c) => ({ replaces: c.outputVersion, outputVersion: c.baselineOutputVersion }));
          republish.push({ environment, dataset: d, partition: p, outputVersion: t.baselineOutputVersion, replaces: t.publishedOutputVersion, runId: t.runId, ...(alternatives.length ? { alternatives } : {}) });
        }
        reverted.push({ environment, dataset: d, partitions: parts });
      }
      const needs = dirty.get(d);
      const rerunParts = needs ? [...needs.keys()].filter((p) => !own?.has(p)).sort() : [];
      if (rerunParts.length > 0) {
        const because = [...new Set(rerunParts.flatMap((p) => [...(needs?.get(p) ?? [])]))].sort();
        rerun.push({ environment, dataset: d, partitions: rerunParts, because });
      }
      // What d now changes for its readers: its restored and its re-run partitions.
      const changed = [...(own ?? []), ...rerunParts];
      for (const reader of graph(input.graph, d)) {
        const m = dirty.get(reader) ?? new Map<string, Set<string>>();
        for (const p of changed) m.set(p, (m.get(p) ?? new Set()).add(d));
        dirty.set(reader, m);
      }
    }
  }
  return { republish, rerun, reverted, deletes: [], warnings: [...new Set(warnings)] };
}

function graph(g: DatasetGraph, d: string): readonly string[] {
  return g[d] ?? [];
}
