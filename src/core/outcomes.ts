import { isCarrierError } from './carrier-error.ts';
import { errorCodes } from './errors.ts';
import type { RowError, RowOutcome } from './flow.ts';

/**
 * Our own codes for a call the carrier did not act on: never sent (the circuit was open, no login could
 * be had), or refused for its expired session before anything was done.
 */
const neverSentCodes = new Set<string>([
  errorCodes.CIRCUIT_OPEN,
  errorCodes.CREDENTIALS_CHANGED,
  errorCodes.LOGIN_BUSY,
  errorCodes.SESSION_EXPIRED,
]);

/** Refusals that mean the carrier did not act: over its limit, down for maintenance, or never called. */
const surelyNotApplied = (error: { httpStatus?: number; carrierCode?: string }) =>
  error.httpStatus === 429 ||
  error.httpStatus === 503 ||
  (error.carrierCode !== undefined && neverSentCodes.has(error.carrierCode));

/** Turns a failed carrier call into the row's outcome, by the error's class (DESIGN §2.7). */
export function outcomeFromError(
  error: unknown,
  mapRejection?: (error: RowError) => RowError,
): RowOutcome<never> {
  if (!isCarrierError(error)) {
    return {
      kind: 'retry',
      error: {
        code: errorCodes.INTERNAL_ERROR,
        message: error instanceof Error ? error.message : String(error),
      },
    };
  }
  const base = { message: error.message, ...(error.carrierCode ? { carrierCode: error.carrierCode } : {}) };
  switch (error.kind) {
    case 'transient':
      return {
        kind: 'retry',
        error: { code: errorCodes.CARRIER_UNAVAILABLE, ...base },
        retryAfterMs: error.retryAfterMs,
        ambiguous: !surelyNotApplied(error),
      };
    case 'auth':
      return { kind: 'failed', error: { code: errorCodes.AUTH_FAILED, ...base } };
    case 'rule':
      return { kind: 'failed', error: { code: errorCodes.CARRIER_RULE, ...base } };
    case 'rejected': {
      // Our own refusal, not the carrier's: the flow's mapping of carrier codes does not apply.
      if (error.carrierCode === errorCodes.ADDRESS_NOT_ALLOWED)
        return { kind: 'failed', error: { code: errorCodes.ADDRESS_NOT_ALLOWED, ...base } };
      const rejection = { code: errorCodes.CARRIER_REJECTED, ...base };
      return { kind: 'failed', error: mapRejection ? mapRejection(rejection) : rejection };
    }
  }
}

/**
 * Runs a per-line carrier call for every row, `concurrency` at a time (the limiter paces them), and
 * turns each call's error into that row's outcome so one line never fails its neighbours. Once the
 * carrier refuses the credentials, or the account's circuit refuses a call (after the client's own
 * short waits for it), the rows not yet sent get the same outcome without a call: the chunk ends at once,
 * and its bulk change pauses for the circuit (docs/guardrails.md) instead of waiting on each row.
 */
export async function forEachRow<TRow, TStep extends string = never>(
  rows: TRow[],
  concurrency: number,
  work: (row: TRow) => Promise<RowOutcome<TStep>>,
  mapRejection?: (error: RowError) => RowError,
): Promise<RowOutcome<TStep>[]> {
  const outcomes: RowOutcome<TStep>[] = new Array(rows.length);
  let next = 0;
  let refused: RowOutcome<TStep> | undefined;
  const lane = async () => {
    while (next < rows.length) {
      const index = next++;
      if (refused) {
        outcomes[index] = refused;
        continue;
      }
      try {
        outcomes[index] = await work(rows[index]);
      } catch (error) {
        outcomes[index] = outcomeFromError(error, mapRejection);
        if (isCarrierError(error) && (error.kind === 'auth' || error.carrierCode === errorCodes.CIRCUIT_OPEN))
          refused = outcomes[index];
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, rows.length)) }, lane));
  return outcomes;
}
