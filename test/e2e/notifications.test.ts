import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { testDialects } from '../support/databases.ts';
import { type E2eStack, insertInventory, startE2eStack } from '../support/e2e-stack.ts';
import { freePort, sleep, waitForBulkChange, waitUntil } from '../support/processes.ts';
import { testIccids } from '../support/service.ts';
import { SmtpSink } from '../support/smtp-sink.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

const LINES = 60;
const UNKNOWN = 3;

/**
 * The real `bulkchange serve`: a webhook receiver started by the test is down while a bulk change
 * runs and while the server is killed and started again; once it is up, it gets every event of the
 * change exactly once, each signed with the endpoint's secret (and not with another), and the
 * completion e-mail reaches the test's SMTP server.
 */
for (const dialect of testDialects) {
  describe(`webhooks and e-mail end to end on ${dialect}`, () => {
    let stack: E2eStack | undefined;
    const receiver = new WebhookReceiver();
    const smtp = new SmtpSink();
    after(async () => {
      await stack?.close();
      await receiver.stop();
      await smtp.stop();
    });

    it('delivers every event once, signed, after the receiver was down and the server restarted; mails the summary', async () => {
      await smtp.start();
      stack = await startE2eStack({
        dialect,
        env: { WEBHOOK_RETRY_BASE_MS: '300', BULKCHANGE_SMTP_URL: smtp.url, AUDIT_SEAL_INTERVAL_MS: '500' },
      });
      await stack.startServer();
      const port = await freePort();
      const url = `http://127.0.0.1:${port}/hooks`;
      const endpoint = await stack.api<{ id: string; secret: string }>('POST', '/api/v1/webhooks', {
        body: {
          url,
          events: [
            'bulk_change.created',
            'bulk_change.started',
            'bulk_change.completed',
            'bulk_change.completed_with_errors',
            'bulk_change.failed',
            'bulk_change.cancelled',
            'bulk_change.row_failed',
          ],
        },
      });
      assert.equal(endpoint.status, 201, endpoint.text);
      await stack.api('PUT', '/api/v1/notification-settings', { body: { emails: ['noc@acme.test'] } });

      const { accountId, iccids } = await stack.createJasperAccount({
        limits: { requestsPerSecond: null, maxConcurrent: 4 },
        count: LINES,
        prefix: '8901851',
      });
      // Lines the inventory has and the carrier does not: their rows fail.
      const unknown = testIccids(UNKNOWN, '8901852');
      await insertInventory(stack.databaseLocation, {
        tenant: 'acme',
        accountId,
        iccids: unknown,
        state: 'ACTIVATION_READY',
      });
      const created = await stack.api<{ id: string }>('POST', '/api/v1/bulk-changes', {
        body: {
          carrierAccountId: accountId,
          changeType: 'status_update',
          options: { targetStatus: 'active' },
          changes: [...iccids, ...unknown].map((iccid) => ({ iccid })),
        },
      });
      assert.equal(created.status, 201, created.text);
      const id = created.body.id;
      assert.equal((await waitForBulkChange(stack.api, id, 60_000)).status, 'completed_with_errors');

      // The receiver is down: deliveries are refused and wait for their next attempt, across a restart.
      const refused = await waitUntil(
        'refused attempts',
        async () => {
          const log = await stack!.api<{ items: Array<{ attempts: unknown[] }> }>(
            'GET',
            `/api/v1/webhooks/${endpoint.body.id}/deliveries`,
          );
          return log.body.items.length === 3 + UNKNOWN &&
            log.body.items.every((item) => item.attempts.length >= 2)
            ? log.body.items
            : undefined;
        },
        30_000,
        200,
      );
      assert.equal(refused.length, 3 + UNKNOWN);
      assert.equal(await stack.server!.kill('SIGKILL'), 'SIGKILL');
      await stack.startServer();
      await sleep(1_000);
      await receiver.start(port);

      await waitUntil(
        'every event accepted',
        async () => (receiver.accepted().size === 3 + UNKNOWN ? true : undefined),
        60_000,
        100,
      );
      await sleep(2_000); // nothing more arrives
      const accepted = receiver.accepted();
      assert.equal(accepted.size, 3 + UNKNOWN);
      assert.ok(
        [...accepted.values()].every((deliveries) => deliveries.length === 1),
        'each event accepted once',
      );
      const events = [...accepted.values()].map(([delivery]) => delivery);
      assert.deepEqual(events.map((delivery) => delivery.event.type).sort(), [
        'bulk_change.completed_with_errors',
        'bulk_change.created',
        ...Array.from({ length: UNKNOWN }, () => 'bulk_change.row_failed'),
        'bulk_change.started',
      ]);
      assert.ok(events.every((delivery) => JSON.stringify(delivery.event.data).includes(id)));
      assert.deepEqual(
        events
          .filter((delivery) => delivery.event.type === 'bulk_change.row_failed')
          .map((delivery) => (delivery.event.data.row as { iccid: string }).iccid)
          .sort(),
        [...unknown].sort(),
      );
      for (const delivery of events) {
        assert.ok(WebhookReceiver.verifies(delivery, endpoint.body.secret), 'signed with the secret');
        assert.ok(!WebhookReceiver.verifies(delivery, `${endpoint.body.secret}x`), 'a wrong secret fails');
        const tampered = { ...delivery, body: delivery.body.replace(id, `${id}x`) };
        assert.ok(!WebhookReceiver.verifies(tampered, endpoint.body.secret), 'a changed body fails');
      }

      const mail = await waitUntil(
        'the completion mail',
        async () => smtp.mails.find((item) => item.text.includes(id)),
        20_000,
      );
      assert.deepEqual(mail.to, ['noc@acme.test']);
      assert.match(
        mail.subject,
        new RegExp(`completed with errors: ${UNKNOWN} of ${LINES + UNKNOWN} rows failed`),
      );
      assert.ok(mail.text.includes(`/api/v1/bulk-changes/${id}/results.csv`));

      // The deliveries are in the audit log, and the log's chain holds.
      const verified = await waitUntil(
        'the log sealed',
        async () => {
          const answer = await stack!.api<{ ok: boolean; unsealed: number }>('GET', '/api/v1/audit/verify');
          return answer.body.unsealed === 0 ? answer.body : undefined;
        },
        20_000,
        200,
      );
      assert.equal(verified.ok, true);
    });
  });
}
