import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTelegenceSimulator } from '../src/carriers/telegence/simulator/simulator.ts';
import { luhnCheckDigit } from '../src/core/identifiers.ts';
import { changesOf, countsDrift, createBulkChange } from './support/bulk-changes.ts';
import { carrierAccountFixture } from './support/carrier-accounts.ts';
import { testDialects } from './support/databases.ts';
import { insertLines } from './support/inventory.ts';
import { simAdmin, waitUntil } from './support/processes.ts';
import { serviceForSuite, testIccid, waitForFinish } from './support/service.ts';

type Change = {
  row: number;
  status: string;
  step: string;
  error: { code: string; carrierCode?: string; message: string } | null;
  result: { msisdn?: string; ipAddress?: string; activated?: boolean } | null;
};
type SimLine = {
  iccid: string;
  msisdn: string;
  state: string;
  ratePlan: string;
  imei: string;
  features: string[];
  ipAddress: string | null;
  contactName: string | null;
};

const BAN = '287301234567';
const imei = (index: number, tac = '35391108') => {
  const payload = tac + String(index).padStart(6, '0');
  return payload + luhnCheckDigit(payload);
};

for (const dialect of testDialects) {
  describe(`Telegence on ${dialect}`, () => {
    const test = serviceForSuite(dialect);
    let prefix = 8901410;

    async function fixture(
      options: { faults?: Record<string, unknown>; limits?: Record<string, unknown> } = {},
    ) {
      const simulatorUrl = await test.serveSimulator(
        createTelegenceSimulator({
          faults: {
            rateLimitPerSecond: null,
            maxConcurrent: null,
            activationStepMs: 60,
            ipProvisionMs: 60,
            ...options.faults,
          },
        }),
      );
      const accountId = await carrierAccountFixture(test, {
        carrier: 'telegence',
        baseUrl: simulatorUrl,
        credentials: { appId: 'demo-app', appSecret: 'demo-app-secret' },
        settings: { esimOnlyTacs: ['35299911'] },
        limits: {
          requestsPerSecond: null,
          maxConcurrent: 8,
          checkIntervalMs: 150,
          maxWaitMs: 30_000,
          ...options.limits,
        },
      });
      prefix += 1;
      const sim = simAdmin(simulatorUrl);
      return {
        accountId,
        url: simulatorUrl,
        iccid: (index: number) => testIccid(index, String(prefix)),
        calls: sim.calls,
        lines: () => sim.devices<SimLine>(),
        seed: sim.seed,
        setFaults: sim.setFaults,
      };
    }
    type Fixture = Awaited<ReturnType<typeof fixture>>;

    /** Active lines on both sides: the simulator and the inventory. */
    async function seedLines(fx: Fixture, count: number, state: 'A' | 'S' | 'C' = 'A', tac = '35391108') {
      const lines = Array.from({ length: count }, (_, index) => ({
        iccid: fx.iccid(index),
        imei: imei(index, tac),
        msisdn: String(3125550000 + prefix * 100 + index).slice(-10),
        state,
        ratePlan: 'APX1G5M30',
        ban: BAN,
      }));
      await fx.seed(lines);
      const status = ({ A: 'active', S: 'suspended', C: 'deactivated' } as const)[state];
      await insertLines(
        test,
        fx.accountId,
        lines.map((line) => ({
          iccid: line.iccid,
          imei: line.imei,
          msisdn: line.msisdn,
          status,
          carrierStatus: state,
          carrierRatePlan: line.ratePlan,
        })),
      );
      return lines;
    }

    /** A row of a new service activation for SIM `index` of the fixture, with its IMEI and a subscriber. */
    const activationRow = (fx: Fixture, index: number) => ({
      iccid: fx.iccid(index),
      imei: imei(index),
      billingAccountNumber: BAN,
      ratePlan: 'APX1G5M30',
      zipCode: '75001',
      firstName: 'Ada',
      lastName: `Line ${index}`,
    });
    const create = (accountId: string, changeType: string, changes: unknown[], options = {}) =>
      createBulkChange(test, { carrierAccountId: accountId, changeType, changes, options });

    it('activates in batches, polls each batch, removes features once and provisions static IPs; rejected and eSIM-only lines fail alone', async () => {
      const fx = await fixture({ limits: { batchSize: 10 }, faults: { ipPoolSize: 6 } });
      const rejected = fx.iccid(3);
      await fx.setFaults({ rejectIccids: { [rejected]: 'SIM reported stolen' } });
      const rows = Array.from({ length: 24 }, (_, index) => ({
        ...activationRow(fx, index),
        ...(index === 5 ? { imei: imei(index, '35299911') } : {}),
        ...(index % 2 === 0 ? { staticIp: true } : {}),
        ...(index % 3 === 0 ? { addFeatureCodes: 'INTLROAM|HOTSPOT', removeFeatureCodes: 'HOTSPOT' } : {}),
      }));
      const created = await create(fx.accountId, 'activate_new_service', rows);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const done = await waitForFinish(test, created.body.id, 60_000);
      assert.equal(done.status, 'completed_with_errors');

      const changes = await changesOf<Change>(test, created.body.id);
      const byRow = new Map(changes.map((change) => [change.row, change]));
      assert.equal(byRow.get(4)?.error?.code, 'ACTIVATION_REJECTED');
      assert.equal(byRow.get(4)?.error?.carrierCode, 'REJECTED');
      assert.equal(byRow.get(6)?.error?.code, 'ESIM_REQUIRED');
      const staticRows = changes.filter(
        (change) => rows[change.row - 1].staticIp && ![4, 6].includes(change.row),
      );
      const withIp = staticRows.filter((change) => change.status === 'succeeded');
      // The pool holds 6 addresses: the other static rows fail with a clear code, their lines still active.
      assert.equal(withIp.length, 6);
      for (const change of withIp) assert.match(change.result?.ipAddress ?? '', /^10\.64\./);
      for (const change of staticRows.filter((c) => c.status === 'failed')) {
        assert.equal(change.error?.code, 'STATIC_IP_UNAVAILABLE');
        assert.match(change.result?.msisdn ?? '', /^\d{10}$/);
      }
      const plain = changes.filter(
        (change) => !rows[change.row - 1].staticIp && ![4, 6].includes(change.row),
      );
      for (const change of plain) {
        assert.equal(change.status, 'succeeded', JSON.stringify(change));
        assert.match(change.result?.msisdn ?? '', /^\d{10}$/);
      }

      // Each SIM posted exactly once, in batches of at most 10.
      const posts = await fx.calls('activate');
      assert.equal(posts.length, 3);
      const posted = posts.flatMap((call) => call.iccids);
      assert.equal(posted.length, 24);
      assert.equal(new Set(posted).size, 24);
      // Features: added at activation, the removed one gone, removed once per row that asked.
      const lines = await fx.lines();
      const line0 = lines.find((line) => line.iccid === fx.iccid(0))!;
      assert.deepEqual(line0.features, ['INTLROAM']);
      const removals = (await fx.calls('update_line')).length;
      assert.equal(
        removals,
        rows.filter((row, index) => row.removeFeatureCodes && ![3, 5].includes(index)).length,
      );
      // The inventory holds the new lines with their MSISDN and IP.
      const device = await test.api<{
        items: Array<{ msisdn: string; status: string; ipAddress: string | null }>;
      }>('GET', `/api/v1/devices?carrierAccountId=${fx.accountId}&iccid=${fx.iccid(0)}`);
      assert.equal(device.body.items[0].status, 'active');
      assert.equal(device.body.items[0].msisdn, line0.msisdn);
      assert.equal(device.body.items[0].ipAddress, line0.ipAddress);
    });

    it('fails rows of an unknown or cancelled billing account without posting them, and a failed feature removal alone', async () => {
      const fx = await fixture();
      const base = { ratePlan: 'APX1G5M30', zipCode: '75001', firstName: 'Ada', lastName: 'Lovelace' };
      const rows = [
        { ...base, iccid: fx.iccid(0), imei: imei(0), billingAccountNumber: '287309999999' },
        { ...base, iccid: fx.iccid(1), imei: imei(1), billingAccountNumber: '287300000001' },
        {
          ...base,
          iccid: fx.iccid(2),
          imei: imei(2),
          billingAccountNumber: BAN,
          removeFeatureCodes: 'NOSUCHSOC',
        },
        { ...base, iccid: fx.iccid(3), imei: imei(3), billingAccountNumber: BAN },
      ];
      const created = await create(fx.accountId, 'activate_new_service', rows);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal((await waitForFinish(test, created.body.id)).status, 'completed_with_errors');
      const changes = await changesOf<Change>(test, created.body.id);
      assert.deepEqual(
        changes.map((change) => [change.row, change.status, change.error?.code ?? null]),
        [
          [1, 'failed', 'BILLING_ACCOUNT_INACTIVE'],
          [2, 'failed', 'BILLING_ACCOUNT_NOT_FOUND'],
          [3, 'failed', 'FEATURE_REMOVAL_FAILED'],
          [4, 'succeeded', null],
        ],
      );
      // The line whose feature removal failed is active, with its number; the refused SIMs were never posted.
      assert.match(changes[2].result?.msisdn ?? '', /^\d{10}$/);
      const posted = (await fx.calls('activate')).flatMap((call) => call.iccids);
      assert.deepEqual(posted.sort(), [fx.iccid(2), fx.iccid(3)].sort());
    });

    it('builds the linked assignment of a large activation page by page, one row per parent row', async () => {
      const fx = await fixture({ limits: { batchSize: 200 } });
      await test.api('POST', '/api/v1/billing-customers', {
        body: { items: [{ id: '1001', name: 'Acme' }] },
      });
      const rows = Array.from({ length: 1_050 }, (_, index) => ({
        ...activationRow(fx, index),
        billingCustomerId: '1001',
      }));
      const created = await create(fx.accountId, 'activate_new_service', rows);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const activation = await waitForFinish(test, created.body.id, 120_000);
      assert.equal(activation.status, 'completed');
      const linked = await waitForFinish(test, String(activation.linkedId), 120_000);
      assert.equal(linked.status, 'completed');
      assert.equal((linked.counts as { total: number; succeeded: number }).total, 1_050);
      assert.equal((linked.counts as { total: number; succeeded: number }).succeeded, 1_050);
    });

    it('fails a static IP that AT&T refuses with STATIC_IP_FAILED, riding out failed status polls', async () => {
      const fx = await fixture({ faults: { ipProvisionMs: 1_500 } });
      const created = await create(fx.accountId, 'activate_new_service', [
        { ...activationRow(fx, 0), staticIp: true },
        { ...activationRow(fx, 1), staticIp: true },
      ]);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await waitUntil(
        'the IP provisioning',
        async () => ((await fx.calls('provision_ips')).length ? true : undefined),
        20_000,
        20,
      );
      // The first line is cancelled before AT&T provisions its address; meanwhile two status polls fail.
      const line = (await fx.lines()).find((candidate) => candidate.iccid === fx.iccid(0))!;
      const cancelled = await fetch(`${fx.url}/sp/mobility/lineconfig/api/v1/service/${line.msisdn}`, {
        method: 'PATCH',
        headers: {
          'content-type': 'application/json',
          'app-id': 'demo-app',
          'app-secret': 'demo-app-secret',
        },
        body: JSON.stringify({
          serviceCharacteristic: [
            { name: 'subscriberStatus', value: 'C' },
            { name: 'reasonCode', value: 'CUST_REQ' },
          ],
        }),
      });
      assert.equal(cancelled.status, 200, await cancelled.text());
      await fx.setFaults({ errorBurst: 2 });
      assert.equal((await waitForFinish(test, created.body.id)).status, 'completed_with_errors');
      const changes = await changesOf<Change>(test, created.body.id);
      assert.equal(changes[0].error?.code, 'STATIC_IP_FAILED');
      assert.match(changes[0].error?.message ?? '', /cancelled/);
      assert.equal(changes[1].status, 'succeeded');
      assert.match(changes[1].result?.ipAddress ?? '', /^10\.64\./);
      const polls = await fx.calls('ip_status');
      assert.ok(
        polls.some((call) => call.status === 500),
        'some status polls failed and were retried',
      );
    });

    it('runs the linked customer assignment for the activated lines only; failed activations fail there too', async () => {
      const fx = await fixture();
      await test.api('POST', '/api/v1/billing-customers', {
        body: { items: [{ id: '1001', name: 'Acme' }] },
      });
      await test.api('POST', '/api/v1/customer-rate-plans', {
        body: { items: [{ id: 'CRP-1', name: 'Fleet 1 GB' }] },
      });
      const rejected = fx.iccid(2);
      await fx.setFaults({ rejectIccids: { [rejected]: 'SIM blocked' } });
      const rows = Array.from({ length: 4 }, (_, index) => ({
        ...activationRow(fx, index),
        ...(index < 3 ? { billingCustomerId: '1001', customerRatePlanId: 'CRP-1' } : {}),
      }));
      const created = await create(fx.accountId, 'activate_new_service', rows);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const activation = await waitForFinish(test, created.body.id);
      assert.equal(activation.status, 'completed_with_errors');
      const linkedId = String(activation.linkedId);
      const linked = await waitForFinish(test, linkedId);
      assert.equal(linked.changeType, 'customer_assignment');
      assert.equal(linked.linkedId, created.body.id);
      assert.equal(linked.status, 'completed_with_errors');
      const assignment = await changesOf<Change>(test, linkedId);
      assert.deepEqual(
        assignment.map((change) => [change.row, change.status, change.error?.code ?? null]),
        [
          [1, 'succeeded', null],
          [2, 'succeeded', null],
          [3, 'failed', 'PARENT_CHANGE_FAILED'],
        ],
      );
      const devices = await test.api<{
        items: Array<{
          iccid: string;
          billingCustomerId: string | null;
          customerRatePlanId: string | null;
          msisdn: string | null;
        }>;
      }>('GET', `/api/v1/devices?carrierAccountId=${fx.accountId}&limit=10`);
      const byIccid = new Map(devices.body.items.map((device) => [device.iccid, device]));
      assert.equal(byIccid.get(fx.iccid(0))?.billingCustomerId, '1001');
      assert.equal(byIccid.get(fx.iccid(0))?.customerRatePlanId, 'CRP-1');
      assert.equal(byIccid.get(rejected)?.billingCustomerId, null);
      assert.equal(byIccid.get(rejected)?.msisdn, null);
      assert.equal(byIccid.get(fx.iccid(3))?.billingCustomerId, null);
    });

    it('refuses at intake a SIM already in service, a bad IMEI and a missing ZIP, row by row', async () => {
      const fx = await fixture();
      const [line] = await seedLines(fx, 1);
      const base = {
        billingAccountNumber: BAN,
        ratePlan: 'APX1G5M30',
        zipCode: '75001',
        firstName: 'A',
        lastName: 'B',
      };
      const response = await create(fx.accountId, 'activate_new_service', [
        { ...base, iccid: line.iccid, imei: imei(900) },
        { ...base, iccid: fx.iccid(901), imei: '35391108000001' + '9' },
        { ...base, iccid: fx.iccid(902), imei: imei(902), zipCode: undefined },
      ]);
      assert.equal(response.status, 422);
      const codes = response.body.error?.details.map((detail) => [detail.row, detail.code]);
      assert.deepEqual(codes, [
        [2, 'INVALID_LUHN'],
        [3, 'INVALID_FIELD'],
        [1, 'SIM_IN_USE'],
      ]);
    });

    it('suspends and restores with reason codes, refuses impossible transitions at intake', async () => {
      const fx = await fixture();
      const lines = await seedLines(fx, 4);
      const suspend = await create(
        fx.accountId,
        'status_update',
        lines.map((line) => ({ msisdn: line.msisdn })),
        { targetStatus: 'suspended', reasonCode: 'CUST_REQ' },
      );
      assert.equal(suspend.status, 201, JSON.stringify(suspend.body));
      assert.equal((await waitForFinish(test, suspend.body.id)).status, 'completed');
      assert.ok((await fx.lines()).every((line) => line.state === 'S'));

      const again = await create(fx.accountId, 'status_update', [{ msisdn: lines[0].msisdn }], {
        targetStatus: 'suspended',
        reasonCode: 'CUST_REQ',
      });
      assert.equal(again.status, 422);
      assert.equal(again.body.error?.details[0].code, 'ALREADY_IN_STATUS');

      const restore = await create(fx.accountId, 'status_update', [{ msisdn: lines[0].msisdn }], {
        targetStatus: 'active',
        reasonCode: 'NOT_A_CODE',
      });
      assert.equal(restore.status, 201);
      assert.equal((await waitForFinish(test, restore.body.id)).status, 'failed');
      const [row] = await changesOf<Change>(test, restore.body.id);
      assert.equal(row.error?.code, 'CARRIER_REJECTED');
      assert.match(row.error?.message ?? '', /reason code/i);
    });

    it('undoes a suspension with the reason code the undo gives, and leaves a cancelled line cancelled', async () => {
      const fx = await fixture();
      const lines = await seedLines(fx, 3);
      const original = await create(
        fx.accountId,
        'status_update',
        [
          { msisdn: lines[0].msisdn, targetStatus: 'suspended' },
          { msisdn: lines[1].msisdn, targetStatus: 'suspended' },
          { msisdn: lines[2].msisdn, targetStatus: 'deactivated' },
        ],
        { reasonCode: 'CUST_REQ' },
      );
      assert.equal(original.status, 201, JSON.stringify(original.body));
      assert.equal((await waitForFinish(test, original.body.id)).status, 'completed');
      type Undo = {
        id: string;
        counts: { total: number };
        summary: { wouldFail: number };
        irreversible: Array<{ row: number; reason: string; code?: string }>;
      };
      const undo = (body?: unknown, query = '') =>
        test.api<Undo>('POST', `/api/v1/bulk-changes/${original.body.id}/undo${query}`, { body });

      // AT&T wants a reason for every status change: without one the reverse rows are refused.
      const bare = await undo(undefined, '?dryRun=true');
      assert.equal(bare.status, 200, bare.text);
      assert.deepEqual(
        bare.body.irreversible.map((row) => [row.row, row.reason, row.code]),
        [
          [1, 'REVERSE_REFUSED', 'INVALID_FIELD'],
          [2, 'REVERSE_REFUSED', 'INVALID_FIELD'],
          [3, 'DEACTIVATION_FINAL', undefined],
        ],
      );

      const undone = await undo({ options: { reasonCode: 'FOUND' } });
      assert.equal(undone.status, 201, undone.text);
      assert.equal(undone.body.counts.total, 2);
      assert.deepEqual(
        undone.body.irreversible.map((row) => [row.row, row.reason]),
        [[3, 'DEACTIVATION_FINAL']],
      );
      assert.equal((await waitForFinish(test, undone.body.id)).status, 'completed');
      const states = new Map((await fx.lines()).map((line) => [line.msisdn, line.state]));
      assert.deepEqual(
        lines.map((line) => states.get(line.msisdn)),
        ['A', 'A', 'C'],
      );
    });

    it('changes rate plans within the bill cycle, swaps equipment (eSIM rules) and sets usernames', async () => {
      const fx = await fixture();
      const lines = await seedLines(fx, 3);
      const tooLate = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10);
      const plans = await create(
        fx.accountId,
        'carrier_rate_plan_change',
        [
          { msisdn: lines[0].msisdn, carrierRatePlan: 'APX5GM30' },
          { msisdn: lines[1].msisdn, carrierRatePlan: 'APX5GM30', effectiveDate: tooLate },
        ],
        {},
      );
      assert.equal(plans.status, 422);
      assert.equal(plans.body.error?.details[0].code, 'INVALID_EFFECTIVE_DATE');
      const plan = await create(fx.accountId, 'carrier_rate_plan_change', [
        { msisdn: lines[0].msisdn, carrierRatePlan: 'APX5GM30' },
      ]);
      assert.equal((await waitForFinish(test, plan.body.id)).status, 'completed');
      assert.equal((await fx.lines()).find((line) => line.msisdn === lines[0].msisdn)?.ratePlan, 'APX5GM30');

      await test.api('POST', '/api/v1/customer-pools', {
        body: { items: [{ id: 'POOL-SWAP', name: 'Swapped lines' }] },
      });
      const swap = await create(fx.accountId, 'identifier_change', [
        { msisdn: lines[1].msisdn, newIccid: fx.iccid(500), customerPoolId: 'POOL-SWAP' },
        { msisdn: lines[2].msisdn, newImei: imei(501) },
      ]);
      assert.equal(swap.status, 201, JSON.stringify(swap.body));
      const swapDone = await waitForFinish(test, swap.body.id);
      assert.equal(swapDone.status, 'completed');
      const swapped = await fx.lines();
      assert.ok(swapped.some((line) => line.iccid === fx.iccid(500) && line.msisdn === lines[1].msisdn));
      // The pool the first row named is set by the linked change, on that line alone.
      const linked = await waitForFinish(test, String(swapDone.linkedId));
      assert.deepEqual(
        [linked.changeType, linked.status, linked.counts.total],
        ['customer_rate_plan_change', 'completed', 1],
      );
      const pools = await test.api<{ items: Array<{ msisdn: string; customerPoolId: string | null }> }>(
        'GET',
        `/api/v1/devices?carrierAccountId=${fx.accountId}`,
      );
      const poolOf = new Map(pools.body.items.map((line) => [line.msisdn, line.customerPoolId]));
      assert.deepEqual([poolOf.get(lines[1].msisdn), poolOf.get(lines[2].msisdn)], ['POOL-SWAP', null]);

      const user = await create(fx.accountId, 'username_cost_center_change', [
        { msisdn: lines[0].msisdn, username: 'Truck 12', costCenter1: 'FLEET-EAST' },
      ]);
      assert.equal((await waitForFinish(test, user.body.id)).status, 'completed');
      assert.equal(
        (await fx.lines()).find((line) => line.msisdn === lines[0].msisdn)?.contactName,
        'Truck 12',
      );
      // The same row again: the line is read, and not written a second time.
      const writes = async () =>
        (await fx.calls('update_line')).filter((call) => call.path.includes(lines[0].msisdn)).length;
      const before = await writes();
      const again = await create(fx.accountId, 'username_cost_center_change', [
        { msisdn: lines[0].msisdn, username: 'Truck 12' },
      ]);
      assert.equal((await waitForFinish(test, again.body.id)).status, 'completed');
      assert.equal(await writes(), before);
    });

    it('takes dates as AT&T writes them; swaps carry the line’s ZIP, SOC and technology type', async () => {
      const fx = await fixture();
      const [first, second] = await seedLines(fx, 2);
      const account = await test.api<{ settings: Record<string, unknown> }>(
        'GET',
        `/api/v1/carrier-accounts/${fx.accountId}`,
      );
      await test.api('PATCH', `/api/v1/carrier-accounts/${fx.accountId}`, {
        body: { settings: { ...account.body.settings, defaultTechnologyType: 'LTE' } },
      });
      const today = new Date().toISOString().slice(0, 10);
      const plan = await create(fx.accountId, 'carrier_rate_plan_change', [
        { msisdn: first.msisdn, carrierRatePlan: 'APX5GM30', effectiveDate: `${today}Z` },
      ]);
      assert.equal(plan.status, 201, JSON.stringify(plan.body));
      assert.equal((await waitForFinish(test, plan.body.id)).status, 'completed');
      const [planLine] = (await fx.lines()).filter((line) => line.msisdn === first.msisdn);
      assert.equal(planLine.ratePlan, 'APX5GM30');

      const swap = await create(fx.accountId, 'identifier_change', [
        { msisdn: second.msisdn, newImei: imei(601), reasonCode: 'CUST_OWN_EQU' },
      ]);
      assert.equal(swap.status, 201, JSON.stringify(swap.body));
      assert.equal((await waitForFinish(test, swap.body.id)).status, 'completed');
      const swapped = (await fx.lines()).find((line) => line.msisdn === second.msisdn) as unknown as {
        imei: string;
        ratePlan: string;
        technologyType: string;
      };
      assert.deepEqual(
        [swapped.imei, swapped.ratePlan, swapped.technologyType],
        [imei(601), 'APX1G5M30', 'LTE'],
      );
      assert.equal((await fx.calls('get_line')).length >= 1, true, 'the line was read before the swap');
    });

    it('answers an eSIM-only line asked for a physical SIM with ESIM_REQUIRED', async () => {
      const fx = await fixture();
      const [line] = await seedLines(fx, 1, 'A', '35299911');
      const swap = await create(fx.accountId, 'identifier_change', [
        { msisdn: line.msisdn, newIccid: fx.iccid(700) },
      ]);
      assert.equal(swap.status, 201, JSON.stringify(swap.body));
      assert.equal((await waitForFinish(test, swap.body.id)).status, 'failed');
      const [row] = await changesOf<Change>(test, swap.body.id);
      assert.equal(row.error?.code, 'ESIM_REQUIRED');
      const refused = await create(fx.accountId, 'identifier_change', [
        { msisdn: line.msisdn, newImei: imei(701) },
      ]);
      assert.equal(refused.status, 422);
      assert.equal(refused.body.error?.details[0].code, 'ESIM_REQUIRED');
    });

    it("kept every bulk change's counts equal to its rows through all of the above", async () => {
      assert.deepEqual(await countsDrift(test), []);
    });
  });
}
