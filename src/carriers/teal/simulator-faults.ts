import { z } from 'zod';
import type { FaultsExtension } from '../simulator-kit/definition.ts';

/** Teal's own faults, beside the kit's; `PUT /_sim/faults` takes them too. */
export interface TealFaults {
  /** Time from an accepted write to its operation being DONE (and its changes applied). */
  operationMs: number;
  /** EID → the `errorMessage` its entry fails with, whatever the operation. */
  failEids: Record<string, string>;
  /** Operations accepted while this is true never finish: they stay IN_PROGRESS (client timeouts). */
  lostOperations: boolean;
}

export const tealDefaultOperationFaults: TealFaults = {
  operationMs: 1000,
  failEids: {},
  lostOperations: false,
};

const patchSchema = z.strictObject({
  operationMs: z.number().int().min(0).max(600_000).optional(),
  failEids: z.record(z.string(), z.string().min(1)).optional(),
  lostOperations: z.boolean().optional(),
});

/** The current Teal faults and the defaults a reset restores. */
export class TealFaultSet {
  readonly #defaults: TealFaults;
  #current: TealFaults;

  constructor(defaults: TealFaults) {
    this.#defaults = defaults;
    this.#current = structuredClone(defaults);
  }

  get(): TealFaults {
    return structuredClone(this.#current);
  }

  extension(): FaultsExtension {
    return {
      patchSchema,
      get: () => ({ ...this.get() }),
      update: (patch) => {
        const given = Object.entries(patchSchema.parse(patch)).filter(([, value]) => value !== undefined);
        this.#current = { ...this.#current, ...Object.fromEntries(given) };
      },
      reset: () => {
        this.#current = structuredClone(this.#defaults);
      },
    };
  }
}
