import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { testDialects } from '../support/databases.ts';
import { countBy, type E2eStack, startE2eStack } from '../support/e2e-stack.ts';
import { type BulkChangeView, sleep, waitForBulkChange, waitUntil } from '../support/processes.ts';

const LINES = 200;

for (const dialect of testDialects) {
  describe(`a paused change across a crash (SIGKILL) on ${dialect}`, () => {
    let stack: E2eStack | undefined;
    after(() => stack?.close());

    it('stays paused after a restart, reads back the rows left in progress, and resume sends each line once', async () => {
      stack = await startE2eStack({ dialect });
      await stack.startServer();
      const { accountId, iccids } = await stack.createJasperAccount({
        limits: { requestsPerSecond: 20, maxConcurrent: 1 },
        count: LINES,
        prefix: '8901511',
      });
      const created = await stack.api<{ id: string }>('POST', '/api/v1/bulk-changes', {
        body: {
          carrierAccountId: accountId,
          changeType: 'status_update',
          options: { targetStatus: 'active' },
          changes: iccids.map((iccid) => ({ iccid })),
        },
      });
      assert.equal(created.status, 201, created.text);
      const id = created.body.id;
      const view = async () => (await stack!.api<BulkChangeView>('GET', `/api/v1/bulk-changes/${id}`)).body;
      await waitUntil('lines changed', async () =>
        (await view()).counts.succeeded >= 10 ? true : undefined,
      );

      // Paused, then the server killed while its claimed chunk is still going out.
      const paused = await stack.api<BulkChangeView>('POST', `/api/v1/bulk-changes/${id}/pause`);
      assert.equal(paused.body.status, 'paused', paused.text);
      await stack.server!.kill('SIGKILL');
      await stack.startServer();

      // Rows left in progress are read back (never re-sent) while it stays paused.
      await waitUntil(
        'rows in progress read back',
        async () => ((await view()).counts.inProgress === 0 ? true : undefined),
        30_000,
      );
      const held = await view();
      assert.equal(held.status, 'paused');
      assert.ok(held.counts.queued > 0, JSON.stringify(held.counts));
      const putsWhilePaused = (await stack.sim.calls('put_device')).length;
      await sleep(1_500);
      assert.equal(
        (await stack.sim.calls('put_device')).length,
        putsWhilePaused,
        'nothing sent while paused',
      );

      const resumed = await stack.api<BulkChangeView>('POST', `/api/v1/bulk-changes/${id}/resume`);
      assert.equal(resumed.status, 200, resumed.text);
      const done = await waitForBulkChange(stack.api, id, 60_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.counts));
      const accepted = countBy(
        (await stack.sim.calls('put_device')).filter((call) => call.status === 200),
        (call) => call.iccids[0],
      );
      assert.deepEqual(
        iccids.filter((iccid) => accepted.get(iccid) !== 1),
        [],
        'every line changed exactly once',
      );
    });
  });
}
