import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { byIccid, createBulkChange } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { jasperFixture, startTestService, type TestService, waitForFinish } from './support/service.ts';

for (const dialect of testDialects) {
  describe(`fairness between bulk changes on ${dialect}`, () => {
    let test: TestService;
    // Few worker slots and short slices: the big changes would hold every slot if jobs did not yield.
    before(async () => {
      test = await startTestService(dialect, { WORKER_CONCURRENCY: '2', ENGINE_SLICE_MS: '1000' });
    });
    after(() => test.stop());

    it('lets a 10-row change on another account through while two big ones run', async () => {
      const busy = await jasperFixture(test, {
        count: 600,
        prefix: '8901701',
        limits: { requestsPerSecond: 20, maxConcurrent: 1 },
      });
      const quiet = await jasperFixture(test, {
        count: 10,
        prefix: '8901702',
        limits: { requestsPerSecond: 20, maxConcurrent: 1 },
      });
      const submit = async (accountId: string, iccids: string[]) => {
        const created = await createBulkChange(test, {
          carrierAccountId: accountId,
          changeType: 'status_update',
          options: { targetStatus: 'active' },
          changes: byIccid(iccids),
        });
        assert.equal(created.status, 201, created.text);
        return created.body.id;
      };
      // Two changes of 300 rows on one account: 30 s of calls at its 20 a second.
      const big = [
        await submit(busy.accountId, busy.iccids.slice(0, 300)),
        await submit(busy.accountId, busy.iccids.slice(300)),
      ];
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const started = Date.now();
      const small = await submit(quiet.accountId, quiet.iccids);
      const done = await waitForFinish(test, small, 20_000);
      const tookMs = Date.now() - started;
      assert.equal(done.status, 'completed');
      // Half a second of calls, behind at most the slice and the chunks already out of each job
      // holding a worker (a chunk is 3 s of calls at the account's rate, which the two share).
      assert.ok(tookMs < 15_000, `the small change took ${tookMs} ms`);
      for (const id of big) {
        const view = await test.api<{ status: string }>('GET', `/api/v1/bulk-changes/${id}`);
        assert.equal(view.body.status, 'processing', 'the big changes were still running meanwhile');
      }
      for (const id of big) assert.equal((await waitForFinish(test, id, 90_000)).status, 'completed');
    });
  });
}
