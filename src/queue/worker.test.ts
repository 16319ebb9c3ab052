import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase, testDialects } from '../../test/support/databases.ts';
import { NonRetryableError, RetryAfterError } from './errors.ts';
import {
  claimJobs,
  countJobs,
  enqueue,
  enqueueMany,
  getJob,
  listFailedJobs,
  retryFailedJob,
} from './jobs-repository.ts';
import { QueueNotifier } from './notifier.ts';
import { delay, memoryLogger, silentLogger, waitFor } from './test-support.ts';
import { createWorker, type JobOutcomeEvent, type Worker, type WorkerOptions } from './worker.ts';

for (const dialect of testDialects) {
  describe(`queue worker on ${dialect}`, () => {
    let handle: TestDatabase;
    let workers: Worker[] = [];
    before(async () => {
      handle = await createTestDatabase(dialect);
    });
    after(() => handle.drop());
    beforeEach(() => handle.db.deleteFrom('jobs').execute());
    afterEach(async () => {
      await Promise.all(workers.map((w) => w.stop(0)));
      workers = [];
    });

    const start = (options: Partial<WorkerOptions> & Pick<WorkerOptions, 'tasks'>): Worker => {
      const worker = createWorker({
        db: handle.db,
        capabilities: handle.capabilities,
        concurrency: 4,
        pollIntervalMs: 20,
        leaseMs: 1_000,
        logger: silentLogger,
        ...options,
      });
      workers.push(worker);
      worker.start();
      return worker;
    };
    /** Back to pending after a failed attempt (not merely still pending before the first claim). */
    const retryScheduled = async (id: string) => {
      const job = await getJob(handle.db, id);
      return job?.state === 'pending' && job.lastError !== null;
    };
    const empty = async () => {
      const c = await countJobs(handle.db);
      return c.pending + c.running === 0;
    };

    it('two workers process 200 jobs, each exactly once', async () => {
      const runs = new Map<number, number>();
      const seenBy = new Set<string>();
      const ids = await enqueueMany(
        handle.db,
        Array.from({ length: 200 }, (_, n) => ({ task: 'count', payload: { n } })),
      );
      assert.equal(new Set(ids).size, 200);
      const tasks = (name: string) => ({
        count: async (payload: unknown) => {
          const { n } = payload as { n: number };
          runs.set(n, (runs.get(n) ?? 0) + 1);
          seenBy.add(name);
          await delay(1);
        },
      });
      start({ tasks: tasks('a'), workerId: 'a' });
      start({ tasks: tasks('b'), workerId: 'b' });
      await waitFor(empty, 'the queue to drain', 15_000);
      assert.equal(runs.size, 200);
      assert.deepEqual(
        [...runs.values()].filter((count) => count !== 1),
        [],
        'no job ran twice',
      );
      assert.deepEqual([...seenBy].sort(), ['a', 'b'], 'both workers took part');
      assert.equal((await countJobs(handle.db)).failed, 0);
    });

    it('respects run_at delays', async () => {
      const startedAt = new Map<string, number>();
      const runAt = Date.now() + 300;
      const later = await enqueue(handle.db, { task: 't', runAt });
      const now = await enqueue(handle.db, { task: 't' });
      start({
        tasks: {
          t: (_payload, { jobId }) => {
            startedAt.set(jobId, Date.now());
          },
        },
      });
      await waitFor(() => startedAt.has(now), 'the due job');
      await waitFor(() => startedAt.has(later), 'the delayed job');
      assert.ok(startedAt.get(later)! >= runAt, 'not before run_at');
    });

    it('wakes at once on notify instead of waiting for the poll interval', async () => {
      const notifier = new QueueNotifier();
      let ran = false;
      const worker = start({
        tasks: {
          t: () => {
            ran = true;
          },
        },
        pollIntervalMs: 60_000,
        notifier,
      });
      await delay(50); // The first (empty) poll is done; the next one is a minute away.
      await handle.db.transaction().execute((tx) => enqueue(tx, { task: 't' }));
      notifier.notify();
      await waitFor(() => ran, 'the notified job', 2_000);
      await worker.stop(1_000);
      assert.equal(notifier.listenerCount, 0, 'stop unsubscribes');
    });

    it('polls again at once after a full batch', async () => {
      let done = 0;
      await enqueueMany(
        handle.db,
        Array.from({ length: 9 }, () => ({ task: 't' })),
      );
      start({
        tasks: {
          t: async () => {
            await delay(5);
            done++;
          },
        },
        concurrency: 2,
        pollIntervalMs: 60_000,
      });
      await waitFor(() => done === 9, 'all nine jobs in batches of two', 3_000);
    });

    it('re-claims a job whose worker died (expired lease)', async () => {
      const id = await enqueue(handle.db, { task: 't' });
      const [claimed] = await claimJobs(handle.db, handle.capabilities, {
        workerId: 'dead-worker',
        limit: 1,
        leaseMs: 150,
        now: Date.now(),
      });
      assert.equal(claimed.id, id);
      const attempts: number[] = [];
      let ranAt = 0;
      start({
        tasks: {
          t: (_payload, context) => {
            attempts.push(context.attempts);
            ranAt = Date.now();
          },
        },
        workerId: 'survivor',
      });
      await waitFor(() => attempts.length === 1, 're-claim after expiry');
      assert.ok(ranAt > claimed.lockedUntil!, 'not before the lease expired');
      assert.deepEqual(attempts, [2], 'the dead attempt counts');
      await waitFor(async () => (await getJob(handle.db, id)) === undefined, 'completion');
    });

    it('fails, without running it, a job whose last attempt lost its lease', async () => {
      const id = await enqueue(handle.db, { task: 't', maxAttempts: 1 });
      await claimJobs(handle.db, handle.capabilities, {
        workerId: 'dead',
        limit: 1,
        leaseMs: 10,
        now: Date.now(),
      });
      let ran = false;
      start({
        tasks: {
          t: () => {
            ran = true;
          },
        },
      });
      await waitFor(async () => (await getJob(handle.db, id))?.state === 'failed', 'the job to fail');
      assert.equal(ran, false);
      assert.match((await getJob(handle.db, id))?.lastError ?? '', /LEASE_EXPIRED/);
    });

    it('heartbeats keep a long job leased; no other worker takes it', async () => {
      const id = await enqueue(handle.db, { task: 'long' });
      const runs: string[] = [];
      let aborted = false;
      const tasks = (name: string) => ({
        long: async (_payload: unknown, { signal }: { signal: AbortSignal }) => {
          runs.push(name);
          await delay(1_000); // Four leases long.
          aborted = signal.aborted;
        },
      });
      start({ tasks: tasks('a'), leaseMs: 250, workerId: 'a' });
      await waitFor(() => runs.length === 1, 'the first worker to start the job');
      start({ tasks: tasks('b'), leaseMs: 250, workerId: 'b' });
      await delay(500);
      const midway = await getJob(handle.db, id);
      assert.equal(midway?.lockedBy, 'a');
      assert.ok(midway!.lockedUntil! > Date.now(), 'the lease was extended');
      await waitFor(async () => (await getJob(handle.db, id)) === undefined, 'completion');
      assert.deepEqual(runs, ['a']);
      assert.equal(aborted, false);
    });

    it('aborts the handler when its lease is lost', async () => {
      const id = await enqueue(handle.db, { task: 't' });
      const outcomes: JobOutcomeEvent[] = [];
      let reason: unknown;
      start({
        tasks: {
          t: async (_payload, { signal }) => {
            await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
            reason = signal.reason;
          },
        },
        leaseMs: 90,
        onOutcome: (event) => outcomes.push(event),
      });
      await waitFor(async () => (await getJob(handle.db, id))?.state === 'running', 'the claim');
      // Another worker took it over (as after a long stall).
      await handle.db.updateTable('jobs').set({ locked_by: 'thief' }).where('id', '=', id).execute();
      await waitFor(() => outcomes.length === 1, 'the abort');
      assert.match(String(reason), /lease/);
      assert.equal(outcomes[0].outcome, 'lost');
      const job = await getJob(handle.db, id);
      assert.equal(job?.state, 'running', "the thief's job is left alone");
      assert.equal(job?.lockedBy, 'thief');
    });

    it('retries with backoff, then succeeds', async () => {
      const id = await enqueue(handle.db, { task: 'flaky', maxAttempts: 5 });
      const attempts: Array<{ attempt: number; at: number }> = [];
      const backoffAsked: number[] = [];
      start({
        tasks: {
          flaky: (_payload, { attempts: attempt }) => {
            attempts.push({ attempt, at: Date.now() });
            if (attempt < 3) throw new Error(`carrier timeout #${attempt}`);
          },
        },
        backoff: (attempt) => {
          backoffAsked.push(attempt);
          return 80 * attempt;
        },
      });
      await waitFor(() => attempts.length === 1, 'the first attempt');
      await waitFor(() => retryScheduled(id), 'the retry to be scheduled');
      const retrying = await getJob(handle.db, id);
      assert.match(retrying?.lastError ?? '', /carrier timeout #1/);
      assert.equal(retrying?.attempts, 1);
      assert.equal(retrying!.runAt - retrying!.updatedAt, 80);
      await waitFor(async () => (await getJob(handle.db, id)) === undefined, 'success', 3_000);
      assert.deepEqual(
        attempts.map((a) => a.attempt),
        [1, 2, 3],
      );
      assert.deepEqual(backoffAsked, [1, 2]);
      assert.ok(attempts[1].at - attempts[0].at >= 80, 'waited the first backoff');
      assert.ok(attempts[2].at - attempts[1].at >= 160, 'waited the second backoff');
    });

    it('uses the default capped exponential backoff', async () => {
      const id = await enqueue(handle.db, { task: 't' });
      start({
        tasks: {
          t: () => {
            throw new Error('no');
          },
        },
        backoff: { baseMs: 10_000, capMs: 20_000, jitter: 'none' },
      });
      await waitFor(() => retryScheduled(id), 'the retry');
      const job = await getJob(handle.db, id);
      assert.equal(job!.runAt - job!.updatedAt, 10_000);
    });

    it('RetryAfterError retries after exactly its delay, and counts the attempt', async () => {
      const id = await enqueue(handle.db, { task: 't', maxAttempts: 2 });
      const attempts: number[] = [];
      start({
        tasks: {
          t: (_payload, context) => {
            attempts.push(context.attempts);
            throw new RetryAfterError(150, 'carrier said 429');
          },
        },
        backoff: () => 60_000,
      });
      await waitFor(() => retryScheduled(id), 'the retry');
      const job = await getJob(handle.db, id);
      assert.equal(job!.runAt - job!.updatedAt, 150);
      assert.match(job?.lastError ?? '', /RetryAfterError: carrier said 429/);
      await waitFor(async () => (await getJob(handle.db, id))?.state === 'failed', 'max attempts');
      assert.deepEqual(attempts, [1, 2]);
    });

    it('fails a job at max attempts and keeps it, visible and redrivable', async () => {
      const id = await enqueue(handle.db, { task: 'bad', maxAttempts: 3, payload: { bulkChangeId: 'b' } });
      let calls = 0;
      let healed = false;
      start({
        tasks: {
          bad: () => {
            calls++;
            if (!healed) throw new Error(`still broken (${calls})`);
          },
        },
        backoff: () => 10,
      });
      await waitFor(async () => (await getJob(handle.db, id))?.state === 'failed', 'the job to fail');
      assert.equal(calls, 3);
      const [failed] = await listFailedJobs(handle.db, { limit: 5 });
      assert.equal(failed.id, id);
      assert.equal(failed.attempts, 3);
      assert.match(failed.lastError ?? '', /still broken \(3\)/);
      assert.deepEqual(failed.payload, { bulkChangeId: 'b' });
      assert.equal((await countJobs(handle.db)).failed, 1);
      await delay(100);
      assert.equal(calls, 3, 'a failed job is not run again');

      healed = true;
      assert.equal(await retryFailedJob(handle.db, id), id);
      await waitFor(async () => (await getJob(handle.db, id)) === undefined, 'the redriven job');
      assert.equal(calls, 4);
    });

    it('NonRetryableError fails the job at once', async () => {
      const id = await enqueue(handle.db, { task: 't', maxAttempts: 10 });
      let calls = 0;
      start({
        tasks: {
          t: () => {
            calls++;
            throw new NonRetryableError('ICCID unknown to the carrier', { code: 'CARRIER_REJECTED' });
          },
        },
      });
      await waitFor(async () => (await getJob(handle.db, id))?.state === 'failed', 'the job to fail');
      const job = await getJob(handle.db, id);
      assert.equal(calls, 1);
      assert.equal(job?.attempts, 1);
      assert.equal(job?.lastError, 'NonRetryableError [CARRIER_REJECTED]: ICCID unknown to the carrier');
      assert.equal(job?.lockedBy, null);
    });

    it('fails an unknown task non-retryably with a clear error', async () => {
      const id = await enqueue(handle.db, { task: 'no-such-task', maxAttempts: 10 });
      start({ tasks: { known: () => {} } });
      await waitFor(async () => (await getJob(handle.db, id))?.state === 'failed', 'the job to fail');
      const job = await getJob(handle.db, id);
      assert.equal(job?.attempts, 1);
      assert.match(job?.lastError ?? '', /UNKNOWN_TASK.*"no-such-task".*known tasks: known/);
    });

    it('stop() waits for handlers that finish within the grace period', async () => {
      const id = await enqueue(handle.db, { task: 't' });
      let finished = false;
      const worker = start({
        tasks: {
          t: async () => {
            await delay(100);
            finished = true;
          },
        },
      });
      await waitFor(() => worker.running === 1, 'the job to start');
      await worker.stop(2_000);
      assert.equal(finished, true);
      assert.equal(worker.running, 0);
      assert.equal(await getJob(handle.db, id), undefined);
    });

    it('stop() past the grace period aborts and releases the job without counting the attempt', async () => {
      const id = await enqueue(handle.db, { task: 'slow', maxAttempts: 1 });
      let signal: AbortSignal | undefined;
      let afterAbort = false;
      const first = start({
        tasks: {
          slow: async (_payload, context) => {
            signal = context.signal;
            await new Promise<void>((resolve) => context.signal.addEventListener('abort', () => resolve()));
            afterAbort = true;
            throw new Error('aborted');
          },
        },
        workerId: 'first',
        leaseMs: 60_000,
      });
      await waitFor(() => first.running === 1, 'the job to start');
      const stoppedAt = Date.now();
      await first.stop(50);
      assert.ok(Date.now() - stoppedAt >= 50, 'waited the grace period');
      assert.equal(signal?.aborted, true);
      assert.equal(first.running, 0);
      const released = await getJob(handle.db, id);
      assert.equal(released?.state, 'pending');
      assert.equal(released?.attempts, 0, 'the interrupted attempt is not counted');
      assert.equal(released?.lockedBy, null);
      assert.ok(released!.runAt <= Date.now(), 'due at once');
      assert.equal(afterAbort, true);

      // Another worker takes it at once, even though the first one's lease was a minute long.
      const attempts: number[] = [];
      start({
        tasks: {
          slow: (_payload, context) => {
            attempts.push(context.attempts);
          },
        },
      });
      await waitFor(async () => (await getJob(handle.db, id)) === undefined, 'the second worker');
      assert.deepEqual(attempts, [1]);
    });

    it('survives database errors in its loop, logs them and carries on', async () => {
      const { logger, lines } = memoryLogger();
      await sql`ALTER TABLE jobs RENAME TO jobs_away`.execute(handle.db);
      let ran = false;
      try {
        start({
          tasks: {
            t: () => {
              ran = true;
            },
          },
          logger,
          pollIntervalMs: 10,
        });
        await waitFor(() => lines.some((l) => l.level === 50), 'an error log');
      } finally {
        await sql`ALTER TABLE jobs_away RENAME TO jobs`.execute(handle.db);
      }
      const line = lines.find((l) => l.level === 50)!;
      assert.match(String(line.msg), /claiming jobs failed/);
      await enqueue(handle.db, { task: 't' });
      await waitFor(() => ran, 'a job after recovery', 3_000);
    });

    it('fails a job whose stored payload is not JSON', async () => {
      const now = Date.now();
      await handle.db
        .insertInto('jobs')
        .values({
          id: 'corrupt',
          task: 't',
          payload: 'not json',
          key: null,
          state: 'pending',
          run_at: now,
          attempts: 0,
          max_attempts: 5,
          locked_by: null,
          locked_until: null,
          last_error: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      start({ tasks: { t: () => {} } });
      await waitFor(async () => (await getJob(handle.db, 'corrupt'))?.state === 'failed', 'the job to fail');
      assert.match((await getJob(handle.db, 'corrupt'))?.lastError ?? '', /INVALID_PAYLOAD/);
    });
  });
}
