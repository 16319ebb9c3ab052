import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { readServerSentEvents } from '../../src/cli/server-sent-events.ts';
import { byIccid, submitChange } from '../support/bulk-changes.ts';
import { type E2eStack, startE2eStack } from '../support/e2e-stack.ts';
import { sleep } from '../support/processes.ts';
import { postgresOnly, scaleOut } from '../support/scale-out.ts';

const LINES = 40;

/**
 * An API process and a worker process apart (ADR 0015): the worker polls the queue once a minute, so
 * only the API's NOTIFY can wake it at once; the API serves the progress stream of work the worker
 * does. Both need nothing but the database between them.
 */
describe('an API process and a worker process apart, on PostgreSQL', { skip: postgresOnly }, () => {
  const stacks: E2eStack[] = [];
  after(() => Promise.all(stacks.map((stack) => stack.close())));

  it('a change created on the API wakes the worker at once, and the API streams its progress', async (t) => {
    const stack = await startE2eStack({
      dialect: 'postgres',
      env: { WORKER_POLL_INTERVAL_MS: '60000' },
    });
    stacks.push(stack);
    const deployment = scaleOut(stack);
    await deployment.startApi();
    await deployment.startWorker('w1');
    const { accountId, iccids } = await stack.createJasperAccount({
      limits: { requestsPerSecond: null, maxConcurrent: 4 },
      count: LINES,
      prefix: '8901472',
    });
    await sleep(1_000); // the worker's first poll is long over: it now sleeps for a minute

    const submittedAt = Date.now();
    const id = await submitChange(stack, accountId, byIccid(iccids), 'status_update', {
      targetStatus: 'active',
    });

    const response = await fetch(`${stack.url}/api/v1/bulk-changes/${id}/events`, {
      headers: { authorization: `Bearer ${stack.adminKey}` },
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(response.status, 200);
    const progress: Array<{ status: string; counts: { succeeded: number } }> = [];
    let done: { status: string; counts: { succeeded: number } } | undefined;
    for await (const event of readServerSentEvents(response.body!)) {
      const data = JSON.parse(event.data);
      if (event.event === 'progress') progress.push(data);
      if (event.event === 'done') {
        done = data;
        break;
      }
    }
    assert.equal(done?.status, 'completed');
    assert.equal(done?.counts.succeeded, LINES);
    const putTimes = (await stack.sim.calls('put_device')).map((call) => Date.parse(call.at));
    assert.equal(putTimes.length, LINES);
    const wokenAfter = Math.min(...putTimes) - submittedAt;
    t.diagnostic(
      `first PUT ${wokenAfter} ms after the change was created; ${progress.length} progress events`,
    );
    assert.ok(
      wokenAfter < 5_000,
      `the first PUT came ${wokenAfter} ms after the change was created (the poll is 60 s)`,
    );
    const succeeded = progress.map((event) => event.counts.succeeded);
    assert.deepEqual(
      succeeded,
      [...succeeded].sort((a, b) => a - b),
      'the counts the API streams only grow',
    );
    assert.equal(progress.at(-1)?.counts.succeeded, LINES);
  });
});
