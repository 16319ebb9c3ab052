import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Faults } from '../src/carriers/simulator-kit/faults.ts';
import {
  createTealSimulator,
  type TealFaults,
  type TealOperation,
  type TealSimEsim,
  tealDefaultApps,
  tealPlans,
} from '../src/carriers/teal/simulator/simulator.ts';
import { normaliseTealState } from '../src/carriers/teal/statuses.ts';
import { eidWithCheckDigits } from '../src/core/identifiers.ts';
import { newId } from '../src/shared/ids.ts';
import { changesOf, postChange, submitChange } from './support/bulk-changes.ts';
import { carrierAccountFixture } from './support/carrier-accounts.ts';
import { testDialects } from './support/databases.ts';
import { insertLines } from './support/inventory.ts';
import { postJson } from './support/post-json.ts';
import { type SimCall, simAdmin } from './support/processes.ts';
import { serviceForSuite, testIccid, waitForFinish } from './support/service.ts';

type Change = {
  id: string;
  row: number;
  eid: string;
  status: string;
  attempts: number;
  error: { code: string; message: string } | null;
  result: Record<string, unknown> | null;
};

type Options = Record<string, unknown>;

const [apiKey, apiSecret] = Object.entries(tealDefaultApps)[0];
const requestIdOf = (call: SimCall) => new URL(call.path, 'http://x').searchParams.get('requestId');

for (const dialect of testDialects) {
  describe(`Teal on ${dialect}`, () => {
    const test = serviceForSuite(dialect);
    let prefix = 8901800;

    /** A simulator, an account on it, and eSIMs in `state` on the first plan, in both. */
    async function fixture(options: {
      count: number;
      state: string;
      faults?: Partial<Faults & TealFaults>;
      limits?: Record<string, unknown>;
    }) {
      const simulatorUrl = await test.serveSimulator(
        createTealSimulator({
          faults: { rateLimitPerSecond: null, maxConcurrent: null, operationMs: 50, ...options.faults },
        }),
      );
      const accountId = await carrierAccountFixture(test, {
        carrier: 'teal',
        baseUrl: simulatorUrl,
        credentials: { apiKey, apiSecret },
        limits: { requestsPerSecond: null, checkIntervalMs: 200, maxWaitMs: 20_000, ...options.limits },
      });
      prefix += 1;
      const lines = Array.from({ length: options.count }, (_, index) => ({
        iccid: testIccid(index, String(prefix)),
        eid: eidWithCheckDigits(`${prefix}${String(index).padStart(23, '0')}`),
      }));
      const plan = tealPlans[0].uuid;
      const sim = simAdmin(simulatorUrl);
      await sim.seed(lines.map((line) => ({ ...line, state: options.state, planUuid: plan })));
      const status = normaliseTealState(options.state);
      await insertLines(
        test,
        accountId,
        lines.map((line) => ({ ...line, status, carrierStatus: options.state, carrierRatePlan: plan })),
      );
      const operations = async () =>
        (await (await fetch(`${simulatorUrl}/_sim/operations`)).json()) as TealOperation[];
      const eids = lines.map((line) => line.eid);
      /** Changes every eSIM: its status, unless another change type is given. */
      const submit = (options: Options, changeType = 'status_update', extra: Options = {}) =>
        submitChange(
          test,
          accountId,
          eids.map((eid) => ({ eid })),
          changeType,
          options,
          extra,
        );
      return {
        simulatorUrl,
        accountId,
        eids,
        submit,
        esims: () => sim.devices<TealSimEsim>(),
        operations,
        calls: sim.calls,
        setFaults: (faults: Partial<TealFaults>) => sim.setFaults(faults),
      };
    }

    const inventory = async (accountId: string) =>
      (
        await test.api<{
          items: Array<{
            eid: string;
            status: string;
            carrierStatus: string;
            carrierRatePlan: string;
            lastUsageAt: string | null;
            archived: boolean;
          }>;
        }>('GET', `/api/v1/devices?carrierAccountId=${accountId}&limit=1000`)
      ).body.items;

    it('enables and disables eSIMs on the endpoint of each target, one request per batch', async () => {
      const lines = await fixture({ count: 3, state: 'waiting' });
      for (const [target, endpoint, state] of [
        ['active', 'enable', 'online'],
        ['suspended', 'disable', 'stopped'],
        ['active', 'enable', 'online'],
      ]) {
        const before = (await lines.calls(endpoint)).length;
        const id = await lines.submit({ targetStatus: target });
        assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed', target);
        const sent = (await lines.calls(endpoint)).slice(before);
        assert.equal(sent.length, 1, `one ${endpoint} request for the three eSIMs`);
        assert.equal(sent[0].iccids.length, 3);
        assert.ok(
          (await lines.esims()).every((esim) => esim.state === state),
          `Teal shows ${state}`,
        );
        assert.ok(
          (await inventory(lines.accountId)).every((d) => d.status === target && d.carrierStatus === state),
        );
      }
      assert.equal((await lines.calls('enable')).length, 2);
      assert.equal((await lines.calls('disable')).length, 1, 'disable only for the suspension (B10)');
      const polled = await lines.calls('operation_result');
      assert.ok(polled.length >= 3, 'each operation was read until done');
      assert.ok(
        polled.every((call) => requestIdOf(call)),
        'every call carries a requestId',
      );
    });

    it('refuses lines in a state Teal cannot change, and plans not named by their UUID', async () => {
      const lines = await fixture({ count: 1, state: 'waiting' });
      await test.service.database.db
        .updateTable('devices')
        .set({ carrier_status: 'deleted' })
        .where('carrier_account_id', '=', lines.accountId)
        .execute();
      /** A bulk change for the one eSIM, as it comes back. */
      const attempt = (changeType: string, options: Options) =>
        postChange(test, lines.accountId, [{ eid: lines.eids[0] }], changeType, options);
      const refused = await attempt('status_update', { targetStatus: 'active' });
      assert.equal(refused.status, 422);
      assert.equal(refused.body.error?.details[0].code, 'INVALID_TRANSITION');
      const badPlan = await attempt('carrier_rate_plan_change', { carrierRatePlan: 'Teal Global 5 GB' });
      assert.equal(badPlan.status, 422, 'a plan is named by its UUID');
      assert.equal(badPlan.body.error?.details[0].field, 'carrierRatePlan');
    });

    it('assigns a plan to 120 eSIMs in two requests of at most 100, confirmed from the operations', async () => {
      const lines = await fixture({ count: 120, state: 'online' });
      const plan = tealPlans[2].uuid;
      const id = await lines.submit({ carrierRatePlan: plan }, 'carrier_rate_plan_change');
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');
      assert.deepEqual(
        (await lines.calls('assign_plan')).map((call) => call.iccids.length).sort((a, b) => a - b),
        [20, 100],
      );
      assert.ok((await lines.esims()).every((esim) => esim.planUuid === plan));
      assert.ok((await inventory(lines.accountId)).every((device) => device.carrierRatePlan === plan));
      assert.ok(
        (await changesOf<Change>(test, id)).every((change) => change.result?.carrierRatePlan === plan),
      );
    });

    it('waits for an operation that finishes late, reading it until it is done', async () => {
      const lines = await fixture({ count: 2, state: 'online', faults: { operationMs: 1_200 } });
      const id = await lines.submit({ targetStatus: 'suspended' });
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');
      const polls = await lines.calls('operation_result');
      assert.ok(polls.length >= 3, `read ${polls.length} times before it was done`);
      assert.equal((await lines.calls('disable')).length, 1, 'sent once');
      assert.ok((await lines.esims()).every((esim) => esim.state === 'stopped'));
    });

    it('fails only the eSIM whose entry failed, with Teal’s message', async () => {
      const lines = await fixture({ count: 3, state: 'stopped' });
      await lines.setFaults({ failEids: { [lines.eids[1]]: 'eSIM profile is locked by the operator' } });
      const id = await lines.submit({ targetStatus: 'active' });
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed_with_errors');
      const changes = await changesOf<Change>(test, id);
      assert.deepEqual(
        changes.map((change) => change.status),
        ['succeeded', 'failed', 'succeeded'],
      );
      assert.deepEqual(changes[1].error, {
        code: 'CARRIER_REJECTED',
        message: 'eSIM profile is locked by the operator',
      });
      const states = new Map((await inventory(lines.accountId)).map((d) => [d.eid, d.carrierStatus]));
      assert.equal(states.get(lines.eids[1]), 'stopped', 'the failed line keeps its state');
      assert.equal(states.get(lines.eids[0]), 'online');
    });

    it('fails rows whose operation never finishes with WAIT_TIMEOUT', async () => {
      const lines = await fixture({
        count: 2,
        state: 'online',
        faults: { lostOperations: true },
        limits: { maxWaitMs: 1_000 },
      });
      const id = await lines.submit({ targetStatus: 'suspended' });
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'failed');
      assert.ok((await changesOf<Change>(test, id)).every((change) => change.error?.code === 'WAIT_TIMEOUT'));
      assert.ok((await lines.calls('operation_result')).length >= 2, 'the operation was read meanwhile');
      assert.equal((await lines.calls('disable')).length, 1, 'and never sent again');
    });

    it('retries a write answered 500 under the same requestId, the whole batch together', async () => {
      // Three 500s use up the HTTP client's attempts: the rows are then reconciled, by sending the
      // batch again under the requestId saved before the first attempt.
      const lines = await fixture({ count: 3, state: 'waiting', faults: { errorBurst: 3 } });
      const id = await lines.submit({ targetStatus: 'active' });
      const done = await waitForFinish(test, id, 30_000);
      assert.equal(done.status, 'completed', JSON.stringify(await changesOf<Change>(test, id)));
      const enables = await lines.calls('enable');
      assert.deepEqual(
        enables.map((call) => [call.status, call.iccids.length]),
        [
          [500, 3],
          [500, 3],
          [500, 3],
          [202, 3],
        ],
      );
      assert.equal(new Set(enables.map(requestIdOf)).size, 1, 'the same requestId every time');
      assert.equal((await lines.operations()).length, 1);
      assert.ok(
        (await changesOf<Change>(test, id)).every((change) => change.attempts === 1),
        'one sending attempt: reconciling it (the batch sent again under its requestId) spends none',
      );
    });

    it('syncs the inventory from the eSIM list, 100 a page, with each EID, state and plan', async () => {
      const lines = await fixture({ count: 130, state: 'stopped' });
      await test.service.database.db
        .updateTable('devices')
        .set({ carrier_rate_plan: null, carrier_status: null, status: 'unknown' })
        .where('carrier_account_id', '=', lines.accountId)
        .execute();
      const queued = await test.api('POST', `/api/v1/carrier-accounts/${lines.accountId}/inventory-sync`);
      assert.equal(queued.status, 202, queued.text);
      const synced = (devices: Awaited<ReturnType<typeof inventory>>) =>
        devices.every(
          (d) =>
            d.carrierStatus === 'stopped' &&
            d.status === 'suspended' &&
            d.carrierRatePlan === tealPlans[0].uuid,
        );
      for (let tries = 0; tries < 100 && !synced(await inventory(lines.accountId)); tries++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      const devices = await inventory(lines.accountId);
      assert.ok(synced(devices), 'every line has its state and plan back');
      assert.deepEqual(devices.map((d) => d.eid).sort(), [...lines.eids].sort());
      const pages = await lines.calls('list_esims');
      assert.equal(pages.length, 2);
    });

    it('imports the last day of data used in 30 days, so archival refuses a recently used line unless overrideUsage', async () => {
      const lines = await fixture({ count: 3, state: 'online' });
      const [used, idle, kept] = lines.eids;
      const DAY = 86_400_000;
      const day = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY).toISOString().slice(0, 10);
      // A sync that found usage earlier: Teal reporting none for the line must not erase it.
      const earlier = Date.now() - 40 * DAY;
      await test.service.database.db
        .updateTable('devices')
        .set({ last_usage_at: earlier })
        .where('eid', '=', kept)
        .execute();
      const seeded = await postJson(`${lines.simulatorUrl}/_sim/data-consumption`, [
        { eid: used, date: day(5), bytes: 900 },
        { eid: used, date: day(2), bytes: 1_200 },
        { eid: used, date: day(1), bytes: 0 },
        { eid: idle, date: day(3), bytes: 0 },
        { eid: idle, date: day(45), bytes: 5_000 },
      ]);
      assert.equal(seeded.status, 200, await seeded.text());

      const queued = await test.api('POST', `/api/v1/carrier-accounts/${lines.accountId}/inventory-sync`);
      assert.equal(queued.status, 202, queued.text);
      const lineOf = async (eid: string) => (await inventory(lines.accountId)).find((d) => d.eid === eid)!;
      for (let tries = 0; tries < 200 && !(await lineOf(used)).lastUsageAt; tries++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal((await lineOf(used)).lastUsageAt, `${day(2)}T00:00:00.000Z`, 'the latest day with data');
      assert.equal((await lineOf(idle)).lastUsageAt, null, 'no data in 30 days: nothing imported');
      assert.equal((await lineOf(kept)).lastUsageAt, new Date(earlier).toISOString(), 'kept');
      const [report] = await lines.calls('data_consumption');
      const query = new URL(report.path, 'http://x').searchParams;
      assert.deepEqual(
        [query.get('dataType'), query.get('periodStart'), query.get('limit')],
        ['DAILY', `${day(30)} 00:00:00`, '100'],
      );

      const refused = await postChange(
        test,
        lines.accountId,
        [used, idle, kept].map((eid) => ({ eid })),
        'archival',
      );
      assert.equal(refused.status, 422, refused.text);
      assert.deepEqual(
        refused.body.error?.details.map((detail) => [detail.row, detail.code]),
        [[1, 'RECENT_USAGE']],
      );
      assert.match(refused.body.error?.details[0].message ?? '', new RegExp(day(2)));
      const archived = await submitChange(test, lines.accountId, [{ eid: used }], 'archival', {
        overrideUsage: true,
      });
      assert.equal((await waitForFinish(test, archived, 30_000)).status, 'completed');
      assert.equal((await lineOf(used)).archived, true);
    });

    const requestId = 'bc-test-crashed-worker';

    /**
     * A bulk change whose worker saved `requestId` on its two rows, sent their batch and died before
     * saving the answer; each row's lease runs out `leaseEnds[i]` ms from now.
     */
    async function crashedWorker(lines: Awaited<ReturnType<typeof fixture>>, leaseEnds: number[]) {
      const id = await lines.submit({ targetStatus: 'active' }, 'status_update', {
        scheduledFor: new Date(Date.now() + 1_500).toISOString(),
      });
      for (const [index, change] of (await changesOf<Change>(test, id)).entries()) {
        await test.service.database.db
          .updateTable('device_changes')
          .set({
            status: 'in_progress',
            attempt_id: newId(),
            lease_until: Date.now() + leaseEnds[index],
            attempts: 1,
            carrier_request_id: requestId,
          })
          .where('id', '=', change.id)
          .execute();
      }
      const sent = await postJson(
        `${lines.simulatorUrl}/api/v1/esims/enable?requestId=${requestId}`,
        { entries: lines.eids },
        { ApiKey: apiKey, ApiSecret: apiSecret },
      );
      assert.equal(sent.status, 202, await sent.text());
      return id;
    }

    it('re-sends a write whose worker died under the same requestId: Teal applies it once', async () => {
      const lines = await fixture({ count: 2, state: 'waiting' });
      const id = await crashedWorker(lines, [-1, -1]);
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');
      const operations = await lines.operations();
      assert.equal(operations.length, 1, 'one operation: the re-sent batch was recognised');
      assert.equal(operations[0].requestId, requestId);
      assert.deepEqual((await lines.calls('enable')).map(requestIdOf), [requestId, requestId]);
      assert.ok((await lines.esims()).every((esim) => esim.state === 'online'));
    });

    it('sends each part of a batch reconciled apart under its own requestId, not failing on 409', async () => {
      const lines = await fixture({ count: 2, state: 'waiting' });
      const id = await crashedWorker(lines, [-1, 2_000]);
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');
      assert.deepEqual(
        (await lines.calls('enable')).map((call) => [call.status, requestIdOf(call) === requestId]),
        [
          [202, true],
          [409, true],
          [202, false],
          [409, true],
          [202, false],
        ],
      );
      const parts = (await lines.operations()).slice(1);
      assert.deepEqual(
        parts.map((operation) => operation.entries.length),
        [1, 1],
      );
      assert.notEqual(parts[0].requestId, parts[1].requestId);
      assert.ok((await lines.esims()).every((esim) => esim.state === 'online'));
    });
  });
}
