import { z } from 'zod';

/** A rate plan, which Telegence calls a SOC (`singleUserCode`). */
export interface TelegenceRatePlan {
  code: string;
  name: string;
  /** null = unlimited. */
  dataMb: number | null;
}

/** A billing account (BAN) and the foundation account (FAN) it belongs to. */
export interface TelegenceBillingAccount {
  ban: string;
  fan: string;
  status: 'active' | 'cancelled';
  /** The day of the month a bill cycle starts. */
  billCycleDay: number;
  name: string;
}

export const telegenceRatePlans: TelegenceRatePlan[] = [
  { code: 'APX250M30', name: 'AT&T IoT 250MB', dataMb: 250 },
  { code: 'APX1G5M30', name: 'AT&T IoT 1GB', dataMb: 1_024 },
  { code: 'APX5GM30', name: 'AT&T IoT 5GB', dataMb: 5_120 },
  { code: 'APXUNLM30', name: 'AT&T IoT Unlimited', dataMb: null },
];

/** Feature SOCs: `offeringCodeN` on activation, `addOfferingCode` / `removeOfferingCode` on a line. */
export const telegenceFeatureCodes: string[] = ['STATICIP', 'INTLROAM', 'VOICEBLK', 'SMSBLK', 'HOTSPOT'];

export const telegenceBillingAccounts: TelegenceBillingAccount[] = [
  { ban: '287301234567', fan: '05831234', status: 'active', billCycleDay: 1, name: 'Demo Fleet' },
  { ban: '287307654321', fan: '05831234', status: 'active', billCycleDay: 15, name: 'Field Sensors' },
  { ban: '287309999999', fan: '05839999', status: 'cancelled', billCycleDay: 1, name: 'Closed Fleet' },
];

/** The reason codes each target status accepts (`reasonCode` beside `subscriberStatus`). */
export const telegenceReasonCodes = {
  suspend: ['CUST_REQ', 'LOST_STOLEN', 'NONPAY'],
  restore: ['CUST_REQ', 'FOUND'],
  cancel: ['CUST_REQ', 'PORT_OUT', 'FRAUD'],
};

/** Type allocation codes (first 8 IMEI digits) of devices that take an eSIM profile only. */
export const telegenceEsimOnlyTacs: string[] = ['35299911'];

// Bill cycles start on days every month has.
export const billingAccountSchema = z.object({
  ban: z.string().regex(/^\d{9,13}$/, 'a BAN is 9 to 13 digits'),
  fan: z.string().min(1),
  status: z.enum(['active', 'cancelled']),
  billCycleDay: z.number().int().min(1).max(28),
  name: z.string(),
});

/** The billing accounts the simulator knows, by BAN; a reset brings back the configured ones. */
export class BillingAccounts {
  readonly #initial: TelegenceBillingAccount[];
  readonly #byBan = new Map<string, TelegenceBillingAccount>();

  constructor(initial: TelegenceBillingAccount[]) {
    this.#initial = initial;
    this.reset();
  }

  get(ban: string): TelegenceBillingAccount | undefined {
    return this.#byBan.get(ban);
  }

  /** Returns whether the account is new. */
  upsert(account: TelegenceBillingAccount): boolean {
    const created = !this.#byBan.has(account.ban);
    this.#byBan.set(account.ban, { ...account });
    return created;
  }

  /** The account new seeded lines belong to when their seed names none. */
  first(): TelegenceBillingAccount | undefined {
    return this.#byBan.values().next().value;
  }

  reset(): void {
    this.#byBan.clear();
    for (const account of this.#initial) this.upsert(account);
  }
}

/** What the simulator checks codes and accounts against. */
export interface TelegenceCatalog {
  ratePlans: Map<string, TelegenceRatePlan>;
  features: Set<string>;
  accounts: BillingAccounts;
}

/** The bill cycle day of a line's account; every stored line's BAN is known (seeds and activations check it). */
export const billCycleDayOf = (catalog: TelegenceCatalog, ban: string): number =>
  catalog.accounts.get(ban)?.billCycleDay ?? 1;
