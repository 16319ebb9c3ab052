import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { thingSpaceAccountFixture } from '../support/carrier-accounts.ts';
import { testDialects } from '../support/databases.ts';
import { type ChangeView, type E2eStack, insertInventory, startE2eStack } from '../support/e2e-stack.ts';
import { listAll, simAdmin, startCli, waitForBulkChange, waitUntil } from '../support/processes.ts';
import { testIccids } from '../support/service.ts';

const LINES = 300;

/**
 * The real `bulkchange serve` and `bulkchange simulate thingspace` processes: activating lines must
 * activate each exactly once, with MSISDN and IP on every row, whether the results come by callback or
 * by polling, and when the worker is killed mid-run.
 */
for (const dialect of testDialects) {
  describe(`ThingSpace activation end to end on ${dialect}`, () => {
    let stack: E2eStack | undefined;
    after(() => stack?.close());

    async function thingSpaceAccount(prefix: string, callbacks: boolean) {
      const simulator = startCli(['simulate', 'thingspace', '--port', '0']);
      const [, simulatorUrl] = await simulator.waitForOutput(/listening at (http:\/\/\S+)/);
      const sim = simAdmin(simulatorUrl);
      await sim.setFaults({ callbacks });
      const accountId = await thingSpaceAccountFixture(stack!, {
        name: `thingspace e2e ${prefix}`,
        baseUrl: simulatorUrl,
        accountName: '0000123456-00001',
        callbackPassword: 'e2e-callback-secret',
        // With callbacks the checks are a fallback and can be rare; without, they are how results come.
        limits: {
          requestsPerSecond: 20,
          maxConcurrent: 2,
          checkIntervalMs: callbacks ? 5_000 : 500,
          maxWaitMs: 60_000,
        },
      });
      const iccids = testIccids(LINES, prefix);
      await sim.seed(iccids.map((iccid) => ({ iccid, state: 'pre-active' })));
      await insertInventory(stack!.databaseLocation, {
        tenant: 'acme',
        accountId,
        iccids,
        state: 'pre-active',
        status: 'inventory',
      });
      return { sim, accountId, iccids };
    }

    async function activate(accountId: string, iccids: string[]) {
      const created = await stack!.api<{ id: string }>('POST', '/api/v1/bulk-changes', {
        body: {
          carrierAccountId: accountId,
          changeType: 'status_update',
          options: { targetStatus: 'active' },
          changes: iccids.map((iccid) => ({ iccid })),
        },
      });
      assert.equal(created.status, 201, created.text);
      return created.body.id;
    }

    async function assertActivatedOnce(id: string, sim: ReturnType<typeof simAdmin>) {
      const done = await waitForBulkChange(stack!.api, id, 60_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.counts));
      const rows = await listAll<ChangeView & { result: { msisdn?: string; ipAddress?: string } | null }>(
        stack!.api,
        `/api/v1/bulk-changes/${id}/changes`,
      );
      assert.equal(rows.length, LINES);
      assert.ok(
        rows.every((row) => row.status === 'succeeded' && row.result?.msisdn && row.result.ipAddress),
      );
      const activations = (await sim.calls('activate')).filter((call) => call.status === 200);
      const times = new Map<string, number>();
      for (const call of activations)
        for (const iccid of call.iccids) times.set(iccid, (times.get(iccid) ?? 0) + 1);
      assert.equal(times.size, LINES);
      assert.ok(
        [...times.values()].every((count) => count === 1),
        'each line activated exactly once',
      );
      return activations.length;
    }

    it('activates every line once, in one request, confirmed by callback', async () => {
      stack = await startE2eStack({ dialect });
      await stack.startServer();
      const { sim, accountId, iccids } = await thingSpaceAccount('8914801', true);
      const requests = await assertActivatedOnce(await activate(accountId, iccids), sim);
      assert.equal(requests, 1, 'the fewest requests: 300 lines fit one');
      const reads = await sim.calls('list_devices');
      assert.equal(reads.length, 0, 'the callbacks carried MSISDN and IP: no line had to be read back');
    });

    it('activates every line once when callbacks are off (polling) and the worker is killed mid-run', async () => {
      const { sim, accountId, iccids } = await thingSpaceAccount('8914802', false);
      const id = await activate(accountId, iccids);
      await waitUntil(
        'the activation request',
        async () => ((await sim.calls('activate')).length ? true : undefined),
        20_000,
        20,
      );
      assert.equal(await stack!.server!.kill('SIGKILL'), 'SIGKILL');
      await stack!.startServer();
      await assertActivatedOnce(id, sim);
      // Polled: by request status, or (when the kill came before the request id was saved) by reading each line.
      const polls = (await sim.calls('request_status')).length + (await sim.calls('list_devices')).length;
      assert.ok(polls >= 1, 'the results were polled');
    });

    it('activates by polling with per-line truth: two lines ThingSpace refuses fail alone, one beyond the 100 the status lists', async () => {
      const { sim, accountId, iccids } = await thingSpaceAccount('8914803', false);
      const refused = [iccids[5], iccids[250]];
      await sim.seed(refused.map((iccid) => ({ iccid, state: 'suspend' })));
      const id = await activate(accountId, iccids);
      const done = await waitForBulkChange(stack!.api, id, 60_000);
      assert.equal(done.status, 'completed_with_errors', JSON.stringify(done.counts));
      const rows = await listAll<ChangeView & { result: { msisdn?: string; ipAddress?: string } | null }>(
        stack!.api,
        `/api/v1/bulk-changes/${id}/changes`,
      );
      const failed = rows.filter((row) => row.status === 'failed');
      assert.deepEqual(failed.map((row) => row.iccid).sort(), [...refused].sort());
      assert.ok(failed.every((row) => row.error?.code === 'CARRIER_REJECTED'));
      const succeeded = rows.filter((row) => row.status === 'succeeded');
      assert.equal(succeeded.length, LINES - 2);
      assert.ok(
        succeeded.every((row) => row.result?.msisdn && row.result.ipAddress),
        'MSISDN and IP per line',
      );
      assert.equal((await sim.calls('request_status_v1')).length, 0, 'the v1 status is never read');
    });

    it('loads a real account’s lines by inventory sync, then swaps a SIM and a device, confirmed by polling', async () => {
      const simulator = startCli(['simulate', 'thingspace', '--port', '0']);
      const [, simulatorUrl] = await simulator.waitForOutput(/listening at (http:\/\/\S+)/);
      const sim = simAdmin(simulatorUrl);
      await sim.setFaults({ callbacks: false });
      const [simLine, deviceLine, newIccid] = testIccids(3, '8914804');
      const [oldImei, newImei] = ['990013907835573', '990013907835581'];
      await sim.seed([
        { iccid: simLine, state: 'active' },
        { iccid: deviceLine, imei: oldImei, state: 'active' },
      ]);
      const accountId = await thingSpaceAccountFixture(stack!, {
        name: 'thingspace e2e swaps',
        baseUrl: simulatorUrl,
        accountName: '0000123456-00001',
        callbackPassword: 'e2e-callback-secret',
        limits: { requestsPerSecond: 20, maxConcurrent: 2, checkIntervalMs: 500, maxWaitMs: 60_000 },
      });
      const synced = await stack!.api('POST', `/api/v1/carrier-accounts/${accountId}/inventory-sync`);
      assert.equal(synced.status, 202, synced.text);
      await waitUntil(
        'the inventory sync',
        async () => {
          const account = await stack!.api<{ inventorySync: { result: { lines?: number } } | null }>(
            'GET',
            `/api/v1/carrier-accounts/${accountId}`,
          );
          return account.body.inventorySync?.result.lines === 2 ? true : undefined;
        },
        20_000,
        50,
      );
      const created = await stack!.api<{ id: string }>('POST', '/api/v1/bulk-changes', {
        body: {
          carrierAccountId: accountId,
          changeType: 'identifier_change',
          changes: [
            { iccid: simLine, newIccid },
            { iccid: deviceLine, newImei },
          ],
        },
      });
      assert.equal(created.status, 201, created.text);
      const done = await waitForBulkChange(stack!.api, created.body.id, 60_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.counts));
      const lines = await sim.devices<{ iccid: string; imei: string | null }>();
      assert.ok(
        lines.some((line) => line.iccid === newIccid),
        'the SIM was swapped at the carrier',
      );
      assert.equal(lines.find((line) => line.iccid === deviceLine)?.imei, newImei, 'and the device');
      const inventory = await stack!.api<{ items: Array<{ iccid: string; imei: string | null }> }>(
        'GET',
        `/api/v1/devices?carrierAccountId=${accountId}`,
      );
      assert.deepEqual(
        inventory.body.items.map((line) => [line.iccid, line.imei]).sort(),
        [
          [deviceLine, newImei],
          [newIccid, null],
        ].sort(),
      );
      await simulator.kill();
    });
  });
}
