import type { ChangeType } from '../core/change-types.ts';
/** Every row field of API §3, in its JSON (camelCase) spelling. */
export const rowFields = [
  'iccid',
  'imei',
  'msisdn',
  'eid',
  'targetStatus',
  'reasonCode',
  'servicePlan',
  'mdnZipCode',
  'effectiveDate',
  'billingCustomerId',
  'billingAccountNumber',
  'ratePlan',
  'zipCode',
  'firstName',
  'lastName',
  'streetNumber',
  'streetDirection',
  'streetName',
  'city',
  'state',
  'addFeatureCodes',
  'removeFeatureCodes',
  'staticIp',
  'pdpName',
  'apn',
  'dataGroup',
  'ratePool',
  'qualificationToken',
  'optimizationGroup',
  'customerRatePlanId',
  'customerPoolId',
  'carrierRatePlan',
  'communicationPlan',
  'newIccid',
  'newImei',
  'dataAllocationMb',
  'createBillingService',
  'serviceTypeId',
  'packageId',
  'productIds',
  'rates',
  'prorate',
  'username',
  'costCenter1',
  'costCenter2',
  'costCenter3',
  'override',
  'overrideUsage',
  'overrideBilling',
  'siteId',
  'readMsisdn',
  'cheapestPlanBeforeDeactivation',
  'moveBillingCustomer',
] as const;
export type RowField = (typeof rowFields)[number];

/** Header spellings people use, beyond the field's own name in any case or separator style. */
const aliases: Record<string, RowField> = {
  sim: 'iccid',
  simiccid: 'iccid',
  simnumber: 'iccid',
  iccidnumber: 'iccid',
  mdn: 'msisdn',
  phonenumber: 'msisdn',
  subscribernumber: 'msisdn',
  status: 'targetStatus',
  newstatus: 'targetStatus',
  target: 'targetStatus',
  rateplan: 'carrierRatePlan',
  carrierplan: 'carrierRatePlan',
  plan: 'carrierRatePlan',
  commplan: 'communicationPlan',
  reason: 'reasonCode',
  // The original's activation spreadsheet (original §3.7).
  ban: 'billingAccountNumber',
  billingaccount: 'billingAccountNumber',
  zip: 'zipCode',
  postalcode: 'zipCode',
  subscriberfirstname: 'firstName',
  subscriberlastname: 'lastName',
  addsoc: 'addFeatureCodes',
  removesoc: 'removeFeatureCodes',
  staticipprovision: 'staticIp',
  // The original's site column (original §3.6 SiteId); a site is named by its id or its name.
  site: 'siteId',
  sitename: 'siteId',
  carrierrateplangroup: 'dataGroup',
  carrierratepool: 'ratePool',
  customerrateplancode: 'customerRatePlanId',
  // The original's Mobility carrier plan CSV (original §3.7).
  rateplanname: 'carrierRatePlan',
  optimisationgroup: 'optimizationGroup',
  // The customer assignment sheet of the original's activation workbook (original §3.7).
  reviocustomer: 'billingCustomerId',
  iscreateserviceproduct: 'createBillingService',
  servicetype: 'serviceTypeId',
  revioproduct: 'productIds',
  rate: 'rates',
  isprorate: 'prorate',
  customerpool: 'customerPoolId',
};

/** The prefix of an export's read-only columns: the line's value when the file was exported. */
export const CURRENT_VALUE_PREFIX = 'current_';

/** Canonical form of a header: lower case, letters and digits only ("Rate Plan", "rate_plan" → "rateplan"). */
const canonical = (header: string) => header.toLowerCase().replace(/[^a-z0-9]/g, '');

const byCanonical = new Map<string, RowField>([
  ...rowFields.map((field) => [canonical(field), field] as const),
  ...Object.entries(aliases),
]);

/**
 * Maps a header to its row field. `ratePlan` is the Telegence activation's field, but a CSV column
 * named "Rate Plan" for any other change means the carrier rate plan.
 */
export function fieldForHeader(header: string, changeType: ChangeType): RowField | undefined {
  const key = canonical(header.replace(/^\uFEFF/, ''));
  if ((key === 'rateplan' || key === 'carrierrateplancode') && changeType === 'activate_new_service')
    return 'ratePlan';
  if (key === 'carrierrateplancode') return 'carrierRatePlan';
  return byCanonical.get(key);
}

/**
 * A `current_*` column (in any case or separator style: "Current Status"): informational, read past by
 * the readers, and the mark of a file exported for editing (ADR 0059).
 */
export const isCurrentValueColumn = (header: string): boolean => currentValueColumnOf(header) !== undefined;

/** The line field a `current_*` column names, in canonical form ("Current Rate Plan" → "rateplan"). */
export function currentValueColumnOf(header: string): string | undefined {
  const key = canonical(header.replace(/^\uFEFF/, ''));
  return key.startsWith('current') && key.length > 'current'.length ? key.slice('current'.length) : undefined;
}

/** Whether a `current_*` column is the one of this line field (`current_carrier_rate_plan`, "Current Status"). */
export const isCurrentValueColumnOf = (header: string, lineField: string): boolean =>
  currentValueColumnOf(header) === canonical(lineField);

export const isRowField = (name: string): name is RowField => (rowFields as readonly string[]).includes(name);

/** A row field's CSV column name (API §3: JSON camelCase = CSV snake_case). */
export const csvColumn = (field: string): string =>
  field.replace(/[A-Z]/g, (char) => `_${char.toLowerCase()}`);
