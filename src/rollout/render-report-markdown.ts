import type { ReportVerdict, RolloutReport } from './build-rollout-report.ts';

const ICON: Readonly<Record<string, string>> = { pass: 'pass', wait: 'wait', fail: 'FAIL', rollback: 'ROLLBACK' };
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const where = (p: { state: string; environment?: string; stage?: string }): string => `${p.state}${p.stage ? ` ${p.environment}/${p.stage}` : ''}`;
const verdictLine = (v: ReportVerdict): string => `${ICON[v.verdict] ?? v.verdict} \`${v.gate}\` (${v.gateKind}${v.judged ? `, ${v.judged}` : ''}): ${v.reason}`;

/** The report for humans: summary, stages, what was reverted, who did what, then the timeline. */
export function renderReportMarkdown(r: RolloutReport): string {
  const out: string[] = [];
  out.push(`# Rollout ${r.rollout}: ${r.outcome}`, '');
  out.push(`- started by ${r.startedBy ?? 'unknown'} at ${r.startedAt ?? '-'}`);
  if (r.endedAt) out.push(`- ended at ${r.endedAt}`);
  out.push('', '## Stages', '', '| environment | stage | entered | left | then | batches | failed | pass / wait / fail / rollback |', '|---|---|---|---|---|---|---|---|');
  for (const s of r.stages) {
    const c = s.verdictCounts;
    out.push(`| ${s.environment} | ${s.stage} | ${s.enteredAt} | ${s.leftAt ?? '-'} | ${s.leftTo ? where(s.leftTo) : '-'} | ${s.batches} | ${s.failedBatches} | ${c.pass} / ${c.wait} / ${c.fail} / ${c.rollback} |`);
  }
  if (r.reverted) {
    out.push('', '## Reverted', '');
    if (r.reverted.republish.length === 0) out.push('No published partition carried candidate rows.');
    for (const p of r.reverted.republish) out.push(`- ${p.environment} ${p.dataset} ${p.partition}: republished \`${p.outputVersion}\` (baseline of run ${p.runId}) over \`${p.replaces}\``);
    for (const d of r.reverted.rerun) out.push(`- ${d.environment} ${d.dataset}: re-run ${d.partitions.join(', ')} (reads ${d.because.join(', ')})`);
    out.push('', 'Nothing was deleted: replaced versions are kept.');
  }
  if (r.gates && r.gates.length > 0) {
    out.push('', '## When gates are judged', '', 'Before publish: right after the changed step computes, on this batch alone; a failing verdict keeps the batch on its baseline output, so no consumer sees a rejected row. After publish: gates that need time, several batches, people or other rollouts.', '');
    out.push('| environment | stage | gate | kind | judged |', '|---|---|---|---|---|');
    for (const g of r.gates) out.push(`| ${g.environment} | ${g.stage} | ${g.gate} | ${g.kind} | ${g.judged} |`);
  }
  out.push('', '## Who did what', '');
  if (r.people.length === 0) out.push('Only automatic decisions.');
  for (const p of r.people) for (const d of p.did) out.push(`- **${p.actor}** ${cell(d)}`);
  out.push('', '## Timeline', '');
  // Each gate's verdict once per batch: a transition decided on verdicts shown already names them instead of repeating them.
  for (const e of r.timeline) {
    if (e.kind === 'transition') {
      const on = e.repeated ? ` (on the ${e.repeated.batch !== undefined ? `verdicts of batch ${e.repeated.batch}` : 'verdicts'} above: ${e.repeated.gates.join(', ')})` : '';
      out.push(`- ${e.at} **${where(e.from)} -> ${where(e.to)}** by ${e.actor} (${e.event}): ${e.reason}${on}`);
      for (const v of e.evidence) out.push(`  - ${verdictLine(v)}`);
    } else {
      out.push(`- ${e.at} batch ${e.runId} ${e.environment}/${e.stage} partition ${e.partition}: ${e.success ? 'ok' : 'failed'}`);
      for (const v of e.verdicts) out.push(`  - ${verdictLine(v)}`);
    }
  }
  return `${out.join('\n')}\n`;
}
