import { currentActor, openWorkspace } from '../../../app/open-workspace.ts';
import { buildDatasetGraph, pipelineOfDataset } from '../../../runner/dataset-graph.ts';
import { manualRepublish } from '../../../runner/manual-republish.ts';
import { datasetPartition, findDataset } from '../../../runner/resolve-output.ts';
import { samePartitioning } from '../../../config/partitioning.ts';
import type { CliContext } from '../cli-context.ts';

export interface RepublishOptions {
  readonly partition?: string;
  readonly version: string;
  readonly reason: string;
}

/** `sluice republish DATASET --partition P --version ID`: an existing output version published again. */
export async function republish(cli: CliContext, dataset: string, o: RepublishOptions): Promise<void> {
  await using ws = await openWorkspace(cli.globals().project, cli.globals().env, { recover: true, maintain: true });
  const { dataset: ds } = findDataset(ws.project, dataset);
  const partition = datasetPartition(ds, o.partition);
  const p = await manualRepublish(ws, { dataset, partition, versionId: o.version, actor: currentActor(), reason: o.reason });
  // A manual republish changes one dataset only: what was computed from it is not re-run.
  const downstream = buildDatasetGraph(ws.project)[dataset] ?? [];
  const upstream = pipelineOfDataset(ws.project, dataset);
  const stale = downstream.map((d) => {
    const reader = pipelineOfDataset(ws.project, d);
    const what = `${d}${reader?.partitioning.kind === 'whole' ? '' : ` ${partition}`} was computed from the version this replaced and is not recomputed by a republish`;
    // Another pipeline reads the published table, so running it recomputes from what is shown now; a run of this one would recompute this dataset too.
    if (!reader || !upstream || reader.name === upstream.name) return what;
    const command = reader.partitioning.kind === 'whole' ? `sluice run ${reader.name}` : samePartitioning(reader.partitioning, upstream.partitioning) ? `sluice run ${reader.name} --partition ${partition}` : `sluice backfill ${reader.name} (the partitions that read ${partition})`;
    return `${what}: \`${command}\` recomputes it from what ${dataset} shows now`;
  });
  cli.out({ json: { ...p, downstream }, text: [`published ${dataset} ${partition} <- ${p.versionId} (was ${p.previousVersionId ?? 'nothing'})`, ...stale.map((x) => `note: ${x}`)].join('\n') });
}
