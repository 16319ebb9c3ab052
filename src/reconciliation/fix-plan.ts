import type { CarrierAdapter } from '../carriers/carrier.ts';
import type { ChangeType } from '../core/change-types.ts';
import type { DevicePatch } from '../core/flow.ts';
import type { NormalisedStatus } from '../core/statuses.ts';
import type { Drift } from './reconciliation-repository.ts';

/** One bulk change of a fix: its change type and its rows (the line's key and the row's fields). */
export interface FixChange {
  changeType: ChangeType;
  rows: Array<Record<string, string>>;
}

export interface FixPlan {
  changes: FixChange[];
  /** What the inventory learns from the carrier first, so the engine starts each row from the line's real state. */
  refresh: Array<{ deviceId: string; patch: DevicePatch }>;
  notFixable: Array<{ driftId: string; reason: string }>;
}

/** A status the fix sets, with the billing customer whose service it ensures or disconnects. */
interface StatusFix {
  targetStatus?: string;
  billingCustomerId?: string;
}

/**
 * Turns selected drifts into ordinary bulk changes (ADR 0049). Our inventory is the intent: the carrier
 * is put back to what the inventory says, and billing follows the carrier.
 * - `status_differs` → `status_update` to our status;
 * - `billed_but_deactivated` → `status_update` to `deactivated` with the service's customer: the line
 *   already is, so only billing's disconnect post-step runs;
 * - `active_not_billed` → `status_update` to `active` with our billing customer: the billing post-step
 *   creates the service;
 * - `plan_differs` → `carrier_rate_plan_change` to our plan;
 * - `missing_at_carrier` → `archival` of our line;
 * - `missing_from_inventory` is not a change: an inventory sync adds the line.
 * A line has one row per change type; its status and billing drifts merge into one `status_update` row.
 */
export function planFix(drifts: readonly Drift[], adapter: CarrierAdapter): FixPlan {
  const statusRows = new Map<string, { key: Record<string, string>; fix: StatusFix }>();
  const planRows: FixChange['rows'] = [];
  const archivalRows: FixChange['rows'] = [];
  const refresh = new Map<string, DevicePatch>();
  const notFixable: FixPlan['notFixable'] = [];
  const targets = new Set<string>(adapter.targetStatuses);
  for (const drift of drifts) {
    const key = lineKey(drift, adapter.keyField);
    if (drift.kind === 'missing_from_inventory') {
      notFixable.push({
        driftId: drift.id,
        reason: 'The inventory does not have the line: run an inventory sync to add it',
      });
      continue;
    }
    if (!key || !drift.deviceId) {
      notFixable.push({
        driftId: drift.id,
        reason: `The line has no ${adapter.keyField} in the inventory to name it by`,
      });
      continue;
    }
    if (drift.kind === 'missing_at_carrier') {
      archivalRows.push(key);
      continue;
    }
    if (drift.carrierStatus !== null) {
      refresh.set(drift.deviceId, {
        ...refresh.get(drift.deviceId),
        carrierStatus: drift.carrierStatus,
        status: adapter.normaliseStatus(drift.carrierStatus),
      });
    }
    if (drift.kind === 'plan_differs') {
      if (drift.ourValue === null) {
        notFixable.push({ driftId: drift.id, reason: 'The inventory has no rate plan for the line' });
        continue;
      }
      refresh.set(drift.deviceId, { ...refresh.get(drift.deviceId), carrierRatePlan: drift.carrierValue });
      planRows.push({ ...key, carrierRatePlan: drift.ourValue });
      continue;
    }
    const fix = statusFix(drift);
    if (fix.targetStatus !== undefined && !targets.has(fix.targetStatus)) {
      notFixable.push({
        driftId: drift.id,
        reason: `A status change cannot make a ${adapter.carrier} line ${fix.targetStatus}`,
      });
      continue;
    }
    const row = statusRows.get(drift.deviceId) ?? { key, fix: {} };
    row.fix = mergeStatusFix(row.fix, fix, drift.kind === 'status_differs');
    statusRows.set(drift.deviceId, row);
  }
  const changes: FixChange[] = [
    {
      changeType: 'status_update' as const,
      rows: [...statusRows.values()].map(({ key, fix }) => ({
        ...key,
        targetStatus: fix.targetStatus!,
        ...(fix.billingCustomerId && billsOrDisconnects(fix.targetStatus!)
          ? { billingCustomerId: fix.billingCustomerId }
          : {}),
      })),
    },
    { changeType: 'carrier_rate_plan_change' as const, rows: planRows },
    { changeType: 'archival' as const, rows: archivalRows },
  ].filter((change) => change.rows.length > 0);
  return {
    changes,
    refresh: [...refresh].map(([deviceId, patch]) => ({ deviceId, patch })),
    notFixable,
  };
}

const lineKey = (drift: Drift, keyField: CarrierAdapter['keyField']): Record<string, string> | undefined => {
  const value = keyField === 'iccid' ? drift.iccid : keyField === 'msisdn' ? drift.msisdn : null;
  return value ? { [keyField]: value } : undefined;
};

const statusFix = (drift: Drift): StatusFix => {
  switch (drift.kind) {
    case 'status_differs':
      return { targetStatus: drift.ourValue ?? undefined };
    case 'billed_but_deactivated':
      return { targetStatus: 'deactivated', billingCustomerId: drift.billingCustomerId ?? undefined };
    default:
      return { targetStatus: 'active', billingCustomerId: drift.billingCustomerId ?? undefined };
  }
};

/** Our status wins over what a billing drift assumed; the billing customer is kept from either. */
const mergeStatusFix = (earlier: StatusFix, fix: StatusFix, isStatusDrift: boolean): StatusFix => ({
  targetStatus: isStatusDrift || earlier.targetStatus === undefined ? fix.targetStatus : earlier.targetStatus,
  billingCustomerId: fix.billingCustomerId ?? earlier.billingCustomerId,
});

const billsOrDisconnects = (status: string) =>
  (['active', 'deactivated', 'retired'] as NormalisedStatus[]).includes(status as NormalisedStatus);
