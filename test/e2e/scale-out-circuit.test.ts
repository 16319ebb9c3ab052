import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { countBy, type E2eStack, startE2eStack } from '../support/e2e-stack.ts';
import { sleep, waitForBulkChange, waitUntil } from '../support/processes.ts';
import { postgresOnly, scaleOut, type WorkerProcess, workerMetric } from '../support/scale-out.ts';

const WORKERS = ['w1', 'w2', 'w3', 'w4'];
const CHANGES = 4;
const LINES_PER_CHANGE = 120;
/** The account circuit's settings (carriers/http/factory.ts): 10 failures in a row, open 5 s. */
const THRESHOLD = 10;
const HALF_OPEN_MS = 5_000;
const OUTAGE_MS = 8_000;
const ACCOUNT_CONCURRENCY = 4;

/** The account's circuit in every worker's metrics: 0 closed, 1 half-open, 2 open. */
const circuitStates = (workers: WorkerProcess[], accountId: string) =>
  Promise.all(
    workers.map((worker) =>
      workerMetric(worker, 'bulkchange_carrier_circuit_state', `carrier_account_id="${accountId}"`),
    ),
  );

/**
 * Issue 14: a carrier outage opens the account's circuit for every worker within one failed call each
 * (the deployment counts failures together and tells every worker), and they resume together when the
 * carrier is back (one probe's success closes it for all). 4 workers each work on their own change on
 * one Jasper account that allows 4 calls at once.
 */
describe('a carrier outage with 4 workers on PostgreSQL', { skip: postgresOnly }, () => {
  const stacks: E2eStack[] = [];
  after(() => Promise.all(stacks.map((stack) => stack.close())));

  it('opens the circuit for all workers within one failed call each, and they resume together', async (t) => {
    const stack = await startE2eStack({
      dialect: 'postgres',
      env: { WORKER_CONCURRENCY: '1', WORKER_POLL_INTERVAL_MS: '250' },
    });
    stacks.push(stack);
    const deployment = scaleOut(stack);
    await deployment.startApi();
    const workers = await Promise.all(WORKERS.map((name) => deployment.startWorker(name)));
    const { accountId, iccids } = await stack.createJasperAccount({
      // A budget that outlasts the outage: rows wait for the circuit, none fails for it.
      limits: { requestsPerSecond: 40, maxConcurrent: ACCOUNT_CONCURRENCY, retryBudget: 50 },
      count: CHANGES * LINES_PER_CHANGE,
      prefix: '8901473',
    });
    const ids: string[] = [];
    for (let change = 0; change < CHANGES; change++) {
      const created = await stack.api<{ id: string }>('POST', '/api/v1/bulk-changes', {
        body: {
          carrierAccountId: accountId,
          changeType: 'status_update',
          options: { targetStatus: 'active' },
          changes: iccids
            .slice(change * LINES_PER_CHANGE, (change + 1) * LINES_PER_CHANGE)
            .map((iccid) => ({ iccid })),
        },
      });
      assert.equal(created.status, 201, created.text);
      ids.push(created.body.id);
    }
    await waitUntil(
      'PUTs from every worker',
      async () => {
        const states = await circuitStates(workers, accountId);
        return states.every((state) => state === 0) && (await stack.sim.calls('put_device')).length >= 60
          ? true
          : undefined;
      },
      60_000,
      100,
    );

    // The carrier goes down.
    await stack.sim.setFaults({ outage: true });
    const outageStarted = Date.now();
    const opened = await waitUntil(
      'the circuit open in every worker',
      async () => {
        const states = await circuitStates(workers, accountId);
        return states.every((state) => state !== undefined && state > 0) ? Date.now() : undefined;
      },
      OUTAGE_MS,
      50,
    );
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStarted)));
    await stack.sim.setFaults({ outage: false });
    const outageEnded = Date.now();

    // Back: one probe closes the circuit, and every worker sees it closed at once.
    const resumed = await waitUntil(
      'the circuit closed in every worker',
      async () => {
        const states = await circuitStates(workers, accountId);
        return states.every((state) => state === 0) ? Date.now() : undefined;
      },
      HALF_OPEN_MS + 10_000,
      50,
    );
    for (const id of ids) {
      const done = await waitForBulkChange(stack.api, id, 120_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.counts));
    }

    const calls = await stack.sim.calls();
    const failed = calls.filter((call) => call.status === 503);
    const firstSuccessAfter = calls.find((call) => call.status === 200 && Date.parse(call.at) >= outageEnded);
    const probes = Math.ceil(OUTAGE_MS / HALF_OPEN_MS) + 1;
    t.diagnostic(
      `${failed.length} calls failed during the ${OUTAGE_MS} ms outage; open in every worker ` +
        `${opened - outageStarted} ms after it began; closed in every worker ${resumed - outageEnded} ms after it ` +
        `ended (first success ${firstSuccessAfter ? Date.parse(firstSuccessAfter.at) - outageEnded : '?'} ms after)`,
    );
    // Unshared, each worker would need its own 10 failures (40 and more); shared: the deployment's 10,
    // the calls the others had in flight then, and one probe per half-open period.
    assert.ok(
      failed.length <= THRESHOLD + ACCOUNT_CONCURRENCY + probes,
      `${failed.length} failed calls (at most ${THRESHOLD} + ${ACCOUNT_CONCURRENCY} in flight + ${probes} probes)`,
    );
    const accepted = countBy(
      calls.filter((call) => call.action === 'put_device' && call.status === 200),
      (call) => call.iccids[0],
    );
    assert.deepEqual(
      iccids.filter((iccid) => accepted.get(iccid) !== 1),
      [],
      'every line changed once',
    );
    // Together: every worker saw it closed within a moment of the probe's success.
    assert.ok(firstSuccessAfter, 'calls resumed');
    assert.ok(resumed - Date.parse(firstSuccessAfter.at) < 2_000, 'every worker resumed with the probe');
  });
});
