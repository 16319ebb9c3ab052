import type { z } from 'zod';
import type { FaultsExtension } from './definition.ts';
import { withoutUndefined } from './faults.ts';

type PatchSchema<F> = z.ZodObject & z.ZodType<Partial<F>>;

/**
 * A carrier's own faults beside the kit's (timings, lines to fail, whether callbacks are sent): the
 * current values, the defaults a reset restores, and the `extraFaults` that puts them into
 * `GET/PUT /_sim/faults`. Values are copied in and out, so no caller changes them behind the set's back.
 */
export class CarrierFaults<F extends object> {
  readonly #defaults: F;
  readonly #patchSchema: PatchSchema<F>;
  #current: F;

  /** `patchSchema`: every field of `F` optional, unknown fields refused (`z.strictObject`). */
  constructor(defaults: F, patchSchema: PatchSchema<F>) {
    this.#defaults = structuredClone(defaults);
    this.#patchSchema = patchSchema;
    this.#current = structuredClone(defaults);
  }

  get(): F {
    return structuredClone(this.#current);
  }

  /** Omitted or undefined fields keep their value. */
  update(patch: Partial<F>): F {
    this.#current = { ...this.#current, ...structuredClone(withoutUndefined(patch)) };
    return this.get();
  }

  reset(): void {
    this.#current = structuredClone(this.#defaults);
  }

  extension(): FaultsExtension {
    return {
      patchSchema: this.#patchSchema,
      get: () => this.get(),
      update: (patch) => {
        this.update(this.#patchSchema.parse(patch));
      },
      reset: () => this.reset(),
    };
  }
}
