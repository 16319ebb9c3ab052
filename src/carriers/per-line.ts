import type { CarrierLimits, RowError, RowOutcome, Step, StepContext, WorkRow } from '../core/flow.ts';
import { forEachRow } from '../core/outcomes.ts';
import type { CallContext } from './http/call.ts';

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

/** Carrier calls for a row (or a batch of rows): audited against each, cancelled with the job. */
export const callContext = (
  rows: WorkRow<unknown> | readonly WorkRow<unknown>[] | null,
  context: StepContext<unknown>,
): CallContext => ({
  audit: context.auditFor(rows),
  signal: context.signal,
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
