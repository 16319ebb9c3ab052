import type { Insertable, Selectable } from 'kysely';
import type { Executor } from '../db/database.ts';
import type { AuditEntryTable } from '../db/schema.ts';

export type NewAuditEntry = Insertable<AuditEntryTable>;
export type AuditEntryRow = Selectable<AuditEntryTable>;

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
    ): Promise<AuditEntryRow[]> {
      let query = db.selectFrom('audit_entries').selectAll().where('bulk_change_id', '=', bulkChangeId);
      if (filter.changeId) query = query.where('device_change_id', '=', filter.changeId);
      if (filter.afterId !== undefined) query = query.where('id', '>', filter.afterId);
      return query.orderBy('id').limit(filter.limit).execute();
    },
  };
}
