import type { Actor } from '../audit/actor.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { auditEntryForChange } from '../audit/change-entry.ts';
import type { Approval, BulkChange } from '../core/bulk-change.ts';
import type { Tx } from '../db/database.ts';
import type { ApprovalPolicy } from './approval-policy-repository.ts';
import { bulkChangesRepository } from './bulk-changes-repository.ts';
import { announceFinished, bulkChangeSummary, publishEvents } from './events.ts';
import { advanceBulkChange, type Enqueue } from './jobs.ts';

/**
 * Why the tenant's policy holds a new bulk change for a second person's approval: it is destructive
 * (`action`) and has more lines than the policy allows without one. Null when it goes ahead.
 */
export function approvalRequirement(
  policy: ApprovalPolicy,
  action: string | null,
  lines: number,
): Approval['requiredBecause'] | null {
  const aboveLines = policy.approvalAboveLines;
  if (action === null || aboveLines === null || lines <= aboveLines) return null;
  return { action, lines, aboveLines };
}

export interface ApprovalDecision {
  outcome: 'approved' | 'rejected';
  actor: Actor;
  /** The deciding key's (or user's) name, shown beside its id. */
  actorName: string;
  note: string | null;
  at: number;
}

/**
 * Decides a change `awaiting_approval` in the caller's transaction (docs/guardrails.md). Approved, it
 * goes ahead (`queued`, or `scheduled` until its time) with the job that starts it; rejected, its rows
 * are cancelled and it ends `cancelled`, so its lines are free again. Either way: its audit entry and
 * its event. False when it was not awaiting approval (decided by someone else first, or cancelled).
 */
export async function decideApproval(
  tx: Tx,
  enqueue: Enqueue,
  change: BulkChange,
  decision: ApprovalDecision,
): Promise<boolean> {
  const repository = bulkChangesRepository(tx);
  if (!change.approval) return false;
  const approval: Approval = {
    ...change.approval,
    decision: {
      outcome: decision.outcome,
      by: decision.actor.id,
      byName: decision.actorName,
      at: decision.at,
      note: decision.note,
    },
  };
  const scheduledFor = change.scheduledFor ?? 0;
  const status =
    decision.outcome === 'rejected' ? 'cancelled' : scheduledFor > decision.at ? 'scheduled' : 'queued';
  if (!(await repository.decideApproval(change.id, { status, approval, at: decision.at }))) return false;
  const rowsCancelled =
    status === 'cancelled' ? await repository.cancelQueuedRows(change.id, decision.at) : 0;
  if (status !== 'cancelled') {
    await enqueue(
      tx,
      advanceBulkChange.job(
        { bulkChangeId: change.id },
        { runAt: status === 'scheduled' ? scheduledFor : undefined },
      ),
    );
  }
  await auditRepository(tx).append([
    auditEntryForChange({
      tenantId: change.tenantId,
      actor: decision.actor,
      action: decision.outcome === 'approved' ? 'bulk_change.approve' : 'bulk_change.reject',
      subject: { bulkChangeId: change.id, carrierAccountId: change.carrierAccountId },
      before: { status: change.status },
      after: { status, ...(status === 'cancelled' ? { rowsCancelled } : {}) },
      detail: { note: decision.note, requiredBecause: change.approval.requiredBecause },
      at: decision.at,
    }),
  ]);
  const now = await repository.findById(change.id);
  if (now) {
    await publishEvents(
      tx,
      enqueue,
      now,
      [{ type: `bulk_change.${decision.outcome}`, data: { bulkChange: bulkChangeSummary(now) } }],
      decision.at,
    );
  }
  if (status === 'cancelled') await announceFinished(tx, enqueue, change.id, decision.at);
  return true;
}
