import { z } from 'zod';
import type { Executor } from '../db/database.ts';
import {
  activeJobsWithKey,
  defineTask,
  type EnqueueInput,
  enqueue,
  type QueueNotifier,
} from '../queue/index.ts';

/**
 * Advances a bulk change for a slice of time (the engine handles it). One pending job per bulk change
 * and slot at most: enqueueing again only brings it forward. Slots past 0 exist where the account
 * lets several jobs work on one change at once.
 */
export const advanceBulkChange = defineTask({
  name: 'bulk_change.advance',
  payload: z.object({ bulkChangeId: z.string().min(1), slot: z.number().int().min(1).max(64).optional() }),
  key: ({ bulkChangeId, slot }) => (slot ? `advance:${bulkChangeId}:${slot}` : `advance:${bulkChangeId}`),
  maxAttempts: 10,
});

export type AdvancePayload = z.infer<typeof advanceBulkChange.payload>;

/**
 * Carries one slot of a bulk change on, from a job that worked on it (ADR 0020): brings the slot's
 * pending job forward, or adds one — unless another job of that slot is running and none is pending.
 * That one carries the slot on and asks the same when it ends, so each slot is worked by one line of
 * jobs: a job that hands on at its slice's end while its last calls are still out, a slot 0 that
 * brings in the others, or a twin enqueued by a callback never leaves two lines running side by side.
 * `asker` is the asking job (not counted). Returns whether a job of the slot is now pending.
 */
export async function carryOnAdvance(
  executor: Executor,
  enqueueJob: Enqueue,
  payload: AdvancePayload,
  asker: string | null,
): Promise<boolean> {
  const job = advanceBulkChange.job(payload);
  const active = await activeJobsWithKey(executor, job.key ?? '', asker);
  if (active.pending === 0 && active.running > 0) return false;
  await enqueueJob(executor, job);
  return true;
}

/** Schedules the bulk change's next advance, in the caller's transaction. */
export type Enqueue = (executor: Executor, job: EnqueueInput) => Promise<string>;

/**
 * Enqueues on the caller's executor (so the job commits with its transaction), announces it to the
 * workers of other processes in that transaction (PostgreSQL delivers it at the commit), and rings
 * the local workers. On SQLite a woken worker's claim waits for the one connection, so it runs after
 * the commit; on PostgreSQL an early ring costs one empty poll and the job is found by the next.
 */
export function createEnqueue(notifier: QueueNotifier): Enqueue {
  return async (executor, job) => {
    const id = await enqueue(executor, job);
    await notifier.announce(executor);
    setImmediate(() => notifier.notify());
    return id;
  };
}
