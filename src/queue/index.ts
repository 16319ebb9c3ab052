/** The durable job queue: transactional enqueue, leased claims, retries with backoff, dead letters. */
export {
  type BackoffOptions,
  backoffCeiling,
  backoffDelay,
  DEFAULT_BACKOFF,
  decorrelatedDelay,
} from './backoff.ts';
export { isNonRetryableError, isRetryAfterError, NonRetryableError, RetryAfterError } from './errors.ts';
export {
  countJobs,
  enqueue,
  enqueueMany,
  getJob,
  listFailedJobs,
  retryFailedJob,
} from './jobs-repository.ts';
export { QueueNotifier } from './notifier.ts';
export { defineTask, handleTask, type TaskBinding, type TaskDefinition, taskHandlers } from './task.ts';
export {
  DEFAULT_MAX_ATTEMPTS,
  type EnqueueInput,
  type Job,
  type JobCounts,
  type JobState,
} from './types.ts';
export {
  createWorker,
  type JobContext,
  type JobOutcome,
  type JobOutcomeEvent,
  type TaskHandler,
  type Worker,
  type WorkerHealth,
  type WorkerOptions,
} from './worker.ts';
