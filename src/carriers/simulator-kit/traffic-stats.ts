import type { Clock } from './rate-limit.ts';

/** `GET /_sim/stats`: enough to prove that a client stayed within a carrier's limits. */
export interface SimStats {
  /** Carrier requests received, whatever their answer. */
  requests: number;
  /** Answered 429 by the rate or concurrency limit. */
  rateLimited: number;
  /** Answered 500 by errorBurst / errorRate, or 503 by an outage. */
  errorsInjected: number;
  /** Most accepted requests in flight at once. */
  maxObservedConcurrency: number;
  /** Most accepted requests within any sliding 1-second window. */
  maxObservedRequestsPerSecond: number;
}

const windowMs = 1000;

export class TrafficStats {
  readonly #now: Clock;
  #requests = 0;
  #rateLimited = 0;
  #errorsInjected = 0;
  #maxConcurrency = 0;
  #maxPerSecond = 0;
  // Acceptance times inside the current window; `#head` skips expired ones without shifting the array.
  #accepted: number[] = [];
  #head = 0;

  constructor(now: Clock = () => performance.now()) {
    this.#now = now;
  }

  received(): void {
    this.#requests += 1;
  }

  rateLimited(): void {
    this.#rateLimited += 1;
  }

  errorInjected(): void {
    this.#errorsInjected += 1;
  }

  accepted(inFlight: number): void {
    this.#maxConcurrency = Math.max(this.#maxConcurrency, inFlight);
    const now = this.#now();
    this.#accepted.push(now);
    while (now - this.#accepted[this.#head] >= windowMs) this.#head += 1;
    this.#maxPerSecond = Math.max(this.#maxPerSecond, this.#accepted.length - this.#head);
    if (this.#head > 1024 && this.#head * 2 > this.#accepted.length) {
      this.#accepted = this.#accepted.slice(this.#head);
      this.#head = 0;
    }
  }

  snapshot(): SimStats {
    return {
      requests: this.#requests,
      rateLimited: this.#rateLimited,
      errorsInjected: this.#errorsInjected,
      maxObservedConcurrency: this.#maxConcurrency,
      maxObservedRequestsPerSecond: this.#maxPerSecond,
    };
  }

  reset(): void {
    this.#requests = 0;
    this.#rateLimited = 0;
    this.#errorsInjected = 0;
    this.#maxConcurrency = 0;
    this.#maxPerSecond = 0;
    this.#accepted = [];
    this.#head = 0;
  }
}
