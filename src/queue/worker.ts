import { hostname } from 'node:os';
import { type Logger, pino } from 'pino';
import type { Capabilities, Db } from '../db/database.ts';
import { newId } from '../shared/ids.ts';
import { type BackoffOptions, backoffDelay } from './backoff.ts';
import { describeError, isNonRetryableError, isRetryAfterError, NonRetryableError } from './errors.ts';
import * as jobs from './jobs-repository.ts';
import type { QueueNotifier } from './notifier.ts';
import type { Job, TaskBinding, TaskHandler } from './types.ts';

export type JobOutcome = 'completed' | 'retried' | 'failed' | 'released' | 'lost';

export interface JobOutcomeEvent {
  jobId: string;
  task: string;
  attempts: number;
  outcome: JobOutcome;
  durationMs: number;
  error?: string;
}

export interface WorkerOptions {
  db: Db;
  capabilities: Capabilities;
  /** Each task's handler, or its binding (a handler with what to do when a job fails for good). */
  tasks: Readonly<Record<string, TaskHandler | TaskBinding>>;
  /** Jobs run at once. Default 8. */
  concurrency?: number;
  /** Sleep between polls that found less than a full batch. Default 250 ms. */
  pollIntervalMs?: number;
  /** How long a claim holds a job without a heartbeat. Renewed every leaseMs/3. Default 30 s. */
  leaseMs?: number;
  workerId?: string;
  logger?: Logger;
  /** Wakes this worker at once when a local enqueue commits. */
  notifier?: QueueNotifier;
  /** Retry delay after attempt n fails: options for `backoffDelay`, or a function. */
  backoff?: BackoffOptions | ((attempt: number) => number);
  /** Called after each job ends (metrics). Must not throw; errors are logged. */
  onOutcome?: (event: JobOutcomeEvent) => void;
  /** Called with the number of jobs each claim took (metrics). Must not throw. */
  onClaimed?: (jobs: number) => void;
  /** Called after each lease renewal that kept its job (metrics). Must not throw. */
  onLeaseRenewed?: () => void;
}

/** How the claim loop is doing, for readiness. */
export interface WorkerHealth {
  /** Started and not stopping. */
  running: boolean;
  /** Claims that failed in a row (the database unreachable); 0 when the last one worked. */
  claimFailures: number;
  /** Epoch ms of the last claim that worked, or null before the first. */
  lastClaimAt: number | null;
}

export interface Worker {
  readonly id: string;
  /** Handlers in flight. */
  readonly running: number;
  health(): WorkerHealth;
  /** Starts the claim loop. Calling it again does nothing. */
  start(): void;
  /**
   * Stops claiming, waits up to `graceMs` for in-flight handlers, then aborts the rest and releases
   * their jobs (pending, due now, the attempt not counted) for another worker. Idempotent.
   */
  stop(graceMs?: number): Promise<void>;
}

interface InFlight {
  job: Job;
  controller: AbortController;
  done: Promise<void>;
  /** Set by stop(): the job was handed back; whatever the handler does next is ignored. */
  released: boolean;
  stopHeartbeat: () => void;
  startedAt: number;
}

const LOOP_ERROR_BACKOFF_CAP_MS = 30_000;
/** How long stop() waits for aborted handlers to wind down after releasing their jobs. */
const ABORTED_SETTLE_MS = 2_000;

export function createWorker(options: WorkerOptions): Worker {
  const { db, capabilities, tasks } = options;
  const concurrency = positiveInteger('concurrency', options.concurrency ?? 8);
  const pollIntervalMs = positiveInteger('pollIntervalMs', options.pollIntervalMs ?? 250);
  const leaseMs = positiveInteger('leaseMs', options.leaseMs ?? 30_000);
  const heartbeatMs = Math.max(1, Math.floor(leaseMs / 3));
  const workerId = options.workerId ?? `${hostname()}:${process.pid}:${newId().slice(-12)}`;
  const logger = (options.logger ?? pino({ name: 'queue' })).child({ workerId });
  const backoff =
    typeof options.backoff === 'function'
      ? options.backoff
      : (attempt: number) => backoffDelay(attempt, options.backoff as BackoffOptions | undefined);

  const taskOf = (name: string): TaskBinding | undefined => {
    const entry = Object.hasOwn(tasks, name) ? tasks[name] : undefined;
    return typeof entry === 'function' ? { name, handler: entry } : entry;
  };

  const inFlight = new Map<string, InFlight>();
  let started = false;
  let stopping = false;
  let loopDone: Promise<void> = Promise.resolve();
  let stopped: Promise<void> | undefined;
  let unsubscribe: (() => void) | undefined;
  let claimFailures = 0;
  let lastClaimAt: number | null = null;

  // One waiter at a time: the loop. A wake-up that arrives while the loop is busy is remembered.
  let wakePending = false;
  let waitingForSlot = false;
  let resolveWait: (() => void) | undefined;
  const wake = () => {
    wakePending = true;
    resolveWait?.();
  };
  const idle = (ms: number | null) =>
    new Promise<void>((resolve) => {
      if (wakePending || stopping) {
        wakePending = false;
        resolve();
        return;
      }
      const timer = ms === null ? undefined : setTimeout(() => finish(), ms);
      const finish = () => {
        clearTimeout(timer);
        resolveWait = undefined;
        wakePending = false;
        resolve();
      };
      resolveWait = finish;
    });

  async function loop(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      const capacity = concurrency - inFlight.size;
      if (capacity <= 0) {
        waitingForSlot = true;
        await idle(null);
        waitingForSlot = false;
        continue;
      }
      let claimed: Job[];
      try {
        claimed = await jobs.claimJobs(db, capabilities, {
          workerId,
          limit: capacity,
          leaseMs,
          now: Date.now(),
        });
        failures = 0;
        claimFailures = 0;
        lastClaimAt = Date.now();
        if (claimed.length > 0) hook('onClaimed', () => options.onClaimed?.(claimed.length));
      } catch (error) {
        failures++;
        claimFailures = failures;
        const delay = backoffDelay(
          failures,
          { baseMs: pollIntervalMs, capMs: LOOP_ERROR_BACKOFF_CAP_MS, jitter: 'equal' },
          Math.random,
        );
        logger.error({ err: error, failures, retryInMs: delay }, 'queue: claiming jobs failed; retrying');
        await idle(delay);
        continue;
      }
      for (const job of claimed) {
        // Our own job, re-claimed because heartbeats failed until its lease ran out: it is still running here.
        if (inFlight.has(job.id))
          logger.warn({ jobId: job.id }, 'queue: re-claimed a job still running here');
        else run(job);
      }
      if (claimed.length === capacity) continue; // A full batch: there may be more, poll again at once.
      await idle(pollIntervalMs);
    }
  }

  function run(job: Job): void {
    const controller = new AbortController();
    const entry: InFlight = {
      job,
      controller,
      released: false,
      done: Promise.resolve(),
      stopHeartbeat: () => {},
      startedAt: Date.now(),
    };
    inFlight.set(job.id, entry);
    entry.done = execute(entry)
      .catch((error: unknown) => logger.error({ err: error, jobId: job.id }, 'queue: job bookkeeping failed'))
      .finally(() => {
        if (inFlight.get(job.id) === entry) inFlight.delete(job.id);
        if (waitingForSlot) wake();
      });
  }

  async function execute(entry: InFlight): Promise<void> {
    const { job, controller } = entry;
    const jobLogger = logger.child({ jobId: job.id, task: job.task, attempt: job.attempts });
    let leaseLost = false;

    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const beat = async () => {
      try {
        const kept = await jobs.extendLease(db, job.id, workerId, Date.now() + leaseMs);
        if (kept) hook('onLeaseRenewed', () => options.onLeaseRenewed?.());
        if (!kept && !settled) {
          leaseLost = true;
          jobLogger.warn('queue: lease lost (the job was re-claimed or removed); aborting the handler');
          controller.abort(new Error(`lease on job ${job.id} lost`));
          return;
        }
      } catch (error) {
        jobLogger.warn({ err: error }, 'queue: lease heartbeat failed; will retry');
      }
      if (!settled) timer = setTimeout(beat, heartbeatMs);
    };
    timer = setTimeout(beat, heartbeatMs);
    entry.stopHeartbeat = () => {
      settled = true;
      clearTimeout(timer);
    };

    let failure: unknown;
    let succeeded = false;
    try {
      const handler = taskOf(job.task)?.handler;
      if (!handler) {
        throw new NonRetryableError(
          `Unknown task "${job.task}": no handler is registered for it on this worker ` +
            `(known tasks: ${Object.keys(tasks).sort().join(', ') || 'none'})`,
          { code: 'UNKNOWN_TASK' },
        );
      }
      if (job.payloadError !== null) {
        throw new NonRetryableError(job.payloadError, { code: 'INVALID_PAYLOAD' });
      }
      if (job.attempts > job.maxAttempts) {
        throw new NonRetryableError(
          `attempt ${job.attempts} exceeds max_attempts ${job.maxAttempts}: the worker running the last ` +
            'attempt lost its lease (it crashed or stalled)',
          { code: 'LEASE_EXPIRED' },
        );
      }
      await handler(job.payload, {
        jobId: job.id,
        task: job.task,
        attempts: job.attempts,
        maxAttempts: job.maxAttempts,
        signal: controller.signal,
        logger: jobLogger,
      });
      succeeded = true;
    } catch (error) {
      failure = error;
    } finally {
      entry.stopHeartbeat();
    }

    if (entry.released) return; // stop() handed the job back already.
    const report = (outcome: JobOutcome, error?: string) => emit(entry, outcome, error);
    if (leaseLost) {
      report('lost');
      return;
    }

    if (succeeded) {
      if (await jobs.completeJob(db, job.id, workerId)) report('completed');
      else {
        jobLogger.warn('queue: job finished but its lease was lost; another worker may run it again');
        report('lost');
      }
      return;
    }

    const message = describeError(failure);
    const terminal = isNonRetryableError(failure) || job.attempts >= job.maxAttempts;
    if (terminal) {
      jobLogger.error({ err: failure }, 'queue: job failed permanently');
      const onGiveUp = taskOf(job.task)?.onGiveUp;
      try {
        await onGiveUp?.(job.payload, message);
      } catch (giveUpError) {
        // The work could not be marked as given up: keep the job, so it is tried (and given up) again
        // rather than failed with its work left hanging.
        jobLogger.error({ err: giveUpError }, "queue: marking a failed job's work failed; will try again");
        const now = Date.now();
        const result = await jobs.retryJob(db, {
          id: job.id,
          workerId,
          runAt: now + Math.max(pollIntervalMs, backoff(job.attempts)),
          error: message,
          now,
        });
        report(result === 'lost' ? 'lost' : 'retried', message);
        return;
      }
      report((await jobs.failJob(db, job.id, workerId, message)) ? 'failed' : 'lost', message);
      return;
    }
    const delayMs = isRetryAfterError(failure) ? failure.delayMs : Math.max(0, backoff(job.attempts));
    jobLogger.warn({ err: failure, retryInMs: delayMs }, 'queue: job failed; will retry');
    const now = Date.now();
    const result = await jobs.retryJob(db, {
      id: job.id,
      workerId,
      runAt: now + delayMs,
      error: message,
      now,
    });
    report(result === 'lost' ? 'lost' : 'retried', message);
  }

  function hook(name: string, call: () => void): void {
    try {
      call();
    } catch (hookError) {
      logger.error({ err: hookError }, `queue: ${name} hook threw`);
    }
  }

  function emit(entry: InFlight, outcome: JobOutcome, error?: string): void {
    if (!options.onOutcome) return;
    try {
      options.onOutcome({
        jobId: entry.job.id,
        task: entry.job.task,
        attempts: entry.job.attempts,
        outcome,
        durationMs: Date.now() - entry.startedAt,
        ...(error === undefined ? {} : { error }),
      });
    } catch (hookError) {
      logger.error({ err: hookError }, 'queue: onOutcome hook threw');
    }
  }

  return {
    id: workerId,
    get running() {
      return inFlight.size;
    },
    health() {
      return { running: started && !stopping, claimFailures, lastClaimAt };
    },
    start() {
      if (started) return;
      if (stopping) throw new Error('queue: a stopped worker cannot be started again');
      started = true;
      unsubscribe = options.notifier?.subscribe(wake);
      loopDone = loop().catch((error: unknown) => {
        // Unreachable by design (every await in the loop is guarded); never let it crash the process.
        logger.fatal({ err: error }, 'queue: worker loop crashed');
      });
      logger.info({ concurrency, pollIntervalMs, leaseMs }, 'queue: worker started');
    },
    stop(graceMs = 10_000) {
      stopped ??= (async () => {
        stopping = true;
        unsubscribe?.();
        wake();
        await loopDone;
        const pending = [...inFlight.values()];
        if (pending.length > 0) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            Promise.all(pending.map((entry) => entry.done)),
            new Promise<void>((resolve) => {
              timer = setTimeout(resolve, Math.max(0, graceMs));
            }),
          ]);
          clearTimeout(timer);
        }
        const leftover = [...inFlight.values()];
        await Promise.all(
          leftover.map(async (entry) => {
            entry.released = true;
            entry.stopHeartbeat();
            entry.controller.abort(new Error('worker stopping: job released'));
            inFlight.delete(entry.job.id);
            try {
              const result = await jobs.releaseJob(db, { id: entry.job.id, workerId });
              logger.info({ jobId: entry.job.id, result }, 'queue: released in-flight job on shutdown');
            } catch (error) {
              logger.error(
                { err: error, jobId: entry.job.id },
                'queue: releasing a job failed; it is re-claimed when its lease expires',
              );
            }
            emit(entry, 'released');
          }),
        );
        // Aborted handlers still save what they did before the abort; give them a moment to, so the
        // caller can close the database behind us.
        let settleTimer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled(leftover.map((entry) => entry.done)),
          new Promise<void>((resolve) => {
            settleTimer = setTimeout(resolve, ABORTED_SETTLE_MS);
          }),
        ]);
        clearTimeout(settleTimer);
        if (started) logger.info({ released: leftover.length }, 'queue: worker stopped');
      })();
      return stopped;
    },
  };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`createWorker: ${name} must be an integer >= 1`);
  return value;
}
