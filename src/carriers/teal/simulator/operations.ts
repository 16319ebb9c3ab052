import { randomUUID } from 'node:crypto';
import type { TealEsimStore, TealSimEsim } from './esims.ts';
import type { TealFaults } from './faults.ts';

export type TealAction = 'enable' | 'disable' | 'assign_plan';

export interface TealOperationEntry {
  eid: string;
  /** assign_plan only. */
  planUuid?: string;
}

export interface TealEntryResult {
  eid: string;
  success: boolean;
  errorMessage: string | null;
}

/** One accepted write; `GET /_sim/operations` shows it as is. */
export interface TealOperation {
  operationId: string;
  action: TealAction;
  requestId: string;
  entries: TealOperationEntry[];
  status: 'IN_PROGRESS' | 'DONE';
  createdAt: string;
  completedAt: string | null;
  /** Empty until DONE. */
  results: TealEntryResult[];
}

export interface OperationEngineOptions {
  store: TealEsimStore;
  planUuids: Set<string>;
  faults: () => TealFaults;
}

/**
 * Teal's writes are asynchronous: each becomes an operation that finishes `operationMs` later, when its
 * entries are applied one by one (each with its own result). Timers are unref'd and `reset()` drops them
 * with every operation.
 */
export class OperationEngine {
  readonly #options: OperationEngineOptions;
  readonly #operations = new Map<string, TealOperation>();
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(options: OperationEngineOptions) {
    this.#options = options;
  }

  start(action: TealAction, requestId: string, entries: TealOperationEntry[]): TealOperation {
    const operation: TealOperation = {
      operationId: randomUUID(),
      action,
      requestId,
      entries,
      status: 'IN_PROGRESS',
      createdAt: new Date().toISOString(),
      completedAt: null,
      results: [],
    };
    this.#operations.set(operation.operationId, operation);
    const { operationMs, lostOperations } = this.#options.faults();
    if (!lostOperations) this.#finishAfter(operation, operationMs);
    return operation;
  }

  get(operationId: string): TealOperation | undefined {
    return this.#operations.get(operationId);
  }

  /** Oldest first. */
  list(): TealOperation[] {
    return [...this.#operations.values()];
  }

  reset(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#operations.clear();
  }

  #finishAfter(operation: TealOperation, delayMs: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#finish(operation);
    }, delayMs);
    timer.unref();
    this.#timers.add(timer);
  }

  #finish(operation: TealOperation): void {
    operation.results = operation.entries.map((entry) => this.#apply(operation.action, entry));
    operation.status = 'DONE';
    operation.completedAt = new Date().toISOString();
  }

  /** A line already where the operation wants it is a success: a retried enable must not fail. */
  #apply(action: TealAction, entry: TealOperationEntry): TealEntryResult {
    const { store, planUuids, faults } = this.#options;
    const injected = faults().failEids[entry.eid];
    if (injected !== undefined) return failure(entry.eid, injected);
    const esim = store.byEid(entry.eid);
    if (esim === undefined) return failure(entry.eid, `eSIM with EID ${entry.eid} not found`);
    const planUuid = entry.planUuid ?? esim.planUuid;
    if (action === 'assign_plan' && !planUuids.has(planUuid))
      return failure(entry.eid, `Plan ${planUuid} not found`);
    store.put(changed(action, esim, planUuid));
    return { eid: entry.eid, success: true, errorMessage: null };
  }
}

const changed = (action: TealAction, esim: TealSimEsim, planUuid: string): TealSimEsim => {
  switch (action) {
    case 'enable':
      return { ...esim, state: 'online' };
    case 'disable':
      return { ...esim, state: 'stopped' };
    case 'assign_plan':
      return { ...esim, planUuid, ratePlan: planUuid };
  }
};

const failure = (eid: string, errorMessage: string): TealEntryResult => ({
  eid,
  success: false,
  errorMessage,
});
