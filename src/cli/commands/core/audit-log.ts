import { openMetadataReads, projectSettingsOrThrow } from '../../../app/open-metadata.ts';
import { formatTable } from '../../../util/format-table.ts';
import type { CliContext } from '../cli-context.ts';
import { positiveInt } from '../parse-options.ts';

export interface AuditLogOptions {
  readonly limit?: string;
  readonly all?: boolean;
  readonly target?: string;
}

/** `sluice audit log`: the most recent entries of the trail, read from the store alone. */
export async function auditLog(cli: CliContext, o: AuditLogOptions): Promise<void> {
  const limit = o.all ? undefined : o.limit ? positiveInt(o.limit, '--limit') : 50;
  await using md = await openMetadataReads(projectSettingsOrThrow(cli.globals().project), cli.globals().env);
  const t = o.target;
  // A bare name finds the entries of that rollout, flag, dataset (any partition) or run, whatever the kind.
  const about = (target: string): boolean => t === undefined || target === t || (!t.includes('/') && (target.split('/')[1] === t || target.slice(target.indexOf('/') + 1).startsWith(`${t}#`)));
  // An exact target is filtered by the store; a bare name needs every entry.
  const all = await md.store.audit.list(t?.includes('/') ? { target: t } : {});
  const matching = all.filter((e) => about(e.target));
  const entries = limit === undefined ? matching : matching.slice(-limit);
  const more = matching.length - entries.length;
  cli.out({
    json: entries,
    text: [formatTable(entries.map((e) => ({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, target: e.target, reason: e.reason, hash: e.hash.slice(0, 12) }))), ...(more > 0 ? [`(${more} earlier entr${more === 1 ? 'y' : 'ies'}: --limit N or --all)`] : [])].join('\n'),
  });
}
