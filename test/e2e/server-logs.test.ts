import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { testDialects } from '../support/databases.ts';
import { type E2eStack, startE2eStack } from '../support/e2e-stack.ts';
import { waitForBulkChange, waitUntil } from '../support/processes.ts';

interface LogLine {
  msg: string;
  level: number;
  event?: string;
  bulkChangeId?: string;
  tenantId?: string;
  requestId?: string;
  retryOf?: string;
  rows?: number;
  counts?: Record<string, number>;
  durationMs?: number;
  rowsCancelled?: number;
}

/**
 * The server's logs as an operator reads them (issue 18): one structured line per step of a bulk
 * change's life, each naming the bulk change, its tenant and the request that caused it; every answer
 * says its request id.
 */
for (const dialect of testDialects) {
  describe(`server logs on ${dialect}`, () => {
    let stack: E2eStack | undefined;
    after(() => stack?.close());

    it('one line per lifecycle step, with the bulk change, tenant and request id; x-request-id on every answer', async () => {
      stack = await startE2eStack({ dialect, env: { LOG_LEVEL: 'info' } });
      const server = await stack.startServer();
      const send = (method: string, path: string, requestId?: string, csv?: string) =>
        fetch(stack!.url + path, {
          method,
          headers: {
            authorization: `Bearer ${stack!.adminKey}`,
            ...(requestId ? { 'x-request-id': requestId } : {}),
            ...(csv ? { 'content-type': 'text/csv' } : {}),
          },
          body: csv,
        });
      const csvOf = (iccids: string[]) =>
        ['iccid,target_status', ...iccids.map((iccid) => `${iccid},active`)].join('\n');

      const { accountId, iccids } = await stack.createJasperAccount({
        limits: { requestsPerSecond: 50, maxConcurrent: 4 },
        count: 4,
        prefix: '8901431',
      });
      await stack.sim.seed([{ iccid: iccids[2], state: 'RETIRED' }]);
      const creating = await send(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${accountId}&changeType=status_update`,
        'ops-create-1',
        csvOf(iccids),
      );
      assert.equal(creating.status, 201);
      assert.equal(creating.headers.get('x-request-id'), 'ops-create-1', 'a plain caller id is kept');
      const { id } = (await creating.json()) as { id: string };
      await waitForBulkChange(stack.api, id);

      await stack.sim.seed([{ iccid: iccids[2], state: 'ACTIVATION_READY' }]);
      const retrying = await send('POST', `/api/v1/bulk-changes/${id}/retry`, 'ops-retry-1');
      assert.equal(retrying.status, 201);
      const { id: retryId } = (await retrying.json()) as { id: string };
      await waitForBulkChange(stack.api, retryId);

      const slow = await stack.createJasperAccount({
        limits: { requestsPerSecond: 2, maxConcurrent: 1 },
        count: 20,
        prefix: '8901432',
      });
      const slowCreated = await send(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${slow.accountId}&changeType=status_update`,
        undefined,
        csvOf(slow.iccids),
      );
      const { id: cancelId } = (await slowCreated.json()) as { id: string };
      assert.match(slowCreated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, 'else a new UUID');
      const cancelling = await send('POST', `/api/v1/bulk-changes/${cancelId}/cancel`, 'ops-cancel-1');
      assert.equal(cancelling.status, 200);
      await waitForBulkChange(stack.api, cancelId);

      const refused = await send('GET', '/api/v1/bulk-changes/no-such-change', 'not a plain token; forged');
      assert.equal(refused.status, 404);
      assert.match(
        refused.headers.get('x-request-id') ?? '',
        /^[0-9a-f-]{36}$/,
        'a header that is no plain token is replaced',
      );
      const events = await send('GET', `/api/v1/bulk-changes/${id}/events`, 'ops-events-1');
      assert.equal(events.headers.get('x-request-id'), 'ops-events-1', 'the event stream says it too');
      await events.body?.cancel();

      const linesOf = (bulkChangeId: string) =>
        server.stdout
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as LogLine)
          .filter((line) => line.bulkChangeId === bulkChangeId && line.event);
      // The last line is written after the commit that the API already shows: wait for it.
      await waitUntil('the cancelled line', async () =>
        linesOf(cancelId).some((line) => line.event === 'bulk_change.cancelled') ? true : undefined,
      );
      const [tenantId] = new Set(linesOf(id).map((line) => line.tenantId));
      assert.ok(tenantId);

      const first = linesOf(id);
      assert.deepEqual(
        first.map((line) => [line.event, line.msg, line.requestId]),
        [
          ['bulk_change.created', 'bulk change created', 'ops-create-1'],
          ['bulk_change.started', 'bulk change started', undefined],
          ['bulk_change.completed_with_errors', 'bulk change finished', undefined],
        ],
      );
      assert.ok(first.every((line) => line.tenantId === tenantId));
      assert.equal(first[0].rows, 4);
      const finished = first[2];
      assert.deepEqual(
        [finished.counts?.total, finished.counts?.succeeded, finished.counts?.failed],
        [4, 3, 1],
      );
      assert.equal(typeof finished.durationMs, 'number');

      const retry = linesOf(retryId);
      assert.deepEqual(
        retry.map((line) => line.event),
        ['bulk_change.created', 'bulk_change.started', 'bulk_change.completed'],
      );
      assert.equal(retry[0].requestId, 'ops-retry-1');
      assert.equal(retry[0].retryOf, id);

      const cancelled = linesOf(cancelId);
      const cancelRequested = cancelled.find((line) => line.event === 'bulk_change.cancel_requested');
      assert.equal(cancelRequested?.requestId, 'ops-cancel-1');
      assert.ok((cancelRequested?.rowsCancelled ?? 0) > 0);
      assert.equal(cancelled.at(-1)?.event, 'bulk_change.cancelled');
      assert.equal(
        cancelled.filter((line) => line.event === 'bulk_change.created').length,
        1,
        'one line per step',
      );
    });
  });
}
