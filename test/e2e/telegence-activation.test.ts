import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { luhnCheckDigit } from '../../src/core/identifiers.ts';
import { carrierAccountFixture } from '../support/carrier-accounts.ts';
import { testDialects } from '../support/databases.ts';
import { type ChangeView, countBy, type E2eStack, startE2eStack } from '../support/e2e-stack.ts';
import { listAll, simAdmin, startCli, waitForBulkChange, waitUntil } from '../support/processes.ts';
import { testIccids } from '../support/service.ts';

const LINES = 450;
const BAN = '287301234567';
const ESIM_ONLY_TAC = '35299911';

const imei = (index: number) => {
  const payload = (index % 25 === 7 ? ESIM_ONLY_TAC : '35391108') + String(index).padStart(6, '0');
  return payload + luhnCheckDigit(payload);
};
const rejected = (index: number) => index % 40 === 13;
const esimOnly = (index: number) => index % 25 === 7 && !rejected(index);
const wantsIp = (index: number) => index % 2 === 0;

type Row = ChangeView & { result: { msisdn?: string; ipAddress?: string; activated?: boolean } | null };

/**
 * The real `bulkchange serve` and `bulkchange simulate telegence` processes: a 450-line new service
 * (three batches, rejected and eSIM-only SIMs, half with static IPs, a linked customer assignment) ends
 * with every row right and each SIM posted once, although the worker is killed between phases.
 */
for (const dialect of testDialects) {
  describe(`Telegence new service end to end on ${dialect}`, () => {
    let stack: E2eStack | undefined;
    after(() => stack?.close());

    it('activates in three batches, provisions static IPs and assigns the customer, surviving kills between phases', async () => {
      stack = await startE2eStack({ dialect });
      await stack.startServer();
      const simulator = startCli(['simulate', 'telegence', '--port', '0']);
      const [, simulatorUrl] = await simulator.waitForOutput(/listening at (http:\/\/\S+)/);
      const sim = simAdmin(simulatorUrl);
      const iccids = testIccids(LINES, '8901419');
      await sim.setFaults({
        activationStepMs: 1_500,
        ipProvisionMs: 1_500,
        rejectIccids: Object.fromEntries(
          iccids.flatMap((iccid, index) => (rejected(index) ? [[iccid, 'SIM reported lost']] : [])),
        ),
      });
      const accountId = await carrierAccountFixture(stack, {
        name: 'telegence e2e',
        carrier: 'telegence',
        baseUrl: simulatorUrl,
        credentials: { appId: 'demo-app', appSecret: 'demo-app-secret' },
        limits: { requestsPerSecond: 50, maxConcurrent: 8, checkIntervalMs: 700, maxWaitMs: 120_000 },
      });
      await stack.api('POST', '/api/v1/billing-customers', {
        body: { items: [{ id: '1001', name: 'Acme' }] },
      });

      const header = 'ICCID,IMEI,BAN,Rate Plan,ZIP,First Name,Last Name,Static IP,Billing Customer Id';
      const csv = [
        header,
        ...iccids.map((iccid, index) =>
          [
            iccid,
            imei(index),
            BAN,
            'APX1G5M30',
            '75001',
            'Fleet',
            `Unit ${index}`,
            wantsIp(index) ? 'yes' : 'no',
            '1001',
          ].join(','),
        ),
      ].join('\r\n');
      const created = await stack.api<{ id: string }>(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${accountId}&changeType=activate_new_service`,
        { body: csv, contentType: 'text/csv' },
      );
      assert.equal(created.status, 201, created.text);

      // Kill the worker between phases: once every batch is posted and waiting for AT&T, and again
      // while static IPs are being provisioned (a provisioning in flight is then looked up, not re-sent).
      await waitUntil(
        'every batch posted',
        async () => {
          const view = await stack!.api<{ counts: Record<string, number> }>(
            'GET',
            `/api/v1/bulk-changes/${created.body.id}`,
          );
          const { queued, inProgress, waiting } = view.body.counts;
          return queued === 0 && inProgress === 0 && waiting > 0 ? true : undefined;
        },
        60_000,
        20,
      );
      assert.equal(await stack.server!.kill('SIGKILL'), 'SIGKILL');
      await stack.startServer();
      await waitUntil(
        'a provision_ips call',
        async () => ((await sim.calls('provision_ips')).length ? true : undefined),
        60_000,
        20,
      );
      assert.equal(await stack.server!.kill('SIGKILL'), 'SIGKILL');
      await stack.startServer();

      const done = await waitForBulkChange(stack.api, created.body.id, 180_000);
      assert.equal(done.status, 'completed_with_errors', JSON.stringify(done.counts));
      const rows = await listAll<Row>(stack.api, `/api/v1/bulk-changes/${created.body.id}/changes`);
      assert.equal(rows.length, LINES);
      for (const row of rows) {
        const index = row.row - 1;
        if (rejected(index)) assert.equal(row.error?.code, 'ACTIVATION_REJECTED', JSON.stringify(row));
        else if (esimOnly(index)) assert.equal(row.error?.code, 'ESIM_REQUIRED', JSON.stringify(row));
        else {
          assert.equal(row.status, 'succeeded', JSON.stringify(row));
          assert.match(row.result?.msisdn ?? '', /^\d{10}$/);
          if (wantsIp(index)) assert.match(row.result?.ipAddress ?? '', /^10\.64\./);
        }
      }

      // Each SIM posted exactly once, in three batches; each static IP line provisioned once.
      const posts = (await sim.calls('activate')).filter((call) => call.status === 201);
      assert.equal(posts.length, 3);
      const postedTimes = countBy(
        posts.flatMap((call) => call.iccids),
        (iccid) => iccid,
      );
      assert.equal(postedTimes.size, LINES);
      assert.ok(
        [...postedTimes.values()].every((times) => times === 1),
        'each SIM posted once',
      );
      const provisioned = countBy(
        (await sim.calls('provision_ips'))
          .filter((call) => call.status === 200)
          .flatMap((call) => call.iccids),
        (iccid) => iccid,
      );
      assert.ok(
        [...provisioned.values()].every((times) => times === 1),
        'each line provisioned once',
      );
      const active = rows.filter((row) => row.status === 'succeeded');
      assert.equal(provisioned.size, active.filter((row) => wantsIp(row.row - 1)).length);

      // The simulator and the inventory agree on every activated line.
      const lines = new Map(
        (await sim.devices()).map((line) => [line.iccid, line as typeof line & { ipAddress: string | null }]),
      );
      for (const row of active) {
        const line = lines.get(row.iccid!);
        assert.equal(line?.msisdn, row.result?.msisdn);
        assert.equal(line?.ipAddress ?? undefined, row.result?.ipAddress);
      }

      // The linked assignment: activated lines assigned, the others failed with the reason.
      const parent = await stack.api<{ linkedId: string }>('GET', `/api/v1/bulk-changes/${created.body.id}`);
      const linked = await waitForBulkChange(stack.api, parent.body.linkedId, 60_000);
      const assignment = await listAll<Row>(stack.api, `/api/v1/bulk-changes/${linked.id}/changes`);
      assert.equal(assignment.length, LINES);
      const activatedRows = new Set(active.map((row) => row.row));
      for (const row of assignment) {
        if (activatedRows.has(row.row)) assert.equal(row.status, 'succeeded', JSON.stringify(row));
        else assert.equal(row.error?.code, 'PARENT_CHANGE_FAILED', JSON.stringify(row));
      }
      simulator.kill('SIGTERM');
    });
  });
}
