import type { RowField } from './row-fields.ts';

/**
 * The mobility activation workbook (original §3.7, ADR 0052): what its sheets hold, shared by the
 * template we hand out and the reader of the filled-in file. Sheet 1 activates SIMs; sheet 2 assigns
 * the activated lines to billing customers (the linked customer assignment), row by row by ICCID.
 */

export const ACTIVATIONS_SHEET = 'Activations';
export const ASSIGNMENT_SHEET = 'Customer assignment';
/** The template's explanation; never read as rows, wherever it is. */
export const INSTRUCTIONS_SHEET = 'Instructions';

/** A column of the template: its field, header, whether a row needs it and what goes in it. */
export interface WorkbookColumn {
  field: RowField | AssignmentOnlyField;
  required: boolean;
  /** What the cell holds, for the instructions sheet and the header's note. */
  help: string;
  /** Drop-down values offered in the template. */
  list?: 'ratePlans' | 'yesNo' | 'states' | 'billingCustomers' | 'customerRatePlans' | 'customerPools';
  /** Identifiers and codes are text cells, so a spreadsheet does not round them. */
  text?: boolean;
  date?: boolean;
}

/** A column of the assignment sheet that is not a row field: it decides the row's effective date. */
export type AssignmentOnlyField = 'useCarrierActivation';

export const activationColumns: WorkbookColumn[] = [
  { field: 'iccid', required: true, text: true, help: 'The SIM to activate: 19–20 digits.' },
  {
    field: 'imei',
    required: true,
    text: true,
    help: 'The device the SIM goes in: 15 digits.',
  },
  {
    field: 'billingAccountNumber',
    required: true,
    text: true,
    help: 'AT&T billing account (BAN), 9–13 digits; it must exist and be active at AT&T (checked before the batch is sent: BILLING_ACCOUNT_NOT_FOUND / BILLING_ACCOUNT_INACTIVE).',
  },
  {
    field: 'ratePlan',
    required: true,
    list: 'ratePlans',
    help: "AT&T rate plan (SOC), from the account's catalog.",
  },
  { field: 'firstName', required: true, help: "Subscriber's first name." },
  { field: 'lastName', required: true, help: "Subscriber's last name." },
  { field: 'streetNumber', required: false, text: true, help: 'Service address: street number.' },
  { field: 'streetDirection', required: false, help: 'Service address: N, S, E, W, NE…' },
  { field: 'streetName', required: false, help: 'Service address: street name.' },
  { field: 'city', required: false, help: 'Service address: city.' },
  { field: 'state', required: false, list: 'states', help: 'Service address: two capital letters.' },
  { field: 'zipCode', required: true, text: true, help: 'Service ZIP code, 5 digits.' },
  {
    field: 'qualificationToken',
    required: false,
    text: true,
    help: "AT&T's qualification of the service address, sent with the activation; with it, street number, street name, city and state are required.",
  },
  {
    field: 'addFeatureCodes',
    required: false,
    help: 'Features (SOCs) to add, separated by | or spaces.',
  },
  {
    field: 'removeFeatureCodes',
    required: false,
    help: 'Features (SOCs) to remove once the line is active.',
  },
  { field: 'dataGroup', required: false, help: 'AT&T data group (the original CarrierRatePlanGroup).' },
  { field: 'ratePool', required: false, help: 'AT&T rate pool.' },
  { field: 'staticIp', required: false, list: 'yesNo', help: 'yes: a static IP is provisioned.' },
  { field: 'pdpName', required: false, help: "Static IP's PDP name (else the account's default)." },
  { field: 'apn', required: false, help: "Static IP's APN (else the account's default)." },
];

export const assignmentColumns: WorkbookColumn[] = [
  {
    field: 'iccid',
    required: true,
    text: true,
    help: 'The SIM of an activation row of the first sheet: once activated, its line is assigned.',
  },
  {
    field: 'billingCustomerId',
    required: true,
    list: 'billingCustomers',
    help: 'The billing customer (Rev.io customer id) the line is assigned to.',
  },
  {
    field: 'createBillingService',
    required: false,
    list: 'yesNo',
    help: 'yes: a billing service (and its products) is created for the line.',
  },
  {
    field: 'serviceTypeId',
    required: false,
    help: 'Rev.io service type; needed (or a package) to create a billing service.',
  },
  { field: 'packageId', required: false, help: 'Rev.io package, instead of products.' },
  { field: 'productIds', required: false, help: 'Rev.io products, separated by |.' },
  { field: 'rates', required: false, help: 'One rate per product, in the same order, separated by |.' },
  { field: 'prorate', required: false, list: 'yesNo', help: 'yes: the first charges are prorated.' },
  {
    field: 'useCarrierActivation',
    required: false,
    list: 'yesNo',
    help: 'yes: billing starts the day the line is activated (leave effective_date empty).',
  },
  {
    field: 'effectiveDate',
    required: false,
    date: true,
    help: 'Billing start date (yyyy-mm-dd); required unless prorate or use_carrier_activation is yes.',
  },
  {
    field: 'customerRatePlanId',
    required: false,
    list: 'customerRatePlans',
    help: 'Customer rate plan for the line.',
  },
  { field: 'customerPoolId', required: false, list: 'customerPools', help: 'Customer pool for the line.' },
];
