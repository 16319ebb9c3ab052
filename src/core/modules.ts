import type { CarrierName } from './change-types.ts';
import { AppError } from './errors.ts';

/**
 * The original system's portal modules (M2M for IoT lines, Mobility for phones), by which a user is
 * allowed to create and act on bulk changes. A carrier belongs to one: every change type of a carrier
 * account (its internal and billing ones included) is in its carrier's module. eBonding, the original's
 * other Mobility carrier, is not built.
 */
export const modules = ['m2m', 'mobility'] as const;
export type Module = (typeof modules)[number];

export const moduleOfCarrier: Record<CarrierName, Module> = {
  jasper: 'm2m',
  thingspace: 'm2m',
  pond: 'm2m',
  teal: 'm2m',
  telegence: 'mobility',
};

/** Whether a caller limited to `allowed` (none: every module) may work on lines of `carrier`. */
export const moduleAllows = (allowed: readonly Module[] | undefined, carrier: CarrierName) =>
  allowed === undefined || allowed.includes(moduleOfCarrier[carrier]);

/** Refuses (403 `MODULE_FORBIDDEN`) a caller whose modules do not include the account's carrier's. */
export function requireModule(
  allowed: readonly Module[] | undefined,
  account: { carrier: CarrierName; name: string },
): void {
  if (moduleAllows(allowed, account.carrier)) return;
  const module = moduleOfCarrier[account.carrier];
  throw new AppError(
    'MODULE_FORBIDDEN',
    `Carrier account "${account.name}" is in the ${module} module, which you do not have (you have: ${allowed?.join(', ')})`,
  );
}
