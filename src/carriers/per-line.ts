import type { CarrierLimits, StepContext } from './carrier.ts';

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
