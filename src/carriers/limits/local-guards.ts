import type { LimiterLimits } from './call-limiter.ts';
import type { CircuitSettings } from './circuit.ts';
import type { CarrierGuards } from './guards.ts';
import { Limiter } from './limiter.ts';
import { LocalCircuit } from './local-circuit.ts';
import { LocalSessionStore } from './local-session-store.ts';

export interface GuardObserver {
  /** How long a request to `key` waited for its limiter. */
  limiterWaited(key: string, ms: number): void;
}

/**
 * The guards of one process (the embedded mode, DESIGN §4): one limiter, one circuit and one login
 * session per key, shared by every client and flow of the process, so two bulk changes on one account
 * share its limits.
 */
export class LocalGuards implements CarrierGuards {
  readonly #limiters = new Map<string, Limiter>();
  readonly #circuits = new Map<string, LocalCircuit>();
  readonly #sessions = new Map<string, LocalSessionStore>();
  readonly #observer: GuardObserver | undefined;

  constructor(observer?: GuardObserver) {
    this.#observer = observer;
  }

  /** The key's limiter, created on first use; later calls with different limits update it. */
  limiter(key: string, limits: LimiterLimits): Limiter {
    const existing = this.#limiters.get(key);
    if (!existing) {
      const observer = this.#observer;
      const limiter = new Limiter(limits, {
        onWait: observer ? (ms) => observer.limiterWaited(key, ms) : undefined,
      });
      this.#limiters.set(key, limiter);
      return limiter;
    }
    const current = existing.limits;
    const rps = limits.requestsPerSecond === Number.POSITIVE_INFINITY ? null : limits.requestsPerSecond;
    if (current.requestsPerSecond !== rps || current.maxConcurrent !== limits.maxConcurrent) {
      existing.update(limits);
    }
    return existing;
  }

  /** The key's circuit, created with the settings of its first use. */
  circuit(key: string, settings: CircuitSettings): LocalCircuit {
    let circuit = this.#circuits.get(key);
    if (!circuit) {
      circuit = new LocalCircuit(settings);
      this.#circuits.set(key, circuit);
    }
    return circuit;
  }

  /** Nothing runs in the background here. */
  close(): void {}

  sessions(key: string): LocalSessionStore {
    let store = this.#sessions.get(key);
    if (!store) {
      store = new LocalSessionStore();
      this.#sessions.set(key, store);
    }
    return store;
  }
}
