import type { AuditEntry, AuditEntryInput } from '../governance/audit-chain.ts';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'abandoned';

export interface StepArtifact {
  readonly version: string;
  readonly hash: string;
  /** Present when a flag also runs a candidate version of the step (shadow or slice). */
  readonly candidate?: { readonly version: string; readonly hash: string; readonly percent: number; readonly flag: string };
}

export interface RunRecord {
  readonly id: number;
  readonly pipeline: string;
  readonly partition: string;
  readonly environment: string;
  readonly status: RunStatus;
  readonly actor: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly error: string | null;
  /** Step name -> version and content hash used by this run. */
  readonly artifacts: Readonly<Record<string, StepArtifact>>;
  /** The flag snapshot pinned at the run's start. */
  readonly flags: Readonly<Record<string, unknown>>;
  readonly engine: string;
  readonly published: readonly string[];
}

export interface StepRunRecord {
  readonly runId: number;
  readonly step: string;
  readonly version: string;
  readonly versionHash: string;
  readonly outputVersionId: string | null;
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly durationMs: number;
  readonly status: 'succeeded' | 'failed';
  readonly error: string | null;
}

export interface FreshnessRecord {
  readonly environment: string;
  readonly dataset: string;
  readonly partition: string;
  readonly newestEventTime: string | null;
  readonly runId: number;
  readonly measuredAt: string;
}

/** One stored state of a flag in one environment; revisions only grow, and a revert appends a copy. */
export interface FlagRevision {
  readonly environment: string;
  readonly flag: string;
  readonly revision: number;
  readonly state: unknown;
  readonly actor: string;
  readonly reason: string;
  readonly at: string;
}

export interface ProfileRecord {
  readonly environment: string;
  readonly dataset: string;
  readonly partition: string;
  readonly runId: number;
  readonly versionId: string;
  readonly at: string;
  readonly profile: unknown;
}

export interface RunFilter {
  readonly pipeline?: string;
  readonly environment?: string;
  readonly status?: RunStatus;
  readonly limit?: number;
}

/** Metadata of runs, steps, freshness and the audit trail. SQLite by default; PostgreSQL for shared use. */
export interface MetadataStore {
  startRun(r: Pick<RunRecord, 'pipeline' | 'partition' | 'environment' | 'actor' | 'artifacts' | 'flags' | 'engine'>, at: Date): RunRecord;
  finishRun(id: number, result: { status: Exclude<RunStatus, 'running'>; error?: string; published?: readonly string[] }, at: Date): RunRecord;
  recordStep(s: StepRunRecord): void;
  recordFreshness(f: FreshnessRecord): void;
  run(id: number): RunRecord | undefined;
  runs(filter?: RunFilter): RunRecord[];
  steps(runId: number): StepRunRecord[];
  freshness(environment: string, dataset?: string): FreshnessRecord[];
  /** Marks runs left `running` by a process that no longer exists as abandoned. */
  reapAbandonedRuns(isAlive: (pid: number) => boolean, at: Date): number[];
  appendAudit(e: AuditEntryInput, at: Date): AuditEntry;
  auditLog(filter?: { target?: string; action?: string; limit?: number }): AuditEntry[];
  auditHead(): { seq: number; hash: string } | undefined;
  appendFlagRevision(r: Omit<FlagRevision, 'revision'>): FlagRevision;
  flagRevisions(environment: string, flag?: string): FlagRevision[];
  recordCheckResults(r: { runId: number; dataset: string; partition: string; versionId: string; results: unknown }): void;
  checkResults(runId: number): { dataset: string; partition: string; versionId: string; results: unknown }[];
  recordProfile(p: ProfileRecord): void;
  /** The newest `limit` profiles of a dataset, oldest first: the history anomaly detection reads. */
  profiles(environment: string, dataset: string, limit?: number): ProfileRecord[];
  saveRollout(name: string, plan: unknown, state: unknown, at: Date): void;
  rollout(name: string): { name: string; plan: unknown; state: unknown; updatedAt: string } | undefined;
  rollouts(): { name: string; plan: unknown; state: unknown; updatedAt: string }[];
  appendRolloutTransition(rollout: string, transition: unknown, at: Date): number;
  rolloutTransitions(rollout: string): unknown[];
  /** Runs fn in one store transaction: the change and its audit entry commit together. */
  transaction<T>(fn: () => T): T;
  close(): void;
}
