import { isCarrierError } from '../../core/carrier-error.ts';

/**
 * An account's circuit breaker (DESIGN §2.7): after a run of carrier failures no call is sent for a
 * while, then one probe decides whether calls resume. In process (`local-circuit.ts`, cockatiel) or
 * shared by every worker in PostgreSQL (`shared-circuit.ts`): an account whose carrier is down is then
 * open for all of them at once, and they resume together.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface CircuitSettings {
  /** Consecutive failures (across every caller sharing the circuit) that open it. */
  consecutiveFailures: number;
  /** How long it stays open before one probe is let through. */
  halfOpenAfterMs: number;
}

/** The carrier's failures, as opposed to its refusals of one request (those prove it is up). */
export const countsAgainstCircuit = (error: unknown): boolean =>
  isCarrierError(error) && (error.kind === 'transient' || error.kind === 'auth');

/** Thrown instead of calling while the circuit is open (or another caller is probing it). */
export class CircuitOpenError extends Error {
  /** Until the next probe may go, in ms. */
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super(`circuit open; next try in ${retryAfterMs} ms`);
    this.name = 'CircuitOpenError';
    this.retryAfterMs = retryAfterMs;
  }
}

export interface AccountCircuit {
  /**
   * Runs `fn` unless the circuit is open (then throws {@link CircuitOpenError} without calling it). An
   * error for which {@link countsAgainstCircuit} holds counts toward opening it; anything else that
   * `fn` returns or throws is a success.
   */
  execute<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** As last seen by this process: for health pages and metrics. */
  state(): BreakerState;
  /** How long it is still open as this process sees it, in ms (0: a call may be tried): no waiting in line for nothing. */
  openFor(): number;
}

export const validateCircuitSettings = (settings: CircuitSettings): void => {
  if (!Number.isInteger(settings.consecutiveFailures) || settings.consecutiveFailures < 1) {
    throw new RangeError('consecutiveFailures must be an integer >= 1');
  }
  if (!(settings.halfOpenAfterMs > 0)) throw new RangeError('halfOpenAfterMs must be > 0');
};
