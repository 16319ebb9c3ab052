import { terminalBulkStatuses } from '../core/statuses.ts';
import type { Executor } from '../db/database.ts';

/** What retention reads and removes of bulk changes: the rows of those that ended long enough ago. */
export function retentionRepository(db: Executor) {
  return {
    /** A tenant's bulk changes that ended before `before` and still hold rows, oldest first. */
    async endedWithRows(tenantId: string, before: number, limit: number): Promise<string[]> {
      const rows = await db
        .selectFrom('bulk_changes')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('status', 'in', [...terminalBulkStatuses])
        .where('completed_at', '<', before)
        .where(({ exists, selectFrom }) =>
          exists(
            selectFrom('device_changes')
              .select('device_changes.id')
              .whereRef('device_changes.bulk_change_id', '=', 'bulk_changes.id'),
          ),
        )
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((row) => row.id);
    },

    /** Removes a bulk change's rows; the bulk change itself, with its counts, stays. */
    async deleteRows(bulkChangeId: string): Promise<number> {
      const result = await db
        .deleteFrom('device_changes')
        .where('bulk_change_id', '=', bulkChangeId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
