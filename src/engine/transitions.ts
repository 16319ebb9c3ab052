import { errorCodes } from '../core/errors.ts';
import type { CarrierLimits, RowError, RowOutcome, WorkRow } from '../core/flow.ts';
import { rowRetryDelay } from '../core/retry-delay.ts';
import type { RowStatus } from '../core/statuses.ts';

/** A row's new state after a step, fenced by the claim that produced it. */
export interface RowTransition {
  id: string;
  status: RowStatus;
  step?: string;
  nextCheckAt?: number | null;
  waitingSince?: number | null;
  carrierRequestId?: string;
  error?: RowError | null;
  result?: Record<string, unknown> | null;
  /** Only for rows that stay `in_progress`: when they are next reconciled. */
  leaseUntil?: number;
  /** The claim counted an attempt for a call that never left (the circuit was open): give it back. */
  refundAttempt?: boolean;
}

/** A row as the engine holds it: what a step takes, and the engine's own budgets for it. */
export interface ClaimedRow extends WorkRow {
  /** Carrier reads after a crash or an unclear answer, counted apart from sending attempts. */
  reconciliations: number;
  /** Times a worker died holding it, alone or in a chunk with other rows. */
  crashes: number;
  /** Times a worker died holding it alone (the isolating claim): what sets a row apart (ADR 0057). */
  crashesAlone: number;
}

/** Our carrier code for a call the open circuit refused (`carriers/http/client.ts`). */
const CIRCUIT_OPEN = errorCodes.CIRCUIT_OPEN;

/** PostgreSQL text cannot hold NUL; a carrier's message must never make a row impossible to save. */
const clean = (error: RowError): RowError => ({ ...error, message: error.message.replaceAll('\u0000', '') });

/**
 * What a step's outcome does to a row: the row state machine of API §2
 * (`queued → in_progress → (waiting →) succeeded | failed | cancelled`).
 */
export function transitionFor(
  row: ClaimedRow,
  outcome: RowOutcome,
  context: {
    limits: CarrierLimits;
    now: number;
    /** Rows found in progress after a crash are being reconciled, not sent. */
    reconciling: boolean;
    /** Whether the step can read the carrier's state to learn if a call took effect. */
    canReconcile: boolean;
  },
): RowTransition {
  switch (outcome.kind) {
    case 'succeeded':
      return {
        id: row.id,
        status: 'succeeded',
        error: null,
        nextCheckAt: null,
        result: { ...row.result, ...outcome.result },
      };
    case 'failed':
      return {
        id: row.id,
        status: 'failed',
        error: clean(outcome.error),
        nextCheckAt: null,
        ...(outcome.result ? { result: { ...row.result, ...outcome.result } } : {}),
      };
    case 'resend':
      return { id: row.id, status: 'queued', nextCheckAt: null };
    case 'retry': {
      const delay = Math.max(outcome.retryAfterMs ?? 0, rowRetryDelay(row.attempts));
      if (context.reconciling && row.reconciliations >= context.limits.retryBudget) {
        // Reading the line kept failing: its own budget is spent, the sending attempts untouched.
        return {
          id: row.id,
          status: 'failed',
          nextCheckAt: null,
          error: clean({
            code: errorCodes.OUTCOME_UNKNOWN,
            message: `The carrier never confirmed whether the change was applied (last: ${outcome.error.code}: ${outcome.error.message}); check the line before sending it again`,
          }),
        };
      }
      if (context.reconciling || (outcome.ambiguous === true && context.canReconcile)) {
        // The call may have reached the carrier: keep the row leased; when the lease ends it is
        // reconciled by reading the carrier (before any budget is spent), never re-sent blindly.
        return {
          id: row.id,
          status: 'in_progress',
          error: clean(outcome.error),
          leaseUntil: context.now + delay,
        };
      }
      if (row.attempts >= context.limits.retryBudget) {
        return {
          id: row.id,
          status: 'failed',
          nextCheckAt: null,
          error: clean({
            code: errorCodes.RETRIES_EXHAUSTED,
            message: `Gave up after ${row.attempts} attempts; the last one failed with ${outcome.error.code}: ${outcome.error.message}`,
            ...(outcome.error.carrierCode ? { carrierCode: outcome.error.carrierCode } : {}),
          }),
        };
      }
      return { id: row.id, status: 'queued', error: clean(outcome.error), nextCheckAt: context.now + delay };
    }
    case 'next': {
      const waitingSince = outcome.waitUntil === undefined ? null : (row.waitingSince ?? context.now);
      if (waitingSince !== null && outcome.waitUntil! - waitingSince > context.limits.maxWaitMs) {
        return {
          id: row.id,
          status: 'failed',
          nextCheckAt: null,
          error: {
            code: errorCodes.WAIT_TIMEOUT,
            message: `No confirmation from the carrier within ${Math.round(context.limits.maxWaitMs / 1000)} s`,
          },
        };
      }
      return {
        id: row.id,
        status: outcome.waitUntil !== undefined ? 'waiting' : 'queued',
        step: outcome.step,
        nextCheckAt: outcome.waitUntil ?? null,
        waitingSince,
        ...(outcome.carrierRequestId !== undefined ? { carrierRequestId: outcome.carrierRequestId } : {}),
        result: { ...row.result, ...outcome.result },
      };
    }
  }
}

/** Whether an outcome is a call refused by the account's open circuit: it never reached the carrier. */
export const refusedByCircuit = (outcome: RowOutcome): boolean =>
  outcome.kind === 'retry' && outcome.error.carrierCode === CIRCUIT_OPEN;

/**
 * A row whose call the open circuit refused, while its bulk change pauses (docs/guardrails.md): back to
 * where it was claimed from with its attempt given back, so an outage of any length costs it nothing.
 * A read is tried again when the circuit lets calls through; a send waits for the resume.
 */
export function heldByCircuit(
  row: ClaimedRow,
  claimedFrom: 'queued' | 'waiting',
  error: RowError,
  resumeAt: number,
): RowTransition {
  return claimedFrom === 'waiting'
    ? { id: row.id, status: 'waiting', nextCheckAt: resumeAt }
    : { id: row.id, status: 'queued', nextCheckAt: null, error: clean(error), refundAttempt: true };
}

/**
 * A row the carrier refused because its line's quota is spent this period (docs/guardrails.md): queued
 * again from `step` (where it started) and not sent before `until`, when the quota is whole again,
 * instead of failing. The attempt is given back: waiting for the carrier's period costs the row nothing.
 */
export function waitForQuota(row: ClaimedRow, error: RowError, step: string, until: number): RowTransition {
  return {
    id: row.id,
    status: 'queued',
    step,
    nextCheckAt: until,
    waitingSince: null,
    error: clean(error),
    refundAttempt: true,
  };
}
