import type { Actor } from '../audit/actor.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { auditEntryForChange } from '../audit/change-entry.ts';
import type { BulkChange, Pause } from '../core/bulk-change.ts';
import type { PauseReason } from '../core/statuses.ts';
import type { Tx } from '../db/database.ts';
import { bulkChangesRepository } from './bulk-changes-repository.ts';
import { bulkChangeSummary, pauseView, publishEvents } from './events.ts';
import { advanceBulkChange, type Enqueue } from './jobs.ts';

/**
 * Pauses a bulk change in the caller's transaction (docs/guardrails.md): its status, the audit entry
 * with the actor, and the `bulk_change.paused` event together. A pause whose reason is in `over` is
 * replaced (a person's hold over the circuit's, say). False when nothing changed: finished, or already
 * paused for another reason.
 */
export async function pauseBulkChange(
  tx: Tx,
  enqueue: Enqueue,
  change: BulkChange,
  pause: { reason: PauseReason; actor: Actor; detail: Record<string, unknown>; at: number },
  over: readonly PauseReason[] = [],
): Promise<boolean> {
  const repository = bulkChangesRepository(tx);
  const record: Pause = { reason: pause.reason, by: pause.actor.id, at: pause.at, detail: pause.detail };
  if (!(await repository.pause(change.id, record, over))) return false;
  await auditRepository(tx).append([
    auditEntryForChange({
      tenantId: change.tenantId,
      actor: pause.actor,
      action: 'bulk_change.pause',
      subject: { bulkChangeId: change.id, carrierAccountId: change.carrierAccountId },
      before: { status: change.status, ...(change.pause ? { pause: pauseView(change.pause) } : {}) },
      after: { status: 'paused', pause: pauseView(record) },
      at: pause.at,
    }),
  ]);
  await announce(tx, enqueue, change.id, 'bulk_change.paused', pause.at);
  return true;
}

/**
 * Resumes a paused bulk change (only a pause of `reason`, when given) in the caller's transaction: it
 * goes back to where it was (`processing` once started, else `queued`, or `scheduled` until its time),
 * with its audit entry, its `bulk_change.resumed` event and the job that carries on where it stopped.
 */
export async function resumeBulkChange(
  tx: Tx,
  enqueue: Enqueue,
  change: BulkChange,
  resume: { actor: Actor; at: number; reason?: PauseReason },
): Promise<boolean> {
  const scheduledFor = change.scheduledFor ?? 0;
  const status = change.startedAt !== null ? 'processing' : scheduledFor > resume.at ? 'scheduled' : 'queued';
  if (!(await bulkChangesRepository(tx).resume(change.id, status, resume.at, resume.reason))) return false;
  await enqueue(
    tx,
    advanceBulkChange.job(
      { bulkChangeId: change.id },
      { runAt: status === 'scheduled' ? scheduledFor : undefined },
    ),
  );
  await auditRepository(tx).append([
    auditEntryForChange({
      tenantId: change.tenantId,
      actor: resume.actor,
      action: 'bulk_change.resume',
      subject: { bulkChangeId: change.id, carrierAccountId: change.carrierAccountId },
      before: { status: 'paused', pause: pauseView(change.pause) },
      after: { status },
      at: resume.at,
    }),
  ]);
  await announce(tx, enqueue, change.id, 'bulk_change.resumed', resume.at);
  return true;
}

async function announce(
  tx: Tx,
  enqueue: Enqueue,
  id: string,
  type: 'bulk_change.paused' | 'bulk_change.resumed',
  at: number,
): Promise<void> {
  const now = await bulkChangesRepository(tx).findById(id);
  if (now)
    await publishEvents(tx, enqueue, now, [{ type, data: { bulkChange: bulkChangeSummary(now) } }], at);
}
