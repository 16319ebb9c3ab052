import type { AuditEntryRow } from '../audit/audit-repository.ts';
import { toIso } from '../shared/time.ts';
import type { BulkChangeRow, Counts, DeviceChangeRow } from './bulk-changes-repository.ts';

/** The API shapes of API §2, built from rows. */
export const bulkChangeView = (row: BulkChangeRow, counts: Counts, carrier: string) => ({
  id: row.id,
  carrierAccountId: row.carrier_account_id,
  carrier,
  changeType: row.change_type,
  status: row.status,
  options: JSON.parse(row.options) as Record<string, unknown>,
  createdAt: toIso(row.created_at),
  createdBy: row.created_by,
  scheduledFor: toIso(row.scheduled_for),
  startedAt: toIso(row.started_at),
  completedAt: toIso(row.completed_at),
  cancelRequestedAt: toIso(row.cancel_requested_at),
  parentId: row.parent_id,
  linkedId: row.linked_id,
  /** The bulk change that retried this one's failed rows. */
  retriedAsId: row.retried_as_id,
  counts,
});
export type BulkChangeView = ReturnType<typeof bulkChangeView>;

export const deviceChangeView = (row: DeviceChangeRow) => ({
  id: row.id,
  row: row.row_number,
  iccid: row.iccid,
  imei: row.imei,
  msisdn: row.msisdn,
  eid: row.eid,
  status: row.status,
  step: row.step,
  attempts: row.attempts,
  request: JSON.parse(row.request) as Record<string, unknown>,
  error: row.error_code
    ? {
        code: row.error_code,
        message: row.error_message ?? '',
        ...(row.error_carrier_code ? { carrierCode: row.error_carrier_code } : {}),
      }
    : null,
  result: row.result ? (JSON.parse(row.result) as Record<string, unknown>) : null,
  nextCheckAt: toIso(row.next_check_at),
  updatedAt: toIso(row.updated_at),
});

const parseJson = (text: string | null): unknown => {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

export const auditEntryView = (row: AuditEntryRow) => ({
  id: String(row.id),
  at: toIso(row.at),
  changeId: row.device_change_id,
  action: row.action,
  system: row.system,
  actor: row.actor,
  outcome: row.outcome,
  httpStatus: row.http_status,
  durationMs: row.duration_ms,
  request: parseJson(row.request),
  response: parseJson(row.response),
});
