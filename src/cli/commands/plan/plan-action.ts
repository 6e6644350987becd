import { currentActor, openWorkspace } from '../../../app/open-workspace.ts';
import { deploymentPlan } from '../../../runner/deployment-plan.ts';
import { writeBaselines } from '../../../runner/write-baselines.ts';
import { formatTable } from '../../../util/format-table.ts';
import { EXIT_PLAN_DIFFERS } from '../../output.ts';
import type { CliContext } from '../cli-context.ts';

/** `sluice plan [--write]`: see plan-command.ts. */
export async function showPlan(cli: CliContext, o: { write?: boolean }): Promise<void> {
  const g = cli.globals();
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
  cli.out({ json: { ...plan, ...(written ? { written } : {}) }, text: lines.join('\n'), exitCode });
}
