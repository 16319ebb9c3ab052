import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase, testDialects } from '../../test/support/databases.ts';
import { activeJobsWithKey, claimJobs, enqueue } from '../queue/jobs-repository.ts';
import { advanceBulkChange, carryOnAdvance, type Enqueue } from './jobs.ts';

for (const dialect of testDialects) {
  describe(`carrying a bulk change's slot on, on ${dialect}`, () => {
    let handle: TestDatabase;
    before(async () => {
      handle = await createTestDatabase(dialect);
    });
    after(() => handle.drop());
    beforeEach(() => handle.db.deleteFrom('jobs').execute());

    const plainEnqueue: Enqueue = (executor, job) => enqueue(executor, job);
    const key = (slot?: number) =>
      advanceBulkChange.job({ bulkChangeId: 'b1', ...(slot ? { slot } : {}) }).key!;
    /** Starts the slot's pending job on a worker: it is running from then on. */
    const run = async () => {
      const [job] = await claimJobs(handle.db, handle.capabilities, {
        workerId: 'w1',
        limit: 1,
        leaseMs: 60_000,
        now: Date.now(),
      });
      return job.id;
    };

    it('adds the next job when none is pending or running, and only one however often asked', async () => {
      assert.equal(await carryOnAdvance(handle.db, plainEnqueue, { bulkChangeId: 'b1' }, null), true);
      assert.equal(await carryOnAdvance(handle.db, plainEnqueue, { bulkChangeId: 'b1' }, null), true);
      assert.deepEqual(await activeJobsWithKey(handle.db, key()), { pending: 1, running: 0 });
    });

    it('hands on from a running job: the asker itself is not counted', async () => {
      await enqueue(handle.db, advanceBulkChange.job({ bulkChangeId: 'b1' }));
      const asker = await run();
      assert.equal(await carryOnAdvance(handle.db, plainEnqueue, { bulkChangeId: 'b1' }, asker), true);
      assert.deepEqual(await activeJobsWithKey(handle.db, key(), asker), { pending: 1, running: 0 });
    });

    it('adds no twin beside another running job of the slot, but brings a pending one forward', async () => {
      await enqueue(handle.db, advanceBulkChange.job({ bulkChangeId: 'b1' }));
      const handedTo = await run();
      await enqueue(handle.db, advanceBulkChange.job({ bulkChangeId: 'b1' }));
      const asker = await run();
      assert.notEqual(handedTo, asker);
      // The job handed on to is running: it carries the slot on, the asker adds nothing.
      assert.equal(await carryOnAdvance(handle.db, plainEnqueue, { bulkChangeId: 'b1' }, asker), false);
      assert.deepEqual(await activeJobsWithKey(handle.db, key(), asker), { pending: 0, running: 1 });
      // It found nothing left and waits, pending, for the asker's rows: asked again, it comes forward.
      const later = Date.now() + 60_000;
      await enqueue(handle.db, advanceBulkChange.job({ bulkChangeId: 'b1' }, { runAt: later }));
      assert.equal(await carryOnAdvance(handle.db, plainEnqueue, { bulkChangeId: 'b1' }, asker), true);
      const pending = await handle.db
        .selectFrom('jobs')
        .select('run_at')
        .where('key', '=', key())
        .where('state', '=', 'pending')
        .execute();
      assert.equal(pending.length, 1);
      assert.ok(Number(pending[0].run_at) < later, 'brought forward');
    });

    it('keeps the slots apart: slot 2 running does not hold back slot 0', async () => {
      await enqueue(handle.db, advanceBulkChange.job({ bulkChangeId: 'b1', slot: 2 }));
      await run();
      assert.equal(await carryOnAdvance(handle.db, plainEnqueue, { bulkChangeId: 'b1' }, null), true);
      assert.equal(
        await carryOnAdvance(handle.db, plainEnqueue, { bulkChangeId: 'b1', slot: 2 }, null),
        false,
      );
      assert.deepEqual(await activeJobsWithKey(handle.db, key(2)), { pending: 0, running: 1 });
    });
  });
}
