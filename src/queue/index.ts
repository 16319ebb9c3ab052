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
  activeJobsWithKey,
  countJobs,
  enqueue,
  enqueueMany,
  getJob,
  listFailedJobs,
  retryFailedJob,
} from './jobs-repository.ts';
export { QueueNotifier } from './notifier.ts';
export { handlePeriodically, schedulePeriodic } from './periodic.ts';
export { defineTask, handleTask, type TaskDefinition, taskHandlers } from './task.ts';
export {
  DEFAULT_MAX_ATTEMPTS,
  type EnqueueInput,
  type GiveUpHandler,
  type Job,
  type JobContext,
  type JobCounts,
  type JobState,
  type TaskBinding,
  type TaskHandler,
} from './types.ts';
export {
  createWorker,
  type JobOutcome,
  type JobOutcomeEvent,
  type Worker,
  type WorkerHealth,
  type WorkerOptions,
} from './worker.ts';
