/** The status vocabularies of DESIGN §4.3: a bulk change's, a row's, and a line's. */

export const bulkStatuses = [
  'scheduled',
  'queued',
  'processing',
  'paused',
  'awaiting_approval',
  'completed',
  'completed_with_errors',
  'failed',
  'cancelled',
] as const;
export type BulkStatus = (typeof bulkStatuses)[number];

export const terminalBulkStatuses = ['completed', 'completed_with_errors', 'failed', 'cancelled'] as const;
export type TerminalBulkStatus = (typeof terminalBulkStatuses)[number];

/** The statuses a bulk change can be paused from: not yet finished, and not paused already. */
export const runningBulkStatuses = [
  'scheduled',
  'queued',
  'processing',
] as const satisfies readonly BulkStatus[];

/**
 * The statuses in which a bulk change sends nothing new to the carrier (the claim's gate): paused, or
 * waiting for a second person's approval (docs/guardrails.md). Rows already with the carrier are read.
 */
export const holdingBulkStatuses = ['paused', 'awaiting_approval'] as const satisfies readonly BulkStatus[];

export const isHoldingBulkStatus = (status: BulkStatus): boolean =>
  (holdingBulkStatuses as readonly BulkStatus[]).includes(status);

export const isTerminalBulkStatus = (status: BulkStatus): status is TerminalBulkStatus =>
  (terminalBulkStatuses as readonly BulkStatus[]).includes(status);

/**
 * Why a bulk change is `paused` (docs/guardrails.md): a person paused it, the account's circuit opened
 * (it resumes by itself once the circuit lets calls through again), a canary wave failed too often, or
 * the tenant's blast-radius cap on destructive line changes is reached (it resumes by itself when the
 * window allows more).
 */
export const pauseReasons = ['manual', 'circuit_open', 'canary_halt', 'blast_radius_cap'] as const;
export type PauseReason = (typeof pauseReasons)[number];

/** Pauses the engine ends by itself at their `detail.resumeAt`. */
export const selfEndingPauseReasons = [
  'circuit_open',
  'blast_radius_cap',
] as const satisfies readonly PauseReason[];

export const rowStatuses = ['queued', 'in_progress', 'waiting', 'succeeded', 'failed', 'cancelled'] as const;
export type RowStatus = (typeof rowStatuses)[number];

/** Rows still to be finished: the line is held by its bulk change meanwhile. */
export const openRowStatuses = ['queued', 'in_progress', 'waiting'] as const satisfies readonly RowStatus[];
export type OpenRowStatus = (typeof openRowStatuses)[number];

export type Counts = Record<
  'total' | 'queued' | 'inProgress' | 'waiting' | 'succeeded' | 'failed' | 'cancelled',
  number
>;

/** Where each row status is counted in a bulk change's `counts`. */
export const countKey: Record<RowStatus, keyof Counts> = {
  queued: 'queued',
  in_progress: 'inProgress',
  waiting: 'waiting',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
};

export const emptyCounts = (): Counts => ({
  total: 0,
  queued: 0,
  inProgress: 0,
  waiting: 0,
  succeeded: 0,
  failed: 0,
  cancelled: 0,
});

/** The status vocabulary of DESIGN §4.3; each carrier maps its own values onto it. */
export const normalisedStatuses = [
  'active',
  'pending_activation',
  'inventory',
  'suspended',
  'deactivated',
  'activation_ready',
  'test_ready',
  'retired',
  'unknown',
] as const;
export type NormalisedStatus = (typeof normalisedStatuses)[number];
