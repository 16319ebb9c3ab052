/**
 * Retry delays for the durable queue: capped exponential backoff with jitter (the AWS Architecture
 * Blog "Exponential Backoff And Jitter" formulas). Pure functions; `random` is injectable for tests.
 */

export type Jitter = 'full' | 'equal' | 'none';

export interface BackoffOptions {
  /** Delay scale for the first retry, in ms. Default 1 s. */
  baseMs?: number;
  /** No delay is ever longer than this, in ms. Default 5 min. */
  capMs?: number;
  /** `full` (default): uniform in [0, exp); `equal`: uniform in [exp/2, exp); `none`: exp. */
  jitter?: Jitter;
}

export const DEFAULT_BACKOFF: Readonly<Required<BackoffOptions>> = Object.freeze({
  baseMs: 1_000,
  capMs: 300_000,
  jitter: 'full',
});

/** The un-jittered ceiling for the retry after attempt `attempt` (1-based): min(cap, base·2^(attempt−1)). */
export function backoffCeiling(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs, capMs } = { ...DEFAULT_BACKOFF, ...options };
  const exponent = Math.min(Math.max(Math.floor(attempt), 1) - 1, 60);
  return Math.max(0, Math.min(capMs, baseMs * 2 ** exponent));
}

/** The delay before retrying a job whose attempt number `attempt` (1-based) just failed. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const jitter = options.jitter ?? DEFAULT_BACKOFF.jitter;
  const ceiling = backoffCeiling(attempt, options);
  const r = clampUnit(random());
  switch (jitter) {
    case 'none':
      return ceiling;
    case 'equal':
      return Math.floor(ceiling / 2 + r * (ceiling / 2));
    default:
      return Math.floor(r * ceiling);
  }
}

/**
 * Decorrelated jitter: the next delay is uniform in [base, 3·previous], capped. Needs the previous
 * delay (start with `previousMs = baseMs`); use it where the caller keeps that state.
 */
export function decorrelatedDelay(
  previousMs: number,
  options: Omit<BackoffOptions, 'jitter'> = {},
  random: () => number = Math.random,
): number {
  const { baseMs, capMs } = { ...DEFAULT_BACKOFF, ...options };
  const low = Math.min(baseMs, capMs);
  const high = Math.max(low, Math.min(capMs, Math.max(previousMs, baseMs) * 3));
  return Math.max(0, Math.min(capMs, Math.floor(low + clampUnit(random()) * (high - low))));
}

const clampUnit = (value: number): number =>
  Number.isFinite(value) ? Math.min(Math.max(value, 0), 1 - Number.EPSILON) : 0;
