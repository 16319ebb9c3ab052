import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createJasperSimulator } from '../src/carriers/jasper/simulator.ts';
import { testDialects } from './support/databases.ts';
import { startTestService, type TestService, testIccid, waitForFinish } from './support/service.ts';

type AccountView = { id: string; inventorySync: { at: string; result: Record<string, unknown> } | null };
type Device = { iccid: string; status: string; carrierStatus: string; carrierRatePlan: string };

for (const dialect of testDialects) {
  describe(`inventory sync from the carrier on ${dialect}`, () => {
    let test: TestService;
    let simulatorUrl: string;
    let accountId: string;
    const iccids = Array.from({ length: 120 }, (_, index) => testIccid(index, '8901401'));

    before(async () => {
      test = await startTestService(dialect);
      const simulator = createJasperSimulator({ faults: { rateLimitPerSecond: null, maxConcurrent: null } });
      simulatorUrl = await simulator.listen({ port: 0 });
      test.closeWithService(() => simulator.close());
      await fetch(`${simulatorUrl}/_sim/devices`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          iccids.map((iccid, index) => ({
            iccid,
            state: index % 2 ? 'ACTIVATED' : 'INVENTORY',
            ratePlan: 'IoT 10MB',
          })),
        ),
      });
      const created = await test.api<{ id: string }>('POST', '/api/v1/carrier-accounts', {
        body: {
          name: 'real-ish',
          carrier: 'jasper',
          baseUrl: simulatorUrl,
          credentials: { username: 'demo', apiKey: 'demo-api-key' },
          writeEnabled: true,
          settings: { limits: { requestsPerSecond: null, maxConcurrent: 2 } },
        },
      });
      accountId = created.body.id;
    });
    after(() => test.stop());

    const syncAndWait = async (previous: string | null) => {
      const started = await test.api('POST', `/api/v1/carrier-accounts/${accountId}/inventory-sync`);
      assert.equal(started.status, 202, started.text);
      for (let tries = 0; tries < 200; tries++) {
        const account = await test.api<AccountView>('GET', `/api/v1/carrier-accounts/${accountId}`);
        if (account.body.inventorySync && account.body.inventorySync.at !== previous)
          return account.body.inventorySync;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the sync did not finish');
    };

    const devices = async () =>
      (await test.api<{ items: Device[] }>('GET', `/api/v1/devices?carrierAccountId=${accountId}&limit=1000`))
        .body.items;

    it('reads every line, page by page, with statuses mapped, and the lines can then be changed', async () => {
      const sync = await syncAndWait(null);
      assert.deepEqual(sync.result, { lines: 120, created: 120, updated: 0 });
      const lines = await devices();
      assert.equal(lines.length, 120);
      const first = lines.find((line) => line.iccid === iccids[1])!;
      assert.deepEqual(
        [first.status, first.carrierStatus, first.carrierRatePlan],
        ['active', 'ACTIVATED', 'IoT 10MB'],
      );
      const searches = (await (
        await fetch(`${simulatorUrl}/_sim/calls?action=search_devices`)
      ).json()) as unknown[];
      assert.equal(searches.length, 3, '120 lines are 3 pages of 50');

      const change = await test.api<{ id: string }>('POST', '/api/v1/bulk-changes', {
        body: {
          carrierAccountId: accountId,
          changeType: 'status_update',
          options: { targetStatus: 'test_ready' },
          changes: [{ iccid: iccids[0] }, { iccid: iccids[2] }],
        },
      });
      assert.equal(change.status, 201, change.text);
      assert.equal((await waitForFinish(test, change.body.id)).status, 'completed');
    });

    it('refreshes known lines on the next sync without duplicating them', async () => {
      const before = await test.api<AccountView>('GET', `/api/v1/carrier-accounts/${accountId}`);
      await fetch(`${simulatorUrl}/_sim/devices`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          { iccid: iccids[5], state: 'DEACTIVATED' },
          { iccid: testIccid(999, '8901401'), state: 'INVENTORY' },
        ]),
      });
      const sync = await syncAndWait(before.body.inventorySync!.at);
      assert.deepEqual(sync.result, { lines: 121, created: 1, updated: 120 });
      const lines = await devices();
      assert.equal(lines.length, 121);
      assert.equal(lines.find((line) => line.iccid === iccids[5])?.status, 'deactivated');
    });

    it('records a failed sync on the account when the carrier refuses the credentials', async () => {
      const before = await test.api<AccountView>('GET', `/api/v1/carrier-accounts/${accountId}`);
      await test.api('PATCH', `/api/v1/carrier-accounts/${accountId}`, {
        body: { credentials: { username: 'demo', apiKey: 'nope' } },
      });
      const sync = await syncAndWait(before.body.inventorySync!.at);
      assert.match(String(sync.result.error), /credentials/i);
    });
  });
}
