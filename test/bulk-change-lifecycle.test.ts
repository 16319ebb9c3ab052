import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byIccid, changesOf, countsDrift, createBulkChange } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { simAdmin } from './support/processes.ts';
import { jasperFixture, serviceForSuite, waitForFinish } from './support/service.ts';

type Change = {
  id: string;
  row: number;
  status: string;
  error: { code: string; carrierCode?: string } | null;
};

for (const dialect of testDialects) {
  describe(`bulk change lifecycle on ${dialect}`, () => {
    const test = serviceForSuite(dialect);

    const create = (accountId: string, iccids: string[], targetStatus = 'active', key?: string) =>
      createBulkChange(
        test,
        {
          carrierAccountId: accountId,
          changeType: 'status_update',
          options: { targetStatus },
          changes: byIccid(iccids),
        },
        key,
      );

    it('fails every row with WRITE_DISABLED when the account does not allow writes, and calls nobody', async () => {
      const fixture = await jasperFixture(test, { count: 6, writeEnabled: false, prefix: '8901101' });
      const created = await create(fixture.accountId, fixture.iccids);
      assert.equal(created.status, 201);
      const done = await waitForFinish(test, created.body.id);
      assert.equal(done.status, 'failed');
      assert.equal(done.counts.failed, 6);
      assert.ok(
        (await changesOf<Change>(test, created.body.id)).every((c) => c.error?.code === 'WRITE_DISABLED'),
      );
      assert.equal((await simAdmin(fixture.simulatorUrl).calls()).length, 0);
    });

    it('rejects a transition the carrier does not allow at intake, with the row and nothing created', async () => {
      const fixture = await jasperFixture(test, { count: 3, state: 'RETIRED', prefix: '8901102' });
      const response = await create(fixture.accountId, fixture.iccids);
      assert.equal(response.status, 422);
      const body = response.body as unknown as {
        error: { code: string; details: Array<{ row: number; code: string }> };
      };
      assert.equal(body.error.code, 'VALIDATION_FAILED');
      assert.deepEqual(
        body.error.details.map((d) => [d.row, d.code]),
        [
          [1, 'INVALID_TRANSITION'],
          [2, 'INVALID_TRANSITION'],
          [3, 'INVALID_TRANSITION'],
        ],
      );
      const list = await test.api<{ items: unknown[] }>(
        'GET',
        `/api/v1/bulk-changes?carrierAccountId=${fixture.accountId}`,
      );
      assert.equal(list.body.items.length, 0);
    });

    it('fails a row whose transition the carrier refuses at run time, with the carrier code, and keeps its neighbours', async () => {
      const fixture = await jasperFixture(test, { count: 4, prefix: '8901103' });
      // The carrier has moved one line on since the inventory last looked.
      await simAdmin(fixture.simulatorUrl).seed([{ iccid: fixture.iccids[1], state: 'RETIRED' }]);
      const created = await create(fixture.accountId, fixture.iccids);
      const done = await waitForFinish(test, created.body.id);
      assert.equal(done.status, 'completed_with_errors');
      const changes = await changesOf<Change>(test, created.body.id);
      assert.deepEqual(
        changes.map((c) => c.status),
        ['succeeded', 'failed', 'succeeded', 'succeeded'],
      );
      assert.equal(changes[1].error?.code, 'INVALID_TRANSITION');
      assert.equal(changes[1].error?.carrierCode, '20000017');
    });

    it('cancels between chunks: rows not yet sent are cancelled and never sent', async () => {
      const fixture = await jasperFixture(test, {
        count: 30,
        prefix: '8901104',
        limits: { requestsPerSecond: 4, maxConcurrent: 1 },
      });
      const created = await create(fixture.accountId, fixture.iccids);
      await new Promise((resolve) => setTimeout(resolve, 800));
      const cancelled = await test.api<{ cancelRequestedAt: string }>(
        'POST',
        `/api/v1/bulk-changes/${created.body.id}/cancel`,
      );
      assert.equal(cancelled.status, 200, cancelled.text);
      assert.ok(cancelled.body.cancelRequestedAt);
      const done = await waitForFinish(test, created.body.id);
      assert.equal(done.status, 'cancelled');
      assert.ok(done.counts.cancelled > 0, 'some rows were cancelled');
      assert.ok(done.counts.succeeded > 0, 'rows already sent finished');
      assert.equal(done.counts.succeeded + done.counts.cancelled, 30);
      const sent = new Set(
        (await simAdmin(fixture.simulatorUrl).calls('put_device')).flatMap((c) => c.iccids),
      );
      const changes = await changesOf<Change>(test, created.body.id);
      for (const change of changes.filter((c) => c.status === 'cancelled')) {
        assert.ok(!sent.has(fixture.iccids[change.row - 1]), `row ${change.row} was cancelled but sent`);
      }
      const again = await test.api('POST', `/api/v1/bulk-changes/${created.body.id}/cancel`);
      assert.equal(again.status, 409);
    });

    it('retries failed rows into a new bulk change linked to the first', async () => {
      // Two lines in the inventory but unknown to the carrier (e.g. not yet provisioned there).
      const fixture = await jasperFixture(test, { count: 6, prefix: '8901105', unknownToCarrier: 2 });
      const absent = fixture.unknownToCarrier;
      const created = await create(fixture.accountId, [...fixture.iccids, ...absent]);
      const first = await waitForFinish(test, created.body.id);
      assert.equal(first.status, 'completed_with_errors');
      assert.equal(first.counts.failed, 2);
      const failedCodes = (await changesOf<Change>(test, created.body.id))
        .filter((c) => c.status === 'failed')
        .map((c) => c.error?.code);
      assert.deepEqual(failedCodes, ['DEVICE_NOT_FOUND', 'DEVICE_NOT_FOUND']);

      await simAdmin(fixture.simulatorUrl).seed(
        absent.map((iccid) => ({ iccid, state: 'ACTIVATION_READY' })),
      );
      const retry = await test.api<{ id: string; parentId: string; counts: { total: number } }>(
        'POST',
        `/api/v1/bulk-changes/${created.body.id}/retry`,
      );
      assert.equal(retry.status, 201, retry.text);
      assert.equal(retry.body.parentId, created.body.id);
      assert.equal(retry.body.counts.total, 2);
      assert.equal((await waitForFinish(test, retry.body.id)).status, 'completed');
      const parent = await test.api<{ retriedAsId: string }>(
        'GET',
        `/api/v1/bulk-changes/${created.body.id}`,
      );
      assert.equal(parent.body.retriedAsId, retry.body.id);
      const again = await test.api<{ error: { code: string } }>(
        'POST',
        `/api/v1/bulk-changes/${created.body.id}/retry`,
      );
      assert.equal(again.status, 409, 'a bulk change is retried once');
      assert.equal(again.body.error.code, 'ALREADY_RETRIED');
      const puts = (await simAdmin(fixture.simulatorUrl).calls('put_device')).filter((c) => c.status === 200);
      assert.equal(puts.length, 8, 'each of the 8 lines was changed once');
    });

    it("keeps tenants apart: another tenant's bulk change is a 404 and absent from its list", async () => {
      const fixture = await jasperFixture(test, { count: 2, prefix: '8901106' });
      const created = await create(fixture.accountId, fixture.iccids);
      const otherKey = await test.keyFor('globex', 'admin');
      assert.equal(
        (await test.api('GET', `/api/v1/bulk-changes/${created.body.id}`, { key: otherKey })).status,
        404,
      );
      assert.equal(
        (await test.api('GET', `/api/v1/bulk-changes/${created.body.id}/changes`, { key: otherKey })).status,
        404,
      );
      assert.equal(
        (await test.api('POST', `/api/v1/bulk-changes/${created.body.id}/cancel`, { key: otherKey })).status,
        404,
      );
      const list = await test.api<{ items: unknown[] }>('GET', '/api/v1/bulk-changes', { key: otherKey });
      assert.deepEqual(list.body.items, []);
      const foreignAccount = await create(fixture.accountId, fixture.iccids, 'active', otherKey);
      assert.equal(foreignAccount.status, 404);
    });

    it('enforces authentication and roles', async () => {
      assert.equal((await test.api('GET', '/api/v1/bulk-changes', { key: null })).status, 401);
      assert.equal((await test.api('GET', '/api/v1/bulk-changes', { key: 'bck_not-a-key' })).status, 401);
      const viewer = await test.keyFor('acme', 'viewer');
      assert.equal((await test.api('GET', '/api/v1/bulk-changes', { key: viewer })).status, 200);
      const refused = await test.api<{ error: { code: string } }>('POST', '/api/v1/bulk-changes', {
        key: viewer,
        body: {},
      });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error.code, 'FORBIDDEN');
      const operator = await test.keyFor('acme', 'operator');
      assert.equal(
        (await test.api('POST', '/api/v1/carrier-accounts', { key: operator, body: { name: 'x' } })).status,
        403,
      );
    });

    it('returns the original bulk change for a repeated Idempotency-Key, and 409 for a different body', async () => {
      const fixture = await jasperFixture(test, { count: 3, prefix: '8901107' });
      const body = {
        carrierAccountId: fixture.accountId,
        changeType: 'status_update',
        options: { targetStatus: 'test_ready' },
        changes: fixture.iccids.map((iccid) => ({ iccid })),
      };
      const headers = { 'idempotency-key': 'upload-42' };
      const first = await test.api<{ id: string }>('POST', '/api/v1/bulk-changes', { body, headers });
      const second = await test.api<{ id: string }>('POST', '/api/v1/bulk-changes', { body, headers });
      assert.equal(first.status, 201);
      assert.equal(second.status, 201);
      assert.equal(second.body.id, first.body.id);
      const different = await test.api('POST', '/api/v1/bulk-changes', {
        body: { ...body, options: { targetStatus: 'active' } },
        headers,
      });
      assert.equal(different.status, 409);
    });

    it('changes only what a PATCH of a carrier account names, and never returns credentials', async () => {
      const fixture = await jasperFixture(test, {
        count: 1,
        prefix: '8901109',
        limits: { maxConcurrent: 2 },
      });
      const patched = await test.api<
        Record<string, unknown> & { writeEnabled: boolean; settings: { limits: unknown } }
      >('PATCH', `/api/v1/carrier-accounts/${fixture.accountId}`, { body: { name: 'renamed' } });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.name, 'renamed');
      assert.equal(patched.body.writeEnabled, true);
      assert.deepEqual(patched.body.settings.limits, { requestsPerSecond: null, maxConcurrent: 2 });
      assert.ok(!('credentials' in patched.body));
      assert.doesNotMatch(patched.text, /demo-api-key/);
      const other = await jasperFixture(test, { count: 1, prefix: '8901113' });
      const clash = await test.api<{ error: { code: string } }>(
        'PATCH',
        `/api/v1/carrier-accounts/${other.accountId}`,
        {
          body: { name: 'renamed' },
        },
      );
      assert.equal(clash.status, 409);
      assert.equal(clash.body.error.code, 'NAME_TAKEN');
      const invalid = await test.api('PATCH', `/api/v1/carrier-accounts/${fixture.accountId}`, {
        body: { settings: { limits: { maxConcurrent: 0 } } },
      });
      assert.equal(invalid.status, 422);
    });

    it('holds a scheduled bulk change until its time, then runs it in full', async () => {
      const fixture = await jasperFixture(test, { count: 3, prefix: '8901110' });
      const scheduledFor = new Date(Date.now() + 1_500).toISOString();
      const created = await test.api<{ id: string; status: string; scheduledFor: string }>(
        'POST',
        '/api/v1/bulk-changes',
        {
          body: {
            carrierAccountId: fixture.accountId,
            changeType: 'status_update',
            options: { targetStatus: 'active' },
            scheduledFor,
            changes: fixture.iccids.map((iccid) => ({ iccid })),
          },
        },
      );
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.status, 'scheduled');
      assert.equal(created.body.scheduledFor, scheduledFor);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(
        (await simAdmin(fixture.simulatorUrl).calls()).length,
        0,
        'nothing is sent before its time',
      );
      const done = await waitForFinish(test, created.body.id);
      assert.equal(done.status, 'completed');
      assert.ok(Date.parse(String(done.startedAt)) >= Date.parse(scheduledFor));
    });

    it('cancels a scheduled bulk change at once', async () => {
      const fixture = await jasperFixture(test, { count: 2, prefix: '8901112' });
      const created = await test.api<{ id: string; status: string }>('POST', '/api/v1/bulk-changes', {
        body: {
          carrierAccountId: fixture.accountId,
          changeType: 'status_update',
          options: { targetStatus: 'active' },
          scheduledFor: new Date(Date.now() + 3_600_000).toISOString(),
          changes: fixture.iccids.map((iccid) => ({ iccid })),
        },
      });
      assert.equal(created.body.status, 'scheduled');
      await test.api('POST', `/api/v1/bulk-changes/${created.body.id}/cancel`);
      const done = await waitForFinish(test, created.body.id, 10_000);
      assert.equal(done.status, 'cancelled');
      assert.equal(done.counts.cancelled, 2);
      assert.equal((await simAdmin(fixture.simulatorUrl).calls()).length, 0);
    });

    it('streams progress as Server-Sent Events and ends with done', async () => {
      const fixture = await jasperFixture(test, {
        count: 4,
        prefix: '8901111',
        limits: { requestsPerSecond: 8, maxConcurrent: 1 },
      });
      const created = await create(fixture.accountId, fixture.iccids);
      const response = await fetch(`${test.url}/api/v1/bulk-changes/${created.body.id}/events`, {
        headers: { authorization: `Bearer ${test.adminKey}` },
      });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
      const text = await response.text();
      const events = [...text.matchAll(/event: (\w+)\ndata: (.*)\n/g)].map((m) => ({
        event: m[1],
        data: JSON.parse(m[2]),
      }));
      assert.ok(events.length >= 2);
      assert.equal(events[0].event, 'progress');
      const last = events[events.length - 1];
      assert.equal(last.event, 'done');
      assert.equal(last.data.status, 'completed');
      assert.equal(last.data.counts.succeeded, 4);
    });

    it('exports results as CSV with formula-looking cells escaped', async () => {
      const fixture = await jasperFixture(test, { count: 2, prefix: '8901108' });
      const created = await create(fixture.accountId, fixture.iccids);
      await waitForFinish(test, created.body.id);
      const csv = await test.api('GET', `/api/v1/bulk-changes/${created.body.id}/results.csv`);
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
      const lines = csv.text.trim().split('\n');
      assert.equal(
        lines[0],
        'row,iccid,imei,msisdn,eid,status,error_code,error_message,carrier_code,result,calls,' +
          'new_msisdn,ip_address,previous_iccid,new_iccid,previous_imei,new_imei,target_status,rate_plan,carrier_request_id,billing_service_id',
      );
      assert.equal(lines.length, 3);
      assert.match(lines[1], new RegExp(`^1,${fixture.iccids[0]},,,,succeeded`));
    });

    it("kept every bulk change's counts equal to its rows through all of the above", async () => {
      assert.deepEqual(await countsDrift(test), []);
    });
  });
}
