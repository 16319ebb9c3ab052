import type { Logger } from 'pino';
import type { BulkChange } from '../core/bulk-change.ts';
import { isTerminalBulkStatus, type RowStatus } from '../core/statuses.ts';
import { toIso } from '../shared/time.ts';

/**
 * One structured log line per step of a bulk change's life (docs/operations.md, "Logs"), written once
 * the transaction that took the step has committed, so a line never tells of a step rolled back. Each
 * carries the bulk change, its tenant and, when an API or portal request caused it, that request's id
 * (the `x-request-id` of its answer). `event` is the name the same step has as a webhook event.
 */
export type LifecycleStep =
  | { step: 'created'; requestId?: string }
  | { step: 'started' }
  | { step: 'approved' | 'rejected' }
  | { step: 'cancel_requested'; requestId?: string; rowsCancelled: number }
  | { step: 'finished' }
  | { step: 'given_up'; reason: string; rowsEnded: Partial<Record<RowStatus, number>> };

export function logLifecycle(
  logger: Pick<Logger, 'info' | 'error'>,
  change: BulkChange,
  step: LifecycleStep,
) {
  const base = {
    bulkChangeId: change.id,
    tenantId: change.tenantId,
    carrierAccountId: change.carrierAccountId,
    changeType: change.changeType,
    status: change.status,
  };
  switch (step.step) {
    case 'created':
      logger.info(
        {
          event: 'bulk_change.created',
          ...base,
          rows: change.counts.total,
          createdBy: change.createdBy,
          ...(change.scheduledFor !== null ? { scheduledFor: toIso(change.scheduledFor) } : {}),
          ...(change.parentId ? { retryOf: change.parentId } : {}),
          ...(change.linkedId ? { followUpOf: change.linkedId } : {}),
          ...(step.requestId ? { requestId: step.requestId } : {}),
        },
        'bulk change created',
      );
      return;
    case 'started':
      logger.info(
        {
          event: 'bulk_change.started',
          ...base,
          rows: change.counts.total,
          waitedMs: (change.startedAt ?? change.createdAt) - change.createdAt,
        },
        'bulk change started',
      );
      return;
    case 'approved':
    case 'rejected':
      logger.info(
        {
          event: `bulk_change.${step.step}`,
          ...base,
          rows: change.counts.total,
          decidedBy: change.approval?.decision?.by,
        },
        `bulk change ${step.step}`,
      );
      return;
    case 'cancel_requested':
      logger.info(
        {
          event: 'bulk_change.cancel_requested',
          ...base,
          rowsCancelled: step.rowsCancelled,
          ...(step.requestId ? { requestId: step.requestId } : {}),
        },
        'bulk change cancel requested',
      );
      return;
    case 'finished':
    case 'given_up': {
      const ended = {
        event: isTerminalBulkStatus(change.status) ? `bulk_change.${change.status}` : 'bulk_change.finished',
        ...base,
        counts: change.counts,
        durationMs: (change.completedAt ?? Date.now()) - (change.startedAt ?? change.createdAt),
      };
      if (step.step === 'finished') logger.info(ended, 'bulk change finished');
      else
        logger.error(
          { ...ended, reason: step.reason, rowsEnded: step.rowsEnded },
          'bulk change failed for good',
        );
      return;
    }
  }
}
