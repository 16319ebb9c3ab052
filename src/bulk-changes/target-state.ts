import type { ChangeType } from '../core/change-types.ts';
import type { Device } from '../devices/devices-repository.ts';
import { isCurrentValueColumnOf, type RowField } from './row-fields.ts';

/** What a row changes on its line: the field, the inventory's value now and the value asked for. */
export interface TargetState {
  field: string;
  current: string | null;
  target: string;
  /** The line already is what the row asks for: sending it would change nothing. */
  alreadyInTarget: boolean;
}

/** A row field whose value the inventory also holds. */
export interface TargetField {
  field: RowField;
  /** The line's field, as GET /devices names it. */
  lineField: string;
  current: (device: Device) => string | null;
  /** A row may go without it (the carrier or billing then leaves that value of the line alone). */
  optional?: true;
}

/**
 * The change types whose row sets values the inventory also holds, so a row can be seen to change
 * nothing: the first field is the one the dry run shows when a row changes none; the fields a row may
 * go without are marked `optional` and compared only when given. Only where the inventory is what the change writes, or what the carrier
 * last said: the status and the carrier rate plan (kept by the inventory sync), and the customer rate
 * plan, pool and site, which live in the inventory alone. Types that create or swap something (new
 * service, billing, identifiers) are left out, and so is the username: it is written at the carrier
 * and in billing's custom fields as well, and the inventory agreeing says nothing of billing — sending
 * it again is how one repairs billing.
 */
const targetFields: Partial<Record<ChangeType, readonly TargetField[]>> = {
  status_update: [{ field: 'targetStatus', lineField: 'status', current: (device) => device.status }],
  // A new communication plan on the same rate plan is still a change.
  carrier_rate_plan_change: [
    { field: 'carrierRatePlan', lineField: 'carrierRatePlan', current: (device) => device.carrierRatePlan },
    {
      field: 'communicationPlan',
      lineField: 'communicationPlan',
      current: (device) => device.communicationPlan,
      optional: true,
    },
  ],
  // Either or both (the flow asks for one at least).
  customer_rate_plan_change: [
    {
      field: 'customerRatePlanId',
      lineField: 'customerRatePlanId',
      current: (device) => device.customerRatePlanId,
      optional: true,
    },
    {
      field: 'customerPoolId',
      lineField: 'customerPoolId',
      current: (device) => device.customerPoolId,
      optional: true,
    },
  ],
  site_assignment: [{ field: 'siteId', lineField: 'siteId', current: (device) => device.siteId }],
};

/** The change types whose rows set values the inventory holds: the ones a selection exports for editing. */
export const oneValueChangeTypes = Object.keys(targetFields) as ChangeType[];

/** Whether rows of this change type ask for values the inventory holds, so a line can already have them. */
export const setsOneValue = (changeType: ChangeType): boolean => targetFields[changeType] !== undefined;

/** The fields a row of this change type sets that the inventory holds (none for other types). */
export const targetFieldsOf = (changeType: ChangeType): readonly TargetField[] =>
  targetFields[changeType] ?? [];

/** The row field a round-trip file's `current_*` column sits beside, when it is one of the type's. */
export const exportedValueField = (header: string, changeType: ChangeType): RowField | undefined =>
  targetFieldsOf(changeType).find(({ lineField }) => isCurrentValueColumnOf(header, lineField))?.field;

/**
 * Whether the operator edited a round-trip row (ADR 0059): some field is given and differs from its own
 * `current_*` cell, both as the field's validation reads them (`normalise`: its case rules; the readers
 * trimmed them). A blank or missing `current_*` cell is no value, so a field given beside one is edited.
 * Rows of other change types are taken as edited.
 */
export function isEdited(
  changeType: ChangeType,
  fields: Record<string, unknown>,
  exported: Partial<Record<RowField, string>> | undefined,
  normalise: (field: RowField, value: unknown) => unknown,
): boolean {
  // A type the inventory holds no values of has nothing to compare: its every row is as written.
  if (!setsOneValue(changeType)) return true;
  return targetFieldsOf(changeType).some(
    ({ field }) => fields[field] !== undefined && !asExported(field, fields[field], exported, normalise),
  );
}

/** A field's value is its own `current_*` cell, both read as its validation reads them. */
const asExported = (
  field: RowField,
  value: unknown,
  exported: Partial<Record<RowField, string>> | undefined,
  normalise: (field: RowField, value: unknown) => unknown,
): boolean => {
  const was = exported?.[field];
  return was !== undefined && normalise(field, value) === normalise(field, was);
};

/**
 * An edited round-trip row without the optional fields the operator left as exported (ADR 0059): an
 * edited rate plan does not also send the communication plan cell beside it, which would put back a
 * communication plan someone changed since the export. A field the row must give stays, edited or not.
 */
export function withoutUneditedFields(
  changeType: ChangeType,
  fields: Record<string, unknown>,
  exported: Partial<Record<RowField, string>> | undefined,
  normalise: (field: RowField, value: unknown) => unknown,
): Record<string, unknown> {
  const unedited = targetFieldsOf(changeType).filter(
    ({ field, optional }) =>
      optional && fields[field] !== undefined && asExported(field, fields[field], exported, normalise),
  );
  if (unedited.length === 0) return fields;
  const kept = { ...fields };
  for (const { field } of unedited) delete kept[field];
  return kept;
}

/** A line's value that moved since the file was exported: neither its `current_*` cell nor the row's value. */
export interface ExportedValueChange {
  field: RowField;
  was: string | null;
  now: string | null;
}

/**
 * The first field of an edited round-trip row whose line moved since the export (someone changed it
 * meanwhile): the row is still sent, as asked, and the dry run says what it overrides.
 */
export function exportedValueChange(
  changeType: ChangeType,
  request: Record<string, unknown>,
  device: Device,
  exported: Partial<Record<RowField, string>> | undefined,
  normalise: (field: RowField, value: unknown) => unknown,
): ExportedValueChange | undefined {
  for (const { field, current } of targetFieldsOf(changeType)) {
    const asked = request[field];
    if (typeof asked !== 'string') continue;
    const cell = exported?.[field];
    const was = cell === undefined ? null : String(normalise(field, cell));
    const now = current(device);
    if (now !== was && now !== asked) return { field, was, now };
  }
  return undefined;
}

/**
 * The row's current → target, for the change types that have one: the first field the row gives a
 * different value for (else its first given field). A row that gives none keeps the line as it is
 * (a round-trip file's blank cells), which is already where it should be.
 */
export function targetState(
  changeType: ChangeType,
  request: Record<string, unknown>,
  device: Device,
): TargetState | undefined {
  const fields = targetFieldsOf(changeType);
  if (fields.length === 0) return undefined;
  const given = fields.flatMap(({ field, current }) => {
    const target = request[field];
    return typeof target === 'string' ? [{ field, current: current(device), target }] : [];
  });
  if (given.length === 0) {
    const { field, current } = fields[0];
    const value = current(device);
    return { field, current: value, target: value ?? '', alreadyInTarget: true };
  }
  const changed = given.find((value) => value.current !== value.target);
  return { ...(changed ?? given[0]), alreadyInTarget: changed === undefined };
}
