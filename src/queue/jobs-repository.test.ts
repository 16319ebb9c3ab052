import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase, testDialects } from '../../test/support/databases.ts';
import {
  claimJobs,
  completeJob,
  countJobs,
  enqueue,
  enqueueMany,
  extendLease,
  failJob,
  getJob,
  listFailedJobs,
  releaseJob,
  retryFailedJob,
  retryJob,
} from './jobs-repository.ts';

for (const dialect of testDialects) {
  describe(`jobs repository on ${dialect}`, () => {
    let handle: TestDatabase;
    before(async () => {
      handle = await createTestDatabase(dialect);
    });
    after(() => handle.drop());
    beforeEach(() => handle.db.deleteFrom('jobs').execute());

    const claim = (workerId: string, now: number, limit = 10, leaseMs = 1_000) =>
      claimJobs(handle.db, handle.capabilities, { workerId, limit, leaseMs, now });

    it('enqueues in the caller transaction: a rollback leaves nothing, a commit keeps the job', async () => {
      await assert.rejects(
        handle.db.transaction().execute(async (tx) => {
          await enqueue(tx, { task: 'a', payload: { bulkChangeId: 'b1' } });
          await enqueueMany(tx, [{ task: 'b' }, { task: 'c', key: 'k' }]);
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.equal((await countJobs(handle.db)).pending, 0);

      const id = await handle.db
        .transaction()
        .execute((tx) => enqueue(tx, { task: 'a', payload: { bulkChangeId: 'b1', phase: 'activate' } }));
      const job = await getJob(handle.db, id);
      assert.equal(job?.state, 'pending');
      assert.deepEqual(job?.payload, { bulkChangeId: 'b1', phase: 'activate' });
      assert.equal(job?.attempts, 0);
      assert.equal(job?.maxAttempts, 25);
    });

    it('keeps one pending job per key and moves its run_at to the earliest', async () => {
      const t = 1_000_000;
      const first = await enqueue(handle.db, { task: 'a', key: 'k', payload: { n: 1 }, runAt: t + 1_000 }, t);
      const second = await enqueue(handle.db, { task: 'a', key: 'k', payload: { n: 2 }, runAt: t + 500 }, t);
      const third = await enqueue(handle.db, { task: 'a', key: 'k', payload: { n: 3 }, runAt: t + 2_000 }, t);
      assert.equal(second, first);
      assert.equal(third, first);
      const rows = await handle.db.selectFrom('jobs').selectAll().execute();
      assert.equal(rows.length, 1);
      assert.equal(Number(rows[0].run_at), t + 500);
      assert.equal(rows[0].payload, '{"n":1}', 'the existing job is kept');
      // A different key, or no key, is a different job.
      await enqueue(handle.db, { task: 'a', key: 'other' });
      await enqueue(handle.db, { task: 'a' });
      await enqueue(handle.db, { task: 'a' });
      assert.equal((await countJobs(handle.db)).pending, 4);
    });

    it('enqueueMany dedupes keys within the batch and against the table, returning ids in order', async () => {
      const t = 5_000_000;
      const existing = await enqueue(handle.db, { task: 'a', key: 'x', runAt: t + 100 }, t);
      const ids = await enqueueMany(
        handle.db,
        [
          { task: 'a', key: 'x', runAt: t + 50 },
          { task: 'a' },
          { task: 'a', key: 'y', runAt: t + 300 },
          { task: 'a', key: 'y', runAt: t + 200 },
          { task: 'a' },
        ],
        t,
      );
      assert.equal(ids.length, 5);
      assert.equal(ids[0], existing);
      assert.equal(ids[2], ids[3]);
      assert.equal(new Set(ids).size, 4);
      assert.equal((await getJob(handle.db, existing))?.runAt, t + 50);
      assert.equal((await getJob(handle.db, ids[2]))?.runAt, t + 200);
      assert.equal((await countJobs(handle.db)).pending, 4);

      const many = await enqueueMany(
        handle.db,
        Array.from({ length: 1_200 }, (_, i) => ({ task: 'bulk', payload: { i } })),
      );
      assert.equal(new Set(many).size, 1_200);
      assert.equal((await countJobs(handle.db)).pending, 1_204);
    });

    it('rejects bad input', async () => {
      await assert.rejects(enqueue(handle.db, { task: '' }), TypeError);
      await assert.rejects(enqueue(handle.db, { task: 'a', maxAttempts: 0 }), RangeError);
      await assert.rejects(enqueue(handle.db, { task: 'a', runAt: Number.NaN }), RangeError);
      await assert.rejects(enqueue(handle.db, { task: 'a', payload: () => 1 }), TypeError);
    });

    it('a running job with the same key does not block a new pending one', async () => {
      const t = Date.now();
      const running = await enqueue(handle.db, { task: 'a', key: 'dev-1' }, t);
      assert.deepEqual(
        (await claim('w1', t)).map((j) => j.id),
        [running],
      );
      const fresh = await enqueue(handle.db, { task: 'a', key: 'dev-1', runAt: t + 10_000 }, t);
      assert.notEqual(fresh, running);
      assert.equal((await getJob(handle.db, running))?.state, 'running');
      assert.equal((await getJob(handle.db, fresh))?.state, 'pending');

      // The running one fails and retries: it folds into the pending twin (earliest run_at wins).
      const result = await retryJob(handle.db, { id: running, workerId: 'w1', runAt: t + 2_000, error: 'x' });
      assert.equal(result, 'merged');
      assert.equal(await getJob(handle.db, running), undefined);
      assert.equal((await getJob(handle.db, fresh))?.runAt, t + 2_000);
    });

    it('claims only due jobs, in run_at order, up to the limit', async () => {
      const t = 10_000_000;
      const late = await enqueue(handle.db, { task: 'a', runAt: t + 200 }, t);
      const early = await enqueue(handle.db, { task: 'a', runAt: t - 100 }, t);
      const now = await enqueue(handle.db, { task: 'a', runAt: t }, t);
      assert.deepEqual(
        (await claim('w1', t, 1)).map((j) => j.id),
        [early],
      );
      assert.deepEqual(
        (await claim('w1', t + 199)).map((j) => j.id),
        [now],
      );
      const [job] = await claim('w1', t + 200);
      assert.equal(job.id, late);
      assert.equal(job.state, 'running');
      assert.equal(job.attempts, 1);
      assert.equal(job.lockedBy, 'w1');
      assert.equal(job.lockedUntil, t + 200 + 1_000);
      assert.deepEqual(await claim('w2', t + 1_000), []);
      const counts = await countJobs(handle.db, t + 1_000);
      assert.deepEqual(counts, { pending: 0, running: 3, failed: 0, due: 0, oldestDueRunAt: null });
    });

    it('re-claims a running job whose lease expired, and only the holder can extend or finish it', async () => {
      const t = 20_000_000;
      const id = await enqueue(handle.db, { task: 'a' }, t);
      await claim('dead', t, 10, 100);
      assert.deepEqual(await claim('w2', t + 100), [], 'the lease holds until it expires');
      assert.equal(await extendLease(handle.db, id, 'w2', t + 5_000), false);
      const [again] = await claim('w2', t + 101);
      assert.equal(again.id, id);
      assert.equal(again.attempts, 2);
      assert.equal(again.lockedBy, 'w2');
      assert.equal(await extendLease(handle.db, id, 'dead', t + 9_999), false);
      assert.equal(await completeJob(handle.db, id, 'dead'), false);
      assert.equal(await failJob(handle.db, id, 'dead', 'x'), false);
      assert.equal(await releaseJob(handle.db, { id, workerId: 'dead' }), 'lost');
      assert.equal(await extendLease(handle.db, id, 'w2', t + 9_999), true);
      assert.equal((await getJob(handle.db, id))?.lockedUntil, t + 9_999);
      assert.equal(await completeJob(handle.db, id, 'w2'), true);
      assert.equal(await getJob(handle.db, id), undefined);
    });

    it('release hands the job back due now without counting the attempt', async () => {
      const t = Date.now();
      const id = await enqueue(handle.db, { task: 'a', runAt: t - 5_000 }, t);
      await claim('w1', t);
      assert.equal(await releaseJob(handle.db, { id, workerId: 'w1', now: t + 7 }), 'rescheduled');
      const job = await getJob(handle.db, id);
      assert.equal(job?.state, 'pending');
      assert.equal(job?.attempts, 0);
      assert.equal(job?.runAt, t + 7);
      assert.equal(job?.lockedBy, null);
      assert.equal(job?.lockedUntil, null);
    });

    it('keeps failed jobs for operators, counts them, and redrives them', async () => {
      const t = Date.now();
      const id = await enqueue(handle.db, { task: 'a', key: 'k', maxAttempts: 1 }, t);
      await claim('w1', t);
      assert.equal(await failJob(handle.db, id, 'w1', 'Error: boom', t + 1), true);
      const failed = await listFailedJobs(handle.db, { limit: 10 });
      assert.equal(failed.length, 1);
      assert.equal(failed[0].id, id);
      assert.equal(failed[0].lastError, 'Error: boom');
      assert.equal(failed[0].attempts, 1);
      assert.deepEqual(await listFailedJobs(handle.db, { task: 'other' }), []);
      assert.equal((await countJobs(handle.db)).failed, 1);

      assert.equal(await retryFailedJob(handle.db, 'no-such-job'), null);
      assert.equal(await retryFailedJob(handle.db, id, t + 2), id);
      const redriven = await getJob(handle.db, id);
      assert.equal(redriven?.state, 'pending');
      assert.equal(redriven?.attempts, 0);
      assert.equal(redriven?.runAt, t + 2);
      assert.equal(await retryFailedJob(handle.db, id), null, 'only failed jobs are redriven');

      // Redriving a failed job whose key already has a pending job: the pending one does the work.
      await claim('w1', t + 2);
      await failJob(handle.db, id, 'w1', 'again');
      const twin = await enqueue(handle.db, { task: 'a', key: 'k', runAt: t + 60_000 }, t);
      assert.equal(await retryFailedJob(handle.db, id, t + 3), twin);
      assert.equal(await getJob(handle.db, id), undefined);
      assert.equal((await getJob(handle.db, twin))?.runAt, t + 3);
    });

    it('counts the due backlog and its oldest run_at', async () => {
      const t = 30_000_000;
      await enqueue(handle.db, { task: 'a', runAt: t - 50 }, t);
      await enqueue(handle.db, { task: 'a', runAt: t - 10 }, t);
      await enqueue(handle.db, { task: 'a', runAt: t + 10 }, t);
      assert.deepEqual(await countJobs(handle.db, t), {
        pending: 3,
        running: 0,
        failed: 0,
        due: 2,
        oldestDueRunAt: t - 50,
      });
    });

    it('reports a stored payload that is not JSON instead of failing the claim', async () => {
      const t = Date.now();
      await handle.db
        .insertInto('jobs')
        .values({
          id: 'corrupt',
          task: 'a',
          payload: '{nope',
          key: null,
          state: 'pending',
          run_at: t,
          attempts: 0,
          max_attempts: 3,
          locked_by: null,
          locked_until: null,
          last_error: null,
          created_at: t,
          updated_at: t,
        })
        .execute();
      const [job] = await claim('w1', t);
      assert.equal(job.payload, undefined);
      assert.match(job.payloadError ?? '', /not JSON/);
    });
  });
}
