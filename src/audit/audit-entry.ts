import type { AuditRecord } from '../core/audit-record.ts';
import type { NewAuditEntry } from './audit-repository.ts';

export interface AuditScope {
  tenantId: string;
  bulkChangeId: string | null;
  deviceChangeId: string | null;
  carrierAccountId: string | null;
  actor: string;
  /** The rows a batch call carried (or a callback woke), when it is not one row's: linked to the entry. */
  rowIds?: readonly string[];
}

const links = (scope: AuditScope) => (scope.rowIds?.length ? { rowIds: scope.rowIds } : {});

/** An HTTP call's record (already redacted by the client) as a row of the audit log. */
export function auditEntryFromCall(scope: AuditScope, record: AuditRecord): NewAuditEntry {
  return {
    tenant_id: scope.tenantId,
    bulk_change_id: scope.bulkChangeId,
    device_change_id: scope.deviceChangeId,
    carrier_account_id: scope.carrierAccountId,
    at: record.at,
    actor: scope.actor,
    action: record.action,
    system: record.system,
    request: JSON.stringify({ method: record.method, url: record.url, ...record.request }),
    response: record.response === null ? null : JSON.stringify(record.response),
    http_status: record.httpStatus,
    duration_ms: Math.round(record.durationMs),
    outcome: record.outcome,
    ...links(scope),
  };
}

/** A step the platform took itself (no external call), such as failing rows because writes are disabled. */
export function auditEntryForEvent(
  scope: AuditScope,
  event: { action: string; outcome: string; detail: unknown },
  at = Date.now(),
): NewAuditEntry {
  return {
    tenant_id: scope.tenantId,
    bulk_change_id: scope.bulkChangeId,
    device_change_id: scope.deviceChangeId,
    carrier_account_id: scope.carrierAccountId,
    at,
    actor: scope.actor,
    action: event.action,
    system: 'bulkchange',
    request: null,
    response: JSON.stringify(event.detail),
    http_status: null,
    duration_ms: null,
    outcome: event.outcome,
    ...links(scope),
  };
}
