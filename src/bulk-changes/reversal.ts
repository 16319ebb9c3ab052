import type { CarrierName, ChangeType } from '../core/change-types.ts';
import type { RowStatus } from '../core/statuses.ts';
import type { IrreversibleReason } from '../core/undo.ts';
import type { RowFieldChange } from '../devices/device-history-repository.ts';
import type { Device } from '../devices/devices-repository.ts';

/**
 * What undoing one row of a bulk change means (ADR 0048): the row fields of its reverse, from what the
 * row changed on its line (the device history) and the line as it is now; or why it cannot be undone.
 */

/** The line fields an undo can set back: the history and the API name them alike. */
type ReversibleField = keyof Pick<
  Device,
  | 'status'
  | 'carrierRatePlan'
  | 'communicationPlan'
  | 'customerRatePlanId'
  | 'customerPoolId'
  | 'billingCustomerId'
  | 'username'
  | 'costCenter1'
  | 'costCenter2'
  | 'costCenter3'
  | 'siteId'
>;

interface Final {
  kind: 'final';
  reason: IrreversibleReason;
  message: string;
}

interface Reversible {
  kind: 'reversible';
  /** Each line field it sets back, and the row field of the same change type that sets it. */
  fields: Partial<Record<ReversibleField, string>>;
  /** Fields the change type needs on every row: sent as the line has them now when they did not change. */
  required?: ReversibleField[];
}

/** Every change type, reversed by the same change type or never. */
const reversals: Record<ChangeType, Reversible | Final> = {
  status_update: { kind: 'reversible', fields: { status: 'targetStatus' } },
  carrier_rate_plan_change: {
    kind: 'reversible',
    fields: { carrierRatePlan: 'carrierRatePlan', communicationPlan: 'communicationPlan' },
    required: ['carrierRatePlan'],
  },
  customer_rate_plan_change: {
    kind: 'reversible',
    fields: { customerRatePlanId: 'customerRatePlanId', customerPoolId: 'customerPoolId' },
  },
  customer_assignment: {
    kind: 'reversible',
    fields: {
      billingCustomerId: 'billingCustomerId',
      customerRatePlanId: 'customerRatePlanId',
      customerPoolId: 'customerPoolId',
    },
    required: ['billingCustomerId'],
  },
  username_cost_center_change: {
    kind: 'reversible',
    fields: {
      username: 'username',
      costCenter1: 'costCenter1',
      costCenter2: 'costCenter2',
      costCenter3: 'costCenter3',
    },
  },
  identifier_change: {
    kind: 'final',
    reason: 'IDENTIFIER_SWAP_FINAL',
    message:
      'An ICCID or IMEI swap is not reversed: the old SIM or device may be gone, and the carrier keeps the new one',
  },
  activate_new_service: {
    kind: 'final',
    reason: 'NEW_SERVICE_FINAL',
    message: 'A new service is not reversed: undoing it would cancel the line at the carrier',
  },
  billing_service_creation: {
    kind: 'final',
    reason: 'BILLING_INVOICED',
    message:
      'The row created a billing service, which billing may already have invoiced; disconnect it in billing',
  },
  archival: {
    kind: 'final',
    reason: 'ARCHIVAL_NOT_REVERSED',
    message: 'Archiving a line is not reversed by undo',
  },
  unarchive: {
    kind: 'final',
    reason: 'ARCHIVAL_NOT_REVERSED',
    message: 'Bringing a line back from the archive is not reversed by undo: archive it again',
  },
  site_assignment: { kind: 'reversible', fields: { siteId: 'siteId' } },
};

/** Statuses a line does not come back from on a carrier (docs/carriers/*.md), and why. */
function finalStatus(carrier: CarrierName, status: string): Final | undefined {
  if (status === 'retired') {
    return { kind: 'final', reason: 'RETIRED_FINAL', message: 'A retired line never comes back' };
  }
  if (status !== 'deactivated') return undefined;
  if (carrier === 'thingspace') {
    return {
      kind: 'final',
      reason: 'DEACTIVATION_FINAL',
      message:
        'ThingSpace brings a deactivated line back only as a new activation (a new MDN, maybe an early-termination fee), not as an undo',
    };
  }
  if (carrier === 'telegence') {
    return {
      kind: 'final',
      reason: 'DEACTIVATION_FINAL',
      message: 'AT&T does not restore a cancelled line',
    };
  }
  return undefined;
}

/** One row of the bulk change to undo: how it ended, and what it changed on its line, in order. */
export interface RowToReverse {
  status: RowStatus;
  changes: readonly RowFieldChange[];
}

export type Reversal =
  | { kind: 'reverse'; fields: Record<string, string> }
  | { kind: 'irreversible'; reason: IrreversibleReason; message: string };

const irreversible = (reason: IrreversibleReason, message: string): Reversal => ({
  kind: 'irreversible',
  reason,
  message,
});

/**
 * Each field's value before the row's first change of it and after its last: a row of several steps
 * may change a field more than once. A field that ended as it began did not change.
 */
function netChanges(
  changes: readonly RowFieldChange[],
): Map<string, { before: string | null; after: string | null }> {
  const net = new Map<string, { before: string | null; after: string | null }>();
  for (const change of changes) {
    const first = net.get(change.field);
    net.set(change.field, { before: first ? first.before : change.before, after: change.after });
  }
  for (const [field, { before, after }] of net) if (before === after) net.delete(field);
  return net;
}

const currentValue = (line: Device, field: ReversibleField): string | null => line[field] ?? null;

/**
 * The reverse of one row, on a line of `carrier`: the fields its undo row sets, or why it has none.
 * `line` is the line as the inventory holds it now (undefined: it left the inventory).
 */
export function reverseOf(
  changeType: ChangeType,
  carrier: CarrierName,
  row: RowToReverse,
  line: Device | undefined,
): Reversal {
  if (row.status !== 'succeeded') {
    return irreversible(
      'ROW_NOT_SUCCEEDED',
      `The row ${row.status === 'cancelled' ? 'was cancelled' : row.status === 'failed' ? 'failed' : `is ${row.status}`}: only rows that succeeded are reversed`,
    );
  }
  const reversal = reversals[changeType];
  if (reversal.kind === 'final') return irreversible(reversal.reason, reversal.message);
  const net = netChanges(row.changes);
  if (net.has('billingServiceId')) {
    return irreversible(
      'BILLING_INVOICED',
      'The row created a billing service, which billing may already have invoiced; undo it in billing by hand',
    );
  }
  const changed = (Object.keys(reversal.fields) as ReversibleField[]).filter((field) => net.has(field));
  if (changed.length === 0) {
    return irreversible('LINE_NOT_CHANGED', 'The row changed nothing on the line: it already was as asked');
  }
  if (!line) return irreversible('LINE_CHANGED_SINCE', 'The line is no longer in the inventory');
  const fields: Record<string, string> = {};
  for (const field of changed) {
    const { before, after } = net.get(field)!;
    const final = field === 'status' && after !== null ? finalStatus(carrier, after) : undefined;
    if (final) return irreversible(final.reason, final.message);
    const now = currentValue(line, field);
    if (now !== after) {
      return irreversible(
        'LINE_CHANGED_SINCE',
        `The line's ${field} is ${now ?? 'empty'} now, not ${after ?? 'empty'} as the change left it: undo would overwrite a later change`,
      );
    }
    if (before === null || (field === 'status' && before === 'unknown')) {
      return irreversible(
        'BEFORE_STATE_UNKNOWN',
        `The inventory held no ${field} for the line before the change: there is nothing to set back`,
      );
    }
    fields[reversal.fields[field]!] = before;
  }
  for (const field of reversal.required ?? []) {
    if (changed.includes(field)) continue;
    const now = currentValue(line, field);
    if (now === null) {
      return irreversible('BEFORE_STATE_UNKNOWN', `The line has no ${field}, which its reverse needs`);
    }
    fields[reversal.fields[field]!] = now;
  }
  return { kind: 'reverse', fields };
}
