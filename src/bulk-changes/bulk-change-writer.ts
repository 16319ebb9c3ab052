import type { Actor } from '../audit/actor.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { auditEntryForChange } from '../audit/change-entry.ts';
import type { Approval, NewDeviceChange } from '../core/bulk-change.ts';
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

    /**
     * `destructiveAction` marks a destructive change (the blast-radius cap counts its lines); with
     * `approval`, the tenant's policy holds it in `awaiting_approval`: no job until it is approved.
     */
    async end(
      bulkChangeId: string,
      options: {
        total: number;
        scheduledFor?: number | null;
        requestHash?: string | null;
        actor: Actor;
        destructiveAction?: string | null;
        approval?: Approval['requiredBecause'] | null;
      },
    ): Promise<void> {
      const scheduledFor = options.scheduledFor ?? null;
      const now = Date.now();
      const approval = options.approval ?? null;
      await repository.update(bulkChangeId, {
        totalCount: options.total,
        requestHash: options.requestHash ?? null,
        ...(scheduledFor !== null ? { status: 'scheduled', scheduledFor } : {}),
        ...(options.destructiveAction ? { destructiveAction: options.destructiveAction } : {}),
        ...(approval
          ? {
              status: 'awaiting_approval',
              approval: { requiredBecause: approval, requestedAt: now, decision: null },
            }
          : {}),
      });
      if (!approval)
        await enqueue(tx, advanceBulkChange.job({ bulkChangeId }, { runAt: scheduledFor ?? undefined }));
      const change = await repository.findById(bulkChangeId);
      if (!change) return;
      if (change.waves) await openNextWave(tx, change, change.waves, now);
      const after = {
        changeType: change.changeType,
        carrierAccountId: change.carrierAccountId,
        rows: options.total,
        ...(change.parentId ? { retryOf: change.parentId } : {}),
        ...(change.undoOf ? { undoOf: change.undoOf } : {}),
        ...(change.linkedId ? { followUpOf: change.linkedId } : {}),
        ...(change.notifyEmails.length ? { notifyEmails: change.notifyEmails } : {}),
        ...(change.waves ? { waves: change.waves.plan } : {}),
        ...(approval ? { awaitingApproval: approval } : {}),
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
      const summary = { bulkChange: bulkChangeSummary(change) };
      await publishEvents(tx, enqueue, change, [
        { type: 'bulk_change.created', data: summary },
        ...(approval ? [{ type: 'bulk_change.awaiting_approval' as const, data: summary }] : []),
      ]);
    },
  };
}
