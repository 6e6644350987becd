import type { StepExposure } from '../flags/exposure.ts';
import type { FlagState } from '../flags/flag-state.ts';
import type { FlagSnapshot } from '../flags/flag-snapshot.ts';
import type { StoredCheckResult, StoredProfile } from '../quality/stored-results.ts';
import type { RolloutAction } from '../rollout/rollout-action.ts';
import type { RolloutLogEntry } from '../rollout/rollout-log.ts';
import type { RolloutPlan } from '../rollout/rollout-plan.ts';
import type { RolloutState } from '../rollout/rollout-state.ts';

/**
 * The metadata store, split by feature. Every method is async (a PostgreSQL client has no other
 * kind), speaks domain types that the adapter validated on the way out, and writes inside the unit
 * of work it was handed: `store.transaction(async (tx) => …)` gives stores bound to one
 * transaction, so a change and its audit entry commit together. The audit chain itself is computed
 * by the audit trail (governance/), not by an adapter.
 */

/** An audit entry as its author gives it; the audit trail adds sequence, time and chain hashes. */
export interface AuditEntryInput {
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly reason: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** `hmac-sha256`: keyed with the audit key; `sha256`: written before audit keys (sealed by `audit seal`). */
export type AuditAlgorithm = 'sha256' | 'hmac-sha256';

export interface AuditEntry extends AuditEntryInput {
  readonly seq: number;
  readonly at: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly prevHash: string;
  readonly alg: AuditAlgorithm;
  readonly hash: string;
}

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'abandoned';

export interface StepArtifact {
  readonly version: string;
  readonly hash: string;
  /** Present when a flag also runs a candidate version of the step (shadow or slice). */
  readonly candidate?: { readonly version: string; readonly hash: string; readonly percent: number; readonly flag: string };
}

/** What a run pins at its start: the flag snapshot and, per step, how it computes and publishes. */
export interface PinnedFlags {
  readonly snapshot: FlagSnapshot;
  readonly exposures: Readonly<Record<string, StepExposure>>;
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
  readonly flags: PinnedFlags;
  /** The engine and version the run computed on, as the warehouse reports them (`duckdb 1.5.6`). */
  readonly engine: string;
  readonly published: readonly string[];
  /** Who runs it (`host:pid`) and until when its lease holds (renewed while it runs). */
  readonly owner: string;
  readonly leaseUntil: string | null;
}

/** Who holds a piece of work, and until when: another process may take it over only after that. */
export interface Lease {
  readonly owner: string;
  readonly until: Date;
}

export type NewRun = Pick<RunRecord, 'pipeline' | 'partition' | 'environment' | 'actor' | 'artifacts' | 'flags' | 'engine'>;

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

export interface RunFilter {
  readonly pipeline?: string;
  readonly environment?: string;
  readonly status?: RunStatus;
  readonly limit?: number;
}

/** Runs, their steps, and the freshness of what they published. */
export interface RunStore {
  start(r: NewRun, at: Date, lease: Lease): Promise<RunRecord>;
  renewLease(id: number, until: Date): Promise<void>;
  finish(id: number, result: { status: Exclude<RunStatus, 'running'>; error?: string; published?: readonly string[] }, at: Date): Promise<RunRecord>;
  recordStep(s: StepRunRecord): Promise<void>;
  recordFreshness(f: FreshnessRecord): Promise<void>;
  get(id: number): Promise<RunRecord | undefined>;
  /** Newest first. */
  list(filter?: RunFilter): Promise<RunRecord[]>;
  steps(runId: number): Promise<StepRunRecord[]>;
  freshness(environment: string, dataset?: string): Promise<FreshnessRecord[]>;
}

/** Work that spans the warehouse and the store, recorded before it starts (see runner/recover.ts). */
export interface Intent {
  readonly id: string;
  readonly kind: 'republish' | 'gc';
  readonly environment: string;
  readonly owner: string;
  readonly leaseUntil: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly openedAt: string;
}

export interface IntentStore {
  open(i: Intent): Promise<void>;
  renew(id: string, until: Date): Promise<void>;
  /** Removes it: the work is done or undone (its audit entry says which). */
  close(id: string): Promise<void>;
  list(): Promise<Intent[]>;
}

export interface AuditFilter {
  readonly target?: string;
  readonly action?: string;
  /** The last `limit` entries (in stored order). */
  readonly limit?: number;
}

/** The stored audit log. Entries arrive computed (sequence, hashes) from the audit trail. */
export interface AuditLogStore {
  /** Appends one entry; refused (CONFLICT) when its sequence number is taken, so the chain stays linear. */
  append(entry: AuditEntry): Promise<void>;
  /** The entry with the highest sequence number. */
  last(): Promise<AuditEntry | undefined>;
  /** Entries in stored order (not sorted by sequence: a reordered log must show as reordered). */
  list(filter?: AuditFilter): Promise<AuditEntry[]>;
  /** The head recorded apart from the log at every append. */
  head(): Promise<{ seq: number; hash: string } | undefined>;
  setHead(head: { seq: number; hash: string }): Promise<void>;
}

/** One stored state of a flag in one environment; revisions only grow, and a revert appends a copy. */
export interface FlagRevision {
  readonly environment: string;
  readonly flag: string;
  readonly revision: number;
  readonly state: FlagState;
  readonly actor: string;
  readonly reason: string;
  readonly at: string;
}

export interface FlagRevisionStore {
  append(r: Omit<FlagRevision, 'revision'>): Promise<FlagRevision>;
  /** In flag, then revision order. */
  list(environment: string, flag?: string): Promise<FlagRevision[]>;
}

export interface CheckResultRecord {
  readonly runId: number;
  readonly dataset: string;
  readonly partition: string;
  readonly versionId: string;
  readonly results: readonly StoredCheckResult[];
}

export interface CheckResultStore {
  record(r: CheckResultRecord): Promise<void>;
  forRun(runId: number): Promise<CheckResultRecord[]>;
  /** The newest results stored for a dataset by runs of an environment. */
  latest(environment: string, dataset: string): Promise<CheckResultRecord | undefined>;
}

export interface ProfileRecord {
  readonly environment: string;
  readonly dataset: string;
  readonly partition: string;
  readonly runId: number;
  readonly versionId: string;
  readonly at: string;
  readonly profile: StoredProfile;
}

export interface ProfileStore {
  record(p: ProfileRecord): Promise<void>;
  /** The newest `limit` profiles of a dataset, oldest first: the history anomaly detection reads. */
  recent(environment: string, dataset: string, limit?: number): Promise<ProfileRecord[]>;
}

/** One attempt of a rollout as stored: the plan it started with, its state, and actions not yet carried out. */
export interface StoredRollout {
  /** The attempt's id (the plan's name for the first attempt, `name#2`… for retries). */
  readonly id: string;
  readonly name: string;
  /** 1 for the first attempt of the plan, then 2, 3… */
  readonly attempt: number;
  readonly plan: RolloutPlan;
  readonly state: RolloutState;
  readonly pending: readonly RolloutAction[];
  /** Who is carrying the pending actions out, and until when: recovery takes them over only after that. */
  readonly pendingLease?: { readonly owner: string; readonly until: string };
  readonly updatedAt: string;
}

export interface RolloutStore {
  save(r: Omit<StoredRollout, 'updatedAt'>, at: Date): Promise<void>;
  /** One attempt, by id. */
  get(id: string): Promise<StoredRollout | undefined>;
  /** The latest attempt of a plan. */
  latest(name: string): Promise<StoredRollout | undefined>;
  /** Every attempt, in name then attempt order. */
  list(): Promise<StoredRollout[]>;
  appendLog(id: string, entry: RolloutLogEntry, at: Date): Promise<number>;
  log(id: string): Promise<RolloutLogEntry[]>;
}

/**
 * A run waiting for a worker (`sluice run --queue`, `backfill --queue`). A claim leases the item to
 * one worker and hands it a fencing token: the item's claim count, which only grows. A worker that
 * lost its lease (stopped, partitioned) still holds an old token, so what it does late is told
 * apart from the new holder's: a heartbeat or finish with a stale token is refused, and the
 * warehouse refuses its publish (see PublishMeta.fence).
 */
export interface QueueItem {
  readonly id: number;
  readonly pipeline: string;
  readonly partition: string;
  readonly environment: string;
  readonly actor: string;
  /** Model selection for the run (`--select`), if any. */
  readonly select: string | null;
  /** Items enqueued together (one backfill) share a batch id. */
  readonly batch: string;
  readonly enqueuedAt: string;
  readonly state: 'queued' | 'claimed' | 'done' | 'failed';
  /** Claims so far: the fencing token of the latest one. */
  readonly token: number;
  readonly worker: string | null;
  readonly leaseUntil: string | null;
  readonly runId: number | null;
  readonly error: string | null;
  readonly finishedAt: string | null;
}

export type NewQueueItem = Pick<QueueItem, 'pipeline' | 'partition' | 'environment' | 'actor' | 'select' | 'batch'>;

export interface QueueStore {
  enqueue(items: readonly NewQueueItem[], at: Date): Promise<QueueItem[]>;
  /**
   * The oldest item that is queued, or claimed with its lease run out, leased to `worker` until
   * `leaseUntil` with the next token; undefined when there is none. Concurrent claims never get
   * the same item (row locks where the engine has them).
   */
  claim(worker: string, at: Date, leaseUntil: Date, filter?: { readonly environment?: string }): Promise<QueueItem | undefined>;
  /** Extends the lease; false when the token is no longer the item's (another worker holds it now). */
  heartbeat(id: number, token: number, leaseUntil: Date): Promise<boolean>;
  /** Records the outcome; false (and nothing changed) when the token is stale. */
  finish(id: number, token: number, outcome: { readonly state: 'done' | 'failed'; readonly runId: number | null; readonly error: string | null }, at: Date): Promise<boolean>;
  get(id: number): Promise<QueueItem | undefined>;
  /** Oldest first. */
  list(filter?: { readonly batch?: string; readonly state?: QueueItem['state'] }): Promise<QueueItem[]>;
}

/** Every feature store; a transaction hands out the same set bound to it. */
export interface Stores {
  readonly runs: RunStore;
  readonly audit: AuditLogStore;
  readonly flagRevisions: FlagRevisionStore;
  readonly checkResults: CheckResultStore;
  readonly profiles: ProfileStore;
  readonly rollouts: RolloutStore;
  readonly intents: IntentStore;
  readonly queue: QueueStore;
}

/** The unit of work: fn's writes through `tx` commit together, or none does when fn throws. */
export interface UnitOfWork {
  /**
   * Runs fn in one transaction. Called again inside fn (directly or deeper in the same async
   * flow), it joins the open transaction instead of nesting. Other callers wait for it to end.
   */
  transaction<T>(fn: (tx: Stores) => Promise<T>): Promise<T>;
  /**
   * Runs fn once the transaction this flow is in commits (at once outside a transaction); nothing
   * when it rolls back. For what must only follow a commit, such as the audit checkpoint.
   */
  afterCommit(fn: () => void | Promise<void>): Promise<void>;
}

export interface MetadataStore extends Stores, UnitOfWork, AsyncDisposable {
  /** What the store is, for messages and run records (`sqlite /path/to/sluice.db`). */
  readonly description: string;
  close(): Promise<void>;
}
