import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createRevioSimulator } from '../src/billing/revio/simulator/simulator.ts';
import { revioConnection } from './support/billing-connection.ts';
import { byIccid, changesOf, createBulkChange } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { simAdmin } from './support/processes.ts';
import { jasperFixture, serviceForSuite, waitForFinish } from './support/service.ts';

type Change = {
  row: number;
  status: string;
  error: { code: string; message: string } | null;
  result: Record<string, unknown> | null;
};
type Service = {
  id: number;
  customerId: number;
  number2: string;
  status: string;
  products: Array<{ productId: number }>;
};
type Device = {
  iccid: string;
  billingCustomerId: string | null;
  customerRatePlanId: string | null;
  archived: boolean;
};

for (const dialect of testDialects) {
  describe(`Billing and inventory change types on ${dialect}`, () => {
    const test = serviceForSuite(dialect);
    let revio: ReturnType<typeof simAdmin>;
    let prefix = 8901600;
    before(async () => {
      const revioUrl = await test.serveSimulator(
        createRevioSimulator({ faults: { rateLimitPerSecond: null, maxConcurrent: null } }),
      );
      revio = simAdmin(revioUrl);
      const connected = await test.api('PUT', '/api/v1/billing-connection', {
        body: revioConnection(revioUrl, { settings: { providerIds: { jasper: 3 } } }),
      });
      assert.equal(connected.status, 200, connected.text);
      const synced = await test.api<{ imported: number }>('POST', '/api/v1/billing-customers/sync');
      assert.equal(synced.status, 200, synced.text);
      assert.ok(synced.body.imported >= 4);
      // The sync's calls to Rev.io are in the audit log, under the key that asked for it.
      const calls = await test.api<{ items: Array<{ actor: string; system: string; httpStatus: number }> }>(
        'GET',
        '/api/v1/audit?action=list_customers&limit=100',
      );
      assert.ok(calls.body.items.length >= 1, calls.text);
      assert.ok(calls.body.items.every((call) => call.system === 'revio' && call.actor.startsWith('key:')));
      for (const [path, items] of [
        [
          'customer-rate-plans',
          [
            { id: 'CRP-1', name: 'Fleet 1 GB' },
            { id: 'CRP-2', name: 'Fleet 5 GB' },
          ],
        ],
        ['customer-pools', [{ id: 'POOL-A', name: 'Shared pool A', dataMb: 10_240 }]],
      ] as const) {
        const saved = await test.api('POST', `/api/v1/${path}`, { body: { items } });
        assert.equal(saved.status, 200, saved.text);
      }
    });

    const fixture = async (count: number, state = 'ACTIVATED') => {
      prefix += 1;
      return jasperFixture(test, { count, state, prefix: String(prefix) });
    };
    const create = (accountId: string, changeType: string, changes: unknown[], options = {}, extra = {}) =>
      createBulkChange(test, { carrierAccountId: accountId, changeType, changes, options, ...extra });
    const services = () => revio.devices<Service>();
    /** A Rev.io service of the customer for the line, made outside this bulk change (an earlier attempt, say). */
    const billedAlready = (customerId: number, iccid: string) =>
      revio.seed([{ customerId, providerId: 3, number: iccid, number2: iccid }]);
    const device = async (accountId: string, iccid: string) =>
      (
        await test.api<{ items: Device[] }>(
          'GET',
          `/api/v1/devices?carrierAccountId=${accountId}&iccid=${iccid}`,
        )
      ).body.items[0];

    it('assigns lines to a customer with one billing service each, even when a service already exists from an earlier attempt', async () => {
      const fx = await fixture(5);
      // As if an earlier attempt had created the first line's service and then crashed before recording it.
      await billedAlready(1001, fx.iccids[0]);
      const created = await create(fx.accountId, 'customer_assignment', byIccid(fx.iccids), {
        billingCustomerId: '1001',
        createBillingService: true,
        serviceTypeId: 10,
        productIds: '501|502',
        rates: '2.5|5',
        customerRatePlanId: 'CRP-1',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal((await waitForFinish(test, created.body.id)).status, 'completed');
      const mine = (await services()).filter((service) => fx.iccids.includes(service.number2));
      assert.equal(mine.length, 5, 'one service per line');
      for (const service of mine) {
        assert.equal(service.customerId, 1001);
        assert.deepEqual(service.products.map((product) => product.productId).sort(), [501, 502]);
      }
      const line = await device(fx.accountId, fx.iccids[2]);
      assert.equal(line.billingCustomerId, '1001');
      assert.equal(line.customerRatePlanId, 'CRP-1');

      // The same lines to another customer: refused at intake, they are billed to 1001.
      const moved = await create(fx.accountId, 'customer_assignment', [{ iccid: fx.iccids[0] }], {
        billingCustomerId: '1002',
      });
      assert.equal(moved.status, 422);
      assert.equal(moved.body.error?.details[0].code, 'BILLING_SERVICE_OTHER_CUSTOMER');
    });

    it('refuses a billing connection without the subscription key the Rev.io gateway wants', async () => {
      const refused = await test.api<{ error: { details: Array<{ field: string }> } }>(
        'PUT',
        '/api/v1/billing-connection',
        {
          body: {
            system: 'revio',
            baseUrl: 'https://restapi.rev.io',
            credentials: { username: 'demo@bulkchange', password: 'demo-rev-password' },
          },
        },
      );
      assert.ok(refused.status >= 400 && refused.status < 500, refused.text);
      assert.ok(
        JSON.stringify(refused.body).includes('subscriptionKey'),
        'the answer names the missing subscriptionKey',
      );
    });

    it('rides out the Rev.io gateway’s throttling (Retry-After, "Try again in N seconds") without duplicates', async () => {
      const fx = await fixture(6);
      await revio.setFaults({ rateLimitPerSecond: 2 });
      try {
        const created = await create(fx.accountId, 'billing_service_creation', byIccid(fx.iccids), {
          billingCustomerId: '1002',
          serviceTypeId: 10,
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assert.equal((await waitForFinish(test, created.body.id)).status, 'completed');
        const calls = await revio.calls();
        const mine = calls.filter((call) => call.iccids.some((iccid) => fx.iccids.includes(iccid)));
        assert.ok(
          mine.some((call) => call.status === 429),
          'Rev.io throttled some calls',
        );
        assert.equal((await services()).filter((service) => fx.iccids.includes(service.number2)).length, 6);
      } finally {
        await revio.setFaults({ rateLimitPerSecond: null });
      }
    });

    it('fails a line billed to another customer in Rev.io, and refuses unknown catalog entries at intake', async () => {
      const fx = await fixture(2);
      await billedAlready(1003, fx.iccids[1]);
      const created = await create(fx.accountId, 'billing_service_creation', byIccid(fx.iccids), {
        billingCustomerId: '1001',
        serviceTypeId: 10,
      });
      assert.equal((await waitForFinish(test, created.body.id)).status, 'completed_with_errors');
      const rows = await changesOf<Change>(test, created.body.id);
      assert.equal(rows[1].error?.code, 'BILLING_SERVICE_OTHER_CUSTOMER');
      const unknown = await create(fx.accountId, 'customer_rate_plan_change', [
        { iccid: fx.iccids[0], customerRatePlanId: 'NOPE' },
        { iccid: fx.iccids[1], customerPoolId: 'POOL-A' },
      ]);
      assert.equal(unknown.status, 422);
      assert.deepEqual(
        unknown.body.error?.details.map((detail) => [detail.row, detail.code]),
        [[1, 'UNKNOWN_CUSTOMER_RATE_PLAN']],
      );
      const closed = await create(fx.accountId, 'customer_assignment', [{ iccid: fx.iccids[0] }], {
        billingCustomerId: '1009',
      });
      assert.equal(closed.body.error?.details[0].code, 'CATALOG_ENTRY_CLOSED');
    });

    it('runs a scheduled customer plan change of 1,000 lines in full at its time, and not before', async () => {
      const fx = await fixture(1000);
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
      const later = await create(fx.accountId, 'customer_rate_plan_change', [{ iccid: fx.iccids[0] }], {
        customerRatePlanId: 'CRP-2',
        effectiveDate: tomorrow,
      });
      assert.equal(later.status, 201, JSON.stringify(later.body));
      assert.equal(later.body.status, 'scheduled');
      assert.equal(later.body.scheduledFor, `${tomorrow}T00:00:00.000Z`);
      await test.api('POST', `/api/v1/bulk-changes/${later.body.id}/cancel`);

      const at = Date.now() + 2_500;
      const created = await create(
        fx.accountId,
        'customer_rate_plan_change',
        byIccid(fx.iccids),
        { customerRatePlanId: 'CRP-2' },
        { scheduledFor: new Date(at).toISOString() },
      );
      assert.equal(created.body.status, 'scheduled');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal((await device(fx.accountId, fx.iccids[999])).customerRatePlanId, null);
      const done = await waitForFinish(test, created.body.id);
      assert.equal(done.status, 'completed');
      assert.equal((done.counts as { succeeded: number }).succeeded, 1000);
      assert.ok(Date.parse(String(done.startedAt)) >= at - 50);
      assert.equal((await device(fx.accountId, fx.iccids[999])).customerRatePlanId, 'CRP-2');
    });

    it('archives lines, refusing those still billed or used in the last 30 days unless override', async () => {
      const fx = await fixture(3);
      const assigned = await create(fx.accountId, 'billing_service_creation', [{ iccid: fx.iccids[0] }], {
        billingCustomerId: '1001',
        serviceTypeId: 10,
      });
      await waitForFinish(test, assigned.body.id);
      await test.service.database.db
        .updateTable('devices')
        .set({ last_usage_at: Date.now() - 86_400_000 })
        .where('iccid', '=', fx.iccids[1])
        .execute();
      const refused = await create(fx.accountId, 'archival', byIccid(fx.iccids));
      assert.equal(refused.status, 422);
      assert.deepEqual(
        refused.body.error?.details.map((detail) => [detail.row, detail.code]),
        [
          [1, 'ACTIVE_BILLING_SERVICE'],
          [2, 'RECENT_USAGE'],
        ],
      );
      const forced = await create(fx.accountId, 'archival', byIccid(fx.iccids), { override: true });
      assert.equal((await waitForFinish(test, forced.body.id)).status, 'completed');
      assert.equal((await device(fx.accountId, fx.iccids[1])).archived, true);
    });

    it('creates the billing service after a successful activation that names a customer, and disconnects on deactivation', async () => {
      const fx = await fixture(2, 'ACTIVATION_READY');
      const activate = await create(fx.accountId, 'status_update', byIccid(fx.iccids), {
        targetStatus: 'active',
        billingCustomerId: '1003',
        serviceTypeId: 10,
      });
      assert.equal(activate.status, 201, JSON.stringify(activate.body));
      assert.equal((await waitForFinish(test, activate.body.id)).status, 'completed');
      let mine = (await services()).filter((service) => fx.iccids.includes(service.number2));
      assert.deepEqual(
        mine.map((service) => [service.customerId, service.status]),
        [
          [1003, 'ACTIVE'],
          [1003, 'ACTIVE'],
        ],
      );

      const deactivate = await create(fx.accountId, 'status_update', [{ iccid: fx.iccids[0] }], {
        targetStatus: 'deactivated',
        billingCustomerId: '1003',
      });
      assert.equal((await waitForFinish(test, deactivate.body.id)).status, 'completed');
      mine = (await services()).filter((service) => service.number2 === fx.iccids[0]);
      assert.equal(mine[0].status, 'DISCONNECTED');
    });
  });
}
