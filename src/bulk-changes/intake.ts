import { z } from 'zod';
import type { CarrierAccountView } from '../accounts/carrier-accounts.ts';
import { carrierAccountsRepository } from '../accounts/carrier-accounts-repository.ts';
import { billingRepository, type CatalogRow } from '../billing/billing-repository.ts';
import type { CarrierAdapter } from '../carriers/carrier.ts';
import type { QuotaCalendar } from '../carriers/line-quotas.ts';
import type { ChangeType } from '../core/change-types.ts';
import { type ErrorCode, type ErrorDetail, isErrorCode } from '../core/errors.ts';
import type { Flow, RowIssue } from '../core/flow.ts';
import {
  type Checked,
  checkEid,
  checkIccid,
  checkImei,
  checkMsisdn,
  cleanIdentifier,
  msisdnForms,
} from '../core/identifiers.ts';
import type { Site } from '../core/site.ts';
import type { Executor } from '../db/database.ts';
import { type Device, devicesRepository } from '../devices/devices-repository.ts';
import { sitesRepository } from '../devices/sites-repository.ts';
import { newId } from '../shared/ids.ts';
import { bulkChangesRepository } from './bulk-changes-repository.ts';
import type { InputRow } from './csv-input.ts';
import { isRowField, type RowField } from './row-fields.ts';
import {
  type ExportedValueChange,
  exportedValueChange,
  isEdited,
  type TargetState,
  targetState,
  withoutUneditedFields,
} from './target-state.ts';

export interface ValidRow {
  row: number;
  device: Device;
  /** A line intake adds to the inventory with the bulk change (new service). */
  isNewLine?: boolean;
  /** The flow step the row starts at. */
  step: string;
  /**
   * The row waits in the queue until then: a change scheduled for its effective date, or a line whose
   * carrier quota is spent this period (`waitsFor` says which; the later of the two wins).
   */
  notBefore?: number;
  waitsFor?: RowWait;
  identifiers: { iccid: string | null; imei: string | null; msisdn: string | null; eid: string | null };
  request: Record<string, unknown>;
  /** The line's current → target value, for change types that set one (the preview shows it). */
  state?: TargetState;
  /** A round-trip row whose line moved since the export: sent, as edited, and the preview says so. */
  changedSinceExport?: ExportedValueChange;
}

/** Why a valid row waits before it is sent. */
export type RowWait = { reason: 'effective_date' } | { reason: 'line_quota'; message: string };

/**
 * A row left out, and why: its line already is what it asks for (`skipAlreadyInTarget`, a round trip),
 * or it is a round-trip row the operator did not edit (ADR 0059), whatever the line is now.
 */
export interface SkippedRow {
  row: number;
  state: TargetState;
  reason: SkipReason;
}

export type SkipReason = 'already_in_target' | 'not_edited';

export interface IntakeResult {
  valid: ValidRow[];
  /** Rows that would change nothing, left out (neither valid nor a problem). */
  skipped: SkippedRow[];
  issues: ErrorDetail[];
  /** Rows with at least one issue. */
  rejectedRows: Set<number>;
}

/** Options that are row fields apply to every row that does not set the field itself (API §3). */
export function rowDefaults(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([key]) => isRowField(key)));
}

const identifierFields = ['iccid', 'imei', 'msisdn', 'eid'];

/** The fields a flow reads: identifiers and its request's fields. Any other field would be dropped unseen. */
export function flowFields(flow: Flow<unknown, unknown, string>): Set<string> {
  const shape = flow.requestSchema instanceof z.ZodObject ? Object.keys(flow.requestSchema.shape) : [];
  return new Set([...identifierFields, ...shape]);
}

const notUsed = (field: string, changeType: ChangeType) =>
  `${field} is not used by ${changeType} on this carrier; remove it, or use the change type it belongs to`;

/**
 * Checks every row before anything is created: identifiers, the flow's fields, the inventory, the
 * carrier's transition rules, duplicates and lines busy in another change. Every problem is reported.
 */
/** What intake checks a request's rows against. */
export interface IntakeContext {
  db: Executor;
  tenantId: string;
  account: CarrierAccountView;
  adapter: CarrierAdapter;
  flow: Flow<unknown, unknown, string>;
  changeType: ChangeType;
  /** Row fields given once for every row. */
  defaults: Record<string, unknown>;
  /** Leave out rows whose line already is what they ask for, instead of sending them. */
  skipAlreadyInTarget: boolean;
  /**
   * The rows come from a file exported for editing (ADR 0059): only the rows the operator edited (a
   * field unlike its `current_*` cell) are taken, and of those the ones already as they ask are left
   * out whatever `skipAlreadyInTarget` says.
   */
  roundTrip: boolean;
  /** When the carrier's per-line quotas start again. */
  quotaCalendar: QuotaCalendar;
}

export async function validateRows(
  options: IntakeContext & {
    rows: InputRow[];
    /** Keys of earlier batches of the same request, for duplicates across batches. */
    seen?: Map<string, number>;
    /** The bulk change these rows are being written into: its own rows do not make a line busy. */
    bulkChangeId?: string;
  },
): Promise<IntakeResult> {
  const { adapter, flow, rows } = options;
  const issues: ErrorDetail[] = [];
  const keyField = flow.newLines?.keyField ?? adapter.keyField;
  const report = (row: number, issue: Omit<ErrorDetail, 'row'>) => issues.push({ row, ...issue });

  const prepared: Array<{
    row: number;
    keyField: LineKey;
    key: string;
    fields: Record<string, unknown>;
    request: unknown;
    exported?: InputRow['exported'];
    notEdited: boolean;
  }> = [];
  const firstRowForKey = options.seen ?? new Map<string, number>();
  const allowed = flowFields(flow);
  const normalise = fieldNormaliser(flow);
  for (const input of rows) {
    const unused = Object.keys(input.fields).filter((field) => !allowed.has(field));
    if (unused.length > 0) {
      for (const field of unused)
        report(input.row, { field, code: 'UNKNOWN_FIELD', message: notUsed(field, options.changeType) });
      continue;
    }
    const fields = { ...options.defaults, ...input.fields };
    const rowKey = lineKeyOf(fields, keyField, flow.lineKeys ?? []);
    const key = checkKey(rowKey, fields[rowKey], flow.lineKeys ?? []);
    if (key.issue) {
      report(input.row, key.issue);
      continue;
    }
    // The carrier's key as it always was; another identifier by its name (an EID is no ICCID).
    const seenKey = rowKey === keyField ? key.value : `${rowKey}:${key.value}`;
    const duplicateOf = firstRowForKey.get(seenKey);
    if (duplicateOf !== undefined) {
      report(input.row, {
        field: rowKey,
        code: 'DUPLICATE_ROW',
        message: `${rowKey} ${key.value} is already in row ${duplicateOf}`,
      });
      continue;
    }
    firstRowForKey.set(seenKey, input.row);
    const identifierIssue = otherIdentifierIssue(fields, rowKey);
    if (identifierIssue) {
      report(input.row, identifierIssue);
      continue;
    }
    // A round-trip row as exported (or left blank) asks for nothing: its line stays as it is (left out below).
    const notEdited = options.roundTrip && !isEdited(options.changeType, fields, input.exported, normalise);
    const parsed = notEdited
      ? ({ success: true, data: fields } as const)
      : flow.requestSchema.safeParse(
          options.roundTrip
            ? withoutUneditedFields(options.changeType, fields, input.exported, normalise)
            : fields,
        );
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        report(input.row, {
          field: issue.path.join('.') || undefined,
          code: issueCode(issue),
          message: issue.message,
        });
      }
      continue;
    }
    prepared.push({
      row: input.row,
      keyField: rowKey,
      key: key.value,
      fields,
      request: parsed.data,
      ...(input.exported ? { exported: input.exported } : {}),
      notEdited,
    });
  }

  const lines = await linesByKey(options.db, options.account.id, prepared);
  const foundIds = [...new Set([...lines.values()].flat().map((d) => d.id))];
  const busy = await bulkChangesRepository(options.db).linesInRunningChanges(
    options.account.id,
    foundIds,
    options.bulkChangeId,
  );
  const quotas = await lineQuotas(options, foundIds);
  const catalog = await ratePlanCatalog(options.db, options.account.id, options.changeType);
  const billingCatalog = await billingCatalogs(
    options.db,
    options.tenantId,
    prepared.map((p) => p.request as Record<string, unknown>),
  );
  const siteOf = await siteCatalog(options.db, options.tenantId);
  const swappedTo = await iccidsInUse(
    options.db,
    options.account.id,
    prepared.map((p) => p.request),
  );

  const valid: ValidRow[] = [];
  const skipped: SkippedRow[] = [];
  for (const item of prepared) {
    const matches = lines.get(`${item.keyField}:${item.key}`) ?? [];
    // The carrier's key names one line (its newest, as before); another identifier must name one alone.
    if (matches.length > 1 && item.keyField !== keyField) {
      report(item.row, {
        field: item.keyField,
        code: 'AMBIGUOUS_LINE',
        message: `${matches.length} lines of carrier account "${options.account.name}" have ${item.keyField} ${item.key}; name the line by its ${keyField}`,
      });
      continue;
    }
    const found = matches.at(-1);
    // A line named twice, once by each of two identifiers, is still one line.
    const sameLine = found && firstRowForKey.get(`line:${found.id}`);
    if (sameLine) {
      report(item.row, {
        field: item.keyField,
        code: 'DUPLICATE_ROW',
        message: `${item.keyField} ${item.key} names the line of row ${sameLine}`,
      });
      continue;
    }
    if (found) firstRowForKey.set(`line:${found.id}`, item.row);
    const inService = flow.newLines && found && lineInService(found);
    if (inService) {
      report(item.row, inService);
      continue;
    }
    const device =
      found ??
      (flow.newLines ? newLine(options.tenantId, options.account.id, item.key, item.request) : undefined);
    if (!device) {
      report(item.row, {
        field: item.keyField,
        code: 'DEVICE_NOT_FOUND',
        message: `No line with ${item.keyField} ${item.key} on carrier account "${options.account.name}"`,
      });
      continue;
    }
    // Whatever the line is now: someone else may have moved it since the export, and this row did not ask.
    if (item.notEdited && found) {
      const state = targetState(options.changeType, item.request as Record<string, unknown>, found);
      if (state) {
        skipped.push({ row: item.row, state, reason: 'not_edited' });
        continue;
      }
    }
    const site = siteOf.resolve(item.request as Record<string, unknown>);
    if (site.issue) {
      report(item.row, site.issue);
      continue;
    }
    const lineSite = siteOf.forLine(device);
    const fromSite = lineSite && flow.fromSite?.(item.request, lineSite);
    if (fromSite) item.request = { ...(item.request as Record<string, unknown>), ...fromSite };
    const request = item.request as Record<string, unknown>;
    const state = found ? targetState(options.changeType, request, device) : undefined;
    // Before the carrier's own checks: a line already there is left out, not refused as a transition.
    const skip = (options.skipAlreadyInTarget || options.roundTrip) && state?.alreadyInTarget === true;
    // A row left out sends nothing: the line may be busy in another change, or archived.
    const problem = skip
      ? undefined
      : (deviceProblem(device, busy.get(device.id), flow.archivedLinesOnly === true) ??
        swappedTo(request) ??
        catalog?.(request) ??
        billingCatalog(request) ??
        flow.checkRow?.(item.request, device, options.account.settings));
    if (problem) {
      report(item.row, problem);
      continue;
    }
    if (skip && state) {
      skipped.push({ row: item.row, state, reason: 'already_in_target' });
      continue;
    }
    const changedSinceExport =
      options.roundTrip && found
        ? exportedValueChange(options.changeType, request, found, item.exported, normalise)
        : undefined;
    valid.push({
      ...rowWait(flow.startAt?.(item.request), quotas(device.id)),
      row: item.row,
      device,
      ...(found ? {} : { isNewLine: true }),
      step: typeof flow.firstStep === 'string' ? flow.firstStep : flow.firstStep(item.request, device),
      identifiers: {
        iccid: device.iccid,
        imei: device.imei,
        msisdn: device.msisdn,
        eid: device.eid,
      },
      request,
      ...(state ? { state } : {}),
      ...(changedSinceExport ? { changedSinceExport } : {}),
    });
  }
  return {
    valid,
    skipped,
    issues,
    rejectedRows: new Set(issues.map((i) => i.row).filter((r): r is number => r !== undefined)),
  };
}

/**
 * Options and CSV columns that the flow does not use are file-level problems: a misplaced field would
 * otherwise be ignored while the operator believes it applies. Returns the issues and the columns to
 * drop from the rows (reported once, not per row).
 */
export function checkFileFields(options: {
  flow: Flow<unknown, unknown, string>;
  changeType: ChangeType;
  optionFields: string[];
  csvColumns?: string[];
}): { issues: ErrorDetail[]; badColumns: string[] } {
  const allowed = flowFields(options.flow);
  const issues: ErrorDetail[] = options.optionFields
    .filter((field) => !allowed.has(field))
    .map((field) => ({ field, code: 'UNKNOWN_FIELD', message: notUsed(field, options.changeType) }));
  const badColumns = (options.csvColumns ?? []).filter((column) => !allowed.has(column));
  for (const column of badColumns) {
    issues.push({ field: column, code: 'UNKNOWN_COLUMN', message: notUsed(column, options.changeType) });
  }
  // A CSV without a column the change type needs (and no option for it) is told once, not per row.
  if (options.csvColumns) {
    const given = new Set([...options.csvColumns, ...options.optionFields]);
    for (const field of requiredFields(options.flow)) {
      if (given.has(field)) continue;
      issues.push({
        field,
        code: 'MISSING_COLUMN',
        message: `${options.changeType} needs ${field}: add a column for it, or give it once as an option`,
      });
    }
  }
  return { issues, badColumns };
}

/** The request fields a flow cannot do without. */
function requiredFields(flow: Flow<unknown, unknown, string>): string[] {
  if (!(flow.requestSchema instanceof z.ZodObject)) return [];
  return Object.entries(flow.requestSchema.shape as Record<string, z.ZodType>)
    .filter(([, schema]) => !schema.safeParse(undefined).success)
    .map(([field]) => field);
}

/** The rows without the given columns. */
export function withoutColumns(rows: InputRow[], columns: string[]): InputRow[] {
  if (columns.length === 0) return rows;
  return rows.map((row) => ({
    ...row,
    fields: Object.fromEntries(Object.entries(row.fields).filter(([field]) => !columns.includes(field))),
  }));
}

/** How each identifier is checked, wherever it appears (key or not). */
const identifierChecks = { iccid: checkIccid, imei: checkImei, msisdn: checkMsisdn, eid: checkEid } as const;

/** Identifiers a row carries besides its key are checked too: a wrong IMEI is reported, not stored. */
function otherIdentifierIssue(fields: Record<string, unknown>, keyField: string): RowIssue | undefined {
  for (const [field, check] of Object.entries(identifierChecks)) {
    if (field === keyField || fields[field] === undefined) continue;
    const checked = check(fields[field], field);
    if (checked.issue) return checked.issue;
  }
  return undefined;
}

type LineKey = 'iccid' | 'msisdn' | 'eid';

const given = (value: unknown) => value !== undefined && value !== null && cleanIdentifier(value) !== '';

/** The identifier a row names its line by: the carrier's key, else the first other one the flow takes. */
function lineKeyOf(
  fields: Record<string, unknown>,
  keyField: LineKey,
  lineKeys: readonly LineKey[],
): LineKey {
  if (given(fields[keyField])) return keyField;
  return lineKeys.find((field) => given(fields[field])) ?? keyField;
}

function checkKey(keyField: LineKey, value: unknown, lineKeys: readonly LineKey[]): Checked {
  if (!given(value)) {
    const others = lineKeys.length ? ` (or ${lineKeys.join(' or ')})` : '';
    return { issue: { field: keyField, code: 'REQUIRED', message: `${keyField}${others} is required` } };
  }
  return identifierChecks[keyField](value, keyField);
}

/**
 * The account's lines each row names, keyed `field:value`: every match, so a row whose MSISDN or EID
 * names two lines is told so rather than given one of them.
 */
async function linesByKey(
  db: Executor,
  carrierAccountId: string,
  rows: ReadonlyArray<{ keyField: LineKey; key: string }>,
): Promise<Map<string, Device[]>> {
  const found = new Map<string, Device[]>();
  for (const [field, group] of Map.groupBy(rows, (row) => row.keyField)) {
    // A number is looked for in each form it may be stored in, and found under the form the row gave.
    const forms = (key: string) => (field === 'msisdn' ? msisdnForms(key) : [key]);
    const matches = await devicesRepository(db).findAllByIdentifiers(
      carrierAccountId,
      field,
      group.flatMap((row) => forms(row.key)),
    );
    for (const { key } of group) {
      // Oldest first (ids are time-ordered), whichever form each was found under.
      const devices = forms(key)
        .flatMap((form) => matches.get(form) ?? [])
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      if (devices.length > 0) found.set(`${field}:${key}`, devices);
    }
  }
  return found;
}

/** A SIM to activate must not be on a line in service already. */
function lineInService(device: Device): RowIssue | undefined {
  if (device.status === 'inventory' || device.status === 'deactivated') return undefined;
  return {
    field: 'iccid',
    code: 'SIM_IN_USE',
    message: `SIM ${device.iccid} is already on line ${device.msisdn ?? device.id} (${device.status})`,
  };
}

/** The inventory line a new service starts as: a SIM in stock, with the device it goes in. */
function newLine(tenantId: string, carrierAccountId: string, iccid: string, request: unknown): Device {
  const imei = (request as { imei?: unknown }).imei;
  const now = Date.now();
  return {
    id: newId(now),
    tenantId,
    carrierAccountId,
    iccid,
    imei: typeof imei === 'string' ? imei : null,
    msisdn: null,
    eid: null,
    status: 'inventory',
    carrierStatus: 'NEW',
    carrierRatePlan: null,
    communicationPlan: null,
    customerRatePlanId: null,
    customerPoolId: null,
    billingCustomerId: null,
    billingServiceId: null,
    ipAddress: null,
    username: null,
    costCenter1: null,
    costCenter2: null,
    costCenter3: null,
    optimizationGroup: null,
    lastUsageAt: null,
    archived: false,
    siteId: null,
    createdAt: now,
    updatedAt: now,
  };
}

function deviceProblem(
  device: Device,
  busyIn: string | undefined,
  archivedOnly: boolean,
): RowIssue | undefined {
  if (device.archived && !archivedOnly) {
    return {
      code: 'DEVICE_ARCHIVED',
      message: 'The line is archived; restore it with an unarchive change before changing it',
    };
  }
  if (!device.archived && archivedOnly) {
    return { code: 'DEVICE_NOT_ARCHIVED', message: 'The line is not archived' };
  }
  if (busyIn) {
    return {
      code: 'LINE_IN_RUNNING_CHANGE',
      message: `The line is in bulk change ${busyIn}, which is still running; wait for it or cancel it`,
    };
  }
  return undefined;
}

/**
 * The tenant's sites: a row's `siteId` may name one by id or by name (a CSV's "Site" column holds
 * names) and is stored as its id; a line's site is its own, else the tenant's default.
 */
async function siteCatalog(db: Executor, tenantId: string) {
  const sites = await sitesRepository(db).list(tenantId);
  const byId = new Map(sites.map((site) => [site.id, site]));
  const byName = new Map(sites.map((site) => [site.name.toLowerCase(), site]));
  const fallback = sites.find((site) => site.isDefault);
  return {
    resolve(request: Record<string, unknown>): { issue?: RowIssue } {
      const given = request.siteId;
      if (typeof given !== 'string') return {};
      const site = byId.get(given) ?? byName.get(given.toLowerCase());
      if (!site) {
        return {
          issue: {
            field: 'siteId',
            code: 'UNKNOWN_SITE',
            message: `${given} is not a site of this tenant (GET /api/v1/sites)`,
          },
        };
      }
      request.siteId = site.id;
      return {};
    },
    forLine: (device: Device): Site | undefined =>
      (device.siteId ? byId.get(device.siteId) : undefined) ?? fallback,
  };
}

/** A SIM swap's new ICCID must not belong to another line of the account already. */
async function iccidsInUse(db: Executor, carrierAccountId: string, requests: unknown[]) {
  const wanted = (request: unknown) => {
    const raw = (request as { newIccid?: unknown }).newIccid;
    return typeof raw === 'string' ? (checkIccid(raw).value ?? raw) : undefined;
  };
  const iccids = requests.map(wanted).filter((iccid): iccid is string => iccid !== undefined);
  const taken = iccids.length
    ? await devicesRepository(db).findByIdentifiers(carrierAccountId, 'iccid', iccids)
    : new Map();
  return (request: Record<string, unknown>): RowIssue | undefined => {
    const iccid = wanted(request);
    return iccid && taken.has(iccid)
      ? {
          field: 'newIccid',
          code: 'ICCID_IN_USE',
          message: `ICCID ${iccid} already belongs to another line of this account`,
        }
      : undefined;
  };
}

/** When a row waits, and why: its effective date or its line's quota, whichever frees it later. */
function rowWait(
  startAt: number | undefined,
  quota: { notBefore: number; message: string } | undefined,
): Pick<ValidRow, 'notBefore' | 'waitsFor'> {
  const dated = startAt !== undefined && startAt > Date.now() ? startAt : undefined;
  if (quota && (dated === undefined || quota.notBefore >= dated))
    return { notBefore: quota.notBefore, waitsFor: { reason: 'line_quota', message: quota.message } };
  return dated === undefined ? {} : { notBefore: dated, waitsFor: { reason: 'effective_date' } };
}

/**
 * The carrier's per-line quotas (ThingSpace's daily provisioning, monthly plan changes), counted from
 * our history and from the carrier's own refusals this period: a line with none left waits for the
 * next period (docs/guardrails.md).
 */
async function lineQuotas(
  options: {
    db: Executor;
    account: CarrierAccountView;
    adapter: CarrierAdapter;
    changeType: ChangeType;
    quotaCalendar: QuotaCalendar;
  },
  deviceIds: string[],
): Promise<(deviceId: string) => { notBefore: number; message: string } | undefined> {
  const applicable = (options.adapter.lineQuotas ?? []).filter((quota) =>
    quota.changeTypes.includes(options.changeType),
  );
  const repository = bulkChangesRepository(options.db);
  const now = Date.now();
  const counted = await Promise.all(
    applicable.map(async (quota) => {
      const since = options.quotaCalendar.periodStart(quota.period, now);
      const scope = { carrierAccountId: options.account.id, deviceIds, since };
      return {
        quota,
        counts: await repository.changesSince({ ...scope, changeTypes: quota.changeTypes }),
        refused: quota.refusalCode
          ? await repository.refusedSince({ ...scope, carrierCodeSuffix: quota.refusalCode })
          : new Set<string>(),
      };
    }),
  );
  return (deviceId) => {
    for (const { quota, counts, refused } of counted) {
      const done = counts.get(deviceId) ?? 0;
      if (done < quota.max && !refused.has(deviceId)) continue;
      const notBefore = options.quotaCalendar.nextPeriodStart(quota.period, now);
      const why =
        done >= quota.max
          ? `this line has had ${done} this ${quota.period} (UTC)`
          : `the carrier refused this line this ${quota.period} (UTC) as over it (changes made elsewhere count too)`;
      return {
        notBefore,
        message: `${quota.rule}; ${why}. It waits until ${new Date(notBefore).toISOString()}`,
      };
    }
    return undefined;
  };
}

/** Row fields that name an entry of one of the tenant's catalogs (API §2). */
const catalogFields = [
  {
    field: 'billingCustomerId',
    table: 'billing_customers',
    what: 'billing customer',
    code: 'UNKNOWN_BILLING_CUSTOMER',
  },
  {
    field: 'customerRatePlanId',
    table: 'customer_rate_plans',
    what: 'customer rate plan',
    code: 'UNKNOWN_CUSTOMER_RATE_PLAN',
  },
  { field: 'customerPoolId', table: 'customer_pools', what: 'customer pool', code: 'UNKNOWN_CUSTOMER_POOL' },
] as const;

/** Billing customers, customer plans and pools must exist in the tenant's catalogs, and be open. */
async function billingCatalogs(db: Executor, tenantId: string, requests: Record<string, unknown>[]) {
  const known = new Map<string, Map<string, CatalogRow>>();
  for (const { field, table } of catalogFields) {
    const ids = [
      ...new Set(requests.map((request) => request[field]).filter((id) => typeof id === 'string')),
    ];
    known.set(
      field,
      ids.length ? await billingRepository(db).catalogEntries(table, tenantId, ids as string[]) : new Map(),
    );
  }
  return (request: Record<string, unknown>): RowIssue | undefined => {
    for (const { field, what, code } of catalogFields) {
      const id = request[field];
      if (typeof id !== 'string') continue;
      const entry = known.get(field)?.get(id);
      if (!entry)
        return { field, code, message: `${id} is not a ${what} of this tenant (see the catalog in the API)` };
      if (entry.status !== 'active') {
        return {
          field,
          code: 'CATALOG_ENTRY_CLOSED',
          message: `The ${what} ${id} (${entry.name}) is closed`,
        };
      }
    }
    return undefined;
  };
}

/** The field naming a carrier rate plan, per change type. */
const catalogField: Partial<Record<ChangeType, string>> = {
  carrier_rate_plan_change: 'carrierRatePlan',
  activate_new_service: 'ratePlan',
};

/** Rate plans are checked against the account's catalog, when it has one. */
async function ratePlanCatalog(db: Executor, carrierAccountId: string, changeType: ChangeType) {
  const field = catalogField[changeType];
  if (!field) return undefined;
  const plans = await carrierAccountsRepository(db).listRatePlans(carrierAccountId);
  if (plans.length === 0) return undefined;
  const byCode = new Map(plans.map((plan) => [plan.code, plan]));
  return (request: Record<string, unknown>): RowIssue | undefined => {
    const plan = byCode.get(String(request[field]));
    if (!plan) {
      return {
        field,
        code: 'UNKNOWN_RATE_PLAN',
        message: `Rate plan "${request[field]}" is not in this account's catalog`,
      };
    }
    const allowed = plan.communicationPlan?.split('|');
    if (request.communicationPlan && allowed && !allowed.includes(String(request.communicationPlan))) {
      return {
        field: 'communicationPlan',
        code: 'COMMUNICATION_PLAN_NOT_ALLOWED',
        message: `Communication plan "${request.communicationPlan}" cannot be used with "${plan.code}" (allowed: ${allowed.join(', ')})`,
      };
    }
    return undefined;
  };
}

/**
 * A field's value as the flow's validation reads it (its case rules, its trimming), else as given: a
 * round-trip row's cell and its `current_*` cell are compared so, and so is an exported value with the line's.
 */
function fieldNormaliser(flow: Flow<unknown, unknown, string>) {
  const shape: Record<string, z.ZodType> =
    flow.requestSchema instanceof z.ZodObject ? flow.requestSchema.shape : {};
  return (field: RowField, value: unknown): unknown => {
    const parsed = shape[field]?.safeParse(value);
    if (parsed?.success) return parsed.data;
    return typeof value === 'string' ? value.trim() : value;
  };
}

/** Identifier checks name their own code (INVALID_LUHN, SCIENTIFIC_NOTATION…); other field problems are INVALID_FIELD. */
const issueCode = (issue: z.core.$ZodIssue): ErrorCode => {
  const params = 'params' in issue ? (issue.params as { code?: unknown } | undefined) : undefined;
  return typeof params?.code === 'string' && isErrorCode(params.code) ? params.code : 'INVALID_FIELD';
};
