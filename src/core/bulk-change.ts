import type { ChangeType } from './change-types.ts';
import type { RowError } from './flow.ts';
import type { BulkStatus, Counts, PauseReason, RowStatus } from './statuses.ts';
import type { WaveProgress } from './waves.ts';

/** A bulk change as every room above the store sees it (DESIGN §4.2); its counts are derived from rows. */
export interface BulkChange {
  id: string;
  tenantId: string;
  carrierAccountId: string;
  changeType: ChangeType;
  status: BulkStatus;
  /** The name its creator gave it; null when none was given (the API shows a generated one). */
  name: string | null;
  /** The request's options, merged into every row at intake and kept for a retry. */
  options: Record<string, unknown>;
  createdBy: string;
  /** Who created it, as the audit log names actors (`key:<id>`); null when made before this was kept. */
  createdByActor: string | null;
  createdAt: number;
  scheduledFor: number | null;
  startedAt: number | null;
  completedAt: number | null;
  cancelRequestedAt: number | null;
  /** The bulk change whose failed rows this one retries. */
  parentId: string | null;
  /** The other half of a pair: a follow-up's parent, or a parent's follow-up. */
  linkedId: string | null;
  retriedAsId: string | null;
  /** The bulk change this one reverses (an undo, docs/guardrails.md). */
  undoOf: string | null;
  /** The bulk change that reverses this one, once it was undone. */
  undoneAsId: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
  totalCount: number;
  /** Why the engine gave up on it, when it did (its job failed for good). */
  failureReason: string | null;
  /** Addresses told by e-mail when it ends, besides the tenant's own (given at creation). */
  notifyEmails: string[];
  /** Why, by whom and since when it is `paused`; null when it is not. */
  pause: Pause | null;
  /** Where it is in its canary waves, when it is sent in waves. */
  waves: WaveProgress | null;
  /** What it does when it is destructive (`deactivate`, core/destructive.ts); null when it is not. */
  destructiveAction: string | null;
  /** Why it was held for a second person's approval, and their decision; null when it never was. */
  approval: Approval | null;
  /**
   * Its rows by status, kept with the rows in the transactions that move them (so reading them costs
   * the same at any size); derived from the rows, never set by a bulk-level status (the original's B1).
   */
  counts: Counts;
  updatedAt: number;
}

/** A paused bulk change's reason, who paused it (an actor id: `key:<id>`, `engine`), when, and the figures behind it. */
export interface Pause {
  reason: PauseReason;
  by: string;
  at: number;
  detail: Record<string, unknown>;
}

/**
 * A bulk change held by the tenant's approval policy (docs/guardrails.md): what the policy asked
 * (`aboveLines`), what the change does, and, once decided, by whom (an actor id), when and why.
 */
export interface Approval {
  requiredBecause: { action: string; lines: number; aboveLines: number };
  requestedAt: number;
  decision: {
    outcome: 'approved' | 'rejected';
    by: string;
    byName: string;
    at: number;
    note: string | null;
  } | null;
}

/** One input row of a bulk change and what became of it. */
export interface DeviceChange {
  id: string;
  tenantId: string;
  bulkChangeId: string;
  rowNumber: number;
  deviceId: string | null;
  iccid: string | null;
  imei: string | null;
  msisdn: string | null;
  eid: string | null;
  request: Record<string, unknown>;
  status: RowStatus;
  step: string;
  attempts: number;
  nextCheckAt: number | null;
  waitingSince: number | null;
  carrierRequestId: string | null;
  error: RowError | null;
  result: Record<string, unknown> | null;
  updatedAt: number;
}

/** A new row, as intake (or a follow-up) writes it. */
export type NewDeviceChange = Pick<
  DeviceChange,
  | 'id'
  | 'tenantId'
  | 'bulkChangeId'
  | 'rowNumber'
  | 'deviceId'
  | 'iccid'
  | 'imei'
  | 'msisdn'
  | 'eid'
  | 'request'
  | 'status'
  | 'step'
> &
  Partial<Pick<DeviceChange, 'nextCheckAt' | 'error'>>;
