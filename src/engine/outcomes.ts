import type { RowError, RowOutcome } from '../carriers/carrier.ts';
import { isCarrierError } from '../carriers/carrier-error.ts';

/** Row error codes the engine itself assigns (docs/errors.md lists every code). */
export const rowErrorCodes = {
  carrierRejected: 'CARRIER_REJECTED',
  carrierRule: 'CARRIER_RULE',
  authFailed: 'AUTH_FAILED',
  writeDisabled: 'WRITE_DISABLED',
  retriesExhausted: 'RETRIES_EXHAUSTED',
  waitTimeout: 'WAIT_TIMEOUT',
  transient: 'CARRIER_UNAVAILABLE',
  internal: 'INTERNAL_ERROR',
  outcomeUnknown: 'OUTCOME_UNKNOWN',
} as const;

/** Refusals that mean the carrier did not act: over its limit, down for maintenance, or never called. */
const surelyNotApplied = (error: { httpStatus?: number; carrierCode?: string }) =>
  error.httpStatus === 429 || error.httpStatus === 503 || error.carrierCode === 'CIRCUIT_OPEN';

/** Turns a failed carrier call into the row's outcome, by the error's class (DESIGN §2.7). */
export function outcomeFromError(error: unknown, mapRejection?: (error: RowError) => RowError): RowOutcome {
  if (!isCarrierError(error)) {
    return {
      kind: 'retry',
      error: {
        code: rowErrorCodes.internal,
        message: error instanceof Error ? error.message : String(error),
      },
    };
  }
  const base = { message: error.message, ...(error.carrierCode ? { carrierCode: error.carrierCode } : {}) };
  switch (error.kind) {
    case 'transient':
      return {
        kind: 'retry',
        error: { code: rowErrorCodes.transient, ...base },
        retryAfterMs: error.retryAfterMs,
        ambiguous: !surelyNotApplied(error),
      };
    case 'auth':
      return { kind: 'failed', error: { code: rowErrorCodes.authFailed, ...base } };
    case 'rule':
      return { kind: 'failed', error: { code: rowErrorCodes.carrierRule, ...base } };
    case 'rejected': {
      const rejection = { code: rowErrorCodes.carrierRejected, ...base };
      return { kind: 'failed', error: mapRejection ? mapRejection(rejection) : rejection };
    }
  }
}

/**
 * Runs a per-line carrier call for every row, `concurrency` at a time (the limiter paces them), and
 * turns each call's error into that row's outcome so one line never fails its neighbours. Once the
 * carrier refuses the credentials, the rows not yet sent fail the same way without a call.
 */
export async function forEachRow<TRow>(
  rows: TRow[],
  concurrency: number,
  work: (row: TRow) => Promise<RowOutcome>,
  mapRejection?: (error: RowError) => RowError,
): Promise<RowOutcome[]> {
  const outcomes: RowOutcome[] = new Array(rows.length);
  let next = 0;
  let refused: RowOutcome | undefined;
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
        if (isCarrierError(error) && error.kind === 'auth') refused = outcomes[index];
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, rows.length)) }, lane));
  return outcomes;
}
