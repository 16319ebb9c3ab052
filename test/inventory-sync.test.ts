import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { searchWindows } from '../src/carriers/jasper/inventory.ts';
import { createJasperSimulator } from '../src/carriers/jasper/simulator/simulator.ts';
import { createTelegenceSimulator } from '../src/carriers/telegence/simulator/simulator.ts';
import { createThingSpaceSimulator } from '../src/carriers/thingspace/simulator/simulator.ts';
import { luhnCheckDigit } from '../src/core/identifiers.ts';
import { byIccid, submitChange } from './support/bulk-changes.ts';
import { carrierAccountFixture } from './support/carrier-accounts.ts';
import { testDialects } from './support/databases.ts';
import { simAdmin } from './support/processes.ts';
import { serviceForSuite, testIccid, testIccids, waitForFinish } from './support/service.ts';

type AccountView = { id: string; inventorySync: { at: string; result: Record<string, unknown> } | null };
type Device = { iccid: string; status: string; carrierStatus: string; carrierRatePlan: string };

for (const dialect of testDialects) {
  describe(`inventory sync from the carrier on ${dialect}`, () => {
    const test = serviceForSuite(dialect);
    let sim: ReturnType<typeof simAdmin>;
    let accountId: string;
    const iccids = testIccids(120, '8901401');
    // Three years back: Search Devices takes windows of at most a year, so three or four of them.
    const inventorySince = new Date(Date.now() - 3 * 365 * 86_400_000).toISOString().slice(0, 10);

    before(async () => {
      const simulatorUrl = await test.serveSimulator(
        createJasperSimulator({ faults: { rateLimitPerSecond: null, maxConcurrent: null } }),
      );
      sim = simAdmin(simulatorUrl);
      await sim.seed(
        iccids.map((iccid, index) => ({
          iccid,
          state: index % 2 ? 'ACTIVATED' : 'INVENTORY',
          ratePlan: 'IoT 10MB',
        })),
      );
      accountId = await carrierAccountFixture(test, {
        carrier: 'jasper',
        baseUrl: simulatorUrl,
        credentials: { username: 'demo', apiKey: 'demo-api-key' },
        settings: { inventorySince },
        limits: { requestsPerSecond: null, maxConcurrent: 2 },
      });
    });

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
      assert.deepEqual(sync.result, { lines: 120, created: 120, updated: 0, changed: 0 });
      const lines = await devices();
      assert.equal(lines.length, 120);
      const first = lines.find((line) => line.iccid === iccids[1])!;
      assert.deepEqual(
        [first.status, first.carrierStatus, first.carrierRatePlan],
        ['active', 'ACTIVATED', 'IoT 10MB'],
      );
      const windows = searchWindows(Date.parse(`${inventorySince}T00:00:00Z`), Date.now()).length;
      const searches = await sim.calls('search_devices');
      assert.ok(
        searches.every((call) => call.status === 200),
        'every window is one the API takes',
      );
      assert.equal(searches.length, windows + 2, 'one call per window, the last holding 3 pages of 50');

      const change = await submitChange(test, accountId, byIccid([iccids[0], iccids[2]]), 'status_update', {
        targetStatus: 'test_ready',
      });
      assert.equal((await waitForFinish(test, change)).status, 'completed');
    });

    it('refreshes known lines on the next sync without duplicating them', async () => {
      const before = await test.api<AccountView>('GET', `/api/v1/carrier-accounts/${accountId}`);
      await sim.seed([
        { iccid: iccids[5], state: 'DEACTIVATED' },
        { iccid: testIccid(999, '8901401'), state: 'INVENTORY' },
      ]);
      const sync = await syncAndWait(before.body.inventorySync!.at);
      assert.deepEqual(sync.result, { lines: 121, created: 1, updated: 120, changed: 1 });
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

  describe(`inventory sync from ThingSpace and Telegence on ${dialect}`, () => {
    const test = serviceForSuite(dialect);

    /** Starts a sync and waits for its result on the account. */
    const sync = async (accountId: string) => {
      const started = await test.api('POST', `/api/v1/carrier-accounts/${accountId}/inventory-sync`);
      assert.equal(started.status, 202, started.text);
      for (let tries = 0; tries < 400; tries++) {
        const account = await test.api<AccountView>('GET', `/api/v1/carrier-accounts/${accountId}`);
        if (account.body.inventorySync) return account.body.inventorySync;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the sync did not finish');
    };
    const devicesOf = async (accountId: string) =>
      (
        await test.api<{ items: Array<Device & { msisdn: string | null }> }>(
          'GET',
          `/api/v1/devices?carrierAccountId=${accountId}&limit=1000`,
        )
      ).body.items;

    it('reads a ThingSpace account page by page, each page after the last DeviceId seen', async () => {
      const simulatorUrl = await test.serveSimulator(createThingSpaceSimulator());
      const sim = simAdmin(simulatorUrl);
      const iccids = testIccids(1_100, '8901402');
      await sim.seed(
        iccids.map((iccid, index) => ({ iccid, state: index % 4 === 0 ? 'active' : 'pre-active' })),
      );
      const accountId = await carrierAccountFixture(test, {
        carrier: 'thingspace',
        baseUrl: simulatorUrl,
        credentials: {
          clientId: 'demo-client-id',
          clientSecret: 'demo-client-secret',
          username: 'demo-user',
          password: 'demo-password',
        },
        settings: { accountName: '0000123456-00001' },
        limits: { requestsPerSecond: null },
      });
      const result = await sync(accountId);
      assert.deepEqual(result.result, { lines: 1_100, created: 1_100, updated: 0, changed: 0 });
      assert.equal((await sim.calls('list_devices')).length, 3, '1,100 lines are 3 pages of 500');
      const lines = await devicesOf(accountId);
      const active = lines.find((line) => line.iccid === iccids[0]);
      assert.deepEqual([active?.status, active?.carrierStatus], ['active', 'active']);
      assert.ok(active?.msisdn, 'an active line comes with its number');
      assert.equal(lines.find((line) => line.iccid === iccids[1])?.status, 'inventory');
    });

    it('reads a Telegence account 250 lines a page', async () => {
      const simulatorUrl = await test.serveSimulator(
        createTelegenceSimulator({ faults: { rateLimitPerSecond: null, maxConcurrent: null } }),
      );
      const sim = simAdmin(simulatorUrl);
      const iccids = testIccids(300, '8901403');
      await sim.seed(
        iccids.map((iccid, index) => ({
          iccid,
          imei: `35391108${String(index).padStart(6, '0')}${luhnCheckDigit(`35391108${String(index).padStart(6, '0')}`)}`,
          msisdn: String(4125550000 + index),
          state: index % 3 === 0 ? 'S' : 'A',
          ratePlan: 'APX1G5M30',
          ban: '287301234567',
        })),
      );
      const accountId = await carrierAccountFixture(test, {
        carrier: 'telegence',
        baseUrl: simulatorUrl,
        credentials: { appId: 'demo-app', appSecret: 'demo-app-secret' },
        limits: { requestsPerSecond: null },
      });
      const result = await sync(accountId);
      assert.deepEqual(result.result, { lines: 300, created: 300, updated: 0, changed: 0 });
      assert.equal((await sim.calls('list_lines')).length, 2, '300 lines are 2 pages of 250');
      const lines = await devicesOf(accountId);
      const suspended = lines.find((line) => line.iccid === iccids[0]);
      assert.deepEqual([suspended?.status, suspended?.carrierRatePlan], ['suspended', 'APX1G5M30']);
    });
  });
}
