import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  isIsolatedCircuitError,
} from 'cockatiel';
import {
  type AccountCircuit,
  type BreakerState,
  CircuitOpenError,
  type CircuitSettings,
  countsAgainstCircuit,
  validateCircuitSettings,
} from './circuit.ts';

/** An account's circuit breaker in this process: cockatiel's consecutive breaker (embedded mode). */
export class LocalCircuit implements AccountCircuit {
  readonly #policy: CircuitBreakerPolicy;
  readonly #halfOpenAfterMs: number;
  #openedAt = 0;

  constructor(settings: CircuitSettings) {
    validateCircuitSettings(settings);
    this.#halfOpenAfterMs = settings.halfOpenAfterMs;
    this.#policy = circuitBreaker(handleWhen(countsAgainstCircuit), {
      halfOpenAfter: settings.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(settings.consecutiveFailures),
    });
    this.#policy.onStateChange((state) => {
      if (state === CircuitState.Open) this.#openedAt = Date.now();
    });
  }

  async execute<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    let outcome: { value: T } | { refusal: unknown };
    try {
      // A refusal is the carrier answering: for the breaker a success (cockatiel would skip it).
      outcome = await this.#policy.execute(async () => {
        try {
          return { value: await fn() };
        } catch (error) {
          if (countsAgainstCircuit(error)) throw error;
          return { refusal: error };
        }
      }, signal);
    } catch (error) {
      if (isBrokenCircuitError(error) || isIsolatedCircuitError(error)) {
        throw new CircuitOpenError(this.#msUntilHalfOpen());
      }
      throw error;
    }
    if ('refusal' in outcome) throw outcome.refusal;
    return outcome.value;
  }

  /** `half_open` also when the open period is over and the next call will probe. */
  state(): BreakerState {
    switch (this.#policy.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half_open';
      case CircuitState.Open:
        return this.#msUntilHalfOpen() > 0 ? 'open' : 'half_open';
      default:
        return 'open'; // isolated
    }
  }

  openFor(): number {
    return this.#policy.state === CircuitState.Open ? this.#msUntilHalfOpen() : 0;
  }

  #msUntilHalfOpen(): number {
    return Math.max(0, this.#openedAt + this.#halfOpenAfterMs - Date.now());
  }
}
