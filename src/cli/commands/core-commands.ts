import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { loadProject } from '../../app/load-project.ts';
import { backfill, dailyPartitions } from '../../runner/backfill.ts';
import { buildDatasetGraph, pipelineOfDataset } from '../../runner/dataset-graph.ts';
import type { RunRequest } from '../../runner/run-pipeline.ts';
import { scaffoldProject } from '../../demo/scaffold.ts';
import { runDemo } from '../../demo/run-demo.ts';
import { SluiceError, configError } from '../../util/errors.ts';
import type { GlobalOptions } from '../main.ts';
import type { Emit } from '../emit.ts';
import { formatTable } from '../../util/format-table.ts';
import { computedFromStore, computedVersions, publishedLines, publishedNow, rolloutReaction } from '../../runner/run-report.ts';
import { EXIT_ROLLOUT_ACTED } from '../output.ts';
import { currentActor, existingWarehouse, openWorkspace } from '../../app/open-workspace.ts';
import { verifyAudit } from '../../runner/verify-audit.ts';
import { ensureProjectAuditKey } from '../../app/audit-anchor.ts';
import { parseDecimal } from '../../util/decimal.ts';
import { manualRepublish } from '../../runner/manual-republish.ts';


export function registerCoreCommands(program: Command, emit: Emit): void {
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const out = (r: Parameters<Emit>[0]): void => emit(r, globals());

  program
    .command('init')
    .argument('<dir>', 'new project folder')
    .description('scaffold a working project with sample data')
    .action(async (dir: string) => {
      const r = await scaffoldProject({ dir, days: 3, ordersPerDay: 500 });
      const key = ensureProjectAuditKey(r.root);
      out({
        json: { ...r, auditKey: key.keyLocation },
        text: [`created ${r.root}`, ...r.files.map((f) => `  ${f}`), '  data/ (3 days of sample orders)', '', `audit key: ${key.keyLocation} (outside the project and the store: keep it, back it up, never commit it)`, '', `next (from here): ${next(r.root, 'validate')} && ${next(r.root, 'run orders --partition 2026-11-01')}`].join('\n'),
      });
    });

  program
    .command('demo')
    .option('--dir <dir>', 'where to create the demo project (default: a new temporary folder)')
    .option('--days <n>', 'daily partitions', '14')
    .option('--orders-per-day <n>', 'orders per day', '2000')
    .description('create a demo project with 14 days of orders, backfill it, then roll out v2 (promoted) and v3 (caught and rolled back)')
    .action(async (o: { dir?: string; days: string; ordersPerDay: string }) => {
      const dir = o.dir ?? join(mkdtempSync(join(tmpdir(), 'sluice-demo-')), 'shop');
      const r = await runDemo({ dir, days: positiveInt(o.days, '--days'), ordersPerDay: positiveInt(o.ordersPerDay, '--orders-per-day'), actor: currentActor(), log: globals().json ? undefined : (s) => process.stdout.write(`${s}\n`) });
      out({ json: r, text: '' });
    });

  program
    .command('validate')
    .description('check the whole project without running or writing anything: every file, step SQL bound against its inputs, checks, contracts, flags and rollout plans; every problem with file, line and field')
    .action(async () => {
      const r = await loadProject(globals().project, { bind: true, plans: true, files: true });
      if (!r.ok) throw configError(r.problems);
      const p = r.project;
      const pipelines = [...p.pipelines.values()].map((x) => ({ pipeline: x.name, file: x.file, steps: x.steps.map((s) => s.name).join(' -> '), datasets: [...x.datasets.keys()].join(', ') }));
      out({ json: { ok: true, project: p.name, pipelines, notes: r.notes }, text: [`${p.name}: ok`, formatTable(pipelines), ...r.notes.map((n) => `note: ${n}`)].join('\n') });
    });

  program
    .command('run')
    .argument('<pipeline>')
    .requiredOption('--partition <p>', 'the partition to run, e.g. 2026-11-01')
    .description(`run every step of a pipeline for one partition and publish its datasets (exit ${EXIT_ROLLOUT_ACTED} when the batch made a rollout roll back or pause: the baseline was published)`)
    .action(async (pipeline: string, o: { partition: string }) => {
      await using ws = await openWorkspace(globals().project, globals().env, { recover: true, check: true, maintain: true });
      const { result: r, rollouts } = await ws.run({ pipeline, partition: o.partition, environment: ws.environment, actor: currentActor() });
      const versions = computedVersions(r.steps).map((v) => ({ step: v.step, computed: v.role, version: v.stepVersion, rows: v.rows, output: v.id }));
      const reaction = rolloutReaction(rollouts);
      const acted = reaction.rolledBack.length + reaction.paused.length > 0;
      out({
        json: { run: r.run, steps: r.steps.map(({ output: _o, ...s }) => s), computed: computedVersions(r.steps), publications: r.publications, rollouts: reaction },
        text: [
          `run ${r.run.id}: ${pipeline} ${o.partition} in ${ws.environment}: ${r.run.status}`,
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
    .requiredOption('--from <date>', 'first partition (YYYY-MM-DD)')
    .requiredOption('--to <date>', 'last partition (YYYY-MM-DD), included')
    .option('--stop-on-error', 'stop at the first failed partition', false)
    .description(`run a range of daily partitions with a progress bar and a summary (exit 5 failed partitions, else 6 failed checks, else ${EXIT_ROLLOUT_ACTED} a rollout rolled back or paused)`)
    .action(async (pipeline: string, o: { from: string; to: string; stopOnError: boolean }) => {
      const partitions = dailyPartitions(o.from, o.to);
      await using ws = await openWorkspace(globals().project, globals().env, { recover: true, check: true, maintain: true });
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
    .command('runs')
    .option('--pipeline <name>')
    .option('--limit <n>', 'most recent runs', '20')
    .description('list recent runs')
    .action(async (o: { pipeline?: string; limit: string }) => {
      await using ws = await openWorkspace(globals().project, globals().env);
      const runs = await ws.store.runs.list({ pipeline: o.pipeline, environment: ws.environment, limit: positiveInt(o.limit, '--limit') });
      out({ json: runs, text: formatTable(runs.map((r) => ({ id: r.id, pipeline: r.pipeline, partition: r.partition, env: r.environment, status: r.status, actor: r.actor, started: r.startedAt, finished: r.finishedAt ?? '', error: r.error ?? '' }))) });
    });

  program
    .command('run-show')
    .argument('<id>')
    .description('show one run: artifacts, flags, every version it computed, and what its partitions show now')
    .action(async (id: string) => {
      await using ws = await openWorkspace(globals().project, globals().env);
      const run = await ws.store.runs.get(positiveInt(id, 'run id'));
      if (!run) throw new SluiceError('NOT_FOUND', `no run ${id}`);
      const steps = await ws.store.runs.steps(run.id);
      const w = await ws.warehouseFor(run.environment);
      const computed = computedFromStore(run, steps, await w.outputVersions({ runId: run.id }));
      const now = await publishedNow(ws.project, w, run);
      const pinned = Object.values(run.flags.exposures).flatMap((e) => (e.rollout ? [`${e.step}: rollout ${e.rollout}`] : []));
      const text = [
        `run ${run.id}: ${run.pipeline} partition ${run.partition} in ${run.environment}`,
        `status: ${run.status}${run.error ? ` (${run.error})` : ''}`,
        `actor: ${run.actor}   started: ${run.startedAt}   finished: ${run.finishedAt ?? '-'}   engine: ${run.engine}`,
        ...(pinned.length ? [`pinned to: ${pinned.join(', ')}`] : []),
        '',
        'artifacts:',
        ...Object.entries(run.artifacts).map(([s, a]) => `  ${s} ${a.version} ${a.hash.slice(0, 12)}${a.candidate ? ` + candidate ${a.candidate.version} ${a.candidate.hash.slice(0, 12)} at ${a.candidate.percent} %` : ''}`),
        '',
        formatTable(steps.map((s) => ({ step: s.step, version: s.version, rows_in: s.rowsIn, rows_out: s.rowsOut, ms: Math.round(s.durationMs), status: s.status, output: s.outputVersionId ?? '', error: s.error ?? '' }))),
        '',
        'computed:',
        formatTable(computed.map((c) => ({ step: c.step, as: c.role, version: c.stepVersion, rows: c.rows, output: c.id }))),
        '',
        ...run.published.map((p) => `published ${p}`),
        ...now.map((n) => `now ${n.dataset} ${n.partition} shows ${n.shows}${n.byThisRun ? ' (this run)' : ` (published by ${n.since?.runId ? `run ${n.since.runId}` : n.since?.actor ?? '?'}${n.since?.reason ? `: ${n.since.reason}` : ''})`}`),
      ];
      out({ json: { ...run, steps, computed, now }, text: text.join('\n') });
    });

  program
    .command('publications')
    .argument('<dataset>')
    .option('--partition <p>', 'history of one partition')
    .description('current publications of a dataset, or the history of one partition')
    .action(async (dataset: string, o: { partition?: string }) => {
      await using ws = await openWorkspace(globals().project, globals().env);
      const rows = o.partition ? await ws.warehouse.publicationHistory(dataset, o.partition) : await ws.warehouse.currentPublications(dataset);
      if (rows.length === 0 && !pipelineOfDataset(ws.project, dataset)) throw new SluiceError('NOT_FOUND', `unknown dataset "${dataset}"`);
      // What each row shows in the project's terms: the step version, or the blend of a canary.
      const stepVersions = new Map<string, string>();
      for (const id of new Set(rows.map((p) => p.versionId))) stepVersions.set(id, (await ws.warehouse.outputVersion(id))?.stepVersion ?? '(deleted by gc)');
      out({ json: rows.map((p) => ({ ...p, stepVersion: stepVersions.get(p.versionId) })), text: formatTable(rows.map((p) => ({ seq: p.seq, partition: p.partition, shows: stepVersions.get(p.versionId) ?? '', version: p.versionId, previous: p.previousVersionId ?? '', at: p.publishedAt, actor: p.actor, reason: p.reason }))) });
    });

  program
    .command('republish')
    .argument('<dataset>')
    .requiredOption('--partition <p>')
    .requiredOption('--version <id>', 'output version id, as `sluice publications` shows it')
    .option('--reason <text>', 'why', 'manual republish')
    .description('publish an existing output version of a partition again (the primitive rollback uses)')
    .action(async (dataset: string, o: { partition: string; version: string; reason: string }) => {
      await using ws = await openWorkspace(globals().project, globals().env, { recover: true, maintain: true });
      const p = await manualRepublish(ws, { dataset, partition: o.partition, versionId: o.version, actor: currentActor(), reason: o.reason });
      // A manual republish changes one dataset only: what was computed from it is not re-run.
      const downstream = buildDatasetGraph(ws.project)[dataset] ?? [];
      const own = pipelineOfDataset(ws.project, dataset)?.name;
      const stale = downstream.map((d) => {
        const pipeline = pipelineOfDataset(ws.project, d)?.name;
        // Another pipeline reads the published table, so running it recomputes from what is shown now; a run of this one would recompute this dataset too.
        return `${d} ${o.partition} was computed from the version this replaced and is not recomputed by a republish${pipeline && pipeline !== own ? `: \`sluice run ${pipeline} --partition ${o.partition}\` recomputes it from what ${dataset} shows now` : ''}`;
      });
      out({ json: { ...p, downstream }, text: [`published ${dataset} ${o.partition} <- ${p.versionId} (was ${p.previousVersionId ?? 'nothing'})`, ...stale.map((x) => `note: ${x}`)].join('\n') });
    });

  const audit = program.command('audit').description('the tamper-evident audit trail');
  audit
    .command('log')
    .option('--limit <n>', 'the most recent entries (default 50; --all for every one)')
    .option('--all', 'every entry')
    .option('--target <t>', 'only entries about this target: as shown (rollout/clean-orders-v2, dataset/cleaned_orders/2026-11-01) or by name (clean-orders-v2)')
    .action(async (o: { limit?: string; all?: boolean; target?: string }) => {
      await using ws = await openWorkspace(globals().project, globals().env);
      const limit = o.all ? undefined : o.limit ? positiveInt(o.limit, '--limit') : 50;
      const t = o.target;
      // A bare name finds the entries of that rollout, flag, dataset (any partition) or run, whatever the kind.
      const about = (target: string): boolean => t === undefined || target === t || (!t.includes('/') && (target.split('/')[1] === t || target.slice(target.indexOf('/') + 1).startsWith(`${t}#`)));
      // An exact target is filtered by the store; a bare name needs every entry.
      const all = await ws.store.audit.list(t?.includes('/') ? { target: t } : {});
      const matching = all.filter((e) => about(e.target));
      const entries = limit === undefined ? matching : matching.slice(-limit);
      const more = matching.length - entries.length;
      out({
        json: entries,
        text: [formatTable(entries.map((e) => ({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, target: e.target, reason: e.reason, hash: e.hash.slice(0, 12) }))), ...(more > 0 ? [`(${more} earlier entr${more === 1 ? 'y' : 'ies'}: --limit N or --all)`] : [])].join('\n'),
      });
    });
  audit
    .command('verify')
    .description('check every entry against the audit key, the chain against the checkpoint outside the store, and the trail against the runs, flag revisions and publications it must record (exit 9 naming what is wrong)')
    .action(async () => {
      await using ws = await openWorkspace(globals().project, globals().env);
      const r = await verifyAudit({ ...ws, existingWarehouse: existingWarehouse(ws) });
      const covered = `${r.checked.runs} runs, ${r.checked.flagRevisions} flag revisions, ${r.checked.publications} publications in ${r.checked.environments.join(', ') || 'no warehouse yet'}`;
      const lines = [
        r.chain.ok
          ? `audit chain ok: ${r.chain.entries} entries (${r.chain.keyed} keyed${r.chain.sealedPrefix ? `, ${r.chain.sealedPrefix} sealed` : ''}), head ${r.chain.head.slice(0, 16)}, matches the checkpoint ${r.checkpointLocation}`
          : `audit chain BROKEN at entry ${r.chain.badSeq}: ${r.chain.problem}`,
        r.coverage.length === 0 ? `coverage ok: every one of ${covered} has its entries` : `coverage BROKEN: ${r.coverage.length} record(s) without their entries (checked ${covered}):`,
        ...r.coverage.slice(0, 50).map((p) => `  ${p.problem}`),
        ...(r.coverage.length > 50 ? [`  … and ${r.coverage.length - 50} more (--json lists all)`] : []),
        ...r.unfinished.map((u) => `note: ${u}`),
      ];
      out({ json: r, text: lines.join('\n'), exitCode: r.ok ? 0 : 9 });
    });
  audit
    .command('accept')
    .requiredOption('--reason <text>', 'why the trail as it stands is right (kept in the entry)')
    .description("the owner's decision after a missing or mismatched checkpoint: the chain is checked against the key and its current end becomes the checkpoint (recorded as an entry)")
    .action(async (o: { reason: string }) => {
      await using ws = await openWorkspace(globals().project, globals().env);
      const e = await ws.audit.accept(currentActor(), o.reason, ws.clock.now());
      out({ json: e, text: `accepted the audit trail as it stands: ${String(e.details['entries'])} entries, now anchored by entry ${e.seq} in ${ws.audit.checkpointLocation}` });
    });
  audit
    .command('seal')
    .description('anchor a trail written before audit keys under the key (once; recorded as an entry)')
    .action(async () => {
      await using ws = await openWorkspace(globals().project, globals().env);
      const e = await ws.audit.seal(currentActor(), ws.clock.now());
      out({ json: e, text: `sealed ${String(e.details['sealed'])} unkeyed entries with entry ${e.seq}, keyed with ${ws.audit.keyLocation}` });
    });
}

/** A command that works as typed where `init` ran: the README's install puts `sluice` behind npx in the clone. */
function next(root: string, command: string): string {
  const rel = relative(process.cwd(), root) || '.';
  return `npx sluice --project ${/^[\w./-]+$/.test(rel) ? rel : JSON.stringify(rel)} ${command}`;
}

export function positiveInt(v: string, what: string): number {
  const n = parseDecimal(v, { integer: true });
  if (n === undefined || n <= 0) throw new SluiceError('USAGE', `${what} takes a positive whole number in decimal digits (got "${v}")`, { field: what });
  return n;
}
