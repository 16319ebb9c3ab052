import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testDialects } from './support/databases.ts';
import { jasperFixture, startTestService, type TestService, waitForFinish } from './support/service.ts';

type Calls = Array<{ action: string; iccids: string[]; status: number }>;
const simCalls = async (url: string, action?: string): Promise<Calls> =>
  (await fetch(`${url}/_sim/calls${action ? `?action=${action}` : ''}`)).json() as Promise<Calls>;
const simDevices = async (url: string) =>
  (await (await fetch(`${url}/_sim/devices`)).json()) as Array<{
    iccid: string;
    state: string;
    ratePlan: string;
    communicationPlan: string;
    effectiveDate: string | null;
  }>;

for (const dialect of testDialects) {
  describe(`Jasper bulk changes on ${dialect}`, () => {
    let test: TestService;
    before(async () => {
      test = await startTestService(dialect);
    });
    after(() => test.stop());

    it('activates lines from JSON: every row succeeds, the carrier and the inventory agree, one log entry per call', async () => {
      const fixture = await jasperFixture(test, { count: 40, prefix: '8901001' });
      const created = await test.api<{ id: string; status: string; counts: { total: number } }>(
        'POST',
        '/api/v1/bulk-changes',
        {
          body: {
            carrierAccountId: fixture.accountId,
            changeType: 'status_update',
            options: { targetStatus: 'active' },
            changes: fixture.iccids.map((iccid) => ({ iccid })),
          },
        },
      );
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.counts.total, 40);
      const done = await waitForFinish(test, created.body.id);
      assert.equal(done.status, 'completed');
      assert.equal(done.counts.succeeded, 40);

      const devices = await simDevices(fixture.simulatorUrl);
      assert.ok(devices.every((device) => device.state === 'ACTIVATED'));
      const inventory = await test.api<{ items: Array<{ status: string; carrierStatus: string }> }>(
        'GET',
        `/api/v1/devices?carrierAccountId=${fixture.accountId}&limit=100`,
      );
      assert.ok(inventory.body.items.every((d) => d.status === 'active' && d.carrierStatus === 'ACTIVATED'));

      const puts = await simCalls(fixture.simulatorUrl, 'put_device');
      assert.equal(puts.length, 40, 'one PUT per line');
      const log = await test.api<{
        items: Array<{ action: string; system: string; changeId: string; httpStatus: number }>;
      }>('GET', `/api/v1/bulk-changes/${created.body.id}/log?limit=1000`);
      // Beside the calls: the change's creation and what the calls did to the inventory.
      const calls = log.body.items.filter((entry) => entry.system !== 'bulkchange');
      assert.equal(
        calls.length,
        (await simCalls(fixture.simulatorUrl)).length,
        'one log entry per carrier call',
      );
      assert.ok(calls.every((entry) => entry.action === 'put_device' && entry.httpStatus === 200));
      assert.deepEqual(
        [
          ...new Set(
            log.body.items.filter((entry) => entry.system === 'bulkchange').map((entry) => entry.action),
          ),
        ],
        ['bulk_change.create', 'inventory.update'],
      );
      assert.doesNotMatch(
        log.text,
        /demo-api-key|Basic [A-Za-z0-9+/=]{8,}/,
        'credentials never reach the log',
      );
    });

    it('changes rate plans from CSV, passing the communication plan and effective date through', async () => {
      const fixture = await jasperFixture(test, { count: 12, state: 'ACTIVATED', prefix: '8901002' });
      const effective = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
      const csv = [
        'ICCID;Rate Plan;communication_plan;Effective Date',
        ...fixture.iccids.map((iccid) => `${iccid};IoT 100MB;CP_Data_Only;${effective}`),
      ].join('\r\n');
      const created = await test.api<{ id: string }>(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${fixture.accountId}&changeType=carrier_rate_plan_change`,
        { body: `\uFEFF${csv}\r\n`, contentType: 'text/csv' },
      );
      assert.equal(created.status, 201, created.text);
      const done = await waitForFinish(test, created.body.id);
      assert.equal(done.status, 'completed');
      const devices = await simDevices(fixture.simulatorUrl);
      assert.ok(devices.every((d) => d.ratePlan === 'IoT 100MB' && d.communicationPlan === 'CP_Data_Only'));
      assert.ok(
        devices.every((d) => String(d.effectiveDate).startsWith(effective)),
        'the effective date reached the carrier',
      );
      const changes = await test.api<{
        items: Array<{ status: string; result: { carrierRatePlan: string } }>;
      }>('GET', `/api/v1/bulk-changes/${created.body.id}/changes`);
      assert.ok(
        changes.body.items.every((c) => c.status === 'succeeded' && c.result.carrierRatePlan === 'IoT 100MB'),
      );
    });

    it('accepts a multipart upload with the fields as parts', async () => {
      const fixture = await jasperFixture(test, { count: 5, prefix: '8901003' });
      const form = new FormData();
      form.append('carrierAccountId', fixture.accountId);
      form.append('changeType', 'status_update');
      form.append('targetStatus', 'test_ready');
      form.append(
        'file',
        new Blob([`iccid\n${fixture.iccids.join('\n')}\n`], { type: 'text/csv' }),
        'lines.csv',
      );
      const response = await fetch(`${test.url}/api/v1/bulk-changes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${test.adminKey}` },
        body: form,
      });
      const body = (await response.json()) as { id: string };
      assert.equal(response.status, 201, JSON.stringify(body));
      assert.equal((await waitForFinish(test, body.id)).status, 'completed');
      assert.ok((await simDevices(fixture.simulatorUrl)).every((d) => d.state === 'TEST_READY'));
    });
  });
}
