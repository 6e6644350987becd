import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { loadProject } from '../../../app/load-project.ts';
import { strategiesSummary } from '../../../flags/flag-summary.ts';
import { parseFlagFile } from '../../../flags/parse-flag-file.ts';
import { unleashToYaml } from '../../../flags/unleash-yaml.ts';
import { SluiceError, configError, messageOf } from '../../../util/errors.ts';
import type { CliContext } from '../cli-context.ts';

/** `sluice flags import-unleash FILE`: Unleash flag definitions converted into a flags/*.yaml file the project loads. */
export async function importUnleash(cli: CliContext, file: string, o: { readonly out?: string; readonly force: boolean }): Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new SluiceError(missing ? 'NOT_FOUND' : 'CONFIG_INVALID', `${file}: ${missing ? 'no such file' : `not JSON: ${messageOf(e)}`}`, { file });
  }
  const projectDir = resolve(cli.globals().project);
  const outFile = o.out ? resolve(o.out) : join(projectDir, 'flags', 'imported.yaml');
  if (existsSync(outFile) && !o.force) throw new SluiceError('CONFLICT', `${outFile} exists; pass --force to overwrite it`, { file: outFile, field: '--out' });
  const r = unleashToYaml(json, `Imported from ${file} by \`sluice flags import-unleash\`.\nFlags use hash: murmur3, so they evaluate exactly as Unleash SDKs do.`);
  if (!r.ok) throw configError(r.problems.map((p) => ({ ...p, file })));
  // The project must still load: no imported name may clash with a flag declared in another file.
  const project = await loadProject(projectDir);
  if (project.ok && outFile.startsWith(join(project.project.root, 'flags'))) {
    const mine = new Set(r.result.flags.map((f) => f.name));
    const replaced = existsSync(outFile) ? parseFlagFile(outFile, readFileSync(outFile, 'utf8')) : undefined;
    const own = new Set(replaced?.ok ? replaced.flags.map((f) => f.name) : []);
    const clashes = project.project.flags.filter((f) => mine.has(f.name) && !own.has(f.name)).map((f) => f.name);
    if (clashes.length) throw new SluiceError('CONFLICT', `already declared in the project: ${clashes.join(', ')}`, { field: 'name' });
  }
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, r.result.text);
  const shown = relative(process.cwd(), outFile) || outFile;
  const summary = { file, out: outFile, flags: r.result.flags.map((f) => f.name), notes: r.result.notes, skipped: r.result.skipped };
  const text = [
    `imported ${r.result.flags.length} flag(s) from ${file} into ${shown}`,
    ...r.result.flags.map((f) => `  ${f.name} (${f.type}, ${f.enabled ? 'enabled' : 'disabled'}, ${strategiesSummary(f.strategies)})`),
    ...r.result.skipped.map((s) => `  skipped ${s.flag}: ${s.reason}`),
    ...r.result.notes.map((n) => `  note: ${n}`),
  ].join('\n');
  cli.out({ json: summary, text });
}
