import { z } from 'zod';
import type { SimResponse } from '../../simulator-kit/definition.ts';
import { billCycleDayOf, type TelegenceCatalog, telegenceReasonCodes } from './catalog.ts';
import { billCycle, dayMs, isoDate, parseIsoDate, startOfDay } from './dates.ts';
import { esimRequired, firstIssue, telegenceError } from './errors.ts';
import type { TelegenceFaults } from './faults.ts';
import {
  characteristicSchema,
  iccidSchema,
  imeiSchema,
  lineDetail,
  type TelegenceLineState,
  type TelegenceLineStore,
  type TelegenceSimLine,
  telegenceLineStates,
  zipCodeSchema,
} from './lines.ts';

/** How far ahead an effective date may be. */
export const telegenceMaxEffectiveDaysAhead = 30;

const patchSchema = z.object({
  effectiveDate: z.string().optional(),
  serviceCharacteristic: z.array(characteristicSchema).min(1, 'at least one characteristic is required'),
});

/** The characteristics a PATCH may carry once each, by the field of `LineUpdate` they set. */
const singleCharacteristics = {
  subscriberStatus: 'status',
  reasonCode: 'reasonCode',
  singleUserCode: 'ratePlan',
  sim: 'iccid',
  IMEI: 'imei',
  serviceZipCode: 'zipCode',
  contactName: 'contactName',
  technologyType: 'technologyType',
} as const;
type SingleField = (typeof singleCharacteristics)[keyof typeof singleCharacteristics];

interface LineUpdate extends Partial<Record<SingleField, string>> {
  addFeatures: string[];
  removeFeatures: string[];
  effectiveDate?: string;
}

export interface LineUpdateDeps {
  store: TelegenceLineStore;
  catalog: TelegenceCatalog;
  faults: () => TelegenceFaults;
  /** Whether an unfinished activation holds the SIM. */
  simClaimed: (iccid: string) => boolean;
}

/**
 * `PATCH /sp/mobility/lineconfig/api/v1/service/{subscriberNumber}`: every check runs before anything
 * changes, so a refused update leaves the line as it was. Changes apply at once; the effective date is
 * recorded as `statusEffectiveDate`.
 */
export const updateLine = (deps: LineUpdateDeps, msisdn: string, body: unknown, now: number): SimResponse => {
  const line = deps.store.byNumber(msisdn);
  if (line === undefined) return telegenceError(404, 'Subscriber not found');
  const parsed = patchSchema.safeParse(body);
  if (!parsed.success) return telegenceError(400, `Invalid request: ${firstIssue(parsed.error)}`);
  const update = readUpdate(parsed.data.serviceCharacteristic);
  if ('body' in update) return update;
  update.effectiveDate = parsed.data.effectiveDate;
  const refusal =
    statusRefusal(line, update) ??
    (line.state === 'C' ? telegenceError(400, `Subscriber ${msisdn} is cancelled`) : undefined) ??
    effectiveDateRefusal(deps.catalog, line, update.effectiveDate, now) ??
    ratePlanRefusal(deps.catalog, line, update) ??
    equipmentRefusal(deps, line, update) ??
    featureRefusal(deps.catalog, update) ??
    zipCodeRefusal(update.zipCode);
  if (refusal !== undefined) return refusal;
  const next = updated(line, update, now);
  if (next.iccid !== line.iccid) deps.store.delete(line.iccid);
  deps.store.put(next);
  return { status: 200, body: lineDetail(next, deps.catalog, now) };
};

/** The SIMs a PATCH concerns: the line's, the one it asks for and, right after a swap, the one it left. */
export const updatedSims = (store: TelegenceLineStore, msisdn: string, body: unknown): string[] => {
  const line = store.byNumber(msisdn);
  if (line === undefined) return [];
  const parsed = patchSchema.safeParse(body);
  const asked = parsed.success
    ? parsed.data.serviceCharacteristic.find((characteristic) => characteristic.name === 'sim')?.value
    : undefined;
  const left = asked === line.iccid ? line.previousIccid : null;
  return [...new Set([left, line.iccid, asked].filter((iccid) => typeof iccid === 'string'))];
};

const readUpdate = (characteristics: { name: string; value: string }[]): LineUpdate | SimResponse => {
  const update: LineUpdate = { addFeatures: [], removeFeatures: [] };
  for (const { name, value } of characteristics) {
    if (name === 'addOfferingCode') {
      update.addFeatures.push(value);
    } else if (name === 'removeOfferingCode') {
      update.removeFeatures.push(value);
    } else if (Object.hasOwn(singleCharacteristics, name)) {
      const field = singleCharacteristics[name as keyof typeof singleCharacteristics];
      if (update[field] !== undefined) {
        return telegenceError(400, `Characteristic ${name} is given more than once`);
      }
      update[field] = value;
    } else {
      return telegenceError(400, `Unsupported characteristic ${name}`);
    }
  }
  return update;
};

const reasonCodesFor: Record<TelegenceLineState, string[]> = {
  S: telegenceReasonCodes.suspend,
  A: telegenceReasonCodes.restore,
  C: telegenceReasonCodes.cancel,
};

/** A → S (suspend), S → A (restore), A or S → C (cancel), each with a reason code of its own list. */
const statusRefusal = (line: TelegenceSimLine, update: LineUpdate): SimResponse | undefined => {
  const to = update.status;
  if (to === undefined) return undefined;
  if (!isLineState(to)) return telegenceError(400, `Invalid subscriber status ${to}`);
  if (line.state === 'C' || line.state === to) {
    return telegenceError(400, `Invalid status transition from ${line.state} to ${to}`);
  }
  const reason = update.reasonCode;
  return reason !== undefined && reasonCodesFor[to].includes(reason)
    ? undefined
    : telegenceError(400, `Invalid reason code ${reason ?? '(none)'} for subscriber status ${to}`);
};

const isLineState = (value: string): value is TelegenceLineState =>
  (telegenceLineStates as readonly string[]).includes(value);

/** From the start of the line's current bill cycle to 30 days ahead. */
const effectiveDateRefusal = (
  catalog: TelegenceCatalog,
  line: TelegenceSimLine,
  effectiveDate: string | undefined,
  now: number,
): SimResponse | undefined => {
  if (effectiveDate === undefined) return undefined;
  const refused = (why: string) => telegenceError(400, `Invalid effective date ${effectiveDate}: ${why}`);
  const at = parseIsoDate(effectiveDate);
  if (at === undefined) return refused('expected a date as yyyy-mm-dd or yyyy-mm-ddZ');
  const cycleStart = billCycle(billCycleDayOf(catalog, line.ban), now).start;
  if (at < cycleStart) return refused(`before the current bill cycle, which started ${isoDate(cycleStart)}`);
  if (at > startOfDay(now) + telegenceMaxEffectiveDaysAhead * dayMs) {
    return refused(`more than ${telegenceMaxEffectiveDaysAhead} days ahead`);
  }
  return undefined;
};

const ratePlanRefusal = (
  catalog: TelegenceCatalog,
  line: TelegenceSimLine,
  update: LineUpdate,
): SimResponse | undefined => {
  // The line's own SOC, as an equipment change repeats it, changes nothing.
  if (update.ratePlan === undefined || update.ratePlan === line.ratePlan) return undefined;
  if (!catalog.ratePlans.has(update.ratePlan)) {
    return telegenceError(400, `Invalid rate plan ${update.ratePlan}`);
  }
  const state = update.status ?? line.state;
  return state === 'A'
    ? undefined
    : telegenceError(400, `A rate plan change needs an active line; subscriber ${line.msisdn} is ${state}`);
};

/** SIM and IMEI swaps; an eSIM-only device refuses a physical SIM the way the real service does. */
const equipmentRefusal = (
  deps: LineUpdateDeps,
  line: TelegenceSimLine,
  update: LineUpdate,
): SimResponse | undefined => {
  if (update.imei !== undefined && !imeiSchema.safeParse(update.imei).success) {
    return telegenceError(400, `Invalid IMEI ${update.imei}`);
  }
  const iccid = update.iccid;
  if (iccid === undefined) return undefined;
  if (!iccidSchema.safeParse(iccid).success) return telegenceError(400, `Invalid SIM ${iccid}`);
  const imei = update.imei ?? line.imei;
  if (imei !== null && deps.faults().esimOnlyTacs.includes(imei.slice(0, 8))) return esimRequired();
  if (iccid === line.iccid) return undefined;
  const holder = deps.store.get(iccid);
  return (holder !== undefined && holder.state !== 'C') || deps.simClaimed(iccid)
    ? telegenceError(400, `SIM ${iccid} is in use on another line`)
    : undefined;
};

const featureRefusal = (catalog: TelegenceCatalog, update: LineUpdate): SimResponse | undefined => {
  const unknown = [...update.addFeatures, ...update.removeFeatures].find(
    (feature) => !catalog.features.has(feature),
  );
  return unknown === undefined ? undefined : telegenceError(400, `Invalid offering code ${unknown}`);
};

const zipCodeRefusal = (zipCode: string | undefined): SimResponse | undefined =>
  zipCode === undefined || zipCodeSchema.safeParse(zipCode).success
    ? undefined
    : telegenceError(400, `Invalid service ZIP code ${zipCode}`);

const updated = (line: TelegenceSimLine, update: LineUpdate, now: number): TelegenceSimLine => {
  // statusRefusal has checked the status.
  const state = update.status !== undefined && isLineState(update.status) ? update.status : line.state;
  const kept = line.features.filter((feature) => !update.removeFeatures.includes(feature));
  const iccid = update.iccid ?? line.iccid;
  return {
    ...line,
    iccid,
    previousIccid: iccid === line.iccid ? line.previousIccid : line.iccid,
    imei: update.imei ?? line.imei,
    state,
    ratePlan: update.ratePlan ?? line.ratePlan,
    zipCode: update.zipCode ?? line.zipCode,
    contactName: update.contactName ?? line.contactName,
    technologyType: update.technologyType ?? line.technologyType,
    features: [...new Set([...kept, ...update.addFeatures])],
    statusEffectiveDate:
      update.effectiveDate?.slice(0, 10) ?? (state === line.state ? line.statusEffectiveDate : isoDate(now)),
  };
};
