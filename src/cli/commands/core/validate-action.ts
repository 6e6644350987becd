import { loadProject } from '../../../app/load-project.ts';
import { configError } from '../../../util/errors.ts';
import { formatTable } from '../../../util/format-table.ts';
import type { CliContext } from '../cli-context.ts';

/** `sluice validate`: the whole project checked without running or writing anything. */
export async function validate(cli: CliContext): Promise<void> {
  const r = await loadProject(cli.globals().project, { bind: true, plans: true, files: true });
  if (!r.ok) throw configError(r.problems);
  const p = r.project;
  const pipelines = [...p.pipelines.values()].map((x) => ({ pipeline: x.name, file: x.file, steps: x.steps.map((s) => s.name).join(' -> '), datasets: [...x.datasets.keys()].join(', ') }));
  cli.out({ json: { ok: true, project: p.name, pipelines, notes: r.notes }, text: [`${p.name}: ok`, formatTable(pipelines), ...r.notes.map((n) => `note: ${n}`)].join('\n') });
}
