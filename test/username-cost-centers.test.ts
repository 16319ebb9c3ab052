import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createRevioSimulator } from '../src/billing/revio/simulator/simulator.ts';
import { revioConnection } from './support/billing-connection.ts';
import { changesOf, createBulkChange } from './support/bulk-changes.ts';
import { carrierAccountFixture } from './support/carrier-accounts.ts';
import { testDialects } from './support/databases.ts';
import { insertLines } from './support/inventory.ts';
import { simAdmin } from './support/processes.ts';
import { jasperFixture, serviceForSuite, testIccids, waitForFinish } from './support/service.ts';

type Change = {
  row: number;
  status: string;
  step: string;
  error: { code: string; message: string } | null;
  result: Record<string, unknown> | null;
};
type RevService = {
  id: number;
  number2: string;
  fields: Array<{ label: string; value: string | null }>;
};
type JasperLine = {
  iccid: string;
  customFields: Record<string, string>;
  auditTrail: Array<{ status: string }>;
};
type Device = {
  iccid: string;
  username: string | null;
  costCenters: Array<string | null>;
};

const fieldValues = (service: RevService | undefined) =>
  Object.fromEntries((service?.fields ?? []).map((field) => [field.label, field.value]));

for (const dialect of testDialects) {
  describe(`Username and cost centres on ${dialect}`, () => {
    const test = serviceForSuite(dialect);
    let revio: ReturnType<typeof simAdmin>;
    let prefix = 8901500;
    before(async () => {
      const revioUrl = await test.serveSimulator(
        createRevioSimulator({ faults: { rateLimitPerSecond: null, maxConcurrent: null } }),
      );
      revio = simAdmin(revioUrl);
      const connected = await test.api('PUT', '/api/v1/billing-connection', {
        body: revioConnection(revioUrl, { settings: { providerIds: { jasper: 3, pond: 4 } } }),
      });
      assert.equal(connected.status, 200, connected.text);
    });

    const create = (accountId: string, changes: unknown[]) =>
      createBulkChange(test, {
        carrierAccountId: accountId,
        changeType: 'username_cost_center_change',
        changes,
      });
    const device = async (accountId: string, iccid: string) =>
      (
        await test.api<{ items: Device[] }>(
          'GET',
          `/api/v1/devices?carrierAccountId=${accountId}&iccid=${iccid}`,
        )
      ).body.items[0];
    const servicesOf = async (iccids: string[]) =>
      (await revio.devices<RevService>()).filter((service) => iccids.includes(service.number2));

    it('sets the Jasper username and the Rev.io cost centres, and a second run writes nothing', async () => {
      prefix += 1;
      const fx = await jasperFixture(test, { count: 3, state: 'ACTIVATED', prefix: String(prefix) });
      await revio.seed(
        fx.iccids.slice(0, 2).map((iccid) => ({ customerId: 1001, providerId: 3, number2: iccid })),
      );
      const rows = [
        { iccid: fx.iccids[0], username: 'fleet.ops', costCenter1: 'EAST', costCenter2: 'T-12' },
        { iccid: fx.iccids[1], costCenter3: 'NIGHT' },
        { iccid: fx.iccids[2], username: 'yard', costCenter1: 'WEST' },
      ];
      const first = await create(fx.accountId, rows);
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal((await waitForFinish(test, first.body.id)).status, 'completed');

      const lines = await simAdmin(fx.simulatorUrl).devices<JasperLine>();
      const username = (iccid: string) =>
        lines.find((line) => line.iccid === iccid)?.customFields.accountCustom1;
      assert.deepEqual(
        [username(fx.iccids[0]), username(fx.iccids[1]), username(fx.iccids[2])],
        ['fleet.ops', undefined, 'yard'],
      );
      const services = await servicesOf(fx.iccids);
      const of = (iccid: string) => fieldValues(services.find((service) => service.number2 === iccid));
      assert.deepEqual(of(fx.iccids[0]), {
        'Cost Center 1': 'EAST',
        'Cost Center 2': 'T-12',
        'Cost Center 3': null,
      });
      assert.deepEqual(of(fx.iccids[1]), {
        'Cost Center 1': null,
        'Cost Center 2': null,
        'Cost Center 3': 'NIGHT',
      });
      const changes = await changesOf<Change>(test, first.body.id);
      assert.deepEqual(
        changes.map((change) => [
          change.step,
          change.result?.costCentersInBilling,
          change.result?.usernameWritten,
        ]),
        [
          ['billing_fields', 'updated', true],
          ['billing_fields', 'updated', undefined],
          ['billing_fields', 'no_billing_service', true],
        ],
      );
      const line = await device(fx.accountId, fx.iccids[0]);
      assert.equal(line.username, 'fleet.ops');
      assert.deepEqual(line.costCenters, ['EAST', 'T-12', null]);

      // Every call is on the row's timeline: the read, the write, billing's lookups and its patch, and
      // what each step recorded in the inventory.
      const firstRowId = (
        await test.api<{ items: Array<{ id: string }> }>(
          'GET',
          `/api/v1/bulk-changes/${first.body.id}/changes?limit=1`,
        )
      ).body.items[0].id;
      const timeline = await test.api<{ timeline: Array<{ action: string; system: string }> }>(
        'GET',
        `/api/v1/bulk-changes/${first.body.id}/changes/${firstRowId}`,
      );
      assert.deepEqual(timeline.body.timeline.map((entry) => `${entry.system}:${entry.action}`).sort(), [
        'bulkchange:inventory.update',
        'bulkchange:inventory.update',
        'jasper:get_device',
        'jasper:put_device',
        'revio:get_service',
        'revio:list_services',
        'revio:update_service',
      ]);

      const jasperWrites = (await simAdmin(fx.simulatorUrl).calls('put_device')).length;
      const revioWrites = (await revio.calls('update_service')).length;
      const again = await create(fx.accountId, rows);
      assert.equal((await waitForFinish(test, again.body.id)).status, 'completed');
      assert.equal(
        (await simAdmin(fx.simulatorUrl).calls('put_device')).length,
        jasperWrites,
        'no second Jasper write',
      );
      assert.equal((await revio.calls('update_service')).length, revioWrites, 'no second Rev.io write');
      assert.deepEqual(
        (await changesOf<Change>(test, again.body.id)).map((change) => [
          change.result?.costCentersInBilling,
          change.result?.usernameWritten,
        ]),
        [
          ['unchanged', false],
          ['unchanged', undefined],
          ['no_billing_service', false],
        ],
      );
    });

    it('checks POD19’s audit trail: a username it refuses afterwards fails the row', async () => {
      prefix += 1;
      const fx = await jasperFixture(test, {
        count: 2,
        state: 'ACTIVATED',
        prefix: String(prefix),
        settings: { variant: 'pod19' },
        customFields: { accountCustom1: { label: 'Username', values: ['fleet.ops'] } },
      });
      const created = await create(fx.accountId, [
        { iccid: fx.iccids[0], username: 'fleet.ops' },
        { iccid: fx.iccids[1], username: 'nobody' },
      ]);
      assert.equal((await waitForFinish(test, created.body.id)).status, 'completed_with_errors');
      const changes = await changesOf<Change>(test, created.body.id);
      assert.equal(changes[0].status, 'succeeded');
      assert.equal(changes[1].error?.code, 'USERNAME_REFUSED');
      const lines = await simAdmin(fx.simulatorUrl).devices<JasperLine>();
      const refused = lines.find((line) => line.iccid === fx.iccids[1]);
      assert.equal(refused?.customFields.accountCustom1, undefined, 'the simulator kept no username');
      assert.equal(refused?.auditTrail[0].status, 'Error');
      assert.equal((await simAdmin(fx.simulatorUrl).calls('get_audit_trail')).length, 2);
      assert.equal((await device(fx.accountId, fx.iccids[1])).username, null);
      assert.equal((await device(fx.accountId, fx.iccids[0])).username, 'fleet.ops');
    });

    it('writes cost centres to Rev.io on a carrier without usernames, and refuses a username there', async () => {
      const accountId = await carrierAccountFixture(test, {
        carrier: 'pond',
        // Cost centres never go to the carrier: nothing listens here.
        baseUrl: 'http://127.0.0.1:9',
        credentials: { apiKey: 'unused' },
        settings: { distributorId: 'D1' },
      });
      const iccids = testIccids(2, '8901599');
      await insertLines(
        test,
        accountId,
        iccids.map((iccid) => ({ iccid, status: 'active', carrierStatus: 'ACTIVE' })),
      );
      await revio.seed(iccids.map((iccid) => ({ customerId: 1002, providerId: 4, number2: iccid })));
      const refused = await create(accountId, [{ iccid: iccids[0], username: 'x' }]);
      assert.equal(refused.status, 422);
      assert.equal(refused.body.error?.details[0].code, 'UNKNOWN_FIELD');
      const created = await create(accountId, [
        { iccid: iccids[0], costCenter1: 'POND-1' },
        { iccid: iccids[1], costCenter2: 'POND-2' },
      ]);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal((await waitForFinish(test, created.body.id)).status, 'completed');
      const services = await servicesOf(iccids);
      assert.equal(
        fieldValues(services.find((service) => service.number2 === iccids[0]))['Cost Center 1'],
        'POND-1',
      );
      assert.equal(
        fieldValues(services.find((service) => service.number2 === iccids[1]))['Cost Center 2'],
        'POND-2',
      );
    });
  });
}

describe('Cost centres a Rev.io service has no field for', () => {
  const test = serviceForSuite('sqlite');
  it('fail the row with BILLING_FIELD_MISSING and write nothing', async () => {
    const revioUrl = await test.serveSimulator(
      createRevioSimulator({
        faults: { rateLimitPerSecond: null, maxConcurrent: null },
        serviceFields: [{ field_id: 7, label: 'CostCenter' }],
      }),
    );
    const revio = simAdmin(revioUrl);
    await test.api('PUT', '/api/v1/billing-connection', { body: revioConnection(revioUrl) });
    const fx = await jasperFixture(test, { count: 2, state: 'ACTIVATED', prefix: '8901590' });
    await revio.seed(fx.iccids.map((iccid) => ({ customerId: 1001, providerId: 3, number2: iccid })));
    const created = await createBulkChange(test, {
      carrierAccountId: fx.accountId,
      changeType: 'username_cost_center_change',
      changes: [
        { iccid: fx.iccids[0], costCenter1: 'ONE' },
        { iccid: fx.iccids[1], costCenter2: 'TWO' },
      ],
    });
    assert.equal((await waitForFinish(test, created.body.id)).status, 'completed_with_errors');
    const changes = await changesOf<Change>(test, created.body.id);
    assert.equal(changes[0].status, 'succeeded', 'a bare "CostCenter" is the first one');
    assert.equal(changes[1].error?.code, 'BILLING_FIELD_MISSING');
    const services = await revio.devices<RevService>();
    assert.deepEqual(
      services.map((service) => fieldValues(service).CostCenter),
      ['ONE', null],
    );
  });
});
