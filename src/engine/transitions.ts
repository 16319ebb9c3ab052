import type { RowTransition } from '../bulk-changes/bulk-changes-repository.ts';
import type { CarrierLimits, RowOutcome, WorkRow } from '../carriers/carrier.ts';
import { rowErrorCodes } from './outcomes.ts';

/** Capped exponential backoff with full jitter, for rows whose carrier call failed transiently. */
export function rowRetryDelay(attempts: number, random = Math.random): number {
  const ceiling = Math.min(300_000, 1_000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * What a step's outcome does to a row: the row state machine of API §2
 * (`queued → in_progress → (waiting →) succeeded | failed | cancelled`).
 */
export function transitionFor(
  row: WorkRow,
  outcome: RowOutcome,
  context: { limits: CarrierLimits; now: number },
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
      return { id: row.id, status: 'failed', error: outcome.error, nextCheckAt: null };
    case 'resend':
      return { id: row.id, status: 'queued', nextCheckAt: null };
    case 'retry': {
      if (row.attempts >= context.limits.retryBudget) {
        return {
          id: row.id,
          status: 'failed',
          nextCheckAt: null,
          error: {
            code: rowErrorCodes.retriesExhausted,
            message: `Gave up after ${row.attempts} attempts; the last one failed with ${outcome.error.code}: ${outcome.error.message}`,
            ...(outcome.error.carrierCode ? { carrierCode: outcome.error.carrierCode } : {}),
          },
        };
      }
      const delay = Math.max(outcome.retryAfterMs ?? 0, rowRetryDelay(row.attempts));
      return { id: row.id, status: 'queued', error: outcome.error, nextCheckAt: context.now + delay };
    }
    case 'next': {
      const waitingSince = outcome.waitUntil === undefined ? null : (row.waitingSince ?? context.now);
      if (waitingSince !== null && outcome.waitUntil! - waitingSince > context.limits.maxWaitMs) {
        return {
          id: row.id,
          status: 'failed',
          nextCheckAt: null,
          error: {
            code: rowErrorCodes.waitTimeout,
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
