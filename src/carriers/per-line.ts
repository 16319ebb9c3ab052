import type { CarrierLimits, RowError, RowOutcome, Step, StepContext, WorkRow } from '../core/flow.ts';
import { forEachRow } from '../core/outcomes.ts';
import type { CallContext } from './http/call.ts';
import { AUDIT_MAX_BYTES } from './http/redaction.ts';

/**
 * For carriers that take one line per request: a chunk is a few seconds of calls at the account's
 * rate, so cancel and shutdown take effect quickly and a crash leaves few rows to reconcile.
 */
export const perLineChunk = (limits: CarrierLimits): number =>
  limits.requestsPerSecond === null
    ? 200
    : Math.max(1, Math.min(200, Math.ceil(limits.requestsPerSecond * 3)));

/** Calls in flight at once: the account's concurrency (the limiter paces them). */
export const lanes = (context: StepContext<unknown>): number => context.account.limits.maxConcurrent;

/** What a batch call's audit record may keep of each body per row it carries, beyond the usual. */
const AUDIT_BYTES_PER_ROW = 4 * 1024;
const AUDIT_MAX_BATCH_BYTES = 32 * 1024 * 1024;

/**
 * Carrier calls for a row (or a batch of rows): audited against each, cancelled with the job. A batch
 * call's record keeps enough of its bodies for every row's part to be found in it.
 */
export const callContext = (
  rows: WorkRow<unknown> | readonly WorkRow<unknown>[] | null,
  context: StepContext<unknown>,
): CallContext => ({
  audit: context.auditFor(rows),
  signal: context.signal,
  ...(Array.isArray(rows) && rows.length > 1
    ? { auditBodyBytes: Math.min(AUDIT_MAX_BATCH_BYTES, AUDIT_MAX_BYTES + rows.length * AUDIT_BYTES_PER_ROW) }
    : {}),
});

/** When a waiting row is checked again: the account's check interval from now. */
export const nextCheck = (context: StepContext<unknown>): number =>
  Date.now() + context.account.limits.checkIntervalMs;

/**
 * A step of one carrier call per line. `send` makes the change. After a crash or an unclear answer the
 * engine reconciles instead of sending again: `read` gets the line and `applied` returns the row's
 * outcome when the change is already there (else it is sent again).
 */
export function perLineStep<TClient, TRequest, TLine, TStep extends string = never>(spec: {
  send: (row: WorkRow<TRequest>, context: StepContext<TClient>) => Promise<RowOutcome<TStep>>;
  read: (row: WorkRow<TRequest>, context: StepContext<TClient>) => Promise<TLine>;
  applied: (row: WorkRow<TRequest>, line: TLine) => RowOutcome<TStep> | undefined;
  mapRejection?: (error: RowError) => RowError;
}): Step<TClient, TRequest, TStep> {
  return {
    chunkSize: perLineChunk,
    run: (rows, context) =>
      forEachRow(rows, lanes(context), (row) => spec.send(row, context), spec.mapRejection),
    reconcile: (rows, context) =>
      forEachRow(
        rows,
        lanes(context),
        async (row) => spec.applied(row, await spec.read(row, context)) ?? { kind: 'resend' },
        spec.mapRejection,
      ),
  };
}
