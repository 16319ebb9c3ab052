import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  byIccid,
  changesOf,
  countsDrift,
  createBulkChange,
  postChange,
  submitChange,
} from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { portalSession } from './support/portal-session.ts';
import { postJson } from './support/post-json.ts';
import { serviceForSuite, testIccid, waitForFinish } from './support/service.ts';
import { thingSpaceLines } from './support/thingspace-lines.ts';

type Change = {
  row: number;
  status: string;
  nextCheckAt: string | null;
  error: { code: string; carrierCode?: string; message: string } | null;
  result: { msisdn?: string; ipAddress?: string } | null;
};

for (const dialect of testDialects) {
  describe(`ThingSpace on ${dialect}`, () => {
    const test = serviceForSuite(dialect);
    let prefix = 8901500;

    /** A simulator, an account wired to it (callbacks to this service) and lines in `state` in both. */
    function fixture(options: Omit<Parameters<typeof thingSpaceLines>[1], 'prefix'>) {
      prefix += 1;
      return thingSpaceLines(test, { ...options, prefix: String(prefix) });
    }

    /** Changes the lines: their status, unless another change type is given. */
    const submit = (
      accountId: string,
      iccids: string[],
      options: Record<string, unknown>,
      type = 'status_update',
    ) => submitChange(test, accountId, byIccid(iccids), type, options);
    /** The callbacks the simulator has delivered to this service. */
    const delivered = async (simulatorUrl: string) =>
      (await (await fetch(`${simulatorUrl}/_sim/callbacks?delivered=true`)).json()) as Array<{
        body: Record<string, unknown>;
      }>;

    it('activates lines in two requests (add, activate), confirmed by callback, with MSISDN and IP on every row', async () => {
      const lines = await fixture({ count: 30, state: null });
      // Every other line is already on the account (pre-active): it needs no add, but shares the activation.
      const onAccount = lines.iccids.filter((_, index) => index % 2 === 0);
      await lines.seed(onAccount.map((iccid) => ({ iccid, state: 'pre-active' })));
      await test.service.database.db
        .updateTable('devices')
        .set({ carrier_status: 'pre-active' })
        .where('iccid', 'in', onAccount)
        .execute();
      const id = await submit(lines.accountId, lines.iccids, { targetStatus: 'active' });
      const done = await waitForFinish(test, id, 30_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.counts));
      const changes = await changesOf<Change>(test, id);
      assert.ok(
        changes.every((c) => c.result?.msisdn && c.result.ipAddress),
        'MSISDN and IP on every row',
      );
      const adds = await lines.calls('add');
      assert.equal(adds.length, 1, 'one add request');
      assert.equal(adds[0].iccids.length, 15, 'for the 15 lines not on the account');
      const activations = await lines.calls('activate');
      assert.equal(activations.length, 1, 'one activate request for 30 lines');
      assert.equal(activations[0].iccids.length, 30);
      assert.ok((await delivered(lines.simulatorUrl)).length >= 30, 'the results came by callback');
      const inventory = await test.api<{
        items: Array<{ status: string; msisdn: string; ipAddress: string }>;
      }>('GET', `/api/v1/devices?carrierAccountId=${lines.accountId}`);
      assert.ok(inventory.body.items.every((d) => d.status === 'active' && d.msisdn && d.ipAddress));
    });

    it('keeps activate requests within 100 a minute, across bulk changes', async () => {
      const lines = await fixture({ count: 3, state: 'pre-active' });
      const ids = await Promise.all(
        lines.iccids.map((iccid) => submit(lines.accountId, [iccid], { targetStatus: 'active' })),
      );
      for (const id of ids) assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');
      const at = (await lines.calls('activate')).map((call) => Date.parse(call.at)).sort();
      assert.equal(at.length, 3);
      assert.ok(at[2] - at[0] >= 1_150, `three activate requests spaced 600 ms apart (${at[2] - at[0]} ms)`);
    });

    it('confirms lines found already pending activation once they become active', async () => {
      const lines = await fixture({ count: 2, state: 'pending activation' });
      const id = await submit(lines.accountId, lines.iccids, { targetStatus: 'active' });
      // The carrier completes the earlier activation.
      await lines.seed(lines.iccids.map((iccid) => ({ iccid, state: 'active' })));
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');
      assert.equal(
        (await lines.calls('activate')).length,
        0,
        'nothing sent: the activation was already under way',
      );
    });

    it('confirms rows already with the carrier when writes are disabled meanwhile, and fails the rest', async () => {
      const lines = await fixture({
        count: 2,
        state: 'active',
        simulator: { faults: { callbacks: false } },
        limits: { checkIntervalMs: 1_000 },
      });
      const id = await submit(lines.accountId, lines.iccids, { targetStatus: 'suspended' });
      await waitForFinish(test, id, 1).catch(() => undefined);
      for (let tries = 0; tries < 100 && (await lines.calls('suspend')).length === 0; tries++)
        await new Promise((r) => setTimeout(r, 20));
      await test.api('PATCH', `/api/v1/carrier-accounts/${lines.accountId}`, {
        body: { writeEnabled: false },
      });
      const done = await waitForFinish(test, id, 30_000);
      assert.equal(done.status, 'completed', 'the suspensions already sent were confirmed');
    });

    it('falls back to polling when callbacks do not come', async () => {
      const lines = await fixture({
        count: 5,
        state: 'pre-active',
        simulator: { faults: { callbacks: false } },
      });
      const id = await submit(lines.accountId, lines.iccids, { targetStatus: 'active' });
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');
      assert.ok((await changesOf<Change>(test, id)).every((c) => c.result?.msisdn && c.result.ipAddress));
      assert.ok((await lines.calls('request_status')).length >= 1, 'the request status was polled');
      assert.equal((await lines.calls('activate')).length, 1);
    });

    it('logs in again when the tokens expire mid-run', async () => {
      const lines = await fixture({ count: 4, state: 'active' });
      const first = await submit(lines.accountId, lines.iccids.slice(0, 2), { targetStatus: 'suspended' });
      assert.equal((await waitForFinish(test, first, 30_000)).status, 'completed');
      await lines.setFaults({ expireTokens: true });
      const second = await submit(lines.accountId, lines.iccids.slice(2), { targetStatus: 'suspended' });
      assert.equal((await waitForFinish(test, second, 30_000)).status, 'completed');
      assert.equal((await lines.calls('login')).length, 2, 'one login, then one more after the expiry');
    });

    it('keeps rows the carrier refuses for a line quota waiting until the next UTC day, with CARRIER_RULE and the carrier’s code', async () => {
      const lines = await fixture({ count: 2, state: 'active', simulator: { provisioningActionsPerDay: 1 } });
      const suspend = await submit(lines.accountId, lines.iccids, { targetStatus: 'suspended' });
      assert.equal((await waitForFinish(test, suspend, 30_000)).status, 'completed');
      const restore = await submit(lines.accountId, lines.iccids, { targetStatus: 'active' });
      const refusedAll = (changes: Change[]) => changes.every((c) => c.error?.carrierCode !== undefined);
      let changes = await changesOf<Change>(test, restore);
      for (const deadline = Date.now() + 30_000; !refusedAll(changes) && Date.now() < deadline; )
        changes = await new Promise((resolve) => setTimeout(resolve, 100)).then(() =>
          changesOf<Change>(test, restore),
        );
      const now = new Date();
      const tomorrow = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
      assert.deepEqual(
        changes.map((c) => [
          c.status,
          c.error?.code,
          c.error?.carrierCode?.endsWith('ProvisioningLimitExceeded'),
          c.nextCheckAt,
        ]),
        changes.map(() => ['queued', 'CARRIER_RULE', true, tomorrow.toISOString()]),
      );
      const cancelled = await test.api('POST', `/api/v1/bulk-changes/${restore}/cancel`);
      assert.equal(cancelled.status, 200, cancelled.text);
    });

    it('fails a line stuck in pending activation past the maximum wait with WAIT_TIMEOUT', async () => {
      const lines = await fixture({
        count: 2,
        state: 'pre-active',
        simulator: { activationDelayMs: 600_000 },
        limits: { maxWaitMs: 1_500 },
      });
      const id = await submit(lines.accountId, lines.iccids, { targetStatus: 'active' });
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'failed');
      assert.ok((await changesOf<Change>(test, id)).every((c) => c.error?.code === 'WAIT_TIMEOUT'));
    });

    it('suspends, restores and deactivates lines, the inventory following each confirmed change', async () => {
      const lines = await fixture({ count: 3, state: 'active' });
      for (const [target, carrierState] of [
        ['suspended', 'suspend'],
        ['active', 'active'],
        ['deactivated', 'deactive'],
      ]) {
        const id = await submit(lines.accountId, lines.iccids, { targetStatus: target });
        assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed', target);
        const devices = await lines.devices();
        assert.ok(
          devices.every((device) => device.state === carrierState),
          `carrier shows ${carrierState}`,
        );
        const inventory = await test.api<{ items: Array<{ status: string }> }>(
          'GET',
          `/api/v1/devices?carrierAccountId=${lines.accountId}`,
        );
        assert.ok(inventory.body.items.every((device) => device.status === target));
      }
      for (const action of ['suspend', 'restore', 'deactivate'])
        assert.equal((await lines.calls(action)).length, 1);
    });

    it('holds a line that used up its provisioning actions for the day until the next UTC day, as ThingSpace would refuse it', async () => {
      const lines = await fixture({ count: 2, state: 'active' });
      for (const targetStatus of ['suspended', 'active', 'suspended', 'active', 'suspended']) {
        const id = await submit(lines.accountId, [lines.iccids[0]], { targetStatus });
        assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed', targetStatus);
      }
      const sixth = await submit(lines.accountId, lines.iccids, { targetStatus: 'active' });
      const now = new Date();
      const tomorrow = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
      const [held] = await changesOf<Change>(test, sixth);
      assert.deepEqual([held.status, held.nextCheckAt], ['queued', tomorrow.toISOString()]);
      assert.equal((await lines.calls('restore')).length, 2, 'the sixth action is not sent today');
      const cancelled = await test.api('POST', `/api/v1/bulk-changes/${sixth}/cancel`);
      assert.equal(cancelled.status, 200, cancelled.text);
    });

    it('changes service plans, confirmed asynchronously, and refuses suspended lines at intake', async () => {
      const lines = await fixture({ count: 4, state: 'active' });
      const id = await submit(
        lines.accountId,
        lines.iccids,
        { carrierRatePlan: 'M2M4G5GB' },
        'carrier_rate_plan_change',
      );
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');
      const devices = await lines.devices<{ servicePlan: string }>();
      assert.ok(devices.every((device) => device.servicePlan === 'M2M4G5GB'));
      const plans = await lines.calls('change_plan');
      assert.equal(plans.length, 1, 'one request for the four lines');
      const inventory = await test.api<{ items: Array<{ carrierRatePlan: string }> }>(
        'GET',
        `/api/v1/devices?carrierAccountId=${lines.accountId}`,
      );
      assert.ok(inventory.body.items.every((device) => device.carrierRatePlan === 'M2M4G5GB'));

      const suspended = await fixture({ count: 1, state: 'suspend' });
      const refused = await postChange(
        test,
        suspended.accountId,
        byIccid(suspended.iccids),
        'carrier_rate_plan_change',
        {
          carrierRatePlan: 'M2M4G5GB',
        },
      );
      assert.equal(refused.status, 422);
      assert.equal(refused.body.error?.details[0].code, 'CARRIER_RULE');
    });

    it('swaps a SIM: the new ICCID is recorded only once the carrier confirms it', async () => {
      const lines = await fixture({ count: 1, state: 'active' });
      const newIccid = testIccid(777, String(prefix));
      /** A SIM swap of each line in `changes` ({ iccid, newIccid }), as it comes back. */
      const swap = (accountId: string, changes: Array<{ iccid: string; newIccid: string }>) =>
        createBulkChange(test, { carrierAccountId: accountId, changeType: 'identifier_change', changes });
      const created = await swap(lines.accountId, [{ iccid: lines.iccids[0], newIccid }]);
      assert.equal(created.status, 201, created.text);
      assert.equal((await waitForFinish(test, created.body.id, 30_000)).status, 'completed');
      const inventory = await test.api<{ items: Array<{ iccid: string }> }>(
        'GET',
        `/api/v1/devices?carrierAccountId=${lines.accountId}`,
      );
      assert.deepEqual(
        inventory.body.items.map((device) => device.iccid),
        [newIccid],
      );
      const carrier = (await (
        await fetch(`${lines.simulatorUrl}/_sim/devices?iccid=${newIccid}`)
      ).json()) as unknown[];
      assert.equal(carrier.length, 1, 'the carrier has the line under its new ICCID');
      const badLuhn = `${newIccid.slice(0, -1)}${(Number(newIccid.at(-1)) + 1) % 10}`;
      const bad = await swap(lines.accountId, [{ iccid: newIccid, newIccid: badLuhn }]);
      assert.equal(bad.status, 422);
      assert.equal(bad.body.error?.details[0].field, 'newIccid');
      const taken = await fixture({ count: 1, state: 'active' });
      const inUse = await swap(lines.accountId, [{ iccid: newIccid, newIccid: taken.iccids[0] }]);
      assert.equal(inUse.status, 201, 'another account’s ICCID is no conflict here');
      const own = await swap(taken.accountId, [{ iccid: taken.iccids[0], newIccid: taken.iccids[0] }]);
      assert.equal(own.status, 422);
      assert.equal(own.body.error?.details[0].code, 'ICCID_IN_USE');
    });

    it('confirms an activation of 120 lines by polling alone, each row on its own truth', async () => {
      const lines = await fixture({
        count: 120,
        state: 'pre-active',
        simulator: { faults: { callbacks: false } },
      });
      // Two lines moved on Verizon's side meanwhile: ThingSpace refuses to activate them. The v2 status
      // lists the first 100 devices only, so one is judged by its listing, the other by reading it back.
      const [listed, unlisted] = [lines.iccids[5], lines.iccids[115]];
      await lines.seed([listed, unlisted].map((iccid) => ({ iccid, state: 'suspend' })));
      const id = await submit(lines.accountId, lines.iccids, { targetStatus: 'active' });
      assert.equal((await waitForFinish(test, id, 60_000)).status, 'completed_with_errors');
      const changes = await changesOf<Change & { iccid: string }>(test, id);
      const failed = changes.filter((c) => c.status === 'failed');
      assert.deepEqual(
        failed.map((c) => c.row).sort((a, b) => a - b),
        [6, 116],
      );
      assert.ok(failed.every((c) => c.error?.code === 'CARRIER_REJECTED'));
      assert.match(failed.find((c) => c.row === 116)?.error?.message ?? '', /this line is suspend/);
      const succeeded = changes.filter((c) => c.status === 'succeeded');
      assert.equal(succeeded.length, 118);
      assert.ok(
        succeeded.every((c) => c.result?.msisdn && c.result.ipAddress),
        'MSISDN and IP per row',
      );
      assert.equal((await lines.calls('activate')).length, 1, 'one activation for the 120 lines');
      assert.ok((await lines.calls('request_status')).length >= 1, 'the v2 status was polled');
      assert.equal((await lines.calls('request_status_v1')).length, 0, 'never the v1 status');
      // The lines are read back together, by a list of the account's active lines, not one by one.
      const reads = (await lines.calls('list_devices')).length;
      assert.ok(reads < 30, `${reads} list calls for 120 lines`);
    });

    it('records a refused callback registration on the account, and polls meanwhile', async () => {
      const lines = await fixture({
        count: 2,
        state: 'active',
        simulator: { faults: { refuseCallbackRegistration: true } },
      });
      const id = await submit(lines.accountId, lines.iccids, { targetStatus: 'suspended' });
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');
      const account = await test.api<{
        callbackRegistration: { ok: boolean; error: string; url: string } | null;
      }>('GET', `/api/v1/carrier-accounts/${lines.accountId}`);
      assert.equal(account.body.callbackRegistration?.ok, false);
      assert.match(account.body.callbackRegistration?.error ?? '', /Callback\.NotAllowed/);
      const { cookie } = await portalSession(test.url, test.adminKey);
      const portal = await fetch(`${test.url}/portal/carrier-accounts`, { headers: { cookie } });
      assert.equal(portal.status, 200);
      assert.match(await portal.text(), /Callback registration refused[^<]*Callback\.NotAllowed/);
      await lines.setFaults({ refuseCallbackRegistration: false });
      await test.api('PATCH', `/api/v1/carrier-accounts/${lines.accountId}`, { body: { name: `ts ${id}` } });
      const again = await submit(lines.accountId, lines.iccids, { targetStatus: 'active' });
      assert.equal((await waitForFinish(test, again, 30_000)).status, 'completed');
      const after = await test.api<{ callbackRegistration: { ok: boolean; error: null } }>(
        'GET',
        `/api/v1/carrier-accounts/${lines.accountId}`,
      );
      assert.deepEqual(
        [after.body.callbackRegistration.ok, after.body.callbackRegistration.error],
        [true, null],
      );
    });

    it('refuses at creation a callback URL on a port ThingSpace does not deliver to', async () => {
      const created = await test.api<{ error: { details: Array<{ field: string; message: string }> } }>(
        'POST',
        '/api/v1/carrier-accounts',
        {
          body: {
            name: 'ThingSpace bad port',
            carrier: 'thingspace',
            baseUrl: 'https://thingspace.verizon.com',
            writeEnabled: false,
            credentials: {
              clientId: 'a',
              clientSecret: 'b',
              username: 'c',
              password: 'd',
              callbackPassword: 'secret-123',
            },
            settings: {
              accountName: '0000123456-00001',
              callbackUrl: 'https://bulkchange.example.com:8443/callbacks/thingspace/x',
              callbackUsername: 'bulkchange',
            },
          },
        },
      );
      assert.equal(created.status, 422);
      const detail = created.body.error.details.find((d) => d.field === 'settings.callbackUrl');
      assert.match(detail?.message ?? '', /port 8443/);
    });

    it('swaps a device by IMEI with ChangeIMEI, naming the old device by its IMEI', async () => {
      const lines = await fixture({ count: 1, state: 'active' });
      const [iccid] = lines.iccids;
      const oldImei = '990013907835573';
      const newImei = '990013907835581';
      await lines.seed([{ iccid, imei: oldImei }]);
      await test.service.database.db
        .updateTable('devices')
        .set({ imei: oldImei })
        .where('iccid', '=', iccid)
        .execute();
      const created = await createBulkChange(test, {
        carrierAccountId: lines.accountId,
        changeType: 'identifier_change',
        changes: [{ iccid, newImei }],
      });
      assert.equal(created.status, 201, created.text);
      assert.equal((await waitForFinish(test, created.body.id, 30_000)).status, 'completed');
      const [carrier] = await lines.devices<{ imei: string }>();
      assert.equal(carrier.imei, newImei);
      const inventory = await test.api<{ items: Array<{ imei: string }> }>(
        'GET',
        `/api/v1/devices?carrierAccountId=${lines.accountId}`,
      );
      assert.equal(inventory.body.items[0].imei, newImei);
    });

    it('sends the row’s place of use on activation, and the account’s when the row has none', async () => {
      const lines = await fixture({ count: 2, state: 'pre-active' });
      const account = await test.api<{ settings: Record<string, unknown> }>(
        'GET',
        `/api/v1/carrier-accounts/${lines.accountId}`,
      );
      const fallback = {
        customerName: { firstName: 'Fleet', lastName: 'Owner' },
        address: { addressLine1: '1 Main St', city: 'Wenatchee', state: 'WA', zip: '98801', country: 'USA' },
      };
      const patched = await test.api('PATCH', `/api/v1/carrier-accounts/${lines.accountId}`, {
        body: { settings: { ...account.body.settings, primaryPlaceOfUse: fallback } },
      });
      assert.equal(patched.status, 200, patched.text);
      const own = {
        firstName: 'Zaphod',
        lastName: 'Beeblebrox',
        streetNumber: '1600',
        streetName: 'Pennsylvania Ave NW',
        city: 'Washington',
        state: 'DC',
        zipCode: '20500',
      };
      const created = await createBulkChange(test, {
        carrierAccountId: lines.accountId,
        changeType: 'status_update',
        options: { targetStatus: 'active' },
        changes: [{ iccid: lines.iccids[0], ...own }, { iccid: lines.iccids[1] }],
      });
      assert.equal(created.status, 201, created.text);
      assert.equal((await waitForFinish(test, created.body.id, 30_000)).status, 'completed');
      const devices = await lines.devices<{
        iccid: string;
        primaryPlaceOfUse: { customerName: { firstName: string } } | null;
      }>();
      const placed = devices.find((d) => d.iccid === lines.iccids[0]);
      assert.equal(placed?.primaryPlaceOfUse?.customerName.firstName, 'Zaphod');
      assert.equal(
        devices.find((d) => d.iccid === lines.iccids[1])?.primaryPlaceOfUse?.customerName.firstName,
        'Fleet',
      );
      assert.equal((await lines.calls('activate')).length, 2, 'lines with different places of use go apart');
      const partial = await postChange(
        test,
        lines.accountId,
        [{ iccid: lines.iccids[0], firstName: 'Zaphod' }],
        'status_update',
        {
          targetStatus: 'deactivated',
        },
      );
      assert.equal(partial.status, 422);
      assert.equal(partial.body.error?.details[0].code, 'REQUIRED');
    });

    it('ignores a repeated callback and refuses one with the wrong credentials', async () => {
      const lines = await fixture({ count: 1, state: 'active' });
      const id = await submit(lines.accountId, lines.iccids, { targetStatus: 'suspended' });
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');
      const [callback] = await delivered(lines.simulatorUrl);
      // The simulator's admin API shows the credentials redacted: the replay brings the real ones.
      assert.equal(callback.body.password, '[REDACTED]');
      const replay = await postJson(`${test.url}/callbacks/thingspace/${lines.accountId}`, {
        ...callback.body,
        username: 'bulkchange',
        password: 'callback-secret-1',
      });
      assert.equal(replay.status, 200);
      assert.deepEqual(await replay.json(), { received: true, duplicate: true });
      const forged = await postJson(`${test.url}/callbacks/thingspace/${lines.accountId}`, {
        ...callback.body,
        username: 'bulkchange',
        password: 'guess',
      });
      assert.equal(forged.status, 401);
      assert.equal((await changesOf<Change>(test, id))[0].status, 'succeeded');
    });

    it("kept every bulk change's counts equal to its rows through all of the above", async () => {
      assert.deepEqual(await countsDrift(test), []);
    });
  });
}
