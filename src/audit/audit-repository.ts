import type { Executor } from '../db/database.ts';
import type { AuditEntryRow, NewAuditEntryRow } from '../db/schema.ts';

export type NewAuditEntry = NewAuditEntryRow;

/** An entry of the audit log as read back: request and response decoded. */
export interface AuditEntry {
  id: number;
  tenantId: string;
  bulkChangeId: string | null;
  deviceChangeId: string | null;
  carrierAccountId: string | null;
  at: number;
  actor: string;
  action: string;
  system: string;
  request: unknown;
  response: unknown;
  httpStatus: number | null;
  durationMs: number | null;
  outcome: string;
}

/** Stored JSON, or the text as it is when an old entry holds something else. */
const parseJson = (text: string | null): unknown => {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

const toAuditEntry = (row: AuditEntryRow): AuditEntry => ({
  id: Number(row.id),
  tenantId: row.tenant_id,
  bulkChangeId: row.bulk_change_id,
  deviceChangeId: row.device_change_id,
  carrierAccountId: row.carrier_account_id,
  at: row.at,
  actor: row.actor,
  action: row.action,
  system: row.system,
  request: parseJson(row.request),
  response: parseJson(row.response),
  httpStatus: row.http_status,
  durationMs: row.duration_ms,
  outcome: row.outcome,
});

/** The audit log is append-only: there is no update or delete here, by design. */
export function auditRepository(db: Executor) {
  return {
    async append(entries: NewAuditEntry[]): Promise<void> {
      for (let start = 0; start < entries.length; start += 200) {
        await db
          .insertInto('audit_entries')
          .values(entries.slice(start, start + 200))
          .execute();
      }
    },

    async listForBulkChange(
      bulkChangeId: string,
      filter: { changeId?: string; afterId?: number; limit: number },
    ): Promise<AuditEntry[]> {
      let query = db.selectFrom('audit_entries').selectAll().where('bulk_change_id', '=', bulkChangeId);
      if (filter.changeId) query = query.where('device_change_id', '=', filter.changeId);
      if (filter.afterId !== undefined) query = query.where('id', '>', filter.afterId);
      const rows = await query.orderBy('id').limit(filter.limit).execute();
      return rows.map(toAuditEntry);
    },
  };
}
