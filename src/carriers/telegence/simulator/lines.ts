import { z } from 'zod';
import type { SimDevice } from '../../simulator-kit/device-store.ts';
import { IndexedDeviceStore } from '../../simulator-kit/indexed-device-store.ts';
import { telegenceMobilityService } from '../client.ts';
import { billCycleDayOf, type TelegenceCatalog } from './catalog.ts';
import { attDate, billCycle, isoDate } from './dates.ts';

export const telegenceLineStates = ['A', 'S', 'C'] as const;
/** `A` active, `S` suspended, `C` cancelled. */
export type TelegenceLineState = (typeof telegenceLineStates)[number];

/** A simulated line; `GET /_sim/devices` shows it as is. */
export interface TelegenceSimLine extends SimDevice {
  iccid: string;
  imei: string | null;
  /** The subscriber number, 10 digits. */
  msisdn: string;
  state: TelegenceLineState;
  /** The SOC (`singleUserCode`). */
  ratePlan: string;
  ban: string;
  zipCode: string | null;
  /** Feature SOCs (`offeringCodeN`). */
  features: string[];
  ipAddress: string | null;
  contactName: string | null;
  /** As the last equipment change gave it (`BLDeviceTechnologyType` in the line's detail). */
  technologyType: string | null;
  /** ISO-8601 UTC. */
  activatedAt: string;
  /** `yyyy-mm-dd`: the effective date of the last change (today when none was given). */
  statusEffectiveDate: string;
  /** The ICCID the line had before its last SIM swap, so that the call log names both SIMs. */
  previousIccid: string | null;
}

export const iccidSchema = z.string().regex(/^\d{19,20}$/, 'an ICCID is 19 or 20 digits');
export const imeiSchema = z.string().regex(/^\d{15,16}$/, 'an IMEI is 15 or 16 digits');
export const zipCodeSchema = z.string().regex(/^\d{5}$/, 'a ZIP code is 5 digits');
const msisdnSchema = z.string().regex(/^\d{10}$/, 'a subscriber number is 10 digits');
/** One `{name, value}` of a `serviceCharacteristic` list, the shape of every line attribute. */
export const characteristicSchema = z.object({ name: z.string(), value: z.string() });

/** Lines by ICCID (the kit's store) and by subscriber number, the key of every line-config call. */
export class TelegenceLineStore extends IndexedDeviceStore<TelegenceSimLine> {
  constructor() {
    super((line) => [line.msisdn]);
  }

  byNumber(msisdn: string): TelegenceSimLine | undefined {
    return this.byKey(msisdn);
  }
}

export const createSeedSchema = (catalog: TelegenceCatalog, store: TelegenceLineStore) =>
  z
    .object({
      iccid: iccidSchema,
      imei: imeiSchema.nullish(),
      msisdn: msisdnSchema,
      state: z.enum(telegenceLineStates).optional(),
      ratePlan: z.string().optional(),
      ban: z.string().optional(),
      zipCode: zipCodeSchema.nullish(),
      features: z.array(z.string()).optional(),
      ipAddress: z.ipv4().nullish(),
      contactName: z.string().nullish(),
    })
    .superRefine((seed, context) => {
      const issue = (path: string, message: string) =>
        context.addIssue({ code: 'custom', path: [path], message });
      if (seed.ratePlan !== undefined && !catalog.ratePlans.has(seed.ratePlan)) {
        issue('ratePlan', `unknown rate plan ${seed.ratePlan}`);
      }
      const ban = seed.ban ?? catalog.accounts.first()?.ban;
      if (ban === undefined || catalog.accounts.get(ban) === undefined) {
        issue('ban', `unknown billing account ${ban ?? '(none configured)'}`);
      }
      for (const feature of seed.features ?? []) {
        if (!catalog.features.has(feature)) issue('features', `unknown feature ${feature}`);
      }
      const holder = store.byNumber(seed.msisdn);
      if (holder !== undefined && holder.iccid !== seed.iccid) {
        issue('msisdn', `subscriber number ${seed.msisdn} belongs to the line of ICCID ${holder.iccid}`);
      }
    });
export type TelegenceSeed = z.infer<ReturnType<typeof createSeedSchema>>;

/** Upsert: a seed changes only the fields it gives; a new line is active on the first plan and account. */
export const seededLine = (
  seed: TelegenceSeed,
  existing: TelegenceSimLine | undefined,
  catalog: TelegenceCatalog,
  now: number,
): TelegenceSimLine => {
  const base =
    existing ??
    newLine({
      iccid: seed.iccid,
      msisdn: seed.msisdn,
      ratePlan: catalog.ratePlans.keys().next().value ?? '',
      ban: catalog.accounts.first()?.ban ?? '',
      now,
    });
  const given = <T>(value: T | undefined, current: T) => (value === undefined ? current : value);
  const state = seed.state ?? base.state;
  return {
    ...base,
    imei: given(seed.imei, base.imei),
    msisdn: seed.msisdn,
    state,
    ratePlan: seed.ratePlan ?? base.ratePlan,
    ban: seed.ban ?? base.ban,
    zipCode: given(seed.zipCode, base.zipCode),
    features: seed.features === undefined ? base.features : [...new Set(seed.features)],
    ipAddress: given(seed.ipAddress, base.ipAddress),
    contactName: given(seed.contactName, base.contactName),
    statusEffectiveDate: state === base.state ? base.statusEffectiveDate : isoDate(now),
  };
};

/** An active line with nothing optional set; activations and seeds fill in the rest. */
export const newLine = (fields: {
  iccid: string;
  msisdn: string;
  ratePlan: string;
  ban: string;
  now: number;
}): TelegenceSimLine => ({
  iccid: fields.iccid,
  imei: null,
  msisdn: fields.msisdn,
  state: 'A',
  ratePlan: fields.ratePlan,
  ban: fields.ban,
  zipCode: null,
  features: [],
  ipAddress: null,
  contactName: null,
  technologyType: null,
  activatedAt: new Date(fields.now).toISOString(),
  statusEffectiveDate: isoDate(fields.now),
  previousIccid: null,
});

/** The line detail of `GET /sp/mobility/lineconfig/api/v1/service/{subscriberNumber}` (carrier-apis §3.2). */
export const lineDetail = (line: TelegenceSimLine, catalog: TelegenceCatalog, now: number) => {
  const cycle = billCycle(billCycleDayOf(catalog, line.ban), now);
  const characteristics: [string, string | null][] = [
    ['subscriberStatus', line.state],
    ['singleUserCode', line.ratePlan],
    ['sim', line.iccid],
    ['BLIMEI', line.imei],
    ['serviceZipCode', line.zipCode],
    ...line.features.map((feature, index): [string, string] => [`offeringCode${index + 1}`, feature]),
    ['ipAddress', line.ipAddress],
    ['contactName', line.contactName],
    ['BLDeviceTechnologyType', line.technologyType],
    ['billingAccountNumber', line.ban],
    ['subscriberActivationDate', attDate(line.activatedAt)],
    ['statusEffectiveDate', attDate(line.statusEffectiveDate)],
    ['nextBillCycleDate', attDate(isoDate(cycle.next))],
  ];
  return {
    subscriberNumber: line.msisdn,
    category: { ...telegenceMobilityService.category },
    serviceSpecification: { ...telegenceMobilityService.serviceSpecification },
    serviceCharacteristic: characteristics
      .filter((pair): pair is [string, string] => pair[1] !== null)
      .map(([name, value]) => ({ name, value })),
  };
};
