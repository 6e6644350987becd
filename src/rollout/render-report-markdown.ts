import type { ReportVerdict, RolloutReport } from './build-rollout-report.ts';

const ICON: Readonly<Record<string, string>> = { pass: 'pass', wait: 'wait', fail: 'FAIL', rollback: 'ROLLBACK' };
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const where = (p: { state: string; environment?: string; stage?: string }): string => `${p.state}${p.stage ? ` ${p.environment}/${p.stage}` : ''}`;
const verdictLine = (v: ReportVerdict): string => `${ICON[v.verdict] ?? v.verdict} \`${v.gate}\` (${v.gateKind}): ${v.reason}`;

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
  out.push('', '## Who did what', '');
  if (r.people.length === 0) out.push('Only automatic decisions.');
  for (const p of r.people) for (const d of p.did) out.push(`- **${p.actor}** ${cell(d)}`);
  out.push('', '## Timeline', '');
  for (const e of r.timeline) {
    if (e.kind === 'transition') {
      out.push(`- ${e.at} **${where(e.from)} -> ${where(e.to)}** by ${e.actor} (${e.event}): ${e.reason}`);
      for (const v of e.evidence) out.push(`  - ${verdictLine(v)}`);
    } else {
      out.push(`- ${e.at} batch ${e.runId} ${e.environment}/${e.stage} partition ${e.partition}: ${e.success ? 'ok' : 'failed'}`);
      for (const v of e.verdicts) out.push(`  - ${verdictLine(v)}`);
    }
  }
  return `${out.join('\n')}\n`;
}
