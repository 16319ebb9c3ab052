import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createPondSimulator,
  type PondFaults,
  type PondSimLine,
  pondDefaultDistributors,
} from '../src/carriers/pond/simulator/simulator.ts';
import { normalisePondStatus } from '../src/carriers/pond/statuses.ts';
import type { Faults } from '../src/carriers/simulator-kit/faults.ts';
import { newId } from '../src/shared/ids.ts';
import { byIccid, changesOf, submitChange } from './support/bulk-changes.ts';
import { carrierAccountFixture } from './support/carrier-accounts.ts';
import { testDialects } from './support/databases.ts';
import { insertLines } from './support/inventory.ts';
import { postJson } from './support/post-json.ts';
import { simAdmin } from './support/processes.ts';
import { serviceForSuite, testIccids, waitForFinish } from './support/service.ts';

type Change = {
  row: number;
  iccid: string;
  status: string;
  error: { code: string; carrierCode?: string; message: string } | null;
  result: { activePackageId?: string | null; rolledBack?: boolean; unchanged?: boolean } | null;
};

type Options = Record<string, unknown>;

const [distributorId, apiKey] = Object.entries(pondDefaultDistributors)[0];

for (const dialect of testDialects) {
  describe(`POND on ${dialect}`, () => {
    const test = serviceForSuite(dialect);
    let prefix = 8901700;

    /** A simulator, an account on it, and lines (ENABLED, on `plan` when given) in both. */
    async function fixture(options: {
      count: number;
      plan?: string | null;
      faults?: Partial<Faults & PondFaults>;
    }) {
      const simulatorUrl = await test.serveSimulator(
        createPondSimulator({ faults: { rateLimitPerSecond: null, maxConcurrent: null, ...options.faults } }),
      );
      const accountId = await carrierAccountFixture(test, {
        carrier: 'pond',
        baseUrl: simulatorUrl,
        credentials: { apiKey },
        settings: { distributorId },
        limits: { requestsPerSecond: null, maxConcurrent: 4 },
      });
      prefix += 1;
      const iccids = testIccids(options.count, String(prefix));
      const plan = options.plan === undefined ? 'PT-1GB' : options.plan;
      const sim = simAdmin(simulatorUrl);
      await sim.seed(
        iccids.map((iccid) => ({ iccid, state: 'ENABLED', ...(plan ? { packageTypeId: plan } : {}) })),
      );
      const status = normalisePondStatus('ENABLED');
      await insertLines(
        test,
        accountId,
        iccids.map((iccid) => ({ iccid, status, carrierStatus: 'ENABLED', carrierRatePlan: plan })),
      );
      const lines = () => sim.devices<PondSimLine>();
      const lineOf = async (iccid: string) => (await lines()).find((line) => line.iccid === iccid)!;
      /** Changes every line: its plan, unless another change type is given. */
      const submit = (options: Options, changeType = 'carrier_rate_plan_change', extra: Options = {}) =>
        submitChange(test, accountId, byIccid(iccids), changeType, options, extra);
      return {
        simulatorUrl,
        accountId,
        iccids,
        lines,
        lineOf,
        submit,
        calls: sim.calls,
        setFaults: sim.setFaults,
      };
    }

    const inventoryPlans = async (accountId: string) =>
      (
        await test.api<{ items: Array<{ iccid: string; carrierRatePlan: string | null }> }>(
          'GET',
          `/api/v1/devices?carrierAccountId=${accountId}`,
        )
      ).body.items;
    const active = (line: PondSimLine) => line.packages.filter((found) => found.status === 'ACTIVE');
    const activeIds = (line: PondSimLine) => active(line).map((found) => found.packageId);
    /** Each package of the line, as [plan, status]. */
    const packageStates = (line: PondSimLine) =>
      line.packages.map((found) => [found.packageTypeId, found.status]);

    it('changes plans: the new package active, the old one terminated, the inventory on the new plan', async () => {
      const lines = await fixture({ count: 2 });
      const already = await fixture({ count: 1, plan: 'PT-5GB' });
      const bare = await fixture({ count: 1, plan: null });
      const ids = await Promise.all(
        [lines, already, bare].map((fixed) => fixed.submit({ carrierRatePlan: 'PT-5GB' })),
      );
      for (const id of ids) assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');

      for (const line of [...(await lines.lines()), ...(await already.lines()), ...(await bare.lines())]) {
        assert.deepEqual(
          active(line).map((found) => found.packageTypeId),
          ['PT-5GB'],
          `${line.iccid} has exactly one active package, on the new plan`,
        );
      }
      for (const line of await lines.lines()) {
        assert.deepEqual(packageStates(line), [
          ['PT-1GB', 'TERMINATED'],
          ['PT-5GB', 'ACTIVE'],
        ]);
      }
      const [change] = await changesOf<Change>(test, ids[0]);
      assert.equal(change.result?.activePackageId, active(await lines.lineOf(change.iccid))[0].packageId);
      assert.equal(change.result?.rolledBack, false);
      assert.equal((await lines.calls('add_package')).length, 2, 'one add per line');
      assert.equal(
        (await changesOf<Change>(test, ids[1]))[0].result?.unchanged,
        true,
        'a line on the plan already',
      );
      assert.equal((await already.calls('add_package')).length, 0);
      // A line without any package gets its plan too (the original updated it only sometimes, B26).
      for (const fixed of [lines, already, bare])
        for (const device of await inventoryPlans(fixed.accountId))
          assert.equal(device.carrierRatePlan, 'PT-5GB');
    });

    it('keeps the old package when the new one cannot be activated, and says so on the row', async () => {
      const lines = await fixture({ count: 2 });
      const [failing, fine] = lines.iccids;
      await lines.setFaults({
        failOperations: [{ action: 'set_package_status', iccid: failing, packageStatus: 'ACTIVE' }],
      });
      const before = active(await lines.lineOf(failing))[0];
      const id = await lines.submit({ carrierRatePlan: 'PT-10GB' });
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed_with_errors');

      const line = await lines.lineOf(failing);
      assert.deepEqual(activeIds(line), [before.packageId], 'the old package is still the only active one');
      assert.deepEqual(
        packageStates(line),
        [
          ['PT-1GB', 'ACTIVE'],
          ['PT-10GB', 'TERMINATED'],
        ],
        'the new package was not left pending',
      );
      const [failed, succeeded] = await changesOf<Change>(test, id);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.error?.code, 'PACKAGE_CHANGE_ROLLED_BACK');
      assert.equal(failed.error?.carrierCode, 'INTERNAL_ERROR');
      assert.match(failed.error!.message, new RegExp(`package ${before.packageId} \\(PT-1GB\\) stays`));
      assert.equal(failed.result?.activePackageId, before.packageId);
      assert.equal(failed.result?.rolledBack, true);
      assert.equal(succeeded.status, 'succeeded');
      assert.deepEqual(
        active(await lines.lineOf(fine)).map((found) => found.packageTypeId),
        ['PT-10GB'],
      );
      const plans = new Map((await inventoryPlans(lines.accountId)).map((d) => [d.iccid, d.carrierRatePlan]));
      assert.equal(plans.get(failing), 'PT-1GB', 'the inventory keeps the plan that is really active');
      assert.equal(plans.get(fine), 'PT-10GB');
    });

    it('rolls back when an old package cannot be terminated: never two active packages, never none', async () => {
      const lines = await fixture({ count: 1 });
      const [iccid] = lines.iccids;
      // Every attempt at terminating the old package fails (the HTTP client tries three times);
      // the rollback's termination of the new one then goes through.
      await lines.setFaults({
        failOperations: [{ action: 'set_package_status', iccid, packageStatus: 'TERMINATED', times: 3 }],
      });
      const old = active(await lines.lineOf(iccid))[0];
      const id = await lines.submit({ carrierRatePlan: 'PT-100MB' });
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'failed');

      const line = await lines.lineOf(iccid);
      assert.deepEqual(activeIds(line), [old.packageId]);
      assert.deepEqual(packageStates(line), [
        ['PT-1GB', 'ACTIVE'],
        ['PT-100MB', 'TERMINATED'],
      ]);
      const [change] = await changesOf<Change>(test, id);
      assert.equal(change.error?.code, 'PACKAGE_CHANGE_ROLLED_BACK');
      assert.match(change.error!.message, /Terminating the previous package .* failed/);
      assert.equal(change.result?.activePackageId, old.packageId);
      assert.equal(change.result?.rolledBack, true);
      const terminations = (await lines.calls('set_package_status')).filter((call) => call.status === 500);
      assert.equal(terminations.length, 3, 'the failing termination was tried three times, then rolled back');
      assert.equal((await inventoryPlans(lines.accountId))[0].carrierRatePlan, 'PT-1GB');
    });

    it('does not add a second package after an add that failed or whose worker died', async () => {
      // An add answered 500 (not applied): the line is read, nothing is pending, so it is sent again.
      const refused = await fixture({
        count: 1,
        faults: { failOperations: [{ action: 'add_package', times: 1 }] },
      });
      const first = await refused.submit({ carrierRatePlan: 'PT-5GB' });
      assert.equal((await waitForFinish(test, first, 30_000)).status, 'completed');
      assert.deepEqual(
        (await refused.calls('add_package')).map((call) => call.status),
        [500, 201],
      );
      assert.equal((await refused.lineOf(refused.iccids[0])).packages.length, 2, 'one package was added');

      // A worker that added the package and died before saving anything: its row is found in progress
      // and the package it added is used, not added again.
      const crashed = await fixture({ count: 1 });
      const [iccid] = crashed.iccids;
      const id = await crashed.submit({ carrierRatePlan: 'PT-5GB' }, undefined, {
        scheduledFor: new Date(Date.now() + 1_500).toISOString(),
      });
      await test.service.database.db
        .updateTable('device_changes')
        .set({ status: 'in_progress', attempt_id: newId(), lease_until: Date.now() - 1, attempts: 1 })
        .where('bulk_change_id', '=', id)
        .execute();
      const added = await postJson(
        `${crashed.simulatorUrl}/${distributorId}/devices/${iccid}/packages`,
        { packageTypeId: 'PT-5GB' },
        { 'x-api-key': apiKey },
      );
      const { packageId } = (await added.json()) as { packageId: string };
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');
      const line = await crashed.lineOf(iccid);
      assert.equal(line.packages.length, 2, 'no second package');
      assert.deepEqual(activeIds(line), [packageId]);
      assert.equal((await crashed.calls('add_package')).length, 1, 'only the dead worker’s add');
      assert.equal((await changesOf<Change>(test, id))[0].result?.activePackageId, packageId);
    });

    it('suspends and restores lines by disabling and enabling their services', async () => {
      const lines = await fixture({ count: 2 });
      for (const [target, state] of [
        ['suspended', 'DISABLED'],
        ['active', 'ENABLED'],
      ]) {
        const id = await lines.submit({ targetStatus: target }, 'status_update');
        assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed', target);
        assert.ok(
          (await lines.lines()).every((line) => line.state === state),
          `carrier shows ${state}`,
        );
        const inventory = await test.api<{ items: Array<{ status: string; carrierStatus: string }> }>(
          'GET',
          `/api/v1/devices?carrierAccountId=${lines.accountId}`,
        );
        assert.ok(inventory.body.items.every((d) => d.status === target && d.carrierStatus === state));
      }
      const sets = await lines.calls('set_device_status');
      assert.equal(sets.length, 4, 'one call per line and change');
      const refused = await test.api<{ error: { details: Array<{ field: string; code: string }> } }>(
        'POST',
        '/api/v1/bulk-changes',
        {
          body: {
            carrierAccountId: lines.accountId,
            changeType: 'status_update',
            changes: [{ iccid: lines.iccids[0], targetStatus: 'deactivated' }],
          },
        },
      );
      assert.equal(refused.status, 422, 'POND cannot deactivate');
      assert.equal(refused.body.error.details[0].field, 'targetStatus');
    });

    it('syncs the inventory from the device list, with each line’s active plan', async () => {
      const lines = await fixture({ count: 3 });
      await test.service.database.db
        .updateTable('devices')
        .set({ carrier_rate_plan: null, carrier_status: null })
        .where('carrier_account_id', '=', lines.accountId)
        .execute();
      const queued = await test.api('POST', `/api/v1/carrier-accounts/${lines.accountId}/inventory-sync`);
      assert.equal(queued.status, 202, queued.text);
      for (let tries = 0; tries < 100; tries++) {
        const devices = await inventoryPlans(lines.accountId);
        if (devices.every((device) => device.carrierRatePlan === 'PT-1GB')) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.fail('the sync did not bring the plans back');
    });
  });
}
