import type { Faults } from './faults.ts';

export type Clock = () => number;
const monotonic: Clock = () => performance.now();

/**
 * Capacity = rate and refill = rate tokens per second: a client spacing its requests 1/rate apart always
 * finds a token, while a burst above the rate runs dry. A change of rate starts a full bucket.
 */
export class TokenBucket {
  readonly #now: Clock;
  #rate: number | null = null;
  #tokens = 0;
  #refilledAt = 0;

  constructor(now: Clock = monotonic) {
    this.#now = now;
  }

  /** Takes a token and returns 0, or returns the milliseconds until one will be available. */
  take(ratePerSecond: number): number {
    const now = this.#now();
    const capacity = Math.max(1, ratePerSecond);
    if (this.#rate !== ratePerSecond) {
      this.#rate = ratePerSecond;
      this.#tokens = capacity;
    } else {
      this.#tokens = Math.min(capacity, this.#tokens + ((now - this.#refilledAt) / 1000) * ratePerSecond);
    }
    this.#refilledAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return ((1 - this.#tokens) / ratePerSecond) * 1000;
  }

  reset(): void {
    this.#rate = null;
  }
}

export type Admission =
  | { ok: true; inFlight: number; release: () => void }
  | { ok: false; reason: 'rate_limited' | 'too_many_concurrent'; retryAfterSeconds: number };

/** Enforces the rate and concurrency limits of the current fault set on carrier requests. */
export class Limiter {
  readonly #limits: () => Pick<Faults, 'rateLimitPerSecond' | 'maxConcurrent'>;
  readonly #bucket: TokenBucket;
  #inFlight = 0;

  constructor(limits: () => Pick<Faults, 'rateLimitPerSecond' | 'maxConcurrent'>, now: Clock = monotonic) {
    this.#limits = limits;
    this.#bucket = new TokenBucket(now);
  }

  /** An admitted request holds a concurrency slot until `release` is called (idempotent). */
  admit(): Admission {
    const { rateLimitPerSecond, maxConcurrent } = this.#limits();
    // Concurrency first, so a refused request does not also burn a rate token.
    if (maxConcurrent !== null && this.#inFlight >= maxConcurrent) {
      return { ok: false, reason: 'too_many_concurrent', retryAfterSeconds: 1 };
    }
    if (rateLimitPerSecond !== null) {
      const waitMs = this.#bucket.take(rateLimitPerSecond);
      if (waitMs > 0)
        return { ok: false, reason: 'rate_limited', retryAfterSeconds: retryAfterSeconds(waitMs) };
    }
    this.#inFlight += 1;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#inFlight -= 1;
    };
    return { ok: true, inFlight: this.#inFlight, release };
  }

  /** In-flight requests keep their slots: they will still release them. */
  reset(): void {
    this.#bucket.reset();
  }
}

/** `Retry-After` is whole seconds and never 0, which a client would read as "retry at once". */
const retryAfterSeconds = (waitMs: number): number => Math.max(1, Math.ceil(waitMs / 1000));
