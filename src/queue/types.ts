/** The queue's vocabulary, free of SQL and of column names. */
import type { Logger } from 'pino';
import type { JobState } from '../db/schema.ts';

export type { JobState };

export const DEFAULT_MAX_ATTEMPTS = 25;

export interface EnqueueInput {
  /** The handler that runs the job (a key of the worker's `tasks`). */
  task: string;
  /** Names the work (ids, phase); never device data. Stored as JSON. Default `{}`. */
  payload?: unknown;
  /** Not before this time (epoch ms or Date). Default: now. */
  runAt?: number | Date;
  /** At most one pending job per key; see `enqueue`. */
  key?: string | null;
  /** Runs allowed before the job is `failed`. Default 25. */
  maxAttempts?: number;
}

export interface Job {
  id: string;
  task: string;
  /** The decoded payload (`undefined` when the stored text is not JSON: see `payloadError`). */
  payload: unknown;
  /** Why the stored payload could not be decoded, or null. */
  payloadError: string | null;
  key: string | null;
  state: JobState;
  runAt: number;
  /** Runs started so far, including the current one while running. */
  attempts: number;
  maxAttempts: number;
  lockedBy: string | null;
  lockedUntil: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ClaimOptions {
  workerId: string;
  limit: number;
  leaseMs: number;
  now: number;
}

export interface JobCounts {
  pending: number;
  running: number;
  failed: number;
  /** Pending jobs whose run_at has passed: the backlog. */
  due: number;
  /** run_at of the oldest due pending job (queue lag = now − this), or null when none is due. */
  oldestDueRunAt: number | null;
}

/** What became of a running job handed back to the pending state. */
export type RescheduleResult =
  /** The job is pending again. */
  | 'rescheduled'
  /** Another pending job with the same key already existed: this one was folded into it. */
  | 'merged'
  /** The job is no longer locked by this worker (lease lost); nothing was changed. */
  | 'lost';

export interface JobContext {
  jobId: string;
  task: string;
  /** 1 on the first run; counts runs, including ones whose worker died. */
  attempts: number;
  maxAttempts: number;
  /** Aborted when the lease is lost or the worker stops past its grace period. */
  signal: AbortSignal;
  logger: Logger;
}

/** Runs one job. Returning means success; throwing means failure (see NonRetryableError, RetryAfterError). */
export type TaskHandler = (payload: unknown, context: JobContext) => Promise<void> | void;

/** A task's handler, bound to its definition. */
export interface TaskBinding {
  readonly name: string;
  readonly handler: TaskHandler;
  /**
   * Called once when a job of the task fails for good (attempts spent, lease lost too often, or a
   * non-retryable error), with the reason: the work it stood for must not be left hanging silently.
   */
  readonly onGiveUp?: GiveUpHandler;
}

export type GiveUpHandler = (payload: unknown, reason: string) => Promise<void>;
