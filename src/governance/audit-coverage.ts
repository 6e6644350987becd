import type { Publication } from '../engine/warehouse.ts';
import type { AuditEntry, FlagRevision, RunRecord } from '../store/metadata-store.ts';

/**
 * What the audit trail must record, checked against the records it is about: a chain that verifies
 * can still be short of entries (a writer dropped the entries of a run and re-chained the rest under
 * a stolen key, or a crash left a publish unaudited). Every run has its start and its end, every
 * flag revision its change, and every publication in a warehouse its publish or republish; the
 * other way round, every publish entry names a publication that the warehouse still shows in its log.
 */

export interface CoverageRecords {
  readonly runs: readonly Pick<RunRecord, 'id' | 'status' | 'environment' | 'pipeline' | 'partition' | 'actor'>[];
  /** Every flag revision of these environments. */
  readonly flagRevisions: readonly FlagRevision[];
  readonly flagEnvironments: readonly string[];
  /** Publications of the warehouses that were read, with their environment. */
  readonly publications: readonly { readonly environment: string; readonly publication: Publication }[];
  /** The environments whose warehouse was read (entries about others are not checked the other way). */
  readonly environments: readonly string[];
  /** Work still held by a live owner: runs and intents whose entries may not be written yet. */
  readonly inFlight: { readonly runs: ReadonlySet<number>; readonly intents: ReadonlySet<string> };
}

export interface CoverageProblem {
  /** The record the trail does not cover, or the entry that names a record that is not there. */
  readonly record: string;
  readonly problem: string;
}

const TERMINAL: Readonly<Record<RunRecord['status'], string | undefined>> = { running: undefined, succeeded: 'run.finished', failed: 'run.failed', abandoned: 'run.abandoned' };
const PUBLISHING = new Set(['publish', 'republish']);

/** True when one of these entries records this publication (in this environment). */
export function coversPublication(entries: readonly AuditEntry[], environment: string, p: Publication): boolean {
  const target = `dataset/${p.dataset}/${p.partition}`;
  return entries.some((e) => PUBLISHING.has(e.action) && e.target === target && e.details['version'] === p.versionId && e.details['seq'] === p.seq && (e.details['environment'] === undefined || e.details['environment'] === environment));
}

export function auditCoverage(entries: readonly AuditEntry[], r: CoverageRecords): { problems: CoverageProblem[]; pending: number } {
  const problems: CoverageProblem[] = [];
  let pending = 0;
  const byTarget = new Map<string, AuditEntry[]>();
  for (const e of entries) {
    const list = byTarget.get(e.target);
    if (list) list.push(e);
    else byTarget.set(e.target, [e]);
  }
  const about = (target: string): readonly AuditEntry[] => byTarget.get(target) ?? [];

  const ENDS = new Set(Object.values(TERMINAL).filter((x): x is string => x !== undefined));
  for (const run of r.runs) {
    const es = about(`run/${run.id}`);
    const started = es.find((e) => e.action === 'run.started');
    if (!started) problems.push({ record: `run ${run.id}`, problem: `run ${run.id} (${run.environment}) has no run.started entry` });
    else {
      // What the run record says must be what its start recorded (entries written since keys carry it).
      for (const field of ['pipeline', 'partition', 'environment', 'actor'] as const) {
        const recorded = started.details[field];
        if (recorded !== undefined && recorded !== run[field]) problems.push({ record: `run ${run.id}`, problem: `run ${run.id}'s ${field} is "${run[field]}" in the store but "${String(recorded)}" in its run.started entry ${started.seq} (the run record was edited)` });
      }
    }
    const end = TERMINAL[run.status];
    if (end && !es.some((e) => e.action === end)) problems.push({ record: `run ${run.id}`, problem: `run ${run.id} is ${run.status} but the trail has no ${end} entry for it` });
    const ended = es.find((e) => ENDS.has(e.action));
    if (run.status === 'running' && ended) problems.push({ record: `run ${run.id}`, problem: `run ${run.id} is running in the store but entry ${ended.seq} says it ended (${ended.action}): the run record was edited` });
  }

  // Entries about runs the store no longer has: their records were deleted.
  const known = new Set(r.runs.map((x) => x.id));
  for (const e of entries) {
    if (e.action !== 'run.started') continue;
    const id = Number(e.target.slice('run/'.length));
    if (!known.has(id)) problems.push({ record: `entry ${e.seq}`, problem: `entry ${e.seq} records the start of run ${id}, which the store does not have (its record was deleted)` });
  }

  for (const f of r.flagRevisions) {
    if (!about(`flag/${f.environment}/${f.flag}`).some((e) => e.details['revision'] === f.revision)) {
      problems.push({ record: `flag ${f.flag} revision ${f.revision}`, problem: `flag ${f.flag} revision ${f.revision} in ${f.environment} (by ${f.actor} at ${f.at}) has no audit entry` });
    }
  }

  const revisions = new Set(r.flagRevisions.map((f) => `flag/${f.environment}/${f.flag}#${f.revision}`));
  for (const e of entries) {
    if (!e.target.startsWith('flag/') || typeof e.details['revision'] !== 'number') continue;
    if (!r.flagEnvironments.includes(e.target.split('/')[1] ?? '')) continue;
    if (!revisions.has(`${e.target}#${e.details['revision']}`)) problems.push({ record: `entry ${e.seq}`, problem: `entry ${e.seq} records revision ${e.details['revision']} of ${e.target.slice('flag/'.length)}, which the store does not have (it was deleted)` });
  }

  const seen = new Set<string>();
  for (const { environment, publication: p } of r.publications) {
    seen.add(`${environment}\0${p.dataset}\0${p.partition}\0${p.seq}`);
    const covered = coversPublication(about(`dataset/${p.dataset}/${p.partition}`), environment, p);
    if (!covered && ((p.runId !== null && r.inFlight.runs.has(p.runId)) || (p.intent !== null && r.inFlight.intents.has(p.intent)))) {
      pending++;
      continue;
    }
    if (covered) continue;
    const by = p.runId !== null ? `run ${p.runId}` : p.intent !== null ? `intent ${p.intent}` : p.reason;
    problems.push({ record: `publication ${environment} ${p.dataset} ${p.partition} #${p.seq}`, problem: `${p.dataset} ${p.partition} in ${environment} was published at ${p.publishedAt} (${p.versionId}, by ${by}) with no publish or republish entry` });
  }

  // The other way: an entry that says something was published which the warehouse's log does not show.
  const read = new Set(r.environments);
  const [only] = r.environments;
  for (const e of entries) {
    if (!PUBLISHING.has(e.action) || !e.target.startsWith('dataset/') || typeof e.details['seq'] !== 'number') continue;
    const env = typeof e.details['environment'] === 'string' ? e.details['environment'] : r.environments.length === 1 ? only : undefined;
    if (env === undefined || !read.has(env)) continue;
    const rest = e.target.slice('dataset/'.length);
    const dataset = rest.slice(0, rest.indexOf('/'));
    const partition = rest.slice(rest.indexOf('/') + 1);
    if (!seen.has(`${env}\0${dataset}\0${partition}\0${e.details['seq']}`)) {
      problems.push({ record: `entry ${e.seq}`, problem: `entry ${e.seq} records a ${e.action} of ${dataset} ${partition} in ${env} (#${e.details['seq']}) that the warehouse's publication log does not show` });
    }
  }
  return { problems, pending };
}
