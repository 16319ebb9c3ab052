import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createRevioSimulator } from '../src/billing/revio/simulator/simulator.ts';
import { revioConnection } from './support/billing-connection.ts';
import { byIccid, changesOf, createBulkChange } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { simAdmin } from './support/processes.ts';
import { jasperFixture, serviceForSuite, waitForFinish } from './support/service.ts';

type Change = {
  id: string;
  row: number;
  status: string;
  step: string;
  error: { code: string; message: string } | null;
  result: Record<string, unknown> | null;
};
type JasperLine = { iccid: string; state: string; msisdn: string | null; ratePlan: string | null };
type RevService = { number: string; number2: string; customerId: number };

const MB = 1_048_576;
const deactivationRatePlans = [
  { ratePlan: 'IoT Basic 1MB', dataMb: 1 },
  { ratePlan: 'IoT 10MB', dataMb: 10 },
  { ratePlan: 'IoT 100MB', dataMb: 100 },
];

for (const dialect of testDialects) {
  describe(`Jasper post-steps on ${dialect}`, () => {
    const test = serviceForSuite(dialect);
    let revio: ReturnType<typeof simAdmin>;
    let prefix = 8901540;
    before(async () => {
      const revioUrl = await test.serveSimulator(
        createRevioSimulator({ faults: { rateLimitPerSecond: null, maxConcurrent: null } }),
      );
      revio = simAdmin(revioUrl);
      const connected = await test.api('PUT', '/api/v1/billing-connection', {
        body: revioConnection(revioUrl, {
          settings: {
            providerIds: { jasper: 3 },
            customerDefaults: { '1002': { customerRatePlanId: 'CRP-FLEET', customerPoolId: 'POOL-FLEET' } },
          },
        }),
      });
      assert.equal(connected.status, 200, connected.text);
      const synced = await test.api('POST', '/api/v1/billing-customers/sync');
      assert.equal(synced.status, 200, synced.text);
    });
    const fixture = (count: number, state: string) => {
      prefix += 1;
      return jasperFixture(test, {
        count,
        state,
        prefix: String(prefix),
        settings: { deactivationRatePlans },
      });
    };
    const timelineOf = async (bulkChangeId: string, changeId: string) =>
      (
        await test.api<{ timeline: Array<{ action: string; system: string }> }>(
          'GET',
          `/api/v1/bulk-changes/${bulkChangeId}/changes/${changeId}`,
        )
      ).body.timeline.map((entry) => `${entry.system}:${entry.action}`);

    it('reads the new MSISDN back after an activation and bills the line under it (CSV option)', async () => {
      const fx = await fixture(2, 'ACTIVATION_READY');
      const csv = `iccid,target_status\n${fx.iccids.map((iccid) => `${iccid},active`).join('\n')}\n`;
      const created = await test.api<{ id: string }>(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${fx.accountId}&changeType=status_update&readMsisdn=yes&billingCustomerId=1001&serviceTypeId=10`,
        { body: csv, contentType: 'text/csv' },
      );
      assert.equal(created.status, 201, created.text);
      assert.equal((await waitForFinish(test, created.body.id)).status, 'completed');
      const lines = await simAdmin(fx.simulatorUrl).devices<JasperLine>();
      const msisdnOf = (iccid: string) => lines.find((line) => line.iccid === iccid)?.msisdn;
      const changes = await changesOf<Change>(test, created.body.id);
      for (const [index, change] of changes.entries()) {
        assert.equal(change.result?.msisdn, msisdnOf(fx.iccids[index]));
        assert.ok(change.result?.billingServiceId);
      }
      const services = (await revio.devices<RevService>()).filter((service) =>
        fx.iccids.includes(service.number2),
      );
      assert.deepEqual(
        services.map((service) => service.number).sort(),
        fx.iccids.map(msisdnOf).sort(),
        'billed under the MSISDN, not the ICCID',
      );
      const devices = await test.api<{ items: Array<{ iccid: string; msisdn: string | null }> }>(
        'GET',
        `/api/v1/devices?carrierAccountId=${fx.accountId}&iccid=${fx.iccids[0]}`,
      );
      assert.equal(devices.body.items[0].msisdn, msisdnOf(fx.iccids[0]));
      // Oldest first: the status, the read-back, then billing, each step's inventory record after it.
      assert.deepEqual(await timelineOf(created.body.id, changes[0].id), [
        'jasper:put_device',
        'bulkchange:inventory.update',
        'jasper:get_device',
        'bulkchange:inventory.update',
        'revio:list_services',
        'revio:create_service',
        'bulkchange:inventory.update',
      ]);
    });

    it('moves each line to the cheapest plan covering its usage before deactivating it, writing only a different plan', async () => {
      const fx = await fixture(3, 'ACTIVATED');
      const sim = simAdmin(fx.simulatorUrl);
      await sim.seed([
        { iccid: fx.iccids[0], ctdDataUsage: MB / 2 },
        { iccid: fx.iccids[1], ctdDataUsage: 50 * MB },
        { iccid: fx.iccids[2], ctdDataUsage: 500 * MB },
      ]);
      const created = await createBulkChange(test, {
        carrierAccountId: fx.accountId,
        changeType: 'status_update',
        changes: byIccid(fx.iccids),
        options: { targetStatus: 'deactivated', cheapestPlanBeforeDeactivation: true },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal((await waitForFinish(test, created.body.id)).status, 'completed');
      const lines = await sim.devices<JasperLine>();
      const of = (iccid: string) => lines.find((line) => line.iccid === iccid);
      assert.deepEqual(
        fx.iccids.map((iccid) => [of(iccid)?.ratePlan, of(iccid)?.state]),
        [
          ['IoT Basic 1MB', 'DEACTIVATED'],
          ['IoT 100MB', 'DEACTIVATED'],
          ['IoT 100MB', 'DEACTIVATED'],
        ],
      );
      const changes = await changesOf<Change>(test, created.body.id);
      assert.deepEqual(
        changes.map((change) => [
          change.result?.deactivationRatePlan,
          change.result?.deactivationRatePlanWritten,
        ]),
        [
          ['IoT Basic 1MB', false],
          ['IoT 100MB', true],
          ['IoT 100MB', true],
        ],
      );
      const puts = await sim.calls('put_device');
      assert.equal(puts.filter((call) => call.iccids.includes(fx.iccids[0])).length, 1, 'the status only');
      assert.equal(
        puts.filter((call) => call.iccids.includes(fx.iccids[1])).length,
        2,
        'the plan, then the status',
      );
      // Oldest first: the usage read, the plan, then the status, each step's inventory record after it.
      assert.deepEqual(await timelineOf(created.body.id, changes[1].id), [
        'jasper:get_usage',
        'jasper:put_device',
        'bulkchange:inventory.update',
        'jasper:put_device',
        'bulkchange:inventory.update',
      ]);
      const inventory = await test.api<{ items: Array<{ carrierRatePlan: string; status: string }> }>(
        'GET',
        `/api/v1/devices?carrierAccountId=${fx.accountId}&iccid=${fx.iccids[2]}`,
      );
      assert.deepEqual(
        [inventory.body.items[0].carrierRatePlan, inventory.body.items[0].status],
        ['IoT 100MB', 'deactivated'],
      );
    });

    it('moves an activated line to its billing customer with the customer’s default plan and pool', async () => {
      const fx = await fixture(2, 'ACTIVATION_READY');
      const created = await createBulkChange(test, {
        carrierAccountId: fx.accountId,
        changeType: 'status_update',
        changes: byIccid(fx.iccids),
        options: {
          targetStatus: 'active',
          billingCustomerId: '1002',
          serviceTypeId: 10,
          moveBillingCustomer: true,
        },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal((await waitForFinish(test, created.body.id)).status, 'completed');
      const changes = await changesOf<Change>(test, created.body.id);
      assert.deepEqual(
        changes.map((change) => [
          change.step,
          change.result?.movedToBillingCustomer,
          change.result?.customerPoolId,
        ]),
        [
          ['move_customer', '1002', 'POOL-FLEET'],
          ['move_customer', '1002', 'POOL-FLEET'],
        ],
      );
      const devices = await test.api<{
        items: Array<{ billingCustomerId: string; customerRatePlanId: string; customerPoolId: string }>;
      }>('GET', `/api/v1/devices?carrierAccountId=${fx.accountId}`);
      assert.deepEqual(
        devices.body.items.map((device) => [
          device.billingCustomerId,
          device.customerRatePlanId,
          device.customerPoolId,
        ]),
        [
          ['1002', 'CRP-FLEET', 'POOL-FLEET'],
          ['1002', 'CRP-FLEET', 'POOL-FLEET'],
        ],
      );
      const services = (await revio.devices<RevService>()).filter((service) =>
        fx.iccids.includes(service.number2),
      );
      assert.deepEqual(
        services.map((service) => service.customerId),
        [1002, 1002],
      );

      const noCustomer = await createBulkChange(test, {
        carrierAccountId: fx.accountId,
        changeType: 'status_update',
        changes: byIccid(fx.iccids),
        options: { targetStatus: 'deactivated', moveBillingCustomer: true },
      });
      assert.equal(noCustomer.status, 422);
      assert.deepEqual(
        noCustomer.body.error?.details.map((detail) => [detail.field, detail.code]),
        [
          ['billingCustomerId', 'REQUIRED'],
          ['billingCustomerId', 'REQUIRED'],
        ],
      );
    });

    it('documents the post-step options in the OpenAPI create body', async () => {
      type Schema = { properties?: Record<string, Schema>; description?: string };
      const openApi = await test.api<{
        paths: Record<string, { post?: { requestBody?: { content?: Record<string, { schema?: Schema }> } } }>;
      }>('GET', '/api/openapi.json');
      const body =
        openApi.body.paths['/api/v1/bulk-changes']?.post?.requestBody?.content?.['application/json']?.schema;
      const options = body?.properties?.options?.properties ?? {};
      assert.match(
        options.readMsisdn?.description ?? '',
        /^status_update on the Jasper family: after an activation/,
      );
      assert.match(options.cheapestPlanBeforeDeactivation?.description ?? '', /before a deactivation/);
      assert.match(options.moveBillingCustomer?.description ?? '', /^status_update with billingCustomerId/);
    });

    it('refuses the cheapest-plan option at intake on an account that lists no plans', async () => {
      prefix += 1;
      const fx = await jasperFixture(test, { count: 1, state: 'ACTIVATED', prefix: String(prefix) });
      const refused = await createBulkChange(test, {
        carrierAccountId: fx.accountId,
        changeType: 'status_update',
        changes: byIccid(fx.iccids),
        options: { targetStatus: 'deactivated', cheapestPlanBeforeDeactivation: 'yes' },
      });
      assert.equal(refused.status, 422);
      assert.deepEqual(
        refused.body.error?.details.map((detail) => [detail.field, detail.code]),
        [['cheapestPlanBeforeDeactivation', 'INVALID_FIELD']],
      );
    });
  });
}
