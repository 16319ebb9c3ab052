import type { Actor } from '../audit/actor.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { auditEntryForChange } from '../audit/change-entry.ts';
import type { NewDeviceChange } from '../core/bulk-change.ts';
import type { Tx } from '../db/database.ts';
import { toIso } from '../shared/time.ts';
import { bulkChangesRepository, type NewBulkChange } from './bulk-changes-repository.ts';
import { bulkChangeSummary, publishEvents } from './events.ts';
import { advanceBulkChange, type Enqueue } from './jobs.ts';
import { openNextWave } from './waves.ts';

/**
 * Writes a bulk change inside the caller's transaction (DESIGN §2.2): `begin` (its row), `addRows` (a
 * batch at a time, as they are checked), `end` (its total, schedule, first job, audit entry and
 * `bulk_change.created` event). Intake, a retry and a finished change's follow-up all write through it.
 */
export function bulkChangeWriter(tx: Tx, enqueue: Enqueue) {
  const repository = bulkChangesRepository(tx);
  return {
    begin: (change: NewBulkChange): Promise<void> => repository.insertBulkChange(change),

    addRows: (rows: NewDeviceChange[], now: number): Promise<void> =>
      rows.length === 0 ? Promise.resolve() : repository.insertDeviceChanges(rows, now),

    async end(
      bulkChangeId: string,
      options: { total: number; scheduledFor?: number | null; requestHash?: string | null; actor: Actor },
    ): Promise<void> {
      const scheduledFor = options.scheduledFor ?? null;
      await repository.update(bulkChangeId, {
        totalCount: options.total,
        requestHash: options.requestHash ?? null,
        ...(scheduledFor !== null ? { status: 'scheduled', scheduledFor } : {}),
      });
      await enqueue(tx, advanceBulkChange.job({ bulkChangeId }, { runAt: scheduledFor ?? undefined }));
      const change = await repository.findById(bulkChangeId);
      if (!change) return;
      if (change.waves) await openNextWave(tx, change, change.waves, Date.now());
      const after = {
        changeType: change.changeType,
        carrierAccountId: change.carrierAccountId,
        rows: options.total,
        ...(change.parentId ? { retryOf: change.parentId } : {}),
        ...(change.undoOf ? { undoOf: change.undoOf } : {}),
        ...(change.linkedId ? { followUpOf: change.linkedId } : {}),
        ...(change.notifyEmails.length ? { notifyEmails: change.notifyEmails } : {}),
        ...(change.waves ? { waves: change.waves.plan } : {}),
      };
      const subject = { bulkChangeId, carrierAccountId: change.carrierAccountId };
      await auditRepository(tx).append([
        auditEntryForChange({
          tenantId: change.tenantId,
          actor: options.actor,
          action: 'bulk_change.create',
          subject,
          after,
        }),
        ...(scheduledFor !== null
          ? [
              auditEntryForChange({
                tenantId: change.tenantId,
                actor: options.actor,
                action: 'bulk_change.schedule',
                subject,
                after: { scheduledFor: toIso(scheduledFor) },
              }),
            ]
          : []),
      ]);
      await publishEvents(tx, enqueue, change, [
        { type: 'bulk_change.created', data: { bulkChange: bulkChangeSummary(change) } },
      ]);
    },
  };
}
