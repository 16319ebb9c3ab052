import { z } from 'zod';
import type { SimResponse } from '../../simulator-kit/definition.ts';
import type { DeviceStore, SimDevice } from '../../simulator-kit/device-store.ts';
import { m2mError, thingSpaceErrorCodes } from './errors.ts';
import { type ThingSpaceState, thingSpaceStates } from './rules.ts';

/** A simulated line; `GET /_sim/devices` shows it as is (times in ISO-8601 UTC). */
export interface ThingSpaceSimLine extends SimDevice {
  /**
   * ThingSpace's own number for the device: listed as the `DeviceId` extended attribute, and what a
   * list request's `largestDeviceIdSeen` continues after.
   */
  deviceId: number;
  iccid: string;
  imei: string | null;
  eid: string | null;
  /** 10-digit mobile directory number (kind `mdn`). */
  mdn: string | null;
  /** `1` + MDN (kind `msisdn`), which the platform stores as the line's number. */
  msisdn: string | null;
  state: ThingSpaceState;
  servicePlan: string | null;
  /** Same value as `servicePlan`, under the name API.md §5 uses for every simulator. */
  ratePlan: string | null;
  ipAddress: string | null;
  mdnZipCode: string | null;
  accountName: string;
  /** As sent with the last activation. */
  primaryPlaceOfUse: unknown;
  createdAt: string;
  updatedAt: string;
  lastActivationDate: string | null;
  /** When the line last connected (seeded: the simulator carries no traffic of its own). */
  lastConnectionDate: string | null;
}

export interface DeviceId {
  id: string;
  kind: string;
}

/** Documented kinds (carrier-apis §1.3) and the formats this simulator accepts for them. */
const kindFormats: Record<string, RegExp> = {
  iccid: /^\d{1,20}$/,
  imei: /^\d{1,16}$/,
  mdn: /^\d{10}$/,
  msisdn: /^\d{1,15}$/,
  eid: /^\d{32}$/,
  imsi: /^\d{1,15}$/,
  esn: /^(\d{11}|[0-9a-f]{8})$/i,
  meid: /^[0-9a-f]{14,18}$/i,
};

/** The documented synchronous refusal of an unknown kind or a malformed identifier; undefined when fine. */
export const deviceIdsRefusal = (ids: DeviceId[]): SimResponse | undefined => {
  for (const { id, kind } of ids) {
    const format = kindFormats[kind.toLowerCase()];
    if (format === undefined) {
      return m2mError(thingSpaceErrorCodes.deviceKindInvalid, `Device kind ${kind} is not valid`);
    }
    if (!format.test(id)) {
      return m2mError(
        thingSpaceErrorCodes.deviceIdentifierInvalid,
        `Device identifier ${id} is not a valid ${kind.toUpperCase()}`,
      );
    }
  }
  return undefined;
};

export const idOfKind = (ids: DeviceId[], kind: string): string | undefined =>
  ids.find((id) => id.kind.toLowerCase() === kind)?.id;

const indexedKinds = ['imei', 'mdn', 'msisdn', 'eid'] as const;

/**
 * Finds lines by any identifier. ICCIDs are the store's key; the other kinds use an index built on the
 * first need, once per request (a request names up to 10,000 devices).
 */
export class LineFinder {
  readonly #store: DeviceStore<ThingSpaceSimLine>;
  #index: Map<string, string> | undefined;

  constructor(store: DeviceStore<ThingSpaceSimLine>) {
    this.#store = store;
  }

  /** The ICCID the identifiers name: the given ICCID, else the ICCID of the line another kind names. */
  iccidOf(ids: DeviceId[]): string | undefined {
    const iccid = idOfKind(ids, 'iccid');
    if (iccid !== undefined) return iccid;
    for (const { id, kind } of ids) {
      const found = this.#lookup().get(`${kind.toLowerCase()}:${id}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  find(ids: DeviceId[]): ThingSpaceSimLine | undefined {
    const iccid = this.iccidOf(ids);
    return iccid === undefined ? undefined : this.#store.get(iccid);
  }

  #lookup(): Map<string, string> {
    if (this.#index === undefined) {
      this.#index = new Map();
      for (const line of this.#store.list()) {
        for (const kind of indexedKinds) {
          const value = line[kind];
          if (value) this.#index.set(`${kind}:${value}`, line.iccid);
        }
      }
    }
    return this.#index;
  }
}

/** Derived from the ICCID, so every run of a test or demo gives the same numbers. */
export const assignedMdn = (iccid: string): string => `5${iccid.slice(-9).padStart(9, '0')}`;

/** 10.x.y.z from the last 7 ICCID digits: distinct for lines whose ICCIDs differ only there. */
export const assignedIp = (iccid: string): string => {
  const n = Number(iccid.slice(-7)) % 0x1000000;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
};

/** The identifiers of a line, as the list response writes them (lower-case kinds) or callbacks (upper). */
export const lineDeviceIds = (line: ThingSpaceSimLine, upper = false): DeviceId[] => {
  const ids: DeviceId[] = [];
  const add = (kind: string, id: string | null) => {
    if (id) ids.push({ id, kind: upper ? kind.toUpperCase() : kind });
  };
  add('mdn', line.mdn);
  add('msisdn', line.msisdn);
  add('imei', line.imei);
  add('iccid', line.iccid);
  add('eid', line.eid);
  return ids;
};

export const upperKinds = (ids: DeviceId[]): DeviceId[] =>
  ids.map(({ id, kind }) => ({ id, kind: kind.toUpperCase() }));

/** ThingSpace writes times with an offset and no milliseconds, e.g. `2019-08-07T10:42:15+00:00`. */
export const thingSpaceTime = (iso: string | null): string | undefined =>
  iso === null ? undefined : `${iso.slice(0, 19)}+00:00`;

/** One element of the list response's `devices` (carrier-apis §1.5). */
export const listedDevice = (line: ThingSpaceSimLine, single: boolean, now: number) => {
  const cycleEnd = new Date(now);
  cycleEnd.setUTCMonth(cycleEnd.getUTCMonth() + 1, 1);
  cycleEnd.setUTCHours(0, 0, 0, 0);
  return {
    accountName: line.accountName,
    billingCycleEndDate: thingSpaceTime(cycleEnd.toISOString()),
    carrierInformations: [
      {
        carrierName: 'Verizon Wireless',
        ...(line.servicePlan === null ? {} : { servicePlan: line.servicePlan }),
        state: line.state,
      },
    ],
    connected: false,
    createdAt: thingSpaceTime(line.createdAt),
    deviceIds: lineDeviceIds(line),
    extendedAttributes: [
      { key: 'DeviceId', value: String(line.deviceId) },
      ...(single ? placeOfUseAttributes(line.primaryPlaceOfUse) : []),
    ],
    groupNames: [`Default: ${line.accountName}`],
    ipAddress: line.ipAddress ?? '',
    lastActivationBy: line.lastActivationDate === null ? '' : 'ThingSpace simulator',
    lastActivationDate: thingSpaceTime(line.lastActivationDate),
    lastConnectionDate: thingSpaceTime(line.lastConnectionDate),
  };
};

const placeOfUseSchema = z
  .object({
    customerName: z.object({ firstName: z.string().optional(), lastName: z.string().optional() }).optional(),
    address: z
      .object({
        addressLine1: z.string().optional(),
        city: z.string().optional(),
        state: z.string().optional(),
        zip: z.string().optional(),
        country: z.string().optional(),
      })
      .optional(),
  })
  .optional();

/** The `PrimaryPlaceOfUse…` keys AMOP reads from a single-device query. */
const placeOfUseAttributes = (placeOfUse: unknown): { key: string; value: string }[] => {
  const parsed = placeOfUseSchema.safeParse(placeOfUse ?? undefined);
  if (!parsed.success || parsed.data === undefined) return [];
  const { customerName, address } = parsed.data;
  const pairs: [string, string | undefined][] = [
    ['PrimaryPlaceOfUseFirstName', customerName?.firstName],
    ['PrimaryPlaceOfUseLastName', customerName?.lastName],
    ['PrimaryPlaceOfUseAddressLine1', address?.addressLine1],
    ['PrimaryPlaceOfUseCity', address?.city],
    ['PrimaryPlaceOfUseState', address?.state],
    ['PrimaryPlaceOfUseZipCode', address?.zip],
    ['PrimaryPlaceOfUseCountry', address?.country],
  ];
  return pairs
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => ({ key, value: String(value) }));
};

const optionalText = z.string().nullish();

export const createSeedSchema = (planCodes: Set<string>) =>
  z
    .object({
      iccid: z.string().regex(/^\d{19,20}$/, 'an ICCID is 19 or 20 digits'),
      imei: optionalText,
      eid: optionalText,
      mdn: z
        .string()
        .regex(/^\d{10}$/, 'an MDN is 10 digits')
        .nullish(),
      msisdn: optionalText,
      state: z.enum(thingSpaceStates).optional(),
      servicePlan: optionalText,
      ratePlan: optionalText,
      ipAddress: optionalText,
      mdnZipCode: optionalText,
      lastConnectionDate: z.iso.datetime().nullish(),
    })
    .superRefine((seed, context) => {
      for (const field of ['servicePlan', 'ratePlan'] as const) {
        const plan = seed[field];
        if (plan && !planCodes.has(plan)) {
          context.addIssue({ code: 'custom', path: [field], message: `unknown service plan ${plan}` });
        }
      }
    });
export type ThingSpaceSeed = z.infer<ReturnType<typeof createSeedSchema>>;

/**
 * Upsert: a seed changes only the fields it gives. An active or suspended line without a number, IP
 * or plan gets the ones an activation would give it; `msisdn` and `mdn` are derived from each other.
 */
export const seededLine = (
  seed: ThingSpaceSeed,
  existing: ThingSpaceSimLine | undefined,
  context: { accountName: string; defaultPlan: string; now: string; nextDeviceId: () => number },
): ThingSpaceSimLine => {
  const base = existing ?? newLine(seed.iccid, context.accountName, context.now, context.nextDeviceId());
  const given = <T>(value: T | undefined, current: T) => (value === undefined ? current : value);
  const number = numbers(seed.mdn, seed.msisdn);
  const plan = seed.servicePlan ?? seed.ratePlan;
  const line: ThingSpaceSimLine = {
    ...base,
    imei: given(seed.imei, base.imei),
    eid: given(seed.eid, base.eid),
    mdn: number === undefined ? base.mdn : number.mdn,
    msisdn: number === undefined ? base.msisdn : number.msisdn,
    state: seed.state ?? base.state,
    servicePlan: given(plan, base.servicePlan),
    ratePlan: given(plan, base.ratePlan),
    ipAddress: given(seed.ipAddress, base.ipAddress),
    mdnZipCode: given(seed.mdnZipCode, base.mdnZipCode),
    lastConnectionDate: given(seed.lastConnectionDate, base.lastConnectionDate),
    updatedAt: context.now,
  };
  return line.state === 'active' || line.state === 'suspend' ? withService(line, context.defaultPlan) : line;
};

/** What an active line has: a number, an IP address and a plan (kept when it already has them). */
export const withService = (line: ThingSpaceSimLine, plan: string): ThingSpaceSimLine => {
  const mdn = line.mdn ?? assignedMdn(line.iccid);
  return {
    ...line,
    mdn,
    msisdn: line.msisdn ?? `1${mdn}`,
    ipAddress: line.ipAddress ?? assignedIp(line.iccid),
    servicePlan: line.servicePlan ?? plan,
    ratePlan: line.servicePlan ?? plan,
  };
};

const numbers = (mdn: string | null | undefined, msisdn: string | null | undefined) => {
  if (mdn === undefined && msisdn === undefined) return undefined;
  const theMdn = mdn ?? (msisdn ? msisdn.slice(-10) : null);
  return { mdn: theMdn, msisdn: msisdn ?? (theMdn ? `1${theMdn}` : null) };
};

export const newLine = (
  iccid: string,
  accountName: string,
  now: string,
  deviceId: number,
): ThingSpaceSimLine => ({
  deviceId,
  iccid,
  imei: null,
  eid: null,
  mdn: null,
  msisdn: null,
  state: 'pre-active',
  servicePlan: null,
  ratePlan: null,
  ipAddress: null,
  mdnZipCode: null,
  accountName,
  primaryPlaceOfUse: null,
  createdAt: now,
  updatedAt: now,
  lastActivationDate: null,
  lastConnectionDate: null,
});
