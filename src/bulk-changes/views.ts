import type { AuditEntry } from '../audit/audit-repository.ts';
import { sliceForLine } from '../audit/row-slice.ts';
import type { BulkChange, DeviceChange } from '../core/bulk-change.ts';
import type { CarrierName } from '../core/change-types.ts';
import { toIso } from '../shared/time.ts';
import { bulkChangeName } from './bulk-change-name.ts';
import { approvalView, pauseView } from './events.ts';
import { resultColumnValues } from './result-columns.ts';

/** The API shapes of API §2; the account names the change when its creator did not. */
export const bulkChangeView = (change: BulkChange, account: { carrier: CarrierName; name: string }) => ({
  id: change.id,
  /** Given at creation, or made from what it does ("Deactivate 500 lines on Jasper (demo)"). */
  name: bulkChangeName(change, account.name),
  /** Whether the name was given (false: generated, and it follows the account's name). */
  nameGiven: change.name !== null,
  carrierAccountId: change.carrierAccountId,
  carrier: account.carrier,
  changeType: change.changeType,
  status: change.status,
  options: change.options,
  createdAt: toIso(change.createdAt),
  createdBy: change.createdBy,
  scheduledFor: toIso(change.scheduledFor),
  startedAt: toIso(change.startedAt),
  completedAt: toIso(change.completedAt),
  cancelRequestedAt: toIso(change.cancelRequestedAt),
  parentId: change.parentId,
  linkedId: change.linkedId,
  /** The bulk change that retried this one's failed rows. */
  retriedAsId: change.retriedAsId,
  /** The bulk change this one reverses (an undo), and the one that reverses this one. */
  undoOf: change.undoOf,
  undoneAsId: change.undoneAsId,
  /** Why the engine gave up on the bulk change (`failed`), when it did. */
  failureReason: change.failureReason,
  /** Told by e-mail when it ends, besides the tenant's own addresses. */
  notifyEmails: change.notifyEmails,
  /** While `paused`: why (`manual`, `circuit_open`, `canary_halt`), by whom, since when, and the figures behind it. */
  pause: pauseView(change.pause),
  /**
   * Held by the tenant's approval policy: why (`requiredBecause`), since when, and the decision once
   * made (`approved` or `rejected`, by whom, when, the note); null when it never was held.
   */
  approval: approvalView(change.approval),
  /** What it does when destructive (`deactivate`, `archive`, …); null when it is not. */
  destructiveAction: change.destructiveAction,
  /** In canary waves: the plan, the wave running now (1-based) with its rows, and each finished wave's figures. */
  waves: change.waves && {
    plan: change.waves.plan,
    current: change.waves.current + 1,
    currentRows: { afterRow: change.waves.afterRow, toRow: change.waves.toRow },
    results: change.waves.results,
  },
  counts: change.counts,
});
export type BulkChangeView = ReturnType<typeof bulkChangeView>;

export const deviceChangeView = (change: DeviceChange) => ({
  id: change.id,
  row: change.rowNumber,
  iccid: change.iccid,
  imei: change.imei,
  msisdn: change.msisdn,
  eid: change.eid,
  status: change.status,
  step: change.step,
  attempts: change.attempts,
  request: change.request,
  error: change.error,
  result: change.result,
  // What the row produced, as explicit fields beside `result` (new MSISDN, IP, swapped ICCID, request id).
  ...resultColumnValues(change),
  nextCheckAt: toIso(change.nextCheckAt),
  updatedAt: toIso(change.updatedAt),
});
export type DeviceChangeView = ReturnType<typeof deviceChangeView>;

export const auditEntryView = (entry: AuditEntry) => ({
  id: String(entry.id),
  at: toIso(entry.at),
  changeId: entry.deviceChangeId,
  action: entry.action,
  system: entry.system,
  actor: entry.actor,
  outcome: entry.outcome,
  httpStatus: entry.httpStatus,
  durationMs: entry.durationMs,
  request: entry.request,
  response: entry.response,
  /** How many rows a batch call carried (or a callback woke), when it was linked to rows. */
  rows: entry.linkedRows ? entry.linkedRows : null,
  /** Its place in the tenant's tamper-evident chain, once sealed. */
  seq: entry.seq,
});

/**
 * An entry on one row's timeline. A batch call's request and response are cut down to the row's part
 * (`sliced`: the elements naming its ICCID, IMEI, MSISDN or EID); the whole call is `GET /api/v1/audit/{id}`.
 */
export const rowAuditEntryView = (
  entry: AuditEntry,
  row: Pick<DeviceChange, 'id' | 'result' | IdentifierField>,
) => {
  const view = auditEntryView(entry);
  const batch = entry.deviceChangeId !== row.id && (entry.linkedRows ?? 0) > 1;
  if (!batch) return { ...view, sliced: false };
  // A number the carrier gave the line on the way (a new service's MSISDN) names it in later calls.
  const assigned = typeof row.result?.msisdn === 'string' ? row.result.msisdn : null;
  const identifiers = [row.iccid, row.imei, row.msisdn, row.eid, assigned];
  return {
    ...view,
    request: sliceForLine(entry.request, identifiers),
    response: sliceForLine(entry.response, identifiers),
    sliced: true,
  };
};
export type RowAuditEntryView = ReturnType<typeof rowAuditEntryView>;

type IdentifierField = 'iccid' | 'imei' | 'msisdn' | 'eid';
