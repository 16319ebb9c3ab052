import {
  type CallLimiter,
  DEFAULT_SAFETY_MARGIN,
  type LimiterLimits,
  latenessToleranceMs,
  nextDueAt,
  type SendMoment,
  spacingMs,
  validateLimits,
} from './call-limiter.ts';
import { atMoment, PRECISE_BELOW_MS } from './moment-timer.ts';

/**
 * Per-carrier-account call limiter of one process (DESIGN §2.6, §5): a minimum spacing between the
 * requests sent (no bursts) plus a cap on concurrent requests, strictly FIFO across all callers,
 * pausable by a carrier's `Retry-After`. The embedded (SQLite) mode uses it; with PostgreSQL every
 * worker shares one per account in the database (`shared-limiter.ts`).
 *
 * Spacing rather than a bucket of N tokens: such a bucket lets N requests start at once after an idle
 * period, and a carrier measuring "N per second" over a sliding window can then see N+1. Here requests
 * are due `1000 / requestsPerSecond × (1 + safetyMargin)` ms apart (on the monotonic clock), so no
 * 1-second window ever holds more than `requestsPerSecond` of them, even with a little jitter on the
 * carrier's side.
 *
 * The spacing is kept between the moments requests really leave ({@link SendMoment.sent}), and no
 * request is let go while the previous one has not left yet (ADR 0016): a request let go on time but
 * held back by a busy event loop would otherwise reach the carrier right before the next one. A request
 * that leaves a few milliseconds late does not push the next one back, though (ADR 0060,
 * {@link nextDueAt}): the lateness of every request would otherwise add up to a tenth of the rate.
 */

export interface LimiterOptions {
  /** Extra spacing on top of `1000 / requestsPerSecond`, as a fraction. Default 0.02 (2%). */
  safetyMargin?: number;
  /** Told how long each request waited for its turn (metrics). */
  onWait?: (ms: number) => void;
}

export interface LimiterStats {
  /** Functions started and not yet settled. */
  inFlight: number;
  /** Callers queued, not started. */
  waiting: number;
  /** Functions started since creation. */
  started: number;
  /** Epoch ms until which nothing starts (after `pauseFor`), or `null` when not paused. */
  pausedUntil: number | null;
}

interface Waiter {
  run: () => void;
  detach: () => void;
}

export class Limiter implements CallLimiter {
  #requestsPerSecond: number | null = null;
  #maxConcurrent = 1;
  #intervalMs = 0;
  #toleranceMs = 0;
  readonly #safetyMargin: number;
  readonly #onWait: ((ms: number) => void) | undefined;
  readonly #queue: Waiter[] = [];
  #inFlight = 0;
  #started = 0;
  /** performance.now() at which the request let go last was due, and when it left; -Infinity before. */
  #dueAt = Number.NEGATIVE_INFINITY;
  #leftAt = Number.NEGATIVE_INFINITY;
  /** A request was let go and has not left yet: the next one waits for its moment. */
  #leaving = false;
  /** Epoch ms (Date.now()) until which nothing starts. */
  #pausedUntil = 0;
  /** Cancels the pending wake-up, if any. */
  #timer: (() => void) | undefined;
  #timerDueAt = 0;

  constructor(limits: LimiterLimits, options: LimiterOptions = {}) {
    const margin = options.safetyMargin ?? DEFAULT_SAFETY_MARGIN;
    if (!(margin >= 0 && Number.isFinite(margin))) throw new RangeError('safetyMargin must be >= 0');
    this.#safetyMargin = margin;
    this.#onWait = options.onWait;
    this.#apply(limits);
  }

  get limits(): LimiterLimits {
    return { requestsPerSecond: this.#requestsPerSecond, maxConcurrent: this.#maxConcurrent };
  }

  /** Minimum spacing between two starts, in ms (0 when unlimited). */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /**
   * Runs `fn` when the rate, the concurrency cap and any pause allow, after everyone queued before.
   * An abort while waiting removes the caller and rejects with `signal.reason`; once started, `fn` runs to
   * completion (it receives no signal from here; pass the caller's own).
   */
  schedule<T>(fn: (moment: SendMoment) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const queuedAt = performance.now();
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        const index = this.#queue.indexOf(waiter);
        if (index >= 0) {
          this.#queue.splice(index, 1);
          reject(signal?.reason);
          this.#pump();
        }
      };
      const waiter: Waiter = {
        run: () => {
          this.#onWait?.(performance.now() - queuedAt);
          let left = false;
          const leave = () => {
            if (left) return;
            left = true;
            this.#left();
          };
          let result: Promise<T>;
          try {
            result = fn({ sending: () => true, sent: leave });
          } catch (error) {
            result = Promise.reject(error);
          }
          const settle = () => {
            // Settled without a word of leaving (it failed before, or never sends): count it as leaving now.
            leave();
            this.#inFlight--;
            this.#pump();
          };
          Promise.resolve(result).then(
            (value) => {
              settle();
              resolve(value);
            },
            (error: unknown) => {
              settle();
              reject(error);
            },
          );
        },
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
      this.#pump();
    });
  }

  /** Nobody starts for `ms` from now (a pause never shortens an existing one). */
  pauseFor(ms: number): void {
    if (!(ms > 0)) return;
    const until = Date.now() + Math.min(ms, 2_147_000_000);
    if (until > this.#pausedUntil) {
      this.#pausedUntil = until;
      this.#rearm();
    }
  }

  /** Changes the limits; waiting work is scheduled with the new ones at once. */
  update(limits: LimiterLimits): void {
    this.#apply(limits);
    this.#rearm();
  }

  stats(): LimiterStats {
    return {
      inFlight: this.#inFlight,
      waiting: this.#queue.length,
      started: this.#started,
      pausedUntil: this.#pausedUntil > Date.now() ? this.#pausedUntil : null,
    };
  }

  #apply(limits: LimiterLimits): void {
    validateLimits(limits);
    const rps = limits.requestsPerSecond;
    const unlimited = rps === null || rps === Number.POSITIVE_INFINITY;
    this.#requestsPerSecond = unlimited ? null : rps;
    this.#maxConcurrent = limits.maxConcurrent;
    this.#intervalMs = spacingMs(this.#requestsPerSecond, this.#safetyMargin);
    this.#toleranceMs = latenessToleranceMs(this.#intervalMs, this.#safetyMargin);
  }

  /** The request let go last has left (or settled): the next one is due from its moments. */
  #left(): void {
    this.#leftAt = Math.max(this.#leftAt, performance.now());
    this.#leaving = false;
    // Never a start from here (we may be inside the HTTP client's write): the spacing is still ahead.
    this.#rearm();
  }

  #rearm(): void {
    if (this.#timer) {
      this.#timer();
      this.#timer = undefined;
    }
    this.#pump();
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.#maxConcurrent) {
      const spaced = this.#intervalMs > 0;
      if (spaced && this.#leaving) return; // #left() pumps again
      const dueAt = nextDueAt(this.#dueAt, this.#leftAt, this.#intervalMs, this.#toleranceMs);
      const wait = Math.max(this.#pausedUntil - Date.now(), dueAt - performance.now());
      if (wait > 0) {
        this.#armTimer(wait);
        return;
      }
      const waiter = this.#queue.shift()!;
      waiter.detach();
      this.#inFlight++;
      this.#started++;
      this.#dueAt = dueAt;
      this.#leaving = spaced;
      waiter.run();
    }
  }

  #armTimer(wait: number): void {
    // #pump checks the clock again when it runs, whatever the timer did.
    const dueAt = performance.now() + wait;
    if (this.#timer && this.#timerDueAt <= dueAt) return;
    this.#timer?.();
    this.#timerDueAt = dueAt;
    this.#timer = atMoment(
      dueAt,
      () => {
        this.#timer = undefined;
        this.#pump();
      },
      this.#intervalMs > 0 && this.#intervalMs < PRECISE_BELOW_MS,
    );
  }
}
