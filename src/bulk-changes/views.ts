import type { AuditEntry } from '../audit/audit-repository.ts';
import type { BulkChange, DeviceChange } from '../core/bulk-change.ts';
import type { CarrierName } from '../core/change-types.ts';
import { toIso } from '../shared/time.ts';

/** The API shapes of API §2. */
export const bulkChangeView = (change: BulkChange, carrier: CarrierName) => ({
  id: change.id,
  carrierAccountId: change.carrierAccountId,
  carrier,
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
  /** Why the engine gave up on the bulk change (`failed`), when it did. */
  failureReason: change.failureReason,
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
  nextCheckAt: toIso(change.nextCheckAt),
  updatedAt: toIso(change.updatedAt),
});

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
});
