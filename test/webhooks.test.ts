import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { byIccid, submitChange } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { waitUntil } from './support/processes.ts';
import { jasperFixture, startTestService, type TestService, waitForFinish } from './support/service.ts';
import { WebhookReceiver } from './support/webhook-receiver.ts';

interface Endpoint {
  id: string;
  url: string;
  events: string[];
  secret?: string;
}
interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  state: string;
  attempts: Array<{ statusCode: number | null; error: string | null }>;
}

for (const dialect of testDialects) {
  describe(`webhooks on ${dialect}`, () => {
    let test: TestService;
    const receiver = new WebhookReceiver();
    before(async () => {
      // Retries a few hundred milliseconds apart, so "down for a while" fits in a test.
      test = await startTestService(dialect, { WEBHOOK_RETRY_BASE_MS: '200', AUDIT_SEAL_INTERVAL_MS: '500' });
      await receiver.start();
    });
    after(async () => {
      await receiver.stop();
      await test.stop();
    });

    const addEndpoint = async (body: Record<string, unknown>) => {
      const created = await test.api<Endpoint>('POST', '/api/v1/webhooks', {
        body: { url: receiver.url, ...body },
      });
      assert.equal(created.status, 201, created.text);
      return created.body;
    };
    const deliveries = async (endpointId: string) =>
      (await test.api<{ items: Delivery[] }>('GET', `/api/v1/webhooks/${endpointId}/deliveries?limit=1000`))
        .body.items;
    const received = (type: string, bulkChangeId?: string) =>
      receiver.received.filter(
        (item) =>
          item.event.type === type &&
          (bulkChangeId === undefined ||
            (item.event.data.bulkChange as { id: string } | undefined)?.id === bulkChangeId),
      );

    it('shows the secret once, keeps it sealed, and refuses URLs it would not call', async () => {
      const endpoint = await addEndpoint({ description: 'ops' });
      assert.match(endpoint.secret ?? '', /^whsec_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(endpoint.events, [
        'bulk_change.created',
        'bulk_change.started',
        'bulk_change.paused',
        'bulk_change.resumed',
        'bulk_change.awaiting_approval',
        'bulk_change.approved',
        'bulk_change.rejected',
        'bulk_change.completed',
        'bulk_change.completed_with_errors',
        'bulk_change.failed',
        'bulk_change.cancelled',
      ]);
      const shown = await test.api('GET', `/api/v1/webhooks/${endpoint.id}`);
      assert.doesNotMatch(shown.text, /whsec_/);
      const stored = await test.service.database.db.selectFrom('webhook_endpoints').selectAll().execute();
      assert.ok(stored.every((row) => !row.secret_encrypted.includes(endpoint.secret!.slice(6))));
      for (const url of ['ftp://example.com/hook', 'https://user:pw@example.com/hook', 'not a url']) {
        const refused = await test.api<{ error: { code: string } }>('POST', '/api/v1/webhooks', {
          body: { url },
        });
        assert.equal(refused.status, 422, url);
        assert.equal(refused.body.error.code, 'VALIDATION_FAILED');
      }
      // Checked like a carrier base URL: a private address is refused unless the operator allows it.
      const inside = await test.api<{ error: { code: string; details: Array<{ code: string }> } }>(
        'POST',
        '/api/v1/webhooks',
        { body: { url: 'http://10.1.2.3/hook' } },
      );
      assert.equal(inside.status, 422);
      assert.equal(inside.body.error.code, 'ADDRESS_NOT_ALLOWED');
      const unknownEvent = await test.api('POST', '/api/v1/webhooks', {
        body: { url: receiver.url, events: ['bulk_change.exploded'] },
      });
      assert.equal(unknownEvent.status, 422);
      const other = await test.keyFor('globex', 'admin');
      assert.equal((await test.api('GET', `/api/v1/webhooks/${endpoint.id}`, { key: other })).status, 404);
      const viewer = await test.keyFor('acme', 'viewer');
      assert.equal((await test.api('GET', '/api/v1/webhooks', { key: viewer })).status, 403);
      assert.equal((await test.api('DELETE', `/api/v1/webhooks/${endpoint.id}`)).status, 204);
    });

    it('delivers every event of a bulk change once, signed, with a failed row when asked; another secret fails', async () => {
      const endpoint = await addEndpoint({
        events: [
          'bulk_change.created',
          'bulk_change.started',
          'bulk_change.completed',
          'bulk_change.completed_with_errors',
          'bulk_change.row_failed',
        ],
      });
      const fixture = await jasperFixture(test, { count: 3, unknownToCarrier: 1, prefix: '8901781' });
      const id = await submitChange(
        test,
        fixture.accountId,
        byIccid([...fixture.iccids, ...fixture.unknownToCarrier]),
        'status_update',
        { targetStatus: 'active' },
      );
      assert.equal((await waitForFinish(test, id)).status, 'completed_with_errors');
      await waitUntil(
        'the four events',
        async () => (received('bulk_change.row_failed').length ? true : undefined),
        20_000,
      );
      await waitUntil(
        'the finish',
        async () => (received('bulk_change.completed_with_errors', id).length ? true : undefined),
        20_000,
      );
      const mine = receiver.received.filter((item) => JSON.stringify(item.event.data).includes(id));
      assert.deepEqual(mine.map((item) => item.event.type).sort(), [
        'bulk_change.completed_with_errors',
        'bulk_change.created',
        'bulk_change.row_failed',
        'bulk_change.started',
      ]);
      for (const delivery of mine) {
        assert.ok(WebhookReceiver.verifies(delivery, endpoint.secret!), 'signed with the endpoint secret');
        assert.ok(
          !WebhookReceiver.verifies(delivery, 'whsec_not-the-secret'),
          'another secret does not verify',
        );
        assert.equal(delivery.headers['bulkchange-event'], delivery.event.type);
        assert.equal(delivery.headers['content-type'], 'application/json');
      }
      const [failedRow] = received('bulk_change.row_failed', id);
      assert.equal((failedRow.event.data.row as { iccid: string }).iccid, fixture.unknownToCarrier[0]);
      const finished = received('bulk_change.completed_with_errors', id)[0].event.data.bulkChange as {
        counts: { succeeded: number; failed: number };
      };
      assert.deepEqual([finished.counts.succeeded, finished.counts.failed], [3, 1]);
      const log = await deliveries(endpoint.id);
      assert.ok(
        log.every((delivery) => delivery.state === 'delivered' && delivery.attempts[0].statusCode === 204),
      );
      await test.api('DELETE', `/api/v1/webhooks/${endpoint.id}`);
    });

    it('retries while the receiver is down or failing, then delivers; logs each attempt; redelivers and tests by hand', async () => {
      const endpoint = await addEndpoint({});
      receiver.failWith = 503;
      const fixture = await jasperFixture(test, { count: 2, prefix: '8901782' });
      const id = await submitChange(test, fixture.accountId, byIccid(fixture.iccids), 'status_update', {
        targetStatus: 'active',
      });
      assert.equal((await waitForFinish(test, id)).status, 'completed');
      await waitUntil(
        'a refused attempt',
        async () => (received('bulk_change.completed', id).length ? true : undefined),
        20_000,
      );
      await receiver.stop();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      receiver.failWith = undefined;
      const port = Number(new URL(receiver.url).port);
      await receiver.start(port);
      await waitUntil(
        'every event delivered',
        async () => {
          const log = await deliveries(endpoint.id);
          return log.length === 3 && log.every((delivery) => delivery.state === 'delivered')
            ? log
            : undefined;
        },
        30_000,
        100,
      );
      const log = await deliveries(endpoint.id);
      const completed = log.find((delivery) => delivery.eventType === 'bulk_change.completed')!;
      assert.equal(completed.attempts[0].statusCode, 503);
      assert.ok(
        completed.attempts.some((attempt) => attempt.statusCode === null && attempt.error),
        'a refused connection while down',
      );
      assert.equal(completed.attempts.at(-1)?.statusCode, 204);
      for (const type of ['bulk_change.created', 'bulk_change.started', 'bulk_change.completed']) {
        const accepted = received(type, id).filter((item) => item.status === 204);
        assert.equal(accepted.length, 1, `${type} accepted once`);
      }

      const again = await test.api<Delivery>(
        'POST',
        `/api/v1/webhooks/${endpoint.id}/deliveries/${completed.id}/redeliver`,
      );
      assert.equal(again.status, 202, again.text);
      await waitUntil(
        'the redelivery',
        async () =>
          received('bulk_change.completed', id).filter((item) => item.status === 204).length === 2
            ? true
            : undefined,
        10_000,
      );
      const redelivered = received('bulk_change.completed', id).at(-1)!;
      assert.equal(redelivered.event.id, completed.eventId, 'the same event, for the receiver to recognise');

      const sent = await test.api<Delivery>('POST', `/api/v1/webhooks/${endpoint.id}/test`);
      assert.equal(sent.status, 202);
      await waitUntil(
        'the test event',
        async () => (received('webhook.test').length ? true : undefined),
        10_000,
      );
      assert.ok(WebhookReceiver.verifies(received('webhook.test')[0], endpoint.secret!));

      const rotated = await test.api<Endpoint>('POST', `/api/v1/webhooks/${endpoint.id}/rotate-secret`);
      assert.notEqual(rotated.body.secret, endpoint.secret);
      await test.api('POST', `/api/v1/webhooks/${endpoint.id}/test`);
      await waitUntil(
        'a second test event',
        async () => (received('webhook.test').length === 2 ? true : undefined),
        10_000,
      );
      const signedAnew = received('webhook.test')[1];
      assert.ok(WebhookReceiver.verifies(signedAnew, rotated.body.secret!));
      assert.ok(!WebhookReceiver.verifies(signedAnew, endpoint.secret!), 'the old secret no longer verifies');

      const audited = await test.api<{ items: Array<{ action: string }> }>('GET', '/api/v1/audit?limit=1000');
      const actions = new Set(audited.body.items.map((entry) => entry.action));
      for (const action of [
        'webhook.create',
        'webhook.redeliver',
        'webhook.test',
        'webhook.secret_rotated',
        'webhook.deliver',
      ])
        assert.ok(actions.has(action), action);
    });

    it('streams the same events to a dashboard (Server-Sent Events), resuming after Last-Event-ID', async () => {
      const viewer = await test.keyFor('acme', 'viewer');
      const controller = new AbortController();
      const response = await fetch(`${test.url}/api/v1/events`, {
        headers: { authorization: `Bearer ${viewer}` },
        signal: controller.signal,
      });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      const fixture = await jasperFixture(test, { count: 2, prefix: '8901783' });
      const id = await submitChange(test, fixture.accountId, byIccid(fixture.iccids), 'status_update', {
        targetStatus: 'active',
      });
      let text = '';
      while (!text.includes('event: bulk_change.completed')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      controller.abort();
      const events = text
        .split('\n\n')
        .filter((block) => block.includes(id))
        .map((block) => ({
          id: Number(/^id: (\d+)$/m.exec(block)?.[1]),
          type: /^event: (\S+)$/m.exec(block)?.[1],
        }));
      assert.deepEqual(
        events.map((event) => event.type),
        ['bulk_change.created', 'bulk_change.started', 'bulk_change.completed'],
      );
      // Reconnecting after the first event gets the rest again.
      const resumed = new AbortController();
      const again = await fetch(`${test.url}/api/v1/events`, {
        headers: { authorization: `Bearer ${viewer}`, 'last-event-id': String(events[0].id) },
        signal: resumed.signal,
      });
      const resumedReader = again.body!.pipeThrough(new TextDecoderStream()).getReader();
      let replay = '';
      while (!replay.includes('event: bulk_change.completed'))
        replay += (await resumedReader.read()).value ?? '';
      resumed.abort();
      assert.ok(replay.includes('event: bulk_change.started') && !replay.includes(`id: ${events[0].id}\n`));
      assert.equal((await test.api('GET', '/api/v1/events', { key: null })).status, 401);
    });
  });
}
