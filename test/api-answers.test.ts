import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRevioSimulator } from '../src/billing/revio/simulator/simulator.ts';
import { revioConnection } from './support/billing-connection.ts';
import { byIccid } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { type ApiResponse, jasperFixture, serviceForSuite, waitForFinish } from './support/service.ts';

type Operation = { responses: Record<string, unknown> };
type Document = { paths: Record<string, Record<string, Operation>> };
type Page<T = { id: string }> = { items: T[]; nextCursor: string | null };

/**
 * Operations whose answers other suites give (each runs under the same check): they need a carrier's
 * callback, a finished reconciliation with fixable drifts, a Telegence account or Rev.io's customers.
 */
const answeredElsewhere: Record<string, string> = {
  'POST /callbacks/{carrier}/{carrierAccountId} 200': 'thingspace.test.ts',
  'POST /api/v1/reconciliations/{id}/propose-fix 200': 'reconciliation.test.ts',
  'POST /api/v1/reconciliations/{id}/propose-fix 201': 'reconciliation.test.ts',
  'GET /api/v1/reconciliations/{id}/drifts.csv 200': 'reconciliation.test.ts',
  'GET /api/v1/carrier-accounts/{id}/activation-workbook.xlsx 200': 'activation-workbook.test.ts',
};

/**
 * Every product operation, through real requests: each answer is checked by the service itself against
 * its route's documented schema and status (`BULKCHANGE_ANSWER_CHECK=strict`, ADR 0058: an answer that
 * breaks it is a 500), and every success status the document lists is one an operation really gives.
 */
for (const dialect of testDialects) {
  describe(`Every documented success answer on ${dialect}`, () => {
    const test = serviceForSuite(dialect);
    const seen = new Set<string>();
    const revio = createRevioSimulator();

    /** A request that must succeed with `status`; recorded under the document's path template. */
    async function call<T = Record<string, unknown>>(
      status: number,
      method: string,
      template: string,
      values: Record<string, string> = {},
      options: { body?: unknown; key?: string; query?: string } = {},
    ): Promise<ApiResponse<T>> {
      const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name]));
      const answer = await test.api<T>(method, path + (options.query ?? ''), options);
      assert.equal(answer.status, status, `${method} ${path}: ${answer.text}`);
      seen.add(`${method} ${template} ${status}`);
      return answer;
    }

    /** An event stream answers 200 at once and stays open: read its head, then hang up. */
    async function openStream(template: string, values: Record<string, string> = {}) {
      const path = template.replace(/\{(\w+)\}/g, (_, name: string) => values[name]);
      const hangUp = new AbortController();
      const answer = await fetch(test.url + path, {
        headers: { authorization: `Bearer ${test.adminKey}` },
        signal: hangUp.signal,
      });
      assert.equal(answer.status, 200, path);
      assert.match(answer.headers.get('content-type') ?? '', /^text\/event-stream/);
      hangUp.abort();
      seen.add(`GET ${template} 200`);
    }

    let accountId: string;
    let iccids: string[];
    before(async () => {
      const fixture = await jasperFixture(test, { count: 3, unknownToCarrier: 1, prefix: '8901777' });
      accountId = fixture.accountId;
      iccids = [...fixture.iccids, ...fixture.unknownToCarrier];
    });
    after(() => revio.close());

    it('carrier accounts, keys, users, devices, sites and the audit log', async () => {
      const account = { id: accountId };
      await call(
        201,
        'POST',
        '/api/v1/carrier-accounts',
        {},
        {
          body: {
            name: 'Jasper (read only)',
            carrier: 'jasper',
            baseUrl: 'https://restapi.example-carrier.com',
            credentials: { username: 'ops-api', apiKey: 'an-api-key' },
          },
        },
      );
      await call(200, 'GET', '/api/v1/carrier-accounts');
      await call(200, 'GET', '/api/v1/carrier-accounts/{id}', account);
      await call(200, 'PATCH', '/api/v1/carrier-accounts/{id}', account, {
        body: { name: 'Jasper (answers)' },
      });
      await call(200, 'GET', '/api/v1/carrier-accounts/{id}/rate-plans', account);

      const key = await call<{ id: string }>(
        201,
        'POST',
        '/api/v1/api-keys',
        {},
        {
          body: { name: 'answers', role: 'viewer' },
        },
      );
      await call(200, 'GET', '/api/v1/api-keys');
      await call(200, 'DELETE', '/api/v1/api-keys/{id}', { id: key.body.id });

      const user = await call<{ id: string }>(
        201,
        'POST',
        '/api/v1/users',
        {},
        {
          body: {
            email: 'answers@acme.example',
            name: 'Ann Swers',
            role: 'viewer',
            password: 'a long passphrase',
          },
        },
      );
      await call(200, 'GET', '/api/v1/users');
      await call(200, 'GET', '/api/v1/users/{id}', { id: user.body.id });
      await call(200, 'PATCH', '/api/v1/users/{id}', { id: user.body.id }, { body: { disabled: true } });

      await call(200, 'GET', '/api/v1/devices', {}, { query: `?carrierAccountId=${accountId}` });
      await call(
        200,
        'GET',
        '/api/v1/devices/export',
        {},
        {
          query: `?carrierAccountId=${accountId}&changeType=status_update`,
        },
      );
      await call(200, 'GET', '/api/v1/devices/{id}/history', { id: iccids[0] });

      const site = await call<{ id: string }>(
        201,
        'POST',
        '/api/v1/sites',
        {},
        {
          body: {
            name: 'Depot',
            addressLine1: '1 Main St',
            city: 'Wenatchee',
            state: 'WA',
            zipCode: '98801',
          },
        },
      );
      await call(200, 'GET', '/api/v1/sites');
      await call(200, 'GET', '/api/v1/sites/{id}', { id: site.body.id });
      await call(200, 'PATCH', '/api/v1/sites/{id}', { id: site.body.id }, { body: { city: 'Seattle' } });
      await call(204, 'DELETE', '/api/v1/sites/{id}', { id: site.body.id });

      const audit = await call<Page>(200, 'GET', '/api/v1/audit');
      await call(200, 'GET', '/api/v1/audit/{id}', { id: audit.body.items[0].id });
      await call(200, 'GET', '/api/v1/audit/verify');
    });

    it('webhooks, notifications, billing and the guardrail policy', async () => {
      const hook = await call<{ id: string }>(
        201,
        'POST',
        '/api/v1/webhooks',
        {},
        {
          body: { url: 'http://127.0.0.1:9/hooks', events: ['bulk_change.completed'] },
        },
      );
      const id = { id: hook.body.id };
      await call(200, 'GET', '/api/v1/webhooks');
      await call(200, 'GET', '/api/v1/webhooks/{id}', id);
      await call(200, 'PATCH', '/api/v1/webhooks/{id}', id, { body: { description: 'answers' } });
      await call(200, 'POST', '/api/v1/webhooks/{id}/rotate-secret', id);
      const delivery = await call<{ id: string }>(202, 'POST', '/api/v1/webhooks/{id}/test', id);
      await call(200, 'GET', '/api/v1/webhooks/{id}/deliveries', id);
      await call(202, 'POST', '/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver', {
        ...id,
        deliveryId: delivery.body.id,
      });
      await call(204, 'DELETE', '/api/v1/webhooks/{id}', id);
      await call(200, 'GET', '/api/v1/notification-settings');
      await call(200, 'PUT', '/api/v1/notification-settings', {}, { body: { emails: ['ops@acme.example'] } });
      await openStream('/api/v1/events');

      await call(200, 'GET', '/api/v1/billing-connection');
      await call(
        200,
        'PUT',
        '/api/v1/billing-connection',
        {},
        {
          body: revioConnection(await test.serveSimulator(revio)),
        },
      );
      for (const catalog of ['billing-customers', 'customer-rate-plans', 'customer-pools']) {
        await call(200, 'POST', `/api/v1/${catalog}`, {}, { body: { items: [{ id: 'C-1', name: 'One' }] } });
        await call(200, 'GET', `/api/v1/${catalog}`);
      }
      await call(200, 'POST', '/api/v1/billing-customers/sync');

      await call(200, 'GET', '/api/v1/approval-policy');
      await call(
        200,
        'PUT',
        '/api/v1/approval-policy',
        {},
        {
          body: { approvalAboveLines: null, destructiveLinesPerHour: null },
        },
      );
    });

    it('bulk changes: created, previewed, read, downloaded, held, retried and undone', async () => {
      const request = {
        carrierAccountId: accountId,
        changeType: 'status_update',
        options: { targetStatus: 'active' },
        changes: byIccid(iccids),
      };
      await call(200, 'POST', '/api/v1/bulk-changes', {}, { body: { ...request, dryRun: true } });
      const created = await call<{ id: string }>(
        201,
        'POST',
        '/api/v1/bulk-changes',
        {},
        {
          body: { ...request, name: 'Answers' },
        },
      );
      const id = { id: created.body.id };
      await waitForFinish(test, id.id);
      await call(200, 'GET', '/api/v1/bulk-changes');
      await call(200, 'GET', '/api/v1/bulk-changes/{id}', id);
      const rows = await call<Page>(200, 'GET', '/api/v1/bulk-changes/{id}/changes', id);
      await call(200, 'GET', '/api/v1/bulk-changes/{id}/changes/{changeId}', {
        ...id,
        changeId: rows.body.items[0].id,
      });
      await call(200, 'GET', '/api/v1/bulk-changes/{id}/log', id);
      await call(200, 'GET', '/api/v1/bulk-changes/{id}/results.csv', id);
      await call(200, 'GET', '/api/v1/bulk-changes/{id}/results.xlsx', id);
      await openStream('/api/v1/bulk-changes/{id}/events', id);
      await call(201, 'POST', '/api/v1/bulk-changes/{id}/retry', id);

      // A plan change is undone (a line once activated is not made activation-ready again).
      const moved = await call<{ id: string }>(
        201,
        'POST',
        '/api/v1/bulk-changes',
        {},
        {
          body: {
            ...request,
            changeType: 'carrier_rate_plan_change',
            options: { carrierRatePlan: 'IoT 100MB', communicationPlan: 'CP_Data_Only' },
            changes: byIccid(iccids.slice(0, 3)),
          },
        },
      );
      const plans = { id: moved.body.id };
      await waitForFinish(test, plans.id);
      await call(200, 'POST', '/api/v1/bulk-changes/{id}/undo', plans, { query: '?dryRun=true' });
      const undone = await call<{ id: string }>(201, 'POST', '/api/v1/bulk-changes/{id}/undo', plans);
      await waitForFinish(test, undone.body.id);

      // Held changes, one after the other on the same lines: one scheduled (paused, resumed, cancelled),
      // one rejected, one approved.
      const later = await call<{ id: string }>(
        201,
        'POST',
        '/api/v1/bulk-changes',
        {},
        {
          body: {
            ...request,
            options: { targetStatus: 'deactivated' },
            scheduledFor: new Date(Date.now() + 86_400_000).toISOString(),
          },
        },
      );
      const scheduled = { id: later.body.id };
      await call(200, 'POST', '/api/v1/bulk-changes/{id}/pause', scheduled);
      await call(200, 'POST', '/api/v1/bulk-changes/{id}/resume', scheduled);
      await call(200, 'POST', '/api/v1/bulk-changes/{id}/cancel', scheduled);

      await call(
        200,
        'PUT',
        '/api/v1/approval-policy',
        {},
        {
          body: { approvalAboveLines: 0, destructiveLinesPerHour: null },
        },
      );
      const approver = await test.keyFor('acme', 'approver');
      for (const [control, body] of [
        ['reject', { note: 'not today' }],
        ['approve', {}],
      ] as const) {
        const held = await call<{ id: string; status: string }>(
          201,
          'POST',
          '/api/v1/bulk-changes',
          {},
          {
            body: {
              ...request,
              options: { targetStatus: 'deactivated' },
              scheduledFor: new Date(Date.now() + 86_400_000).toISOString(),
            },
          },
        );
        assert.equal(held.body.status, 'awaiting_approval');
        await call(
          200,
          'POST',
          `/api/v1/bulk-changes/{id}/${control}`,
          { id: held.body.id },
          {
            body,
            key: approver,
          },
        );
      }
    });

    it('inventory syncs and reconciliations', async () => {
      const account = { id: accountId };
      await call(202, 'POST', '/api/v1/carrier-accounts/{id}/inventory-sync', account);
      await call(200, 'GET', '/api/v1/carrier-accounts/{id}/reconciliation-schedule', account);
      await call(200, 'PUT', '/api/v1/carrier-accounts/{id}/reconciliation-schedule', account, {
        body: { everyMinutes: 60 },
      });
      const run = await call<{ id: string }>(
        202,
        'POST',
        '/api/v1/carrier-accounts/{id}/reconciliations',
        account,
      );
      await call(200, 'GET', '/api/v1/reconciliations');
      await call(200, 'GET', '/api/v1/reconciliations/{id}', { id: run.body.id });
      await call(200, 'GET', '/api/v1/reconciliations/{id}/drifts', { id: run.body.id });
    });

    it('documents no success an operation never gives, and every operation was answered', async () => {
      const document = (await test.api<Document>('GET', '/api/openapi.json', { key: null })).body;
      const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.entries(operations).flatMap(([method, operation]) =>
          Object.keys(operation.responses)
            .filter((status) => status.startsWith('2'))
            .map((status) => `${method.toUpperCase()} ${path} ${status}`),
        ),
      );
      assert.ok(documented.length > 70, `${documented.length} success answers`);
      assert.deepEqual(
        documented.filter((answer) => !seen.has(answer) && !answeredElsewhere[answer]),
        [],
        'documented, never given here',
      );
      assert.deepEqual(
        [...seen].filter((answer) => !documented.includes(answer)),
        [],
        'given, not documented',
      );
    });
  });
}
