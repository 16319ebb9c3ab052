import type { Executor } from '../db/database.ts';
import { type EnqueueInput, enqueue, type QueueNotifier } from '../queue/index.ts';

export const ADVANCE_TASK = 'bulk_change.advance';

/** One pending "advance" job per bulk change at most: enqueueing again only brings it forward. */
export const advanceJob = (bulkChangeId: string, runAt?: number): EnqueueInput => ({
  task: ADVANCE_TASK,
  payload: { bulkChangeId },
  key: `advance:${bulkChangeId}`,
  runAt,
  maxAttempts: 10,
});

export type Enqueue = (executor: Executor, job: EnqueueInput) => Promise<string>;

/**
 * Enqueues on the caller's executor (so the job commits with its transaction) and rings the local
 * workers. On SQLite a woken worker's claim waits for the one connection, so it runs after the
 * commit; on PostgreSQL an early ring costs one empty poll and the job is found by the next.
 */
export function createEnqueue(notifier: QueueNotifier): Enqueue {
  return async (executor, job) => {
    const id = await enqueue(executor, job);
    setImmediate(() => notifier.notify());
    return id;
  };
}
