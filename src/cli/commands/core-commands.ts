import type { Command } from 'commander';
import type { RunRequest } from '../../runner/run-pipeline.ts';
import { formatTable } from '../../util/format-table.ts';
import type { Emit } from '../emit.ts';
import { EXIT_ROLLOUT_ACTED } from '../output.ts';
import { cliContext } from './cli-context.ts';
import type { AuditLogOptions } from './core/audit-log.ts';
import type { RepublishOptions } from './core/republish-action.ts';
import type { PublicationsOptions, RunsOptions } from './core/run-history.ts';
import type { DemoOptions } from './core/scaffold-actions.ts';

/**
 * The core commands' definitions. Each action imports its implementation when it runs (modules in
 * core/, or the modules a body names), so `sluice --help` loads commander and these definitions
 * only, and a command loads what it uses: `runs` no engine, `run` the whole runner.
 */
export function registerCoreCommands(program: Command, emit: Emit): void {
  const cli = cliContext(program, emit);
  const { globals, out } = cli;

  program
    .command('init')
    .argument('<dir>', 'new project folder')
    .description('scaffold a working project with sample data')
    .action(async (dir: string) => (await import('./core/scaffold-actions.ts')).init(cli, dir));

  program
    .command('demo')
    .option('--dir <dir>', 'where to create the demo project (default: a new temporary folder)')
    .option('--days <n>', 'daily partitions', '14')
    .option('--orders-per-day <n>', 'orders per day', '2000')
    .option('--store <url>', 'a PostgreSQL metadata store (as SLUICE_STORE_URL), instead of the embedded SQLite file')
    .option('--warehouse <url>', 'a PostgreSQL warehouse (as SLUICE_WAREHOUSE_URL), instead of the embedded DuckDB file')
    .description('create a demo project with 14 days of orders, backfill it, then roll out v2 (promoted) and v3 (caught and rolled back); on the embedded engines, or on PostgreSQL with --store and --warehouse')
    .action(async (o: DemoOptions) => (await import('./core/scaffold-actions.ts')).demo(cli, o));

  program
    .command('validate')
    .description('check the whole project without running or writing anything: every file, step SQL bound against its inputs, checks, contracts, flags and rollout plans; every problem with file, line and field')
    .action(async () => (await import('./core/validate-action.ts')).validate(cli));

  // run and backfill keep their bodies here, beside options that change with the partition and
  // selection work; like every command, they import the runner only when they run.
  program
    .command('run')
    .argument('<pipeline>')
    .option('--partition <p>', 'the partition to run: 2026-11-01 (daily), 2026-11 (monthly), 2026-11-01T05 (hourly), a declared value; left out for an unpartitioned pipeline')
    .option('--select <steps>', 'only these steps, as dbt selects: STEP, STEP+ (and downstream), +STEP (and upstream); the rest is read from what is published (or computed, unpublished, when nothing is)')
    .option('--queue', 'enqueue the run for `sluice worker` instead of running it here', false)
    .description(`run every step of a pipeline for one partition (or the whole table) and publish its datasets (exit ${EXIT_ROLLOUT_ACTED} when the batch made a rollout roll back or pause: the baseline was published)`)
    .action(async (pipeline: string, o: { partition?: string; select?: string; queue: boolean }) => {
      if (o.queue) {
        const { WHOLE: whole } = await import('../../config/partitioning.ts');
        return (await import('./core/queue-actions.ts')).enqueueRuns(cli, pipeline, () => [o.partition ?? whole], o.select);
      }
      const { currentActor, openWorkspace } = await import('../../app/open-workspace.ts');
      const { WHOLE } = await import('../../config/partitioning.ts');
      const { computedVersions, publishedLines, rolloutReaction } = await import('../../runner/run-report.ts');
      await using ws = await openWorkspace(globals().project, globals().env, { recover: true, check: true, maintain: true });
      const { result: r, rollouts } = await ws.run({ pipeline, partition: o.partition ?? WHOLE, environment: ws.environment, actor: currentActor(), ...(o.select !== undefined ? { select: o.select } : {}) });
      const versions = computedVersions(r.steps).map((v) => ({ step: v.step, computed: v.role, version: v.stepVersion, rows: v.rows, output: v.id }));
      const reaction = rolloutReaction(rollouts);
      const acted = reaction.rolledBack.length + reaction.paused.length > 0;
      out({
        json: { run: r.run, steps: r.steps.map(({ output: _o, ...s }) => s), computed: computedVersions(r.steps), publications: r.publications, rollouts: reaction },
        text: [
          `run ${r.run.id}: ${pipeline} ${r.run.partition === WHOLE ? '(whole table)' : r.run.partition} in ${ws.environment}: ${r.run.status}`,
          formatTable(versions),
          '',
          ...publishedLines(r),
          ...rollouts.map((x) => `rollout ${x.id}: ${x.state.kind}${x.state.position ? ` at ${x.state.position.environment}/${x.state.position.stageId}` : ''}${x.result.waiting?.length ? ` (waiting: ${x.result.waiting.join('; ')})` : ''}`),
          ...reaction.rolledBack.map((id) => `rollout ${id} rolled back because of this batch; the batch published the baseline (exit ${EXIT_ROLLOUT_ACTED}: do not retry)`),
          ...reaction.paused.map((id) => `rollout ${id} paused because of this batch; the batch published the baseline (exit ${EXIT_ROLLOUT_ACTED}: do not retry)`),
        ].join('\n'),
        exitCode: acted ? EXIT_ROLLOUT_ACTED : 0,
      });
    });


  program
    .command('backfill')
    .argument('<pipeline>')
    .option('--from <partition>', 'first time partition (2026-11-01, 2026-11 or 2026-11-01T05, as the pipeline is cut)')
    .option('--to <partition>', 'last time partition, included')
    .option('--partitions <list>', 'these partitions, comma-separated (default for a categorical pipeline: every declared value)')
    .option('--stop-on-error', 'stop at the first failed partition', false)
    .option('--queue', 'enqueue the partitions (one batch) for `sluice worker` instead of running them here', false)
    .description(`run a range or list of partitions with a progress bar and a summary; an unpartitioned pipeline runs once (exit 5 failed partitions, else 6 failed checks, else ${EXIT_ROLLOUT_ACTED} a rollout rolled back or paused)`)
    .action(async (pipeline: string, o: { from?: string; to?: string; partitions?: string; stopOnError: boolean; queue: boolean }) => {
      if (o.queue) {
        const { backfillPartitions: partitionsOf } = await import('../../runner/backfill.ts');
        return (await import('./core/queue-actions.ts')).enqueueRuns(cli, pipeline, (p) => partitionsOf(p.partitioning, o));
      }
      const { currentActor, openWorkspace } = await import('../../app/open-workspace.ts');
      const { backfill, backfillPartitions } = await import('../../runner/backfill.ts');
      const { requirePipeline } = await import('../../runner/run-pipeline.ts');
      const { SingleBar, Presets } = await import('cli-progress');
      await using ws = await openWorkspace(globals().project, globals().env, { recover: true, check: true, maintain: true });
      const partitions = backfillPartitions(requirePipeline(ws.project, pipeline).partitioning, o);
      const bar = !globals().json && process.stderr.isTTY ? new SingleBar({ format: 'backfill {bar} {value}/{total} partitions | {partition}', stream: process.stderr }, Presets.shades_classic) : undefined;
      bar?.start(partitions.length, 0, { partition: '' });
      const items = await backfill({ ...ws, runOne: (req: RunRequest) => ws.run(req) }, { pipeline, partitions, environment: ws.environment, actor: currentActor(), stopOnError: o.stopOnError }, (item, done) => bar?.update(done, { partition: item.partition }));
      bar?.stop();
      const failed = items.filter((i) => !i.ok);
      const checkFailures = failed.filter((i) => i.errorCode === 'CHECK_FAILED' || i.errorCode === 'CONTRACT_BROKEN');
      const rolledBack = [...new Set(items.flatMap((i) => i.rollouts?.rolledBack ?? []))];
      const paused = [...new Set(items.flatMap((i) => i.rollouts?.paused ?? []))];
      const datasets = [...new Set(items.flatMap((i) => Object.keys(i.rows)))];
      const rows = items.map((i) => ({ partition: i.partition, status: i.ok ? 'ok' : 'FAILED', run: i.runId ?? '', ...Object.fromEntries(datasets.map((d) => [d, i.rows[d] ?? ''])), seconds: i.seconds.toFixed(2), error: i.error ?? '' }));
      // Precedence: failed partitions (retry them) over failed checks over a rollout that acted (do not retry).
      const exitCode = failed.length > checkFailures.length ? 5 : checkFailures.length > 0 ? 6 : rolledBack.length + paused.length > 0 ? EXIT_ROLLOUT_ACTED : 0;
      out({
        json: { items, failed: failed.length, rollouts: { rolledBack, paused } },
        text: [
          formatTable(rows),
          '',
          `${items.length - failed.length} of ${items.length} partitions ok${datasets.length ? `; rows published: ${datasets.map((d) => `${d} ${items.reduce((n, i) => n + (i.rows[d] ?? 0), 0)}`).join(', ')}` : ''}`,
          ...rolledBack.map((id) => `rollout ${id} rolled back during the backfill; its batches published the baseline`),
          ...paused.map((id) => `rollout ${id} paused during the backfill; its batches published the baseline`),
        ].join('\n'),
        exitCode,
      });
    });


  program
    .command('worker')
    .option('--drain', 'stop when nothing is left to claim (default: wait for more)', false)
    .option('--max-items <n>', 'stop after this many items')
    .option('--lease <duration>', 'how long a claim holds without a heartbeat (renewed every third of it)', '60s')
    .option('--poll <duration>', 'how often to look for work when the queue is empty', '2s')
    .description('claim queued runs of this environment from the store and run them (rollouts see each batch); SIGTERM stops after the item in hand')
    .action(async (o: { drain: boolean; maxItems?: string; lease: string; poll: string }) => (await import('./core/queue-actions.ts')).runWorker(cli, o));

  program
    .command('queue')
    .option('--batch <id>', 'the items of one enqueue (a backfill)')
    .option('--state <state>', 'queued, claimed, done or failed')
    .description('queued runs of this environment: state, claims (the fencing token), worker, lease, run')
    .action(async (o: { batch?: string; state?: string }) => (await import('./core/run-history.ts')).listQueue(cli, o));

  program
    .command('runs')
    .option('--pipeline <name>')
    .option('--limit <n>', 'most recent runs', '20')
    .description('list recent runs')
    .action(async (o: RunsOptions) => (await import('./core/run-history.ts')).listRuns(cli, o));

  program
    .command('run-show')
    .argument('<id>')
    .description('show one run: artifacts, flags, every version it computed, and what its partitions show now')
    .action(async (id: string) => (await import('./core/run-history.ts')).showRun(cli, id));

  program
    .command('publications')
    .argument('<dataset>')
    .option('--partition <p>', 'history of one partition')
    .description('current publications of a dataset, or the history of one partition')
    .action(async (dataset: string, o: PublicationsOptions) => (await import('./core/run-history.ts')).listPublications(cli, dataset, o));

  program
    .command('republish')
    .argument('<dataset>')
    .option('--partition <p>', 'the partition (left out for an unpartitioned dataset)')
    .requiredOption('--version <id>', 'output version id, as `sluice publications` shows it')
    .option('--reason <text>', 'why', 'manual republish')
    .description('publish an existing output version of a partition again (the primitive rollback uses)')
    .action(async (dataset: string, o: RepublishOptions) => (await import('./core/republish-action.ts')).republish(cli, dataset, o));

  const audit = program.command('audit').description('the tamper-evident audit trail');
  audit
    .command('log')
    .option('--limit <n>', 'the most recent entries (default 50; --all for every one)')
    .option('--all', 'every entry')
    .option('--target <t>', 'only entries about this target: as shown (rollout/clean-orders-v2, dataset/cleaned_orders/2026-11-01) or by name (clean-orders-v2)')
    .action(async (o: AuditLogOptions) => (await import('./core/audit-log.ts')).auditLog(cli, o));
  audit
    .command('verify')
    .description('check every entry against the audit key, the chain against the checkpoint outside the store, and the trail against the runs, flag revisions and publications it must record (exit 9 naming what is wrong)')
    .action(async () => (await import('./core/audit-actions.ts')).auditVerify(cli));
  audit
    .command('accept')
    .requiredOption('--reason <text>', 'why the trail as it stands is right (kept in the entry)')
    .description("the owner's decision after a missing or mismatched checkpoint: the chain is checked against the key and its current end becomes the checkpoint (recorded as an entry)")
    .action(async (o: { reason: string }) => (await import('./core/audit-actions.ts')).auditAccept(cli, o.reason));
  audit
    .command('seal')
    .description('anchor a trail written before audit keys under the key (once; recorded as an entry)')
    .action(async () => (await import('./core/audit-actions.ts')).auditSeal(cli));
}
