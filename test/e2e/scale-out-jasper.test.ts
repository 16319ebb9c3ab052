import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type ChangeView, countBy, type E2eStack, startE2eStack } from '../support/e2e-stack.ts';
import { listAll, waitForBulkChange, waitUntil } from '../support/processes.ts';
import {
  keepOnCpu,
  maxInWindow,
  postgresOnly,
  scaleOut,
  simStats,
  workerMetric,
} from '../support/scale-out.ts';

/** The one change of 1,000 lines: 200 s of calls at 5 a second. */
const LINES = 1_000;
const WORKERS = ['w1', 'w2', 'w3', 'w4'];

/**
 * Issue 14: one API process and 4 worker processes on PostgreSQL against a Jasper simulator that
 * allows 5 requests/s and 1 at a time, and one change of 1,000 lines. Its jobs (a slice of 5 s each)
 * go to whichever worker claims them first, so the workers take turns on it. Two workers are killed
 * with SIGKILL mid-run and started again: the change still completes, every line is changed once, and
 * the simulator never sees more than 5 requests in a second, never 2 at once, and answers no 429.
 */
describe('4 workers on PostgreSQL share a Jasper account limited to 5 requests/s, 1 at a time', {
  skip: postgresOnly,
}, () => {
  const stacks: E2eStack[] = [];
  after(() => Promise.all(stacks.map((stack) => stack.close())));

  // 200 s of calls at the limit, plus the reads that reconcile the killed workers' rows.
  it('stays within the limits through kill -9 of two workers, and changes every line once', {
    timeout: 420_000,
  }, async (t) => {
    const stack = await startE2eStack({
      dialect: 'postgres',
      simulatorFaults: { rateLimitPerSecond: 5, maxConcurrent: 1 },
      // Wake-ups come by NOTIFY, not by polling fast.
      env: { WORKER_POLL_INTERVAL_MS: '250' },
    });
    stacks.push(stack);
    keepOnCpu(stack.simulator);
    const deployment = scaleOut(stack);
    await deployment.startApi();
    await Promise.all(WORKERS.map((name) => deployment.startWorker(name)));
    const { accountId, iccids } = await stack.createJasperAccount({
      limits: { requestsPerSecond: 5, maxConcurrent: 1 },
      count: LINES,
      prefix: '8901471',
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

    // A third of the way in, two workers die without a word, and come back.
    // Watched through the simulator's counters, not its growing call log: the simulator stamps the
    // arrivals the assertions below count, so the test keeps its event loop free.
    await waitUntil(
      'a third of the PUTs',
      async () => ((await simStats(stack.simulatorUrl)).requests >= LINES / 3 ? true : undefined),
      120_000,
      500,
    );
    const killedAt = Date.now();
    await Promise.all([deployment.killWorker('w1'), deployment.killWorker('w2')]);
    await Promise.all([deployment.startWorker('w1'), deployment.startWorker('w2')]);

    const done = await waitForBulkChange(stack.api, created.body.id, 240_000);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    const rows = await listAll<ChangeView>(stack.api, `/api/v1/bulk-changes/${created.body.id}/changes`);
    assert.equal(rows.length, LINES);
    assert.deepEqual(
      rows.filter((row) => row.status !== 'succeeded').map((row) => [row.row, row.error]),
      [],
    );

    // At the simulator: every line changed once, within the limits in every sliding second.
    const calls = await stack.sim.calls();
    const puts = calls.filter((call) => call.action === 'put_device');
    const accepted = countBy(
      puts.filter((call) => call.status === 200),
      (call) => call.iccids[0],
    );
    assert.deepEqual(
      iccids.filter((iccid) => accepted.get(iccid) !== 1).map((iccid) => [iccid, accepted.get(iccid) ?? 0]),
      [],
      'exactly one accepted PUT per line',
    );
    assert.equal(puts.length, iccids.length, 'no PUT sent twice');
    const stats = await simStats(stack.simulatorUrl);
    const busiest = maxInWindow(calls, 1000);
    const arrivals = calls.map((call) => Date.parse(call.at)).sort((a, b) => a - b);
    const gaps = arrivals.slice(1).map((at, index) => at - arrivals[index]);
    const span = (arrivals.at(-1)! - arrivals[0]) / 1000;
    // Said before the assertions, so a failure shows where the busiest second was.
    const busiestFrom = busiest.at ? Date.parse(busiest.at) : 0;
    const busiestGaps = gaps.filter((_, index) => arrivals[index] >= busiestFrom).slice(0, busiest.count);
    t.diagnostic(
      `${calls.length} calls in ${span.toFixed(1)} s (${((calls.length - 1) / span).toFixed(2)}/s); ` +
        `most in a second: ${stats.maxObservedRequestsPerSecond} (simulator), ${busiest.count} (call log) ` +
        `from ${busiest.at}, gaps ${busiestGaps.join(', ')} ms (workers killed at ${new Date(killedAt).toISOString()}); ` +
        `smallest gap ${Math.min(...gaps)} ms; most at once ${stats.maxObservedConcurrency}; 429s ${stats.rateLimited}`,
    );
    assert.equal(stats.rateLimited, 0, 'no 429');
    assert.ok(stats.maxObservedRequestsPerSecond <= 5, `${stats.maxObservedRequestsPerSecond} in one second`);
    assert.ok(busiest.count <= 5, `${busiest.count} calls in the second from ${busiest.at}`);
    assert.equal(stats.maxObservedConcurrency, 1, 'never 2 at once');

    // More than one worker did the work, and each says so in its metrics.
    const claimed = await Promise.all(
      [...deployment.workers.values()].map((worker) =>
        workerMetric(worker, 'bulkchange_worker_jobs_claimed_total'),
      ),
    );
    assert.ok(claimed.filter((count) => (count ?? 0) > 0).length >= 2, `jobs claimed per worker: ${claimed}`);
  });
});
