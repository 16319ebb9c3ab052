import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { revioConnection } from '../support/billing-connection.ts';
import { testDialects } from '../support/databases.ts';
import { type E2eStack, startE2eStack } from '../support/e2e-stack.ts';
import { simAdmin, startCli, waitForBulkChange, waitUntil } from '../support/processes.ts';

const LINES = 120;

type RevService = {
  id: number;
  customerId: number;
  number2: string | null;
  products: Array<{ productId: number }>;
};

/**
 * The real `bulkchange serve` and `bulkchange simulate revio`: billing services for 120 lines, with the
 * worker killed while it is creating them. Afterwards every line has exactly one service, with its
 * products once: what was created before the kill is found, not created again.
 */
for (const dialect of testDialects) {
  describe(`Rev.io billing through a worker crash on ${dialect}`, () => {
    let stack: E2eStack | undefined;
    after(() => stack?.close());

    it('creates one billing service per line, with its products once, although the worker is killed mid-run', async () => {
      stack = await startE2eStack({ dialect });
      await stack.startServer();
      const revio = startCli(['simulate', 'revio', '--port', '0']);
      const [, revioUrl] = await revio.waitForOutput(/listening at (http:\/\/\S+)/);
      // Slow enough answers that the kill lands while services are being created.
      await simAdmin(revioUrl).setFaults({ latencyMs: 40, rateLimitPerSecond: null, maxConcurrent: null });
      const connected = await stack.api('PUT', '/api/v1/billing-connection', {
        body: revioConnection(revioUrl, {
          settings: { providerIds: { jasper: 3 }, limits: { requestsPerSecond: 100, maxConcurrent: 8 } },
        }),
      });
      assert.equal(connected.status, 200, connected.text);
      const synced = await stack.api('POST', '/api/v1/billing-customers/sync');
      assert.equal(synced.status, 200, synced.text);
      const { accountId, iccids } = await stack.createJasperAccount({
        limits: {},
        count: LINES,
        prefix: '8901609',
        state: 'ACTIVATED',
      });

      const created = await stack.api<{ id: string }>('POST', '/api/v1/bulk-changes', {
        body: {
          carrierAccountId: accountId,
          changeType: 'billing_service_creation',
          options: { billingCustomerId: '1002', serviceTypeId: 10, productIds: [501, 503] },
          changes: iccids.map((iccid) => ({ iccid })),
        },
      });
      assert.equal(created.status, 201, created.text);

      const services = () => simAdmin(revioUrl).devices() as unknown as Promise<RevService[]>;
      await waitUntil(
        'a third of the services',
        async () => ((await services()).length >= LINES / 3 ? true : undefined),
        60_000,
        10,
      );
      assert.equal(await stack.server!.kill('SIGKILL'), 'SIGKILL');
      const beforeRestart = (await services()).length;
      assert.ok(beforeRestart < LINES, `the kill came mid-run (${beforeRestart} of ${LINES} created)`);
      await stack.startServer();

      const done = await waitForBulkChange(stack.api, created.body.id, 120_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.counts));
      const byLine = new Map<string, RevService[]>();
      for (const service of await services()) {
        if (service.number2) byLine.set(service.number2, [...(byLine.get(service.number2) ?? []), service]);
      }
      assert.equal(byLine.size, LINES);
      for (const [iccid, lineServices] of byLine) {
        assert.equal(lineServices.length, 1, `${iccid}: one service`);
        assert.equal(lineServices[0].customerId, 1002);
        assert.deepEqual(
          lineServices[0].products.map((product) => product.productId).sort(),
          [501, 503],
          iccid,
        );
      }
      await revio.kill('SIGTERM');
    });
  });
}
