import type { NewDeviceChange } from '../core/bulk-change.ts';
import type { Tx } from '../db/database.ts';
import { bulkChangesRepository, type NewBulkChange } from './bulk-changes-repository.ts';
import { advanceBulkChange, type Enqueue } from './jobs.ts';

/**
 * Writes a bulk change inside the caller's transaction (DESIGN §2.2): `begin` (its row), `addRows` (a
 * batch at a time, as they are checked), `end` (its total, schedule and first job). Intake, a retry
 * and a finished change's follow-up all write through it.
 */
export function bulkChangeWriter(tx: Tx, enqueue: Enqueue) {
  const repository = bulkChangesRepository(tx);
  return {
    begin: (change: NewBulkChange): Promise<void> => repository.insertBulkChange(change),

    addRows: (rows: NewDeviceChange[], now: number): Promise<void> =>
      rows.length === 0 ? Promise.resolve() : repository.insertDeviceChanges(rows, now),

    async end(
      bulkChangeId: string,
      options: { total: number; scheduledFor?: number | null; requestHash?: string | null },
    ): Promise<void> {
      const scheduledFor = options.scheduledFor ?? null;
      await repository.update(bulkChangeId, {
        totalCount: options.total,
        requestHash: options.requestHash ?? null,
        ...(scheduledFor !== null ? { status: 'scheduled', scheduledFor } : {}),
      });
      await enqueue(tx, advanceBulkChange.job({ bulkChangeId }, { runAt: scheduledFor ?? undefined }));
    },
  };
}
