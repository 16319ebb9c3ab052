import type { Db } from '../../db/database.ts';
import type { Notifications } from '../../db/notifications.ts';
import type { LimiterLimits } from './call-limiter.ts';
import type { CircuitSettings } from './circuit.ts';
import type { CarrierGuards } from './guards.ts';
import { GUARDS_CHANNEL, renewSlots } from './guards-repository.ts';
import type { GuardObserver } from './local-guards.ts';
import { SharedCircuit } from './shared-circuit.ts';
import { SharedLimiter, SLOT_LEASE_MS, type SlotKeeper } from './shared-limiter.ts';
import { type Sealer, SharedSessionStore } from './shared-session-store.ts';

export interface SharedGuardsDeps {
  db: Db;
  /** Wakes waiting limiters and refreshes circuits at once; without it they find out by looking again. */
  notifications: Notifications | null;
  /** This process, as the guards tables name it (unique in the deployment). */
  holder: string;
  /** Encrypts login sessions at rest. */
  sealer: Sealer;
  observer?: GuardObserver;
  /** Database trouble in the guards' bookkeeping (the guard then errs on the safe side). */
  onError: (error: unknown) => void;
}

/**
 * The guards of a deployment on PostgreSQL (DESIGN §4, ADR 0014): every worker process shares each
 * account's limiter, circuit and login session through the database. One registry per process.
 */
export class SharedGuards implements CarrierGuards {
  readonly #deps: SharedGuardsDeps;
  readonly #limiters = new Map<string, SharedLimiter>();
  readonly #circuits = new Map<string, SharedCircuit>();
  readonly #sessions = new Map<string, SharedSessionStore>();
  readonly #slots: SlotLeases;
  #unsubscribe: (() => void) | undefined;

  constructor(deps: SharedGuardsDeps) {
    this.#deps = deps;
    this.#slots = new SlotLeases(deps);
  }

  /** A process that never calls a carrier (an API process) never listens. */
  #listen(): void {
    this.#unsubscribe ??= this.#deps.notifications?.subscribe(GUARDS_CHANNEL, (payload) =>
      this.#notified(payload),
    );
  }

  limiter(key: string, limits: LimiterLimits): SharedLimiter {
    const existing = this.#limiters.get(key);
    if (existing) {
      const current = existing.limits;
      if (
        current.requestsPerSecond !== limits.requestsPerSecond ||
        current.maxConcurrent !== limits.maxConcurrent
      ) {
        existing.update(limits);
      }
      return existing;
    }
    this.#listen();
    const observer = this.#deps.observer;
    const limiter = new SharedLimiter(limits, {
      db: this.#deps.db,
      key,
      holder: this.#deps.holder,
      slots: this.#slots,
      onWait: observer ? (ms) => observer.limiterWaited(key, ms) : undefined,
      onError: this.#deps.onError,
    });
    this.#limiters.set(key, limiter);
    return limiter;
  }

  circuit(key: string, settings: CircuitSettings): SharedCircuit {
    let circuit = this.#circuits.get(key);
    if (!circuit) {
      this.#listen();
      circuit = new SharedCircuit(settings, {
        db: this.#deps.db,
        key,
        holder: this.#deps.holder,
        onError: this.#deps.onError,
      });
      this.#circuits.set(key, circuit);
    }
    return circuit;
  }

  sessions(key: string): SharedSessionStore {
    let store = this.#sessions.get(key);
    if (!store) {
      store = new SharedSessionStore({
        db: this.#deps.db,
        key,
        holder: this.#deps.holder,
        sealer: this.#deps.sealer,
      });
      this.#sessions.set(key, store);
    }
    return store;
  }

  /** Stops renewing slot leases and listening (shutdown). */
  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#slots.close();
  }

  /** `slot:<key>` or `circuit:<key>`; `null` after the listener reconnected: everyone looks again. */
  #notified(payload: string | null): void {
    if (payload === null) {
      for (const limiter of this.#limiters.values()) limiter.notified();
      for (const circuit of this.#circuits.values()) void circuit.notified();
      return;
    }
    const separator = payload.indexOf(':');
    const kind = payload.slice(0, separator);
    const key = payload.slice(separator + 1);
    if (kind === 'slot') this.#limiters.get(key)?.notified();
    else if (kind === 'circuit') void this.#circuits.get(key)?.notified();
  }
}

/**
 * Renews, in one statement, the leases of every slot this process holds while any is held: a slot
 * outlives a long request, and is free again within {@link SLOT_LEASE_MS} of its process dying.
 */
class SlotLeases implements SlotKeeper {
  readonly #deps: SharedGuardsDeps;
  #held = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: SharedGuardsDeps) {
    this.#deps = deps;
  }

  held(): void {
    this.#held += 1;
    this.#timer ??= setInterval(() => {
      renewSlots(this.#deps.db, this.#deps.holder, SLOT_LEASE_MS).catch(this.#deps.onError);
    }, SLOT_LEASE_MS / 3);
  }

  released(): void {
    this.#held -= 1;
    if (this.#held === 0) this.close();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
