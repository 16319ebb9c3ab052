import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRevioSimulator } from '../src/billing/revio/simulator/simulator.ts';
import { createThingSpaceSimulator } from '../src/carriers/thingspace/simulator/simulator.ts';
import { revioConnection } from './support/billing-connection.ts';
import { thingSpaceAccountFixture } from './support/carrier-accounts.ts';
import { testDialects } from './support/databases.ts';
import { insertLines } from './support/inventory.ts';
import { runCli, simAdmin } from './support/processes.ts';
import {
  startTestService,
  type TestService,
  testIccid,
  testIccids,
  waitForFinish,
} from './support/service.ts';

interface Run {
  id: string;
  createdAt: string;
  status: string;
  trigger: string;
  counts: {
    carrierLines: number;
    inventoryLines: number;
    billingServices: number | null;
    drifts: number;
  } | null;
  error: string | null;
}
interface Drift {
  id: string;
  kind: string;
  field: string;
  iccid: string;
  carrier: string | null;
  ours: string | null;
  billing: string | null;
}
interface Fix {
  changes: Array<{
    changeType: string;
    rows: number;
    created?: { id: string };
    preview?: { summary: Record<string, number> };
  }>;
  notFixable: Array<{ driftId: string; reason: string }>;
}
interface RevioService {
  id: number;
  number2: string | null;
  status: string;
}

/** The drifts as `kind iccid carrier/ours/billing`, sorted: what a test compares. */
const described = (drifts: Drift[]) =>
  drifts
    .map((d) => `${d.kind} ${d.iccid} ${d.carrier}/${d.ours}/${d.billing === null ? '-' : 'billed'}`)
    .sort();

for (const dialect of testDialects) {
  describe(`three-way reconciliation on ${dialect}`, () => {
    const test = {} as TestService;
    after(() => test.stop?.());
    let accountId: string;
    let ts: ReturnType<typeof simAdmin>;
    let revio: ReturnType<typeof simAdmin>;
    const iccids = testIccids(8, '8901471');
    const [billed0, billed1, billed2, suspendedOutOfBand, replanned, , , deactivated] = iccids;
    const newAtCarrier = testIccid(900, '8901471');
    const goneFromCarrier = testIccid(901, '8901471');

    const reconcile = async (): Promise<Run> => {
      const started = await test.api<Run>('POST', `/api/v1/carrier-accounts/${accountId}/reconciliations`);
      assert.equal(started.status, 202, started.text);
      assert.equal(started.body.status, 'queued');
      for (let tries = 0; tries < 400; tries++) {
        const run = await test.api<Run>('GET', `/api/v1/reconciliations/${started.body.id}`);
        if (run.body.status === 'completed' || run.body.status === 'failed') return run.body;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the reconciliation did not finish');
    };
    const driftsOf = async (run: Run) =>
      (await test.api<{ items: Drift[] }>('GET', `/api/v1/reconciliations/${run.id}/drifts?limit=1000`)).body
        .items;

    before(async () => {
      // Schedules are looked at often, so a due one runs within the test.
      Object.assign(
        test,
        await startTestService(dialect, {
          RECONCILIATION_SCHEDULE_CHECK_MS: '200',
          RECONCILIATION_CALLBACK_SETTLE_MS: '1500',
        }),
      );
      const simulator = createThingSpaceSimulator({ activationDelayMs: 200, actionDelayMs: 50 });
      const simulatorUrl = await test.serveSimulator(simulator);
      ts = simAdmin(simulatorUrl);
      const revioUrl = await test.serveSimulator(
        createRevioSimulator({ faults: { rateLimitPerSecond: null, maxConcurrent: null } }),
      );
      revio = simAdmin(revioUrl);
      const connected = await test.api('PUT', '/api/v1/billing-connection', {
        body: revioConnection(revioUrl, { settings: { providerIds: { thingspace: 2 } } }),
      });
      assert.equal(connected.status, 200, connected.text);
      const synced = await test.api('POST', '/api/v1/billing-customers/sync');
      assert.equal(synced.status, 200, synced.text);
      accountId = await thingSpaceAccountFixture(test, {
        baseUrl: simulatorUrl,
        accountName: simulator.accountName,
        callbackPassword: 'callback-secret-1',
        limits: { requestsPerSecond: null, checkIntervalMs: 250, maxWaitMs: 20_000 },
      });
      // The carrier: seven active lines on a plan, one deactivated.
      await ts.seed(
        iccids.map((iccid) => ({
          iccid,
          state: iccid === deactivated ? 'deactive' : 'active',
          servicePlan: 'M2M4G1GB',
        })),
      );
      // The inventory knows the lines (three billed to customer 1001), then reads the rest from the carrier.
      await insertLines(
        test,
        accountId,
        iccids.map((iccid) => ({
          iccid,
          status: 'inventory',
          carrierStatus: null,
          ...([billed0, billed1, billed2].includes(iccid) ? { billingCustomerId: '1001' } : {}),
        })),
      );
      const sync = await test.api('POST', `/api/v1/carrier-accounts/${accountId}/inventory-sync`);
      assert.equal(sync.status, 202, sync.text);
      for (let tries = 0; tries < 400; tries++) {
        const account = await test.api<{ inventorySync: unknown }>(
          'GET',
          `/api/v1/carrier-accounts/${accountId}`,
        );
        if (account.body.inventorySync) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // Billing: the three billed lines have their services.
      await revio.seed(
        [billed0, billed1, billed2].map((iccid) => ({
          customerId: 1001,
          providerId: 2,
          number: iccid,
          number2: iccid,
        })),
      );
    });

    it('finds nothing where the carrier, the inventory and billing agree', async () => {
      const run = await reconcile();
      assert.equal(run.status, 'completed', run.error ?? '');
      assert.deepEqual(run.counts, { carrierLines: 8, inventoryLines: 8, billingServices: 3, drifts: 0 });
      assert.deepEqual(await driftsOf(run), []);
    });

    it('reports exactly the drifts injected at the carrier, in the inventory and in billing, in JSON and CSV', async () => {
      // At the carrier, out of band: a line suspended, a line moved to another plan, a line added.
      await ts.seed([
        { iccid: suspendedOutOfBand, state: 'suspend' },
        { iccid: replanned, servicePlan: 'M2M4G25MB' },
        { iccid: newAtCarrier, state: 'active', servicePlan: 'M2M4G1GB' },
      ]);
      // In the inventory: a line the carrier does not have.
      await insertLines(test, accountId, [
        { iccid: goneFromCarrier, status: 'active', carrierStatus: 'active' },
      ]);
      // In billing: the deactivated line billed, a billed line's service disconnected.
      const services = await revio.devices<RevioService>();
      const third = services.find((service) => service.number2 === billed2)!;
      await revio.seed([
        { customerId: 1001, providerId: 2, number: deactivated, number2: deactivated },
        {
          id: third.id,
          customerId: 1001,
          providerId: 2,
          number: billed2,
          number2: billed2,
          status: 'DISCONNECTED',
        },
      ]);

      const run = await reconcile();
      assert.equal(run.status, 'completed', run.error ?? '');
      assert.deepEqual(run.counts, { carrierLines: 9, inventoryLines: 9, billingServices: 3, drifts: 6 });
      assert.deepEqual(described(await driftsOf(run)), [
        `active_not_billed ${billed2} active/active/-`,
        `billed_but_deactivated ${deactivated} deactivated/deactivated/billed`,
        `missing_at_carrier ${goneFromCarrier} null/active/-`,
        `missing_from_inventory ${newAtCarrier} active/null/-`,
        `plan_differs ${replanned} M2M4G25MB/M2M4G1GB/-`,
        `status_differs ${suspendedOutOfBand} suspended/active/-`,
      ]);

      const statusOnly = await test.api<{ items: Drift[] }>(
        'GET',
        `/api/v1/reconciliations/${run.id}/drifts?kind=status_differs`,
      );
      assert.deepEqual(
        statusOnly.body.items.map((d) => d.iccid),
        [suspendedOutOfBand],
      );
      const csv = await test.api('GET', `/api/v1/reconciliations/${run.id}/drifts.csv`);
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
      const lines = csv.text.trim().split('\n');
      assert.equal(lines[0], 'id,kind,iccid,msisdn,field,carrier,ours,billing');
      assert.equal(lines.length, 7);
      assert.ok(lines.some((line) => line.includes(`status_differs,${suspendedOutOfBand},`)));

      const listed = await test.api<{ items: Run[] }>(
        'GET',
        `/api/v1/reconciliations?carrierAccountId=${accountId}`,
      );
      assert.deepEqual(listed.body.items.map((item) => item.id).slice(0, 1), [run.id], 'newest first');
    });

    it('turns the drifts into ordinary bulk changes, previewed first, which clear them', async () => {
      const listed = await test.api<{ items: Run[] }>(
        'GET',
        `/api/v1/reconciliations?carrierAccountId=${accountId}&limit=1`,
      );
      const run = listed.body.items[0];
      const drifts = await driftsOf(run);
      const driftIds = drifts.map((d) => d.id);

      const preview = await test.api<Fix>('POST', `/api/v1/reconciliations/${run.id}/propose-fix`, {
        body: { driftIds, dryRun: true },
      });
      assert.equal(preview.status, 200, preview.text);
      assert.deepEqual(
        preview.body.changes.map((change) => [
          change.changeType,
          change.rows,
          change.preview?.summary.wouldFail,
        ]),
        [
          ['status_update', 3, 0],
          ['carrier_rate_plan_change', 1, 0],
          ['archival', 1, 0],
        ],
      );
      assert.equal(
        (await test.api('GET', `/api/v1/bulk-changes?carrierAccountId=${accountId}`)).text.includes(
          '"items":[]',
        ),
        true,
        'a preview creates nothing',
      );

      const fix = await test.api<Fix>('POST', `/api/v1/reconciliations/${run.id}/propose-fix`, {
        body: { driftIds },
      });
      assert.equal(fix.status, 201, fix.text);
      const missing = drifts.find((d) => d.kind === 'missing_from_inventory')!;
      assert.deepEqual(
        fix.body.notFixable.map((item) => item.driftId),
        [missing.id],
      );
      for (const change of fix.body.changes) {
        assert.ok(change.created, JSON.stringify(change));
        const finished = await waitForFinish(test, change.created.id);
        assert.equal(finished.status, 'completed', `${change.changeType}: ${JSON.stringify(finished)}`);
      }

      // The carrier, the inventory and billing agree again, but for the line only an inventory sync adds.
      const after = await reconcile();
      assert.deepEqual(described(await driftsOf(after)), [
        `missing_from_inventory ${newAtCarrier} active/null/-`,
      ]);
      const lines = await ts.devices<{ iccid: string; state: string; servicePlan: string | null }>();
      assert.equal(lines.find((line) => line.iccid === suspendedOutOfBand)?.state, 'active');
      assert.equal(lines.find((line) => line.iccid === replanned)?.servicePlan, 'M2M4G1GB');
      const active = (await revio.devices<RevioService>()).filter((service) => service.status === 'ACTIVE');
      assert.deepEqual(
        active.map((service) => service.number2).sort(),
        [billed0, billed1, billed2].sort(),
        'the deactivated line is no longer billed, the billed line is again',
      );
    });

    it('refuses a fix naming drifts of another run, and a viewer', async () => {
      const listed = await test.api<{ items: Run[] }>(
        'GET',
        `/api/v1/reconciliations?carrierAccountId=${accountId}&limit=1`,
      );
      const refused = await test.api<{
        error: { code: string; details: Array<{ field: string; code: string }> };
      }>('POST', `/api/v1/reconciliations/${listed.body.items[0].id}/propose-fix`, {
        body: { driftIds: ['999999'] },
      });
      assert.equal(refused.status, 422, refused.text);
      assert.deepEqual(
        refused.body.error.details.map((d) => [d.field, d.code]),
        [['driftIds', 'UNKNOWN_DRIFT']],
      );
      const bad = await test.api('POST', `/api/v1/reconciliations/${listed.body.items[0].id}/propose-fix`, {
        body: { driftIds: 'all' },
      });
      assert.equal(bad.status, 422, bad.text);
      const viewer = await test.keyFor('acme', 'viewer');
      const forbidden = await test.api('POST', `/api/v1/carrier-accounts/${accountId}/reconciliations`, {
        key: viewer,
      });
      assert.equal(forbidden.status, 403);
      const otherTenant = await test.keyFor('other', 'admin');
      const hidden = await test.api('GET', `/api/v1/reconciliations/${listed.body.items[0].id}`, {
        key: otherTenant,
      });
      assert.equal(hidden.status, 404);
    });

    it('is started and read from the CLI', async () => {
      const connection = ['--url', test.url, '--key', test.adminKey];
      const reconciled = await runCli(['reconcile', accountId, '--wait', ...connection], {}, 60_000);
      assert.equal(reconciled.code, 0, reconciled.stderr);
      const [, id] = /^Reconciliation (\S+): completed$/m.exec(reconciled.stdout) ?? [];
      assert.ok(id, reconciled.stdout);
      assert.match(
        reconciled.stdout,
        /Lines at the carrier: 9, in the inventory: 8, 3 active billing services\nDrifts: 1\n/,
      );
      assert.match(
        reconciled.stdout,
        new RegExp(`missing_from_inventory\\s+${newAtCarrier}\\s+line\\s+active\\s+-\\s+-`),
      );
      const csv = await runCli(['reconciliation', id, '--csv', ...connection], {}, 60_000);
      assert.equal(csv.code, 0, csv.stderr);
      assert.equal(csv.stdout.trim().split('\n').length, 2);
      const missing = await runCli(['reconciliation', 'no-such-run', ...connection], {}, 60_000);
      assert.equal(missing.code, 1, 'a 404 is a refusal');
    });

    it('runs on the account schedule, by itself', async () => {
      const tooOften = await test.api(
        'PUT',
        `/api/v1/carrier-accounts/${accountId}/reconciliation-schedule`,
        {
          body: { everyMinutes: 1 },
        },
      );
      assert.equal(tooOften.status, 422, tooOften.text);
      const set = await test.api<{ everyMinutes: number; nextRunAt: string }>(
        'PUT',
        `/api/v1/carrier-accounts/${accountId}/reconciliation-schedule`,
        { body: { everyMinutes: 60 } },
      );
      assert.equal(set.status, 200, set.text);
      assert.equal(set.body.everyMinutes, 60);
      assert.ok(Date.parse(set.body.nextRunAt) > Date.now() + 59 * 60_000);
      const read = await test.api<{ everyMinutes: number }>(
        'GET',
        `/api/v1/carrier-accounts/${accountId}/reconciliation-schedule`,
      );
      assert.equal(read.body.everyMinutes, 60);
      // An hour is long for a test: the schedule is made due now, as an hour later it would be.
      const before = (
        await test.api<{ items: Run[] }>('GET', `/api/v1/reconciliations?carrierAccountId=${accountId}`)
      ).body.items.length;
      await test.service.database.db
        .updateTable('reconciliation_schedules')
        .set({ next_run_at: Date.now() })
        .execute();
      let scheduled: Run | undefined;
      for (let tries = 0; tries < 200 && !scheduled; tries++) {
        const runs = (
          await test.api<{ items: Run[] }>('GET', `/api/v1/reconciliations?carrierAccountId=${accountId}`)
        ).body.items;
        scheduled =
          runs.length > before
            ? runs.find((run) => run.trigger === 'schedule' && run.status === 'completed')
            : undefined;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(scheduled, 'the schedule ran a reconciliation');
      const next = await test.api<{ nextRunAt: string }>(
        'GET',
        `/api/v1/carrier-accounts/${accountId}/reconciliation-schedule`,
      );
      assert.ok(Date.parse(next.body.nextRunAt) > Date.now() + 59 * 60_000, 'and moved on to the next hour');
      const stopped = await test.api<{ everyMinutes: null }>(
        'PUT',
        `/api/v1/carrier-accounts/${accountId}/reconciliation-schedule`,
        { body: { everyMinutes: null } },
      );
      assert.equal(stopped.body.everyMinutes, null);
    });

    it('reconciles the account when ThingSpace calls back about a change no bulk change made', async () => {
      const runs = async () =>
        (await test.api<{ items: Run[] }>('GET', `/api/v1/reconciliations?carrierAccountId=${accountId}`))
          .body.items;
      const postedAt = new Date().toISOString();
      const since = async () => (await runs()).filter((item) => item.createdAt >= postedAt);
      // Someone suspends a line in ThingSpace's own portal; ThingSpace calls back with the result.
      await ts.seed([{ iccid: billed0, state: 'suspend' }]);
      const callback = await fetch(`${test.url}/callbacks/thingspace/${accountId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          requestId: 'made-in-the-carrier-portal-1',
          deviceIds: [{ id: billed0, kind: 'iccid' }],
          status: 'Success',
          username: 'bulkchange',
          password: 'callback-secret-1',
        }),
      });
      assert.equal(callback.status, 200, await callback.text());
      let run: Run | undefined;
      for (let tries = 0; tries < 200 && !run; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        run = (await since()).find((item) => item.trigger === 'callback' && item.status === 'completed');
      }
      assert.ok(run, 'the callback started a reconciliation');
      assert.equal((await since()).length, 1, 'one run');
      assert.ok(
        described(await driftsOf(run)).includes(`status_differs ${billed0} suspended/active/-`),
        'which marks the line’s drift',
      );
    });
  });
}
