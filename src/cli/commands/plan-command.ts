import type { Command } from 'commander';
import { currentActor, openWorkspace } from '../../app/open-workspace.ts';
import { deploymentPlan } from '../../runner/deployment-plan.ts';
import { writeBaselines } from '../../runner/write-baselines.ts';
import { formatTable } from '../../util/format-table.ts';
import type { Emit } from '../emit.ts';
import type { GlobalOptions } from '../main.ts';
import { EXIT_PLAN_DIFFERS } from '../output.ts';

/**
 * `sluice plan [--env E] [--write]`: the difference between the project files and what each
 * environment runs (flag states, promoted baselines, rollouts in progress, contracts), exit 12 when
 * they differ for a reason other than a rollout in progress; `--write` commits promoted baselines
 * to the files that define them.
 */
export function registerPlanCommand(program: Command, emit: Emit): void {
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  program
    .command('plan')
    .option('--all', 'every environment (default: every environment unless --env is given)')
    .option('--write', 'write promoted baselines into the project files (flag default_variant, or the step default_version), keeping comments')
    .description(`what each environment runs that the project files do not say (exit ${EXIT_PLAN_DIFFERS} when they differ); --write commits promoted baselines to the files`)
    .action(async (o: { write?: boolean }) => {
      const g = globals();
      await using ws = await openWorkspace(g.project, g.env, { recover: true });
      const environments = g.env ? [ws.environment] : ws.project.environments;
      const plan = await deploymentPlan(ws, environments);
      const rows = plan.items.map((i) => ({ env: i.environment, kind: i.kind, subject: i.step && i.kind === 'baseline' ? `${i.step} (${i.subject})` : i.subject, files: i.files, deployed: i.deployed, why: i.why, counts: i.counts ? 'yes' : 'no' }));
      const lines = [rows.length ? formatTable(rows) : `the deployed state of ${environments.join(', ')} is what the project files say`];
      let exitCode = plan.differs ? EXIT_PLAN_DIFFERS : 0;
      let written: Awaited<ReturnType<typeof writeBaselines>> | undefined;
      if (o.write) {
        written = await writeBaselines(ws, await deploymentPlan(ws, ws.project.environments), currentActor());
        for (const w of written.written) {
          lines.push(`wrote ${w.file} ${w.field}: ${w.from} -> ${w.to} (${w.step})${w.pinned.length ? `; pinned ${w.pinned.join(', ')} at ${w.from} first, so they keep running it` : ''}`);
        }
        for (const r of written.refused) lines.push(`not written: ${r.flag}: ${r.reason}`);
        if (written.written.length > 0) lines.push('commit the files: the rollout\'s result is now in the project');
        if (written.refused.length === 0 && written.written.length > 0) exitCode = 0;
      } else if (plan.items.some((i) => i.kind === 'baseline' && i.counts && i.byRollout)) {
        lines.push('', 'baselines that rollouts promoted differ from the files: sluice plan --write puts them there (then commit)');
      }
      const behind = plan.items.filter((i) => i.kind === 'baseline' && i.counts && !i.byRollout);
      if (behind.length > 0) lines.push(`${behind.map((i) => i.environment).join(', ')} run an older baseline than the files: roll the step out there (or set the flag) to catch up`);
      emit({ json: { ...plan, ...(written ? { written } : {}) }, text: lines.join('\n'), exitCode }, g);
    });
}
