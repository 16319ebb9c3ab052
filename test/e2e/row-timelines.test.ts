import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { luhnCheckDigit } from '../../src/core/identifiers.ts';
import { carrierAccountFixture, thingSpaceAccountFixture } from '../support/carrier-accounts.ts';
import { testDialects } from '../support/databases.ts';
import { type E2eStack, insertInventory, startE2eStack } from '../support/e2e-stack.ts';
import { listAll, simAdmin, startCli, waitForBulkChange } from '../support/processes.ts';
import { testIccids } from '../support/service.ts';

interface TimelineEntry {
  id: string;
  action: string;
  rows: number | null;
  sliced: boolean;
  request: unknown;
  response: unknown;
}
interface RowWithTimeline {
  id: string;
  row: number;
  iccid: string;
  status: string;
  result: { msisdn?: string; ipAddress?: string } | null;
  timeline: TimelineEntry[];
  timelineNextCursor: string | null;
}

/** Runs `work` on every item, `lanes` at a time. */
async function inLanes<T>(items: T[], lanes: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/** Every ICCID-like string (19–20 digits) in a document. */
const iccidsIn = (document: unknown) => [
  ...new Set(JSON.stringify(document).match(/\b89\d{17,18}\b/g) ?? []),
];

/**
 * The real `bulkchange serve` and carrier simulators: after a 2,000-line ThingSpace activation and a
 * 450-line Telegence new service, every row's timeline (`GET /changes/{id}`) holds the batch calls
 * that carried it, cut down to its own part, and its own callback or poll result; the results CSV
 * names those calls on every line.
 */
for (const dialect of testDialects) {
  describe(`every row's timeline end to end on ${dialect}`, () => {
    let stack: E2eStack | undefined;
    after(() => stack?.close());

    async function timelines(id: string): Promise<RowWithTimeline[]> {
      const rows = await listAll<{ id: string }>(stack!.api, `/api/v1/bulk-changes/${id}/changes`);
      const found: RowWithTimeline[] = [];
      await inLanes(rows, 8, async (row) => {
        const answer = await stack!.api<RowWithTimeline>(
          'GET',
          `/api/v1/bulk-changes/${id}/changes/${row.id}?limit=1000`,
        );
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.body.timelineNextCursor, null);
        found.push(answer.body);
      });
      return found;
    }

    /** Each line's `calls` column of the results CSV, by ICCID. */
    async function callsColumn(id: string): Promise<Map<string, string>> {
      const csv = await stack!.api('GET', `/api/v1/bulk-changes/${id}/results.csv`);
      const records: Array<Record<string, string>> = parse(csv.text, { columns: true });
      assert.ok(records.length > 0 && 'calls' in records[0] && 'iccid' in records[0], csv.text.slice(0, 300));
      return new Map(records.map((record) => [record.iccid, record.calls]));
    }

    it('a 2,000-line ThingSpace activation: each row shows the batch activation that carried it and its own callback', async () => {
      stack = await startE2eStack({ dialect });
      await stack.startServer();
      const simulator = startCli(['simulate', 'thingspace', '--port', '0']);
      const [, simulatorUrl] = await simulator.waitForOutput(/listening at (http:\/\/\S+)/);
      const sim = simAdmin(simulatorUrl);
      await sim.setFaults({ callbacks: true });
      const accountId = await thingSpaceAccountFixture(stack, {
        name: 'thingspace timelines',
        baseUrl: simulatorUrl,
        accountName: '0000123456-00001',
        callbackPassword: 'e2e-callback-secret',
        limits: {
          requestsPerSecond: 20,
          maxConcurrent: 2,
          batchSize: 500,
          checkIntervalMs: 5_000,
          maxWaitMs: 120_000,
        },
      });
      const iccids = testIccids(2_000, '8914831');
      await sim.seed(iccids.map((iccid) => ({ iccid, state: 'pre-active' })));
      await insertInventory(stack.databaseLocation, {
        tenant: 'acme',
        accountId,
        iccids,
        state: 'pre-active',
        status: 'inventory',
      });
      const created = await stack.api<{ id: string }>('POST', '/api/v1/bulk-changes', {
        body: {
          carrierAccountId: accountId,
          changeType: 'status_update',
          options: { targetStatus: 'active' },
          changes: iccids.map((iccid) => ({ iccid })),
        },
      });
      assert.equal(created.status, 201, created.text);
      const done = await waitForBulkChange(stack.api, created.body.id, 180_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.counts));

      const rows = await timelines(created.body.id);
      assert.equal(rows.length, 2_000);
      const activations = new Set<string>();
      for (const row of rows) {
        const activate = row.timeline.filter((entry) => entry.action === 'activate');
        assert.equal(activate.length, 1, `row ${row.row}: the activation that carried it`);
        assert.ok(
          activate[0].sliced && (activate[0].rows ?? 0) > 1,
          `row ${row.row}: a batch call, cut to the row`,
        );
        assert.deepEqual(iccidsIn(activate[0].request), [row.iccid], `row ${row.row}: its own part only`);
        activations.add(activate[0].id);
        const callback = row.timeline.find((entry) => entry.action === 'callback');
        assert.ok(callback, `row ${row.row}: its callback`);
        assert.deepEqual(iccidsIn(callback.response), [row.iccid]);
      }
      assert.equal(activations.size, 4, '2,000 lines in batches of 500');
      const calls = await callsColumn(created.body.id);
      assert.equal(calls.size, 2_000);
      for (const [iccid, named] of calls) assert.match(named, /activate#\d+.*callback#\d+/, iccid);
      simulator.kill('SIGTERM');
    });

    it('a 450-line Telegence new service: each row shows its batch activation, the polls that answered it, and its IP calls', async () => {
      const simulator = startCli(['simulate', 'telegence', '--port', '0']);
      const [, simulatorUrl] = await simulator.waitForOutput(/listening at (http:\/\/\S+)/);
      const sim = simAdmin(simulatorUrl);
      const iccids = testIccids(450, '8901432');
      const rejected = (index: number) => index % 40 === 13;
      const wantsIp = (index: number) => index % 2 === 0;
      await sim.setFaults({
        activationStepMs: 500,
        ipProvisionMs: 500,
        rejectIccids: Object.fromEntries(
          iccids.flatMap((iccid, index) => (rejected(index) ? [[iccid, 'SIM reported lost']] : [])),
        ),
      });
      const accountId = await carrierAccountFixture(stack!, {
        name: 'telegence timelines',
        carrier: 'telegence',
        baseUrl: simulatorUrl,
        credentials: { appId: 'demo-app', appSecret: 'demo-app-secret' },
        limits: { requestsPerSecond: 50, maxConcurrent: 8, checkIntervalMs: 500, maxWaitMs: 120_000 },
      });
      const imei = (index: number) => {
        const payload = `35391108${String(index).padStart(6, '0')}`;
        return payload + luhnCheckDigit(payload);
      };
      const csv = [
        'ICCID,IMEI,BAN,Rate Plan,ZIP,First Name,Last Name,Static IP',
        ...iccids.map((iccid, index) =>
          [
            iccid,
            imei(index),
            '287301234567',
            'APX1G5M30',
            '75001',
            'Fleet',
            `Unit ${index}`,
            wantsIp(index) ? 'yes' : 'no',
          ].join(','),
        ),
      ].join('\r\n');
      const created = await stack!.api<{ id: string }>(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${accountId}&changeType=activate_new_service`,
        { body: csv, contentType: 'text/csv' },
      );
      assert.equal(created.status, 201, created.text);
      const done = await waitForBulkChange(stack!.api, created.body.id, 180_000);
      assert.equal(done.status, 'completed_with_errors', JSON.stringify(done.counts));

      const rows = await timelines(created.body.id);
      assert.equal(rows.length, 450);
      const posts = new Set<string>();
      for (const row of rows) {
        const index = row.row - 1;
        const activate = row.timeline.filter((entry) => entry.action === 'activate');
        assert.equal(activate.length, 1, `row ${row.row}: the activation that carried it`);
        assert.ok(activate[0].sliced && (activate[0].rows ?? 0) > 1);
        assert.deepEqual(iccidsIn(activate[0].request), [row.iccid], `row ${row.row}: its own part only`);
        posts.add(activate[0].id);
        const polls = row.timeline.filter((entry) => entry.action === 'activation_status');
        assert.ok(polls.length >= 1, `row ${row.row}: the status polls of its activation`);
        const answered = polls.at(-1)!;
        assert.deepEqual(
          iccidsIn(answered.response),
          [row.iccid],
          `row ${row.row}: its own result in the poll`,
        );
        if (!rejected(index) && row.status === 'succeeded' && wantsIp(index)) {
          const provision = row.timeline.find((entry) => entry.action === 'provision_ips');
          assert.ok(provision, `row ${row.row}: its IP provisioning`);
          assert.ok(JSON.stringify(provision.request).includes(row.result!.msisdn!));
          const status = row.timeline.filter((entry) => entry.action === 'ip_status').at(-1);
          assert.ok(
            status && JSON.stringify(status.response).includes(row.result!.msisdn!),
            `row ${row.row}: its IP status`,
          );
        }
        if (rejected(index)) assert.equal(row.status, 'failed');
      }
      assert.equal(posts.size, 3, '450 lines in three activation requests');
      const calls = await callsColumn(created.body.id);
      for (const [iccid, named] of calls) assert.match(named, /activate#\d+.*activation_status#\d+/, iccid);
      simulator.kill('SIGTERM');
    });
  });
}
