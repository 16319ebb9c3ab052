import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type ChangeView, type E2eStack, startE2eStack } from '../support/e2e-stack.ts';
import { listAll, waitForBulkChange } from '../support/processes.ts';
import { keepOnCpu, maxInWindow, postgresOnly, scaleOut, simStats } from '../support/scale-out.ts';

const LIMIT = { requestsPerSecond: 50, maxConcurrent: 10 };
const LATENCY_MS = 150;
/** 10 s of calls at the limit. */
const LINES = 500;
const WORKERS = ['w1', 'w2', 'w3', 'w4'];

/**
 * Issue 14: one change on a latency-bound account (the simulator answers after 150 ms and allows 50
 * requests/s and 10 at once; the account is set to the same) with 4 worker processes on PostgreSQL
 * never exceeds the limits: no sliding second with more than 50 requests, never more than 10 in flight,
 * no 429. How much of the limit it uses is measured by `npm run bench -- scaleout`, not asserted here.
 */
describe('one change on a latency-bound account with 4 workers on PostgreSQL', { skip: postgresOnly }, () => {
  const stacks: E2eStack[] = [];
  after(() => Promise.all(stacks.map((stack) => stack.close())));

  it('never exceeds 50 requests in a second nor 10 at once', { timeout: 240_000 }, async (t) => {
    const stack = await startE2eStack({
      dialect: 'postgres',
      simulatorFaults: {
        rateLimitPerSecond: LIMIT.requestsPerSecond,
        maxConcurrent: LIMIT.maxConcurrent,
        latencyMs: LATENCY_MS,
      },
      env: { WORKER_POLL_INTERVAL_MS: '250' },
    });
    stacks.push(stack);
    keepOnCpu(stack.simulator);
    const deployment = scaleOut(stack);
    await deployment.startApi();
    await Promise.all(WORKERS.map((name) => deployment.startWorker(name)));
    const { accountId, iccids } = await stack.createJasperAccount({
      limits: LIMIT,
      count: LINES,
      prefix: '8901474',
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
    assert.equal(done.status, 'completed', JSON.stringify(done));
    const rows = await listAll<ChangeView>(stack.api, `/api/v1/bulk-changes/${created.body.id}/changes`);
    assert.deepEqual(
      rows.filter((row) => row.status !== 'succeeded').map((row) => [row.row, row.error]),
      [],
    );

    const calls = await stack.sim.calls();
    const stats = await simStats(stack.simulatorUrl);
    const busiest = maxInWindow(calls, 1000);
    const arrivals = calls.map((call) => Date.parse(call.at)).sort((a, b) => a - b);
    const span = (arrivals.at(-1)! - arrivals[0]) / 1000;
    t.diagnostic(
      `${calls.length} calls in ${span.toFixed(1)} s: ${((calls.length - 1) / span / LIMIT.requestsPerSecond).toFixed(2)} ` +
        `of the limit; most in a second ${stats.maxObservedRequestsPerSecond} (simulator), ${busiest.count} ` +
        `(call log); most at once ${stats.maxObservedConcurrency}; 429s ${stats.rateLimited}`,
    );
    assert.equal(stats.rateLimited, 0, 'no 429');
    assert.ok(
      stats.maxObservedRequestsPerSecond <= 50,
      `${stats.maxObservedRequestsPerSecond} in one second`,
    );
    assert.ok(busiest.count <= 50, `${busiest.count} calls in the second from ${busiest.at}`);
    assert.ok(stats.maxObservedConcurrency <= 10, `${stats.maxObservedConcurrency} at once`);
  });
});
