import { existsSync } from 'node:fs';
import { describeStore, effectiveSettings, storeExists } from '../../../app/adapters.ts';
import { fileAuditAnchor } from '../../../app/audit-anchor.ts';
import { projectSettingsOrThrow } from '../../../app/open-metadata.ts';
import { currentActor, existingWarehouse, openWorkspace } from '../../../app/open-workspace.ts';
import { verifyAudit } from '../../../runner/verify-audit.ts';
import type { CliContext } from '../cli-context.ts';

/** `sluice audit verify`: the chain against the key and the checkpoint, and the trail against what it must record. */
export async function auditVerify(cli: CliContext): Promise<void> {
  // A project that never ran has no trail to verify; opening the workspace would create its store.
  const project = projectSettingsOrThrow(cli.globals().project);
  const settings = effectiveSettings(project);
  if (!storeExists(project, settings.store)) {
    const anchor = fileAuditAnchor(describeStore(project, settings.store));
    // A checkpoint without its store: the store was deleted or moved after entries were anchored.
    const anchored = existsSync(anchor.checkpointLocation);
    const where = describeStore(project, settings.store);
    cli.out({
      json: { ok: !anchored, store: where, checkpointLocation: anchor.checkpointLocation, entries: 0 },
      text: anchored ? `audit chain BROKEN: the store ${where} is gone, but the checkpoint ${anchor.checkpointLocation} anchors entries of it` : `nothing recorded yet: no store at ${where}`,
      exitCode: anchored ? 9 : 0,
    });
    return;
  }
  await using ws = await openWorkspace(cli.globals().project, cli.globals().env);
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
  cli.out({ json: r, text: lines.join('\n'), exitCode: r.ok ? 0 : 9 });
}

/** `sluice audit accept --reason`: the owner's decision that the trail as it stands is right. */
export async function auditAccept(cli: CliContext, reason: string): Promise<void> {
  await using ws = await openWorkspace(cli.globals().project, cli.globals().env);
  const e = await ws.audit.accept(currentActor(), reason, ws.clock.now());
  cli.out({ json: e, text: `accepted the audit trail as it stands: ${String(e.details['entries'])} entries, now anchored by entry ${e.seq} in ${ws.audit.checkpointLocation}` });
}

/** `sluice audit seal`: a trail written before audit keys, anchored under the key. */
export async function auditSeal(cli: CliContext): Promise<void> {
  await using ws = await openWorkspace(cli.globals().project, cli.globals().env);
  const e = await ws.audit.seal(currentActor(), ws.clock.now());
  cli.out({ json: e, text: `sealed ${String(e.details['sealed'])} unkeyed entries with entry ${e.seq}, keyed with ${ws.audit.keyLocation}` });
}
