import type { CallLimiter, LimiterLimits } from './call-limiter.ts';
import type { AccountCircuit, CircuitSettings } from './circuit.ts';
import type { SessionStore } from './session-store.ts';

/**
 * Every per-account guard of the carrier calls (DESIGN §2.6, §5), by key (a carrier account's id, or
 * `billing:<tenant>` for Rev.io): its limiter, its circuit breaker and its login session. One registry
 * per process, injected where clients are made: in process for the embedded database
 * (`local-guards.ts`), shared by every worker through PostgreSQL (`shared-guards.ts`, ADR 0014).
 */
export interface CarrierGuards {
  /** The key's limiter; later calls with other limits change them. */
  limiter(key: string, limits: LimiterLimits): CallLimiter;
  circuit(key: string, settings: CircuitSettings): AccountCircuit;
  sessions(key: string): SessionStore;
  /** Stops whatever the guards run in the background (shutdown). */
  close(): void;
}
