import type { Db } from '../../db/database.ts';
import {
  type AccountCircuit,
  type BreakerState,
  CircuitOpenError,
  type CircuitSettings,
  countsAgainstCircuit,
  validateCircuitSettings,
} from './circuit.ts';
import {
  askCircuit,
  type CircuitRow,
  circuitFailed,
  circuitSucceeded,
  readCircuit,
} from './guards-repository.ts';

/** The one probe of a half-open circuit: another process may probe once this has passed (its prober died). */
const PROBE_LEASE_MS = 15_000;
/** While another process probes, look again this soon. */
const PROBE_WAIT_MS = 250;

/** What this process knows of the circuit, on its own monotonic clock. */
interface View {
  failures: number;
  /** performance.now() until which the circuit is open; null when closed. */
  openUntil: number | null;
}

export interface SharedCircuitDeps {
  db: Db;
  key: string;
  /** This process, as the guards tables name it; each call's probe gets its own name from it. */
  holder: string;
  onError: (error: unknown) => void;
}

/**
 * An account's circuit breaker shared by every process through PostgreSQL (ADR 0014): consecutive
 * failures are counted for the whole deployment, the circuit opens for every worker at once, one probe
 * (of any worker) decides, and its success closes it for all.
 *
 * Each process keeps a view of the circuit, updated by every answer of the database and by the
 * notification every change sends. A closed circuit with no failures costs no round trip before a call;
 * an open one refuses calls without asking until its end, so a worker makes at most the one call it had
 * in flight after another opened it. Failures are written as they happen; a success is written only
 * when the view says a run of failures is under way (it ends it for everyone).
 */
export class SharedCircuit implements AccountCircuit {
  readonly #deps: SharedCircuitDeps;
  readonly #settings: CircuitSettings;
  #view: View = { failures: 0, openUntil: null };
  #probes = 0;

  constructor(settings: CircuitSettings, deps: SharedCircuitDeps) {
    validateCircuitSettings(settings);
    this.#settings = settings;
    this.#deps = deps;
  }

  state(): BreakerState {
    const { openUntil } = this.#view;
    if (openUntil === null) return 'closed';
    return openUntil > performance.now() ? 'open' : 'half_open';
  }

  openFor(): number {
    const { openUntil } = this.#view;
    return openUntil === null ? 0 : Math.max(0, Math.ceil(openUntil - performance.now()));
  }

  /** Another process changed the circuit (or the listener reconnected): read it again. */
  async notified(): Promise<void> {
    const asked = performance.now();
    try {
      this.#see(await readCircuit(this.#deps.db, this.#deps.key), asked);
    } catch (error) {
      this.#deps.onError(error);
    }
  }

  async execute<T>(fn: () => Promise<T>, _signal?: AbortSignal): Promise<T> {
    const prober = await this.#permit();
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      if (countsAgainstCircuit(error)) await this.#record(() => this.#failed(prober));
      else await this.#record(() => this.#succeeded(prober));
      throw error;
    }
    await this.#record(() => this.#succeeded(prober));
    return result;
  }

  /** Throws when the circuit is open; returns this call's probe name when it is the probe. */
  async #permit(): Promise<string | null> {
    const { failures, openUntil } = this.#view;
    if (openUntil === null && failures === 0) return null;
    const now = performance.now();
    if (openUntil !== null && openUntil > now) throw new CircuitOpenError(Math.ceil(openUntil - now));
    const prober = `${this.#deps.holder}:${++this.#probes}`;
    const asked = performance.now();
    const row = await askCircuit(this.#deps.db, this.#deps.key, prober, PROBE_LEASE_MS);
    if (row.probe) return prober;
    this.#see(row, asked);
    if (row.openUntil === null) return null; // closed meanwhile
    if (row.openUntil > row.nowAt) throw new CircuitOpenError(Math.ceil(row.openUntil - row.nowAt));
    // Half-open, and another call is probing: its result decides.
    throw new CircuitOpenError(PROBE_WAIT_MS);
  }

  #failed(prober: string | null): Promise<CircuitRow> {
    return circuitFailed(this.#deps.db, {
      key: this.#deps.key,
      prober: prober ?? '',
      threshold: this.#settings.consecutiveFailures,
      halfOpenMs: this.#settings.halfOpenAfterMs,
    });
  }

  async #succeeded(prober: string | null): Promise<CircuitRow | undefined> {
    if (prober === null && this.#view.failures === 0) return undefined;
    return circuitSucceeded(this.#deps.db, this.#deps.key, prober ?? '');
  }

  /** Writes an outcome; the circuit's bookkeeping never fails the call it counts. */
  async #record(write: () => Promise<CircuitRow | undefined>): Promise<void> {
    const asked = performance.now();
    try {
      const row = await write();
      if (row) this.#see(row, asked);
    } catch (error) {
      this.#deps.onError(error);
    }
  }

  #see(row: CircuitRow, asked: number): void {
    this.#view = {
      failures: row.failures,
      // On the early side of the round trip: a worker never waits longer than the circuit is open.
      openUntil: row.openUntil === null ? null : asked + (row.openUntil - row.nowAt),
    };
  }
}
