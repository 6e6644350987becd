import type { CheckResult } from './check-types.ts';
import type { ProfileAnomaly } from './profile-anomalies.ts';
import type { TableProfile } from './profile-table.ts';
import type { ContractViolation } from './validate-against-contract.ts';

/** What the runner stores about an output's checks and profile (the store keeps them as JSON). */
/**
 * The stored summary of a contract validation, kept first among an output's check results under
 * the name `contract` (the name a rollout's checks gate can require).
 */
export interface ContractCheckResult {
  readonly id: 'contract';
  readonly check: 'contract';
  readonly columns: readonly string[];
  readonly severity: 'error';
  readonly success: boolean;
  readonly contract: { readonly ref: string; readonly version: number; readonly file: string | null };
  readonly elementCount: number;
  /** Breaking violations. */
  readonly unexpectedCount: number;
  readonly violations: readonly ContractViolation[];
  readonly message: string;
}

export type StoredCheckResult = ContractCheckResult | CheckResult;

/** What `afterPublish` stores as the profile of one published output. */
export interface StoredProfile {
  readonly method: TableProfile['method'];
  readonly rowCount: number;
  readonly columns: TableProfile['columns'];
  /** Every profile metric by name (`row_count`, `null_rate.amount`, `p50.amount`, ...). */
  readonly metrics: Readonly<Record<string, number>>;
  /** A verdict per watched metric (row count, null rate per column) against the dataset's history. */
  readonly anomalies: readonly ProfileAnomaly[];
  readonly seconds: number;
}

