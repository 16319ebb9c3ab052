/**
 * What the HTTP client needs of a per-account limiter (DESIGN §2.6, ADR 0016), whichever keeps its
 * state: this process (`limiter.ts`) or the database, shared by every worker (`shared-limiter.ts`).
 */

export interface LimiterLimits {
  /** Request starts per second; `null` or `Infinity` = unlimited. */
  requestsPerSecond: number | null;
  /** Requests running at once; a positive integer or `Infinity`. */
  maxConcurrent: number;
}

/**
 * The moment a request really leaves, reported by the HTTP layer. The spacing between two requests is
 * kept between these moments, not between the limiter's decisions: a busy event loop can hold a
 * request back after it was let go, and the next one must not catch up with it (ADR 0016, 0060).
 */
export interface SendMoment {
  /**
   * Called right before the first byte is written. `false` stops the request there (its slot is no
   * longer valid): nothing reaches the carrier, and the exchange fails as never sent.
   */
  sending(): boolean;
  /** Called once the whole request has been handed to the socket. */
  sent(): void;
}

export interface CallLimiter {
  /**
   * Runs `fn` when the account's rate, its concurrency cap and any pause allow. `fn` sends one request
   * and reports its moments to `moment`; the slot is held until `fn` settles. An abort while waiting
   * rejects with `signal.reason`.
   */
  schedule<T>(fn: (moment: SendMoment) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** A carrier's `Retry-After`: nobody starts a request to the account for `ms`. */
  pauseFor(ms: number): void;
}

/** Minimum spacing between two request starts at `requestsPerSecond`, in ms (0 when unlimited). */
export const spacingMs = (requestsPerSecond: number | null, safetyMargin: number): number =>
  requestsPerSecond === null || requestsPerSecond === Number.POSITIVE_INFINITY
    ? 0
    : (1000 / requestsPerSecond) * (1 + safetyMargin);

/** Extra spacing on top of `1000 / requestsPerSecond`, for lateness on our side and jitter on the carrier's. */
export const DEFAULT_SAFETY_MARGIN = 0.02;

/**
 * How late a request may leave after its due moment without pushing the next one back (ADR 0060):
 * a quarter of what the safety margin adds up to over a second (5 ms at 2%), and never more than half
 * a spacing. The rest stays for the carrier's jitter. With no margin there is nothing to absorb.
 */
export const latenessToleranceMs = (intervalMs: number, safetyMargin: number): number =>
  Math.min(intervalMs / 2, 250 * safetyMargin);

/**
 * When the request after one that was due at `dueAt` and left at `leftAt` may leave (ADR 0060, the
 * generic cell rate algorithm): one spacing after the due moment, so a request that leaves a little late
 * (the event loop, undici's turn) does not push every later one back; but never sooner than one spacing
 * less the tolerance after it really left, so a stalled request cannot be caught up with a burst. In any
 * chain of requests, the k-th after one left at `a` leaves no sooner than `a + k × interval − tolerance`:
 * no window of one second holds more than `requestsPerSecond` of them while the carrier's jitter stays
 * under the rest of the margin.
 */
export const nextDueAt = (dueAt: number, leftAt: number, intervalMs: number, toleranceMs: number): number =>
  Math.max(dueAt + intervalMs, leftAt + intervalMs - toleranceMs);

export const validateLimits = (limits: LimiterLimits): void => {
  const { requestsPerSecond: rps, maxConcurrent } = limits;
  if (rps !== null && !(typeof rps === 'number' && rps > 0)) {
    throw new RangeError(`requestsPerSecond must be > 0, null or Infinity (got ${String(rps)})`);
  }
  if (
    !(maxConcurrent === Number.POSITIVE_INFINITY || (Number.isInteger(maxConcurrent) && maxConcurrent >= 1))
  ) {
    throw new RangeError(
      `maxConcurrent must be a positive integer or Infinity (got ${String(maxConcurrent)})`,
    );
  }
};
