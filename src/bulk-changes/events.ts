import { z } from 'zod';
import type { Approval, BulkChange, Pause } from '../core/bulk-change.ts';
import type { RowError } from '../core/flow.ts';
import { isTerminalBulkStatus, pauseReasons } from '../core/statuses.ts';
import type { Tx } from '../db/database.ts';
import { defineTask } from '../queue/index.ts';
import { isoTime, jsonObject } from '../shared/answers.ts';
import { newId } from '../shared/ids.ts';
import { toIso } from '../shared/time.ts';
import { bulkChangesRepository } from './bulk-changes-repository.ts';
import { type EventType, finishedEvent } from './event-types.ts';
import { eventsRepository } from './events-repository.ts';
import type { Enqueue } from './jobs.ts';

/** Wakes the dispatcher of a tenant's new events (webhooks, e-mail); one pending per tenant. */
export const dispatchEventsTask = defineTask({
  name: 'events.dispatch',
  payload: z.object({ tenantId: z.string().min(1) }),
  key: ({ tenantId }) => `events-dispatch:${tenantId}`,
  maxAttempts: 100,
});

/** A bulk change as events carry it: its state at the moment of the event. */
export const bulkChangeSummary = (change: BulkChange) => ({
  id: change.id,
  carrierAccountId: change.carrierAccountId,
  changeType: change.changeType,
  status: change.status,
  createdAt: toIso(change.createdAt),
  createdBy: change.createdBy,
  scheduledFor: toIso(change.scheduledFor),
  startedAt: toIso(change.startedAt),
  completedAt: toIso(change.completedAt),
  parentId: change.parentId,
  linkedId: change.linkedId,
  undoOf: change.undoOf,
  failureReason: change.failureReason,
  pause: pauseView(change.pause),
  approval: approvalView(change.approval),
  counts: change.counts,
});

/** A pause as the API, the portal and events show it. */
export const pauseViewSchema = z.object({
  reason: z.enum(pauseReasons),
  by: z.string().describe('Who paused it, as the audit log names actors (`key:<id>`, `engine`)'),
  at: isoTime,
  detail: jsonObject.describe('The figures behind it (error rate, the wave, when it resumes by itself)'),
});

export const pauseView = (pause: Pause | null): z.infer<typeof pauseViewSchema> | null =>
  pause && { reason: pause.reason, by: pause.by, at: toIso(pause.at)!, detail: pause.detail };

/** An approval (docs/guardrails.md) as the API, the portal and events show it. */
export const approvalViewSchema = z.object({
  requiredBecause: z.object({ action: z.string(), lines: z.number().int(), aboveLines: z.number().int() }),
  requestedAt: isoTime,
  decision: z
    .object({
      outcome: z.enum(['approved', 'rejected']),
      by: z.string(),
      byName: z.string(),
      at: isoTime,
      note: z.string().nullable(),
    })
    .nullable(),
});

export const approvalView = (approval: Approval | null): z.infer<typeof approvalViewSchema> | null =>
  approval && {
    requiredBecause: approval.requiredBecause,
    requestedAt: toIso(approval.requestedAt)!,
    decision: approval.decision && { ...approval.decision, at: toIso(approval.decision.at)! },
  };

/** A failed row as its event carries it. */
export interface FailedRow {
  id: string;
  rowNumber: number;
  iccid: string | null;
  imei: string | null;
  msisdn: string | null;
  eid: string | null;
  error: RowError;
}

export interface NewEvent {
  type: EventType;
  data: Record<string, unknown>;
}

/**
 * Publishes events in the caller's transaction (the one that changed the status: a transactional
 * outbox), and wakes the tenant's dispatcher with them. Nothing is lost between "changed" and "told".
 */
export async function publishEvents(
  tx: Tx,
  enqueue: Enqueue,
  change: Pick<BulkChange, 'id' | 'tenantId'>,
  events: readonly NewEvent[],
  now = Date.now(),
): Promise<void> {
  if (events.length === 0) return;
  await eventsRepository(tx).insert(
    events.map((event) => ({
      eventId: `evt_${newId(now).replaceAll('-', '')}`,
      tenantId: change.tenantId,
      type: event.type,
      bulkChangeId: change.id,
      data: event.data,
      createdAt: now,
    })),
  );
  await enqueue(tx, dispatchEventsTask.job({ tenantId: change.tenantId }));
}

/**
 * Moves a scheduled or queued change to processing, once (another job may race), with its `started`
 * event. Returns it when this call started it.
 */
export async function startBulkChange(
  tx: Tx,
  enqueue: Enqueue,
  bulkChangeId: string,
  now: number,
): Promise<BulkChange | undefined> {
  const repository = bulkChangesRepository(tx);
  if (!(await repository.start(bulkChangeId, now))) return undefined;
  const started = await repository.findById(bulkChangeId);
  if (started)
    await publishEvents(tx, enqueue, started, [
      { type: 'bulk_change.started', data: { bulkChange: bulkChangeSummary(started) } },
    ]);
  return started;
}

/** Publishes a bulk change's end (completed, with errors, failed or cancelled) as it now is, in the transaction that ended it. */
export async function announceFinished(
  tx: Tx,
  enqueue: Enqueue,
  bulkChangeId: string,
  now: number,
): Promise<void> {
  const finished = await bulkChangesRepository(tx).findById(bulkChangeId);
  if (!finished || !isTerminalBulkStatus(finished.status)) return;
  await publishEvents(
    tx,
    enqueue,
    finished,
    [{ type: finishedEvent(finished.status), data: { bulkChange: bulkChangeSummary(finished) } }],
    now,
  );
}

/** The events of rows that failed, each with the bulk change's id and the row's identifiers and error. */
export const rowFailedEvents = (change: BulkChange, rows: readonly FailedRow[]): NewEvent[] =>
  rows.map((row) => ({
    type: 'bulk_change.row_failed',
    data: {
      bulkChange: { id: change.id, changeType: change.changeType, carrierAccountId: change.carrierAccountId },
      row: {
        id: row.id,
        row: row.rowNumber,
        iccid: row.iccid,
        imei: row.imei,
        msisdn: row.msisdn,
        eid: row.eid,
        error: row.error,
      },
    },
  }));
