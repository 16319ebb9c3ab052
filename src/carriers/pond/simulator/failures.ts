import { z } from 'zod';
import { CarrierFaults } from '../../simulator-kit/carrier-faults.ts';
import type { FaultsExtension } from '../../simulator-kit/definition.ts';

export const pondFailingActions = ['add_package', 'set_package_status', 'set_device_status'] as const;

const failRuleSchema = z.strictObject({
  action: z.enum(pondFailingActions),
  iccid: z.string().min(1).optional(),
  packageStatus: z.enum(['ACTIVE', 'TERMINATED']).optional(),
  /** How many matching requests fail; omitted = every one. */
  times: z.number().int().positive().optional(),
});
export type PondFailRule = z.infer<typeof failRuleSchema>;

/** POND's own fault, beside the kit's: `PUT /_sim/faults {"failOperations": [...]}` replaces the list. */
export interface PondFaults {
  failOperations: PondFailRule[];
}

const patchSchema = z.strictObject({ failOperations: z.array(failRuleSchema).optional() });

/** What a write asks for, to be matched against the rules. */
export interface PondWrite {
  action: (typeof pondFailingActions)[number];
  iccid: string;
  packageStatus?: 'ACTIVE' | 'TERMINATED';
}

/**
 * Writes that answer 500 without being applied, e.g. a package termination, so that tests can drive a
 * rate plan change into its rollback. A rule with `times` is used up after that many matches.
 */
export class OperationFailures {
  readonly #faults: CarrierFaults<PondFaults>;

  constructor(defaults: PondFailRule[]) {
    this.#faults = new CarrierFaults<PondFaults>({ failOperations: defaults }, patchSchema);
  }

  /** Whether this write must fail; counts the matching rule down. */
  take(write: PondWrite): boolean {
    const rules = this.#faults.get().failOperations;
    const index = rules.findIndex(
      (rule) =>
        rule.action === write.action &&
        (rule.iccid === undefined || rule.iccid === write.iccid) &&
        (rule.packageStatus === undefined || rule.packageStatus === write.packageStatus),
    );
    if (index < 0) return false;
    const rule = rules[index];
    if (rule.times === 1) rules.splice(index, 1);
    else if (rule.times !== undefined) rules[index] = { ...rule, times: rule.times - 1 };
    this.#faults.update({ failOperations: rules });
    return true;
  }

  extension(): FaultsExtension {
    return this.#faults.extension();
  }
}
