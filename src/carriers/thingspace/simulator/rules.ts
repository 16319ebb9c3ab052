import { type Fault, thingSpaceErrorCodes } from './errors.ts';

/**
 * Wire values of `carrierInformations[].state` (carrier-apis §1.6). Only `active` is confirmed in
 * Verizon's examples; the others use AMOP's vocabulary in lower case. Clients compare case-insensitively.
 */
export const thingSpaceStates = [
  'pre-active',
  'pending activation',
  'active',
  'suspend',
  'deactive',
] as const;
export type ThingSpaceState = (typeof thingSpaceStates)[number];

export type ProvisioningAction = 'activate' | 'suspend' | 'restore' | 'deactivate';

/**
 * The documented transitions (carrier-apis §1.6): PRE-ACTIVE only to ACTIVE; ACTIVE to SUSPEND or
 * DEACTIVE; SUSPEND to ACTIVE (restore) or DEACTIVE; DEACTIVE to ACTIVE. Activation passes through
 * `pending activation`, which a deactivation may still cancel.
 */
export const thingSpaceTransitions: Record<
  ProvisioningAction,
  { from: readonly ThingSpaceState[]; to: ThingSpaceState }
> = {
  activate: { from: ['pre-active', 'deactive'], to: 'pending activation' },
  suspend: { from: ['active'], to: 'suspend' },
  restore: { from: ['suspend'], to: 'active' },
  deactivate: { from: ['pending activation', 'active', 'suspend'], to: 'deactive' },
};

/** Why a line in `state` cannot take `action`, as a callback fault; undefined when it can. */
export const transitionRefusal = (action: ProvisioningAction, state: ThingSpaceState): Fault | undefined => {
  if (thingSpaceTransitions[action].from.includes(state)) return undefined;
  if (action === 'activate' && state === 'active') {
    return {
      faultcode: thingSpaceErrorCodes.deviceAlreadyActive,
      faultstring: 'The device is already active.',
    };
  }
  return {
    faultcode: thingSpaceErrorCodes.deviceStateInvalid,
    faultstring: `Cannot ${action} a device in state ${state}.`,
  };
};

export interface RuleLimits {
  /** Documented: 5 provisioning actions (activate/suspend/restore/deactivate) per line per day. */
  provisioningActionsPerDay: number;
  /** Documented: 4 service plan changes per line per month. */
  planChangesPerMonth: number;
}

interface Counter {
  period: string;
  count: number;
}

/** Days and months are UTC calendar periods (the documentation says neither rolling nor local). */
const dayOf = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 10);
const monthOf = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 7);

/**
 * Per-line counters of the documented provisioning rules. Only actions the carrier carried out count;
 * refused ones do not.
 */
export class RuleBook {
  readonly limits: RuleLimits;
  readonly #provisioning = new Map<string, Counter>();
  readonly #planChanges = new Map<string, Counter>();

  constructor(limits: RuleLimits) {
    this.limits = limits;
  }

  provisioningRefusal(iccid: string, now: number): Fault | undefined {
    const limit = this.limits.provisioningActionsPerDay;
    if (count(this.#provisioning, iccid, dayOf(now)) < limit) return undefined;
    return {
      faultcode: thingSpaceErrorCodes.provisioningLimitExceeded,
      faultstring: `The device has reached the limit of ${limit} provisioning actions per day.`,
    };
  }

  recordProvisioning(iccid: string, now: number): void {
    increment(this.#provisioning, iccid, dayOf(now));
  }

  /** Suspended first: that refusal holds whatever the count. */
  planChangeRefusal(iccid: string, state: ThingSpaceState, now: number): Fault | undefined {
    if (state === 'suspend') {
      return {
        faultcode: thingSpaceErrorCodes.planChangeWhileSuspended,
        faultstring: 'The service plan of a suspended device cannot be changed.',
      };
    }
    if (state !== 'active') {
      return {
        faultcode: thingSpaceErrorCodes.deviceStateInvalid,
        faultstring: `The device is not in the Active state (state ${state}).`,
      };
    }
    const limit = this.limits.planChangesPerMonth;
    if (count(this.#planChanges, iccid, monthOf(now)) < limit) return undefined;
    return {
      faultcode: thingSpaceErrorCodes.planChangeLimitExceeded,
      faultstring: `The device has reached the limit of ${limit} service plan changes per month.`,
    };
  }

  recordPlanChange(iccid: string, now: number): void {
    increment(this.#planChanges, iccid, monthOf(now));
  }

  /** An ICCID change keeps the line's history. */
  move(from: string, to: string): void {
    for (const counters of [this.#provisioning, this.#planChanges]) {
      const counter = counters.get(from);
      if (counter === undefined) continue;
      counters.delete(from);
      counters.set(to, counter);
    }
  }

  clear(): void {
    this.#provisioning.clear();
    this.#planChanges.clear();
  }
}

const count = (counters: Map<string, Counter>, iccid: string, period: string): number => {
  const counter = counters.get(iccid);
  return counter?.period === period ? counter.count : 0;
};

const increment = (counters: Map<string, Counter>, iccid: string, period: string): void => {
  counters.set(iccid, { period, count: count(counters, iccid, period) + 1 });
};

/**
 * Documented: at most 100 activate requests per minute (carrier-apis §1.9). A sliding 60-second window
 * of accepted requests; refused requests do not count.
 */
export class ActivateWindow {
  #accepted: number[] = [];

  /** 0 when admitted, else the seconds until a slot frees (at least 1). */
  admit(now: number, perMinute: number | null): number {
    if (perMinute === null) return 0;
    this.#accepted = this.#accepted.filter((at) => now - at < 60_000);
    if (this.#accepted.length >= perMinute) {
      return Math.max(1, Math.ceil((this.#accepted[0] + 60_000 - now) / 1000));
    }
    this.#accepted.push(now);
    return 0;
  }

  clear(): void {
    this.#accepted = [];
  }
}
