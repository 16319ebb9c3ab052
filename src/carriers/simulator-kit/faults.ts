import { z } from 'zod';

/** The misbehaviour a simulator is told to show (API.md §5). Applies to carrier routes only. */
export interface Faults {
  /** Delay before an accepted carrier request is answered. */
  latencyMs: number;
  /** Share (0..1) of accepted carrier requests answered 500. */
  errorRate: number;
  /** null = unlimited. */
  rateLimitPerSecond: number | null;
  /** null = unlimited. */
  maxConcurrent: number | null;
  /** Every carrier request answers 503. */
  outage: boolean;
  /** Each simulator decides what this means for its own tokens (sessions, OAuth, …). */
  expireTokens: boolean;
  /** The next N accepted carrier requests answer 500; counts down to 0. */
  errorBurst: number;
  /**
   * Share (0..1) of carrier requests that succeed whose answer is lost: the carrier acts, then the
   * connection closes without a response (a proxy or the network failing on the way back).
   */
  dropAnswerRate: number;
}

export const noFaults: Faults = {
  latencyMs: 0,
  errorRate: 0,
  rateLimitPerSecond: null,
  maxConcurrent: null,
  outage: false,
  expireTokens: false,
  errorBurst: 0,
  dropAnswerRate: 0,
};

/** `PUT /_sim/faults`: every field optional, omitted = unchanged; unknown fields are typos, so refused. */
export const faultsPatchSchema = z.strictObject({
  latencyMs: z.number().int().min(0).max(600_000).optional(),
  errorRate: z.number().min(0).max(1).optional(),
  rateLimitPerSecond: z.number().positive().nullable().optional(),
  maxConcurrent: z.number().int().positive().nullable().optional(),
  outage: z.boolean().optional(),
  expireTokens: z.boolean().optional(),
  errorBurst: z.number().int().min(0).optional(),
  dropAnswerRate: z.number().min(0).max(1).optional(),
});
export type FaultsPatch = z.infer<typeof faultsPatchSchema>;

/** The live fault set of one simulator, with the defaults that a reset restores. */
export class FaultSet {
  readonly defaults: Faults;
  #current: Faults;

  constructor(defaults: Partial<Faults> = {}) {
    this.defaults = { ...noFaults, ...withoutUndefined(defaults) };
    this.#current = { ...this.defaults };
  }

  get(): Faults {
    return { ...this.#current };
  }

  update(patch: FaultsPatch): Faults {
    this.#current = { ...this.#current, ...withoutUndefined(patch) };
    return this.get();
  }

  reset(): void {
    this.#current = { ...this.defaults };
  }

  /** Decides whether this accepted request gets an injected 500: the burst first, then the error rate. */
  takeInjectedError(random: () => number = Math.random): boolean {
    if (this.#current.errorBurst > 0) {
      this.#current.errorBurst -= 1;
      return true;
    }
    return this.#current.errorRate > 0 && random() < this.#current.errorRate;
  }

  /** Decides whether the answer to a request the carrier carried out is lost on its way back. */
  takeDroppedAnswer(random: () => number = Math.random): boolean {
    return this.#current.dropAnswerRate > 0 && random() < this.#current.dropAnswerRate;
  }
}

/** A patch's `{latencyMs: undefined}` means "unchanged", not "erase". */
export const withoutUndefined = <T extends object>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
