import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { downstreamOrder, planRollback } from './plan-rollback.ts';
import type { TouchedPartition } from './plan-rollback.ts';

const t = (dataset: string, partition: string, run: string, environment = 'prod'): TouchedPartition => ({
  environment, dataset, partition, runId: run, publishedOutputVersion: `${dataset}@${partition}@${run}@cand`, baselineOutputVersion: `${dataset}@${partition}@${run}@base`,
});

describe('rollback planner', () => {
  // orders_clean -> orders_daily -> revenue ; orders_clean -> revenue ; customers -> revenue
  const graph = { orders_clean: ['revenue', 'orders_daily'], orders_daily: ['revenue'], customers: ['revenue'], revenue: ['exec_dash'] };

  test('republishes every touched partition from the baseline output of the same run, never deletes', () => {
    const plan = planRollback({ touched: [t('orders_clean', 'p2', 'r2'), t('orders_clean', 'p1', 'r1'), t('orders_clean', 'p1', 'r3')], graph });
    assert.deepEqual(plan.republish, [
      { environment: 'prod', dataset: 'orders_clean', partition: 'p1', outputVersion: 'orders_clean@p1@r3@base', replaces: 'orders_clean@p1@r3@cand', runId: 'r3' },
      { environment: 'prod', dataset: 'orders_clean', partition: 'p2', outputVersion: 'orders_clean@p2@r2@base', replaces: 'orders_clean@p2@r2@cand', runId: 'r2' },
    ]);
    assert.deepEqual(plan.deletes, []);
    assert.deepEqual(plan.reverted, [{ environment: 'prod', dataset: 'orders_clean', partitions: ['p1', 'p2'] }]);
  });

  test('re-runs downstream datasets for those partitions in dependency order', () => {
    const plan = planRollback({ touched: [t('orders_clean', 'p1', 'r1'), t('orders_clean', 'p2', 'r2')], graph });
    assert.deepEqual(plan.rerun.map((r) => [r.dataset, r.partitions, r.because]), [
      ['orders_daily', ['p1', 'p2'], ['orders_clean']],
      ['revenue', ['p1', 'p2'], ['orders_clean', 'orders_daily']],
      ['exec_dash', ['p1', 'p2'], ['revenue']],
    ]);
  });

  test('a downstream partition restored itself is not re-run; environments are planned apart', () => {
    const plan = planRollback({ touched: [t('orders_clean', 'p1', 'r1'), t('orders_daily', 'p1', 'r1'), t('orders_clean', 'p9', 'r9', 'dev')], graph });
    assert.deepEqual(plan.republish.map((r) => `${r.environment}:${r.dataset}:${r.partition}`), ['dev:orders_clean:p9', 'prod:orders_clean:p1', 'prod:orders_daily:p1']);
    assert.deepEqual(plan.rerun.map((r) => `${r.environment}:${r.dataset}:${r.partitions.join(',')}`), ['dev:orders_daily:p9', 'dev:revenue:p9', 'dev:exec_dash:p9', 'prod:revenue:p1', 'prod:exec_dash:p1']);
  });

  test('topological order breaks ties by name and survives cycles with a warning', () => {
    assert.deepEqual(downstreamOrder(['a'], { a: ['c', 'b'], b: ['d'], c: ['d'] }), ['a', 'b', 'c', 'd']);
    const warnings: string[] = [];
    assert.deepEqual(downstreamOrder(['a'], { a: ['b'], b: ['c'], c: ['b'] }, warnings), ['a', 'b', 'c']);
    assert.match(warnings[0] ?? '', /cycle among b, c/);
  });

  test('nothing touched, nothing to do', () => {
    assert.deepEqual(planRollback({ touched: [], graph }), { republish: [], rerun: [], reverted: [], deletes: [], warnings: [] });
  });
});
