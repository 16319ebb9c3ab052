import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { createThingSpaceSimulator } from '../src/carriers/thingspace/simulator/simulator.ts';
import { byIccid, changesOf, submitChange } from './support/bulk-changes.ts';
import { thingSpaceAccountFixture } from './support/carrier-accounts.ts';
import { testDialects } from './support/databases.ts';
import { insertLines } from './support/inventory.ts';
import { simAdmin } from './support/processes.ts';
import { serviceForSuite, testIccids, waitForFinish } from './support/service.ts';

interface TimelineEntry {
  id: string;
  action: string;
  rows: number | null;
  sliced: boolean;
  changeId: string | null;
  request: { body?: { devices?: Array<{ deviceIds: Array<{ id: string }> }> } } | null;
  response: unknown;
}
interface RowWithTimeline {
  id: string;
  iccid: string;
  timeline: TimelineEntry[];
}

/** The ICCIDs a (sliced) activate request names. */
const iccidsIn = (entry: TimelineEntry) =>
  (entry.request?.body?.devices ?? []).flatMap((device) => device.deviceIds.map((id) => id.id));

for (const dialect of testDialects) {
  describe(`every call on every row's timeline on ${dialect}`, () => {
    const test = serviceForSuite(dialect);

    async function thingSpace(count: number, prefix: string, callbacks: boolean) {
      const simulator = createThingSpaceSimulator({
        activationDelayMs: 200,
        actionDelayMs: 50,
        faults: { callbacks },
      });
      const simulatorUrl = await test.serveSimulator(simulator);
      const accountId = await thingSpaceAccountFixture(test, {
        baseUrl: simulatorUrl,
        accountName: simulator.accountName,
        callbackPassword: 'callback-secret-1',
        limits: {
          requestsPerSecond: null,
          maxConcurrent: 4,
          checkIntervalMs: 250,
          maxWaitMs: 30_000,
          batchSize: 25,
        },
      });
      const iccids = testIccids(count, prefix);
      await simAdmin(simulatorUrl).seed(iccids.map((iccid) => ({ iccid, state: 'pre-active' })));
      await insertLines(
        test,
        accountId,
        iccids.map((iccid) => ({ iccid, status: 'inventory', carrierStatus: 'pre-active' })),
      );
      return { accountId, iccids, simulatorUrl };
    }

    async function timelines(id: string) {
      const rows = await changesOf<{ id: string }>(test, id);
      return Promise.all(
        rows.map(
          async (row) =>
            (await test.api<RowWithTimeline>('GET', `/api/v1/bulk-changes/${id}/changes/${row.id}`)).body,
        ),
      );
    }

    it('puts the batch activation that carried a row, cut to its part, and its own callback on its timeline', async () => {
      const { accountId, iccids, simulatorUrl } = await thingSpace(60, '8914811', true);
      const id = await submitChange(test, accountId, byIccid(iccids), 'status_update', {
        targetStatus: 'active',
      });
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');
      const activations = new Set<string>();
      for (const row of await timelines(id)) {
        const activate = row.timeline.filter((entry) => entry.action === 'activate');
        assert.equal(activate.length, 1, `row ${row.iccid}: one activate call`);
        assert.ok((activate[0].rows ?? 0) > 1 && activate[0].sliced, 'a batch call, cut to the row');
        assert.deepEqual(iccidsIn(activate[0]), [row.iccid], 'the slice names this line only');
        activations.add(activate[0].id);
        const callbacks = row.timeline.filter((entry) => entry.action === 'callback');
        assert.equal(callbacks.length, 1, `row ${row.iccid}: its callback`);
        assert.ok(JSON.stringify(callbacks[0].response).includes(row.iccid), 'the callback names the line');
      }
      assert.equal(activations.size, 3, 'three batches of at most 25');

      // The whole call is kept once: the audit API shows every line of the batch.
      const whole = await test.api<{ request: { body: { devices: unknown[] } } }>(
        'GET',
        `/api/v1/audit/${[...activations][0]}`,
      );
      assert.equal(whole.status, 200, whole.text);
      assert.ok(whole.body.request.body.devices.length > 1);

      // The results name the calls, and say in columns of their own what the activation gave each line.
      const csv = await test.api('GET', `/api/v1/bulk-changes/${id}/results.csv`);
      const lines: Array<Record<string, string>> = parse(csv.text, { columns: true });
      assert.equal(lines.length, 60);
      assert.ok(
        lines.every((line) => /activate#\d+/.test(line.calls) && /callback#\d+/.test(line.calls)),
        'every line names its activate call and its callback',
      );
      const carrier = new Map(
        (await simAdmin(simulatorUrl).devices<{ iccid: string; msisdn: string; ipAddress: string }>()).map(
          (line) => [line.iccid, line],
        ),
      );
      for (const line of lines) {
        const given = carrier.get(line.iccid)!;
        assert.match(line.new_msisdn, /^\d{10,15}$/);
        assert.equal(line.new_msisdn, given.msisdn, `row ${line.row}: the MSISDN the carrier gave`);
        assert.equal(line.ip_address, given.ipAddress, `row ${line.row}: the IP address the carrier gave`);
        assert.equal(line.target_status, 'active');
        assert.match(line.carrier_request_id, /\S/, `row ${line.row}: the carrier's request id`);
      }
      const view = await changesOf<{ iccid: string; newMsisdn: string; ipAddress: string }>(test, id);
      for (const row of view) assert.equal(row.newMsisdn, carrier.get(row.iccid)!.msisdn);
      for (const row of view) assert.equal(row.ipAddress, carrier.get(row.iccid)!.ipAddress);
    });

    it('puts the polled request status on the timeline of every row it answered', async () => {
      const { accountId, iccids } = await thingSpace(30, '8914812', false);
      const id = await submitChange(test, accountId, byIccid(iccids), 'status_update', {
        targetStatus: 'active',
      });
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');
      for (const row of await timelines(id)) {
        const polls = row.timeline.filter((entry) => entry.action === 'request_status');
        assert.ok(polls.length >= 1, `row ${row.iccid}: the poll that answered it`);
        for (const poll of polls)
          assert.ok(!JSON.stringify(poll.response).includes(iccids.find((other) => other !== row.iccid)!));
      }
    });

    it('refuses a row of another bulk change on the log', async () => {
      const { accountId, iccids } = await thingSpace(2, '8914813', true);
      const first = await submitChange(test, accountId, byIccid(iccids.slice(0, 1)), 'status_update', {
        targetStatus: 'active',
      });
      const second = await submitChange(test, accountId, byIccid(iccids.slice(1)), 'status_update', {
        targetStatus: 'active',
      });
      const [row] = await changesOf<{ id: string }>(test, second);
      const answer = await test.api('GET', `/api/v1/bulk-changes/${first}/log?changeId=${row.id}`);
      assert.equal(answer.status, 404);
    });
  });
}
