import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { testDialects } from '../support/databases.ts';
import {
  type ChangeView,
  countBy,
  type E2eStack,
  type LogEntryView,
  startE2eStack,
} from '../support/e2e-stack.ts';
import { listAll, waitForBulkChange, waitUntil } from '../support/processes.ts';

const LINES = 150;

for (const dialect of testDialects) {
  describe(`a worker killed mid-run (SIGKILL) on ${dialect}`, () => {
    let stack: E2eStack | undefined;
    after(() => stack?.close());

    it('finishes the change after a restart: no row lost, no line PUT twice, every row logged', async () => {
      stack = await startE2eStack({ dialect });
      await stack.startServer();
      const { accountId, iccids } = await stack.createJasperAccount({
        limits: { requestsPerSecond: 30, maxConcurrent: 1 },
        count: LINES,
        prefix: '8901501',
      });

      const created = await stack.api<{ id: string; counts: { total: number } }>(
        'POST',
        '/api/v1/bulk-changes',
        {
          body: {
            carrierAccountId: accountId,
            changeType: 'status_update',
            options: { targetStatus: 'active' },
            changes: iccids.map((iccid) => ({ iccid })),
          },
        },
      );
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.counts.total, LINES);
      const id = created.body.id;

      // Some PUTs have reached the carrier, most have not: the worker dies without warning.
      const before = await waitUntil(
        'the first PUTs',
        async () => {
          const puts = await stack!.sim.calls('put_device');
          return puts.length >= 15 ? puts.length : undefined;
        },
        20_000,
        20,
      );
      assert.equal(await stack.server!.kill('SIGKILL'), 'SIGKILL');
      const putsAtKill = (await stack.sim.calls('put_device')).length;
      assert.ok(putsAtKill >= before && putsAtKill < LINES, `killed mid-run (${putsAtKill} PUTs)`);

      await stack.startServer();
      const done = await waitForBulkChange(stack.api, id, 45_000);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      assert.equal(done.counts.succeeded, LINES);

      const changes = await listAll<ChangeView>(stack.api, `/api/v1/bulk-changes/${id}/changes`);
      assert.equal(changes.length, LINES, 'no row lost');
      assert.deepEqual(
        changes.filter((change) => change.status !== 'succeeded'),
        [],
        'every row succeeded',
      );

      const lines = await stack.sim.devices();
      assert.deepEqual(
        lines.filter((line) => line.state !== 'ACTIVATED').map((line) => line.iccid),
        [],
        'every line is ACTIVATED at the carrier',
      );
      const inventory = await listAll<{ iccid: string; status: string; carrierStatus: string }>(
        stack.api,
        `/api/v1/devices?carrierAccountId=${accountId}`,
      );
      assert.equal(inventory.length, LINES);
      assert.ok(
        inventory.every((line) => line.status === 'active' && line.carrierStatus === 'ACTIVATED'),
        'the inventory agrees with the carrier',
      );

      const puts = await stack.sim.calls('put_device');
      const accepted = countBy(
        puts.filter((call) => call.status === 200),
        (call) => call.iccids[0],
      );
      const twice = iccids.filter((iccid) => accepted.get(iccid) !== 1);
      assert.deepEqual(
        twice.map((iccid) => [iccid, accepted.get(iccid) ?? 0]),
        [],
        'exactly one accepted PUT per line',
      );
      assert.equal(puts.length, LINES, 'no PUT was sent twice, not even a refused one');

      const log = await listAll<LogEntryView>(stack.api, `/api/v1/bulk-changes/${id}/log`);
      const carrierEntries = log.filter(
        (entry) => entry.action === 'put_device' || entry.action === 'get_device',
      );
      assert.ok(
        carrierEntries.length >= puts.length,
        `at least one log entry per PUT (${carrierEntries.length} entries, ${puts.length} PUTs)`,
      );
      const logged = countBy(carrierEntries, (entry) => entry.changeId ?? '');
      assert.deepEqual(
        changes.filter((change) => !logged.has(change.id)).map((change) => change.row),
        [],
        'every row has its carrier call(s) in the log',
      );
      const reconciled = log.filter((entry) => entry.action === 'get_device').length;
      assert.ok(reconciled > 0, 'rows left in progress were reconciled by reading the carrier');
    });
  });
}
