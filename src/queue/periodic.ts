import type { Executor } from '../db/database.ts';
import { enqueue } from './jobs-repository.ts';
import { handleTask, type TaskDefinition } from './task.ts';
import type { JobContext, TaskBinding } from './types.ts';

/**
 * A task that runs every `everyMs` (a sealer, a retention sweep): each run does its work and then
 * enqueues the next, whether the work succeeded or threw (a throw is also retried with backoff; the
 * task's key folds the two into one pending job). `schedulePeriodic` enqueues the first run when a
 * worker starts; the key keeps one pending run however many workers start.
 */
export function handlePeriodically<TPayload>(
  db: Executor,
  task: TaskDefinition<TPayload>,
  options: { everyMs: number; payload: TPayload },
  work: (context: JobContext) => Promise<void>,
): TaskBinding {
  return handleTask(task, async (_payload, context) => {
    try {
      await work(context);
    } finally {
      await enqueue(db, task.job(options.payload, { runAt: Date.now() + options.everyMs }));
    }
  });
}

export const schedulePeriodic = <TPayload>(db: Executor, task: TaskDefinition<TPayload>, payload: TPayload) =>
  enqueue(db, task.job(payload));
